import "../client/quiet-warnings.js";
import { Command, CommanderError } from "commander";
// Compiled, the import is to dist/package.json, which tsc emits as a copy of this one.
import packageJson from "../../package.json" with { type: "json" };
import { certsCommand } from "./certs.js";
import { agentCommand } from "./manage/agent.js";
import { approverCommand } from "./manage/approver.js";
import { auditCommand } from "./manage/audit.js";
import { grantCommand } from "./manage/grant.js";
import { keysCommand } from "./manage/keys.js";
import { loginCommand } from "./manage/login.js";
import { operatorCommand } from "./manage/operator.js";
import { revokeCommand } from "./manage/revoke.js";
import { issuerMetadataCommand, jwksCommand, verifyCommand } from "./manage/verify.js";
import { EXIT_USAGE, reportFailure } from "./output.js";
import { configCommand, devCommand, serveCommand } from "./server-commands.js";
import { sidecarCommand } from "./sidecar-command.js";

const program = new Command("gatehouse")
  .description("Gatehouse: an access gate for autonomous agents")
  .version(packageJson.version, "--version", "print the version")
  .addCommand(devCommand())
  .addCommand(serveCommand())
  .addCommand(sidecarCommand())
  .addCommand(configCommand())
  .addCommand(certsCommand())
  .addCommand(operatorCommand())
  .addCommand(agentCommand())
  .addCommand(grantCommand())
  .addCommand(approverCommand())
  .addCommand(loginCommand())
  .addCommand(verifyCommand())
  .addCommand(jwksCommand())
  .addCommand(issuerMetadataCommand())
  .addCommand(revokeCommand())
  .addCommand(keysCommand())
  .addCommand(auditCommand());

/**
 * Commander reports a wrong call (unknown command or option, missing argument) itself and
 * would exit 1, the code of a command that ran and failed: it throws instead, on every
 * command (added commands do not inherit the setting), so such calls exit 2.
 */
function throwOnUsageErrors(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) throwOnUsageErrors(sub);
}
throwOnUsageErrors(program);

try {
  await program.parseAsync();
} catch (error) {
  // exitCode rather than exit(): output still buffered for a pipe must reach it.
  process.exitCode = error instanceof CommanderError ? commanderExit(error) : reportFailure(error);
}

/** Commander has printed the message already; --help and --version are not errors. */
function commanderExit(error: CommanderError): number {
  return error.exitCode === 0 ? 0 : EXIT_USAGE;
}
