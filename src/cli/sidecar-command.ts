import { Command, Option } from "commander";
import type { GatehouseConfig, Mode } from "../config/index.js";
import { type Sidecar, sidecarProblems, startSidecar } from "../sidecar/index.js";
import { CliFailure, EXIT_USAGE, reportFailure } from "./output.js";
import { loadServerConfig, type ServerFlags } from "./server-config.js";

interface SidecarFlags extends ServerFlags {
  readonly mode: Mode;
}

/** `gatehouse sidecar`: the HTTP front door, reaching Gatehouse over gRPC (mTLS). */
export function sidecarCommand(): Command {
  return new Command("sidecar")
    .description("serve Gatehouse over HTTP: REST, forward-auth (/auth), JWKS and metadata")
    .option("--config <file>", "TOML config file (default: $GATEHOUSE_CONFIG)")
    .option("--data-dir <dir>", "dev mode: where the dev PKI lives (default: .gatehouse)")
    .addOption(
      new Option("--mode <mode>", "dev: the dev PKI; serve: configured TLS files")
        .choices(["dev", "serve"])
        .default("serve"),
    )
    .action(async (flags: SidecarFlags) => {
      const { mode, ...serverFlags } = flags;
      const config = loadServerConfig(mode, serverFlags);
      const problems = sidecarProblems(config);
      if (problems.length > 0) {
        const list = problems.map((problem) => `\n  - ${problem}`).join("");
        throw new CliFailure(`invalid configuration:${list}`, EXIT_USAGE);
      }
      const sidecar = await runSidecar(config);
      stopOnSignals(sidecar);
    });
}

/** Starts the sidecar and announces its URL (one machine-readable line, for scripts and tests). */
export async function runSidecar(config: GatehouseConfig): Promise<Sidecar> {
  const sidecar = await startSidecar({ config });
  console.log(`gatehouse: sidecar listening on ${sidecar.url}`);
  return sidecar;
}

function stopOnSignals(sidecar: Sidecar): void {
  const stop = () => {
    sidecar.stop().then(
      () => process.exit(0),
      (error: unknown) => process.exit(reportFailure(error)),
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
