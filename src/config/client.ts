import { join } from "node:path";
import { DEFAULTS, FIELDS } from "./schema.js";

/** Where the management commands find Gatehouse and keep their files, unless flags say otherwise. */
export interface ClientDefaults {
  /** `host:port` of the gRPC listener (GATEHOUSE_SERVER); unset means the server's default. */
  readonly server?: string;
  /** The data directory: GATEHOUSE_DATA_DIR, else the server's default (`.gatehouse`). */
  readonly dataDir: string;
  /** The dev PKI inside it. */
  readonly pkiDir: string;
  /** Where `agent keygen` writes keys by default. */
  readonly keysDir: string;
}

/**
 * The CLI's defaults from the environment (only src/config/ reads it), so an operator sets
 * the server address once instead of passing `--server` to every command.
 */
export function clientDefaults(env: NodeJS.ProcessEnv = process.env): ClientDefaults {
  const dataDir = env[FIELDS.dataDir.env] || DEFAULTS.dataDir;
  return {
    ...(env.GATEHOUSE_SERVER ? { server: env.GATEHOUSE_SERVER } : {}),
    dataDir,
    pkiDir: join(dataDir, "pki"),
    keysDir: join(dataDir, "keys"),
  };
}
