import "../client/quiet-warnings.js";
import { Command } from "commander";
import { certsCommand } from "./certs.js";
import { agentCommand } from "./manage/agent.js";
import { approverCommand } from "./manage/approver.js";
import { auditCommand } from "./manage/audit.js";
import { grantCommand } from "./manage/grant.js";
import { keysCommand } from "./manage/keys.js";
import { loginCommand } from "./manage/login.js";
import { operatorCommand } from "./manage/operator.js";
import { jwksCommand, verifyCommand } from "./manage/verify.js";
import { reportFailure } from "./output.js";
import { configCommand, devCommand, serveCommand } from "./server-commands.js";

const program = new Command("gatehouse")
  .description("Gatehouse: an access gate for autonomous agents")
  .addCommand(devCommand())
  .addCommand(serveCommand())
  .addCommand(configCommand())
  .addCommand(certsCommand())
  .addCommand(operatorCommand())
  .addCommand(agentCommand())
  .addCommand(grantCommand())
  .addCommand(approverCommand())
  .addCommand(loginCommand())
  .addCommand(verifyCommand())
  .addCommand(jwksCommand())
  .addCommand(keysCommand())
  .addCommand(auditCommand());

try {
  await program.parseAsync();
} catch (error) {
  // exitCode rather than exit(): output still buffered for a pipe must reach it.
  process.exitCode = reportFailure(error);
}
