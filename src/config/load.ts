import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import {
  type ConfigOverrides,
  DEFAULTS,
  envVarOf,
  FIELD_PATHS,
  FIELDS,
  type FieldPath,
  type FieldValue,
  fileKeyOf,
  type GatehouseConfig,
  type Mode,
  REDIS_CLUSTER_DEFAULT,
  type StoreConfig,
  type TlsConfig,
} from "./schema.js";

/** Thrown by `loadConfig` with every problem found, not just the first. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  readonly mode: Mode;
  /** A TOML file; defaults to $GATEHOUSE_CONFIG. */
  readonly file?: string;
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  readonly overrides?: ConfigOverrides;
}

/** One field as a source gave it; `name` is how problems refer to it. */
interface Setting {
  readonly value: unknown;
  readonly name: string;
}

type Settings = Map<FieldPath, Setting>;

/** The valid value of a field, or undefined when it is unset or invalid. */
type Lookup = <P extends FieldPath>(path: P) => FieldValue<P> | undefined;

const TLS_FILES = ["tls.certFile", "tls.keyFile", "tls.caFile"] as const;
const TOKEN_TTLS = ["tokens.defaultTtlSeconds", "tokens.maxTtlSeconds"] as const;

const FIELD_BY_FILE_KEY = new Map(FIELD_PATHS.map((path) => [fileKeyOf(path), path]));
const FILE_SECTIONS = new Set(
  FIELD_PATHS.filter((path) => path.includes(".")).map((path) => fileKeyOf(path).split(".")[0]),
);
const ENV_VARS = FIELD_PATHS.flatMap((path) => {
  const name = envVarOf(path);
  return name === undefined ? [] : [{ path, name }];
});

/**
 * Builds the configuration from, later winning: defaults, the TOML file, the environment,
 * `overrides`. Throws a ConfigError listing every problem; the result is deeply frozen.
 */
export function loadConfig(options: LoadConfigOptions): GatehouseConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const file = options.file ?? nonEmpty(env.GATEHOUSE_CONFIG);
  const sources: Settings[] = [
    file === undefined ? new Map() : fromFile(file, problems),
    fromEnv(env),
    fromOverrides(options.overrides ?? {}),
  ];
  const settings: Settings = new Map(sources.flatMap((source) => [...impliedStoreKind(source)]));
  const get = parseSettings(settings, problems);
  const config = assemble(options.mode, get);
  problems.push(
    ...missingTlsFiles(config.mode, settings),
    ...missingRedisUrl(config.store, settings),
    ...tokenTtlsOutOfOrder(config, settings, get),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function fromFile(file: string, problems: string[]): Settings {
  const settings: Settings = new Map();
  const table = readToml(file, problems);
  if (table !== undefined) collectTable(table, "", file, settings, problems);
  return settings;
}

function readToml(file: string, problems: string[]): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    problems.push(
      `${file}: cannot read the config file (${(error as NodeJS.ErrnoException).code})`,
    );
    return undefined;
  }
  try {
    return parseToml(text);
  } catch (error) {
    // The message quotes the offending line, which may hold a secret: keep only the reason.
    problems.push(
      error instanceof TomlError
        ? `${file}:${error.line}:${error.column}: ${error.message.replace(error.codeblock, "").trim()}`
        : `${file}: invalid TOML`,
    );
    return undefined;
  }
}

function collectTable(
  table: Record<string, unknown>,
  prefix: string,
  file: string,
  settings: Settings,
  problems: string[],
): void {
  for (const [key, value] of Object.entries(table)) {
    const fileKey = `${prefix}${key}`;
    const path = FIELD_BY_FILE_KEY.get(fileKey);
    if (path !== undefined) settings.set(path, { value, name: `${fileKey} (${file})` });
    else if (!FILE_SECTIONS.has(fileKey)) problems.push(`${file}: unknown key "${fileKey}"`);
    else if (isTable(value)) collectTable(value, `${fileKey}.`, file, settings, problems);
    else problems.push(`${fileKey} (${file}): must be a table`);
  }
}

function fromEnv(env: NodeJS.ProcessEnv): Settings {
  const settings: Settings = new Map();
  for (const { path, name } of ENV_VARS) {
    const value = nonEmpty(env[name]);
    if (value !== undefined) settings.set(path, { value, name });
  }
  return settings;
}

function fromOverrides(overrides: ConfigOverrides): Settings {
  const settings: Settings = new Map();
  for (const path of FIELD_PATHS) {
    const value = path
      .split(".")
      .reduce<unknown>((node, key) => (isTable(node) ? node[key] : undefined), overrides);
    if (value !== undefined) settings.set(path, { value, name: `overrides.${path}` });
  }
  return settings;
}

/** Within one source, a Redis URL given without a store kind selects Redis. */
function impliedStoreKind(settings: Settings): Settings {
  const url = settings.get("store.url");
  if (url !== undefined && !settings.has("store.kind")) {
    settings.set("store.kind", { value: "redis", name: url.name });
  }
  return settings;
}

