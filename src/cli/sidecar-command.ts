import { Command, Option } from "commander";
import { announceListening, isWorkerProcess, onPrimaryStop } from "../app/workers.js";
import type { GatehouseConfig, Mode } from "../config/index.js";
import {
  type Sidecar,
  type SidecarListening,
  sidecarListening,
  sidecarProblems,
  startSidecar,
} from "../sidecar/index.js";
import { exitWhen, onSignals, runPrimary } from "./lifecycle.js";
import { CliFailure, EXIT_USAGE, reportFailure } from "./output.js";
import { loadServerConfig, type ServerFlags } from "./server-config.js";

interface SidecarFlags extends Omit<ServerFlags, "sidecarWorkers"> {
  readonly mode: Mode;
}

/** `gatehouse sidecar`: the HTTP front door, reaching Gatehouse over gRPC (mTLS). */
export function sidecarCommand(): Command {
  return new Command("sidecar")
    .description("serve Gatehouse over HTTP: REST, forward-auth (/auth), JWKS and metadata")
    .option("--config <file>", "TOML config file (default: $GATEHOUSE_CONFIG)")
    .option("--data-dir <dir>", "dev mode: where the dev PKI lives (default: .gatehouse)")
    .option("--workers <n>", "sidecar processes sharing the port (default: 1)")
    .addOption(
      new Option("--mode <mode>", "dev: the dev PKI; serve: configured TLS files")
        .choices(["dev", "serve"])
        .default("serve"),
    )
    .action(async (flags: SidecarFlags) => {
      const { mode, workers, ...serverFlags } = flags;
      const config = loadServerConfig(mode, {
        ...serverFlags,
        ...(workers === undefined ? {} : { sidecarWorkers: workers }),
      });
      const problems = sidecarProblems(config);
      if (problems.length > 0) {
        const list = problems.map((problem) => `\n  - ${problem}`).join("");
        throw new CliFailure(`invalid configuration:${list}`, EXIT_USAGE);
      }
      await serveSidecar(config);
    });
}

/** Starts the sidecar and announces its URL (one machine-readable line, for scripts and tests). */
export async function runSidecar(config: GatehouseConfig): Promise<Sidecar> {
  const sidecar = await startSidecar({ config });
  announce(sidecar);
  return sidecar;
}

/**
 * One sidecar in this process, or with `sidecar.workers` > 1 the primary of that many
 * (src/app/workers.ts, as `serve --workers`): it announces the URL once every worker listens.
 * Drains on SIGTERM or SIGINT (a worker: when its primary says stop), then exits 0.
 */
async function serveSidecar(config: GatehouseConfig): Promise<void> {
  if (config.sidecar.workers > 1 && !isWorkerProcess()) {
    const supervisor = await runPrimary({
      count: config.sidecar.workers,
      graceMs: config.shutdownGraceMs,
      name: "sidecar worker",
      listening: sidecarListening,
    });
    announce(supervisor.listening);
    return;
  }
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar({ config });
  } catch (error) {
    // A half-started sidecar (its channel to Gatehouse, a replica's store) would linger.
    process.exit(reportFailure(error));
  }
  const stop = onSignals((reason) => {
    console.error(
      `gatehouse: ${reason} received; draining the sidecar (at most ${config.shutdownGraceMs} ms)`,
    );
    exitWhen(sidecar.stop());
  });
  if (isWorkerProcess()) {
    onPrimaryStop(stop);
    announceListening(sidecarListening(sidecar));
    return;
  }
  announce(sidecar);
}

function announce({ url }: SidecarListening): void {
  console.log(`gatehouse: sidecar listening on ${url}`);
}
