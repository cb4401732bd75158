import {
  ConfigError,
  type ConfigOverrides,
  type GatehouseConfig,
  loadConfig,
  type Mode,
  type ServerRole,
} from "../config/index.js";
import { CliFailure, EXIT_USAGE } from "./output.js";

/** The server flags that map onto configuration settings (all optional). */
export interface ServerFlags {
  readonly config?: string;
  readonly dataDir?: string;
  readonly grpcPort?: string;
  readonly connectPort?: string;
  readonly sidecarPort?: string;
  /** `serve --workers`: server processes. */
  readonly workers?: string;
  /** `sidecar --workers`: sidecar processes. */
  readonly sidecarWorkers?: string;
  readonly role?: string;
}

/** The flag each override came from, so a problem names what was typed. */
const FLAG_NAMES = {
  dataDir: "--data-dir",
  "grpc.port": "--grpc-port",
  "connect.port": "--connect-port",
  "sidecar.port": "--sidecar-port",
  workers: "--workers",
  "sidecar.workers": "--workers",
  role: "--role",
} as const;

/**
 * Loads the configuration with the flags winning over every other source. Bad flags and
 * bad settings are reported together, so one run shows everything there is to fix.
 */
export function loadServerConfig(mode: Mode, flags: ServerFlags): GatehouseConfig {
  const problems: string[] = [];
  const grpcPort = portFlag("--grpc-port", flags.grpcPort, problems);
  const connectPort = portFlag("--connect-port", flags.connectPort, problems);
  // The configuration checks the counts' range (one problem list with every other setting).
  const workers = countFlag("--workers", flags.workers, problems);
  const sidecarWorkers = countFlag("--workers", flags.sidecarWorkers, problems);
  const sidecarPort = portFlag("--sidecar-port", flags.sidecarPort, problems);
  const sidecar = {
    ...(sidecarPort === undefined ? {} : { port: sidecarPort }),
    ...(sidecarWorkers === undefined ? {} : { workers: sidecarWorkers }),
  };
  const overrides: ConfigOverrides = {
    ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
    ...(grpcPort === undefined ? {} : { grpc: { port: grpcPort } }),
    ...(connectPort === undefined ? {} : { connect: { port: connectPort } }),
    ...(workers === undefined ? {} : { workers }),
    ...(Object.keys(sidecar).length === 0 ? {} : { sidecar }),
    // Checked by the configuration (one problem list with every other setting).
    ...(flags.role === undefined ? {} : { role: flags.role as ServerRole }),
  };
  try {
    const config = loadConfig({
      mode,
      overrides,
      overrideNames: FLAG_NAMES,
      ...(flags.config === undefined ? {} : { file: flags.config }),
    });
    if (problems.length === 0) return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const list = problems.map((problem) => `\n  - ${problem}`).join("");
  throw new CliFailure(`invalid configuration:${list}`, EXIT_USAGE);
}

/** A port flag as a number; undefined when absent or invalid (then a problem is added). */
function portFlag(name: string, value: string | undefined, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (/^\d+$/.test(value) && port <= 65_535) return port;
  problems.push(`${name}: must be a port number 0..65535 (0 picks a free one), got "${value}"`);
  return undefined;
}

/** A count flag as a number (the configuration checks its range); undefined when absent or bad. */
function countFlag(
  name: string,
  value: string | undefined,
  problems: string[],
): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  problems.push(`${name}: must be a whole number, got "${value}"`);
  return undefined;
}