/** Parses every setting once, in field order, reporting each invalid one. */
function parseSettings(settings: Settings, problems: string[]): Lookup {
  const values = new Map<FieldPath, unknown>();
  for (const path of FIELD_PATHS) {
    const setting = settings.get(path);
    if (setting === undefined) continue;
    const parsed = FIELDS[path].parse(setting.value);
    if (parsed.ok) values.set(path, parsed.value);
    else problems.push(`${setting.name}: ${parsed.problem}`);
  }
  return <P extends FieldPath>(path: P) => values.get(path) as FieldValue<P> | undefined;
}

function assemble(mode: Mode, get: Lookup): GatehouseConfig {
  return {
    mode,
    issuer: get("issuer") ?? DEFAULTS.issuer,
    trustDomain: get("trustDomain") ?? DEFAULTS.trustDomain,
    dataDir: get("dataDir") ?? resolve(DEFAULTS.dataDir),
    grpc: {
      host: get("grpc.host") ?? DEFAULTS.grpc.host,
      port: get("grpc.port") ?? DEFAULTS.grpc.port,
    },
    connect: {
      host: get("connect.host") ?? DEFAULTS.connect.host,
      port: get("connect.port") ?? DEFAULTS.connect.port,
    },
    tls: tlsConfig(get),
    store: storeConfig(get),
    tokens: {
      defaultTtlSeconds: get("tokens.defaultTtlSeconds") ?? DEFAULTS.tokens.defaultTtlSeconds,
      maxTtlSeconds: get("tokens.maxTtlSeconds") ?? DEFAULTS.tokens.maxTtlSeconds,
      clockSkewSeconds: get("tokens.clockSkewSeconds") ?? DEFAULTS.tokens.clockSkewSeconds,
      signingAlg: get("tokens.signingAlg") ?? DEFAULTS.tokens.signingAlg,
    },
    challenges: {
      ttlSeconds: get("challenges.ttlSeconds") ?? DEFAULTS.challenges.ttlSeconds,
      passTtlSeconds: get("challenges.passTtlSeconds") ?? DEFAULTS.challenges.passTtlSeconds,
    },
    limits: { maxMessageBytes: get("limits.maxMessageBytes") ?? DEFAULTS.limits.maxMessageBytes },
    log: { level: get("log.level") ?? DEFAULTS.log.level },
    shutdownGraceMs: get("shutdownGraceMs") ?? DEFAULTS.shutdownGraceMs,
  };
}

function tlsConfig(get: Lookup): TlsConfig {
  const certFile = get("tls.certFile");
  const keyFile = get("tls.keyFile");
  const caFile = get("tls.caFile");
  return {
    ...(certFile === undefined ? {} : { certFile }),
    ...(keyFile === undefined ? {} : { keyFile }),
    ...(caFile === undefined ? {} : { caFile }),
    requireClientCert: get("tls.requireClientCert") ?? DEFAULTS.tls.requireClientCert,
  };
}

function storeConfig(get: Lookup): StoreConfig {
  if ((get("store.kind") ?? DEFAULTS.store.kind) === "embedded") return { kind: "embedded" };
  return {
    kind: "redis",
    // Without a URL `missingRedisUrl` reports a problem, so this placeholder never escapes.
    url: get("store.url") ?? "",
    cluster: get("store.cluster") ?? REDIS_CLUSTER_DEFAULT,
  };
}

/** Serve mode needs all three TLS files; dev mode takes all three or none (the dev PKI). */
function missingTlsFiles(mode: Mode, settings: Settings): string[] {
  const missing = TLS_FILES.filter((path) => !settings.has(path));
  if (mode === "dev" && missing.length === TLS_FILES.length) return [];
  const when = mode === "serve" ? "in serve mode" : "when any TLS file is set";
  return missing.map((path) => `${fileKeyOf(path)} / ${envVarOf(path)}: required ${when}`);
}

function missingRedisUrl(store: StoreConfig, settings: Settings): string[] {
  if (store.kind !== "redis" || settings.has("store.url")) return [];
  return ['store.url / REDIS_URL: required when store.kind is "redis"'];
}

function tokenTtlsOutOfOrder(config: GatehouseConfig, settings: Settings, get: Lookup): string[] {
  const { defaultTtlSeconds, maxTtlSeconds } = config.tokens;
  const invalid = TOKEN_TTLS.some((path) => settings.has(path) && get(path) === undefined);
  if (invalid || defaultTtlSeconds <= maxTtlSeconds) return [];
  const [defaultName, maxName] = TOKEN_TTLS.map(
    (path) => settings.get(path)?.name ?? fileKeyOf(path),
  );
  return [
    `${defaultName}: must not exceed ${maxName} (${maxTtlSeconds}), got ${defaultTtlSeconds}`,
  ];
}

function isTable(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/** Empty environment variables count as unset. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === "object" && child !== null) deepFreeze(child);
  }
  return Object.freeze(value);
}
