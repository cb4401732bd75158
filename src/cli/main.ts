import "../client/quiet-warnings.js";
import { Command, CommanderError } from "commander";
// Bundled (scripts/build.ts), the version is built into the program.
import packageJson from "../../package.json" with { type: "json" };
import { EXIT_USAGE, reportFailure } from "./output.js";

/**
 * Every command, in the order `--help` lists them, each loaded only when it runs: `serve`
 * does not load the certificate maker, the management clients or the sidecar, so the server
 * starts sooner and holds less (docs/performance.md, "Start-up and idle memory").
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  dev: async () => (await import("./server-commands.js")).devCommand(),
  serve: async () => (await import("./server-commands.js")).serveCommand(),
  sidecar: async () => (await import("./sidecar-command.js")).sidecarCommand(),
  config: async () => (await import("./server-commands.js")).configCommand(),
  certs: async () => (await import("./certs.js")).certsCommand(),
  operator: async () => (await import("./manage/operator.js")).operatorCommand(),
  agent: async () => (await import("./manage/agent.js")).agentCommand(),
  grant: async () => (await import("./manage/grant.js")).grantCommand(),
  approver: async () => (await import("./manage/approver.js")).approverCommand(),
  login: async () => (await import("./manage/login.js")).loginCommand(),
  verify: async () => (await import("./manage/verify.js")).verifyCommand(),
  jwks: async () => (await import("./manage/verify.js")).jwksCommand(),
  "issuer-metadata": async () => (await import("./manage/verify.js")).issuerMetadataCommand(),
  revoke: async () => (await import("./manage/revoke.js")).revokeCommand(),
  keys: async () => (await import("./manage/keys.js")).keysCommand(),
  audit: async () => (await import("./manage/audit.js")).auditCommand(),
};

/**
 * The commands to load: the one named by the first operand (the root has no option taking a
 * value), or all of them for `--help`, `help`, no command or an unknown one (so commander
 * lists them and suggests the nearest name).
 */
function commandsFor(args: readonly string[]): string[] {
  const named = args.find((arg) => !arg.startsWith("-"));
  return named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
}

const program = new Command("gatehouse")
  .description("Gatehouse: an access gate for autonomous agents")
  .version(packageJson.version, "--version", "print the version");
const loaded = await Promise.all(
  commandsFor(process.argv.slice(2)).map((name) => (COMMANDS[name] as () => Promise<Command>)()),
);
for (const command of loaded) program.addCommand(command);

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
