import { readFileSync } from "node:fs";
import { parse as parseToml, TomlError } from "smol-toml";
import { deepFreeze } from "../freeze.js";
import { crossChecks, type Lookup, type GivenSettings as Settings } from "./checks.js";
import {
  type ConfigOverrides,
  envVarOf,
  FIELD_PATHS,
  FIELDS,
  type FieldPath,
  type FieldValue,
  fileKeyOf,
  type GatehouseConfig,
  type Mode,
  SETTINGS,
} from "./schema.js";
import { isSetting, type SettingSpec, type SettingsTree } from "./setting.js";

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
  /** How problems name an override: the CLI flag that gave it (default `overrides.<path>`). */
  readonly overrideNames?: Readonly<Partial<Record<FieldPath, string>>>;
}

const FIELD_BY_FILE_KEY = new Map(FIELD_PATHS.map((path) => [fileKeyOf(path), path]));
/** Every table a field sits in, nested ones too (`limits`, `limits.adaptive`). */
const FILE_SECTIONS = new Set(
  FIELD_PATHS.flatMap((path) =>
    fileKeyOf(path)
      .split(".")
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join(".")),
  ),
);
const ENV_VARS = FIELD_PATHS.flatMap((path) => {
  const name = envVarOf(path);
  return name === undefined ? [] : [{ path, name }];
});

/**
 * Defaults pass the parser like any other value (`data_dir` is resolved), once; a default
 * its own parser refuses is a mistake in the table, found the first time it is loaded.
 */
const PARSED_DEFAULTS = new Map(
  FIELD_PATHS.flatMap((path) => {
    const rule: SettingSpec = FIELDS[path];
    if (rule.default === undefined) return [];
    const parsed = rule.parse(rule.default);
    if (!parsed.ok) throw new Error(`the default of ${path} ${parsed.problem}`);
    return [[path, parsed.value]];
  }),
);

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
    fromOverrides(options.overrides ?? {}, options.overrideNames ?? {}),
  ];
  const settings: Settings = new Map(sources.flatMap((source) => [...impliedStoreKind(source)]));
  const get = parseSettings(settings, problems);
  const config = refine(options.mode, assemble(SETTINGS, "", get));
  problems.push(...crossChecks(config, settings, get));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** Every setting of a section: its value, else its default; an unset optional one is left out. */
function assemble(tree: SettingsTree, prefix: string, get: Lookup): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(tree)) {
    const path = `${prefix}${key}`;
    const value = isSetting(node)
      ? (get(path as FieldPath) ?? PARSED_DEFAULTS.get(path as FieldPath))
      : assemble(node, `${path}.`, get);
    if (value !== undefined) section[key] = value;
  }
  return section;
}

/**
 * The shapes the table alone cannot give: Redis settings only with the Redis store, and no
 * secret held for a feature that is off (a disabled proxy, DPoP without nonces).
 */
function refine(mode: Mode, declared: Record<string, unknown>): GatehouseConfig {
  const config = declared as unknown as Omit<GatehouseConfig, "mode" | "store" | "proxy"> & {
    store: { kind: "embedded" | "redis"; url?: string; cluster: boolean };
    proxy: {
      enabled: boolean;
      trustedPeers?: readonly string[];
      hmacSecret?: string;
      maxAgeSeconds: number;
    };
  };
  const { store, proxy, dpop } = config;
  const { nonceSecret, ...withoutSecret } = dpop;
  return {
    mode,
    ...config,
    store:
      store.kind === "embedded"
        ? { kind: "embedded" }
        : // Without a URL `missingRedisUrl` reports a problem, so this empty URL is never used.
          { kind: "redis", url: store.url ?? "", cluster: store.cluster },
    proxy: proxy.enabled
      ? {
          enabled: true,
          // When unset `missingProxySettings` reports a problem: these are never used.
          trustedPeers: proxy.trustedPeers ?? [],
          hmacSecret: proxy.hmacSecret ?? "",
          maxAgeSeconds: proxy.maxAgeSeconds,
        }
      : { enabled: false },
    dpop: dpop.nonces ? dpop : withoutSecret,
  };
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

function fromOverrides(
  overrides: ConfigOverrides,
  names: NonNullable<LoadConfigOptions["overrideNames"]>,
): Settings {
  const settings: Settings = new Map();
  for (const path of FIELD_PATHS) {
    const value = path
      .split(".")
      .reduce<unknown>((node, key) => (isTable(node) ? node[key] : undefined), overrides);
    if (value !== undefined) {
      settings.set(path, { value, name: names[path] ?? `overrides.${path}` });
    }
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

function isTable(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/** Empty environment variables count as unset. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}
