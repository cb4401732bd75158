import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { deepFreeze } from "../freeze.js";
import type { LimitsConfig } from "./limits.js";
import {
  type ApprovalConfig,
  type AttestationConfig,
  type ConfigOverrides,
  DEFAULTS,
  type DomainsConfig,
  type DpopConfig,
  envVarOf,
  FIELD_PATHS,
  FIELDS,
  type FieldPath,
  type FieldValue,
  fileKeyOf,
  type GatehouseConfig,
  JWKS_MAX_AGE_SECONDS,
  KEY_PROPAGATION_BOUND_SECONDS,
  type KeysConfig,
  MIN_KEY_PUBLICATION_DELAY_SECONDS,
  type Mode,
  PROXY_MAX_AGE_DEFAULT,
  type ProxyConfig,
  REDIS_CLUSTER_DEFAULT,
  type RuntimeConfig,
  type SidecarConfig,
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
const PROXY_REQUIRED = ["proxy.trustedPeers", "proxy.hmacSecret"] as const;
const PLATFORM_KEY_SOURCES = [
  "attestation.platformJwksFile",
  "attestation.platformJwksUrl",
] as const;
const PLATFORM_DEPENDENTS = [
  "attestation.platformAudience",
  "attestation.platformJwksFile",
  "attestation.platformJwksUrl",
  "attestation.platformJwksCaFile",
] as const;
const RUNTIME_BOUNDS = [
  ["signatureMinMs", "signatureMaxMs"],
  ["reasoningMinMs", "reasoningMaxMs"],
  ["iteratedHashMinMs", "iteratedHashMaxMs"],
  ["hashcashMinMs", "hashcashMaxMs"],
] as const satisfies readonly (readonly [keyof RuntimeConfig, keyof RuntimeConfig])[];

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
    ...workersWithoutSharedStore(config),
    ...missingProxySettings(config.proxy, settings),
    ...missingDpopNonceSecret(config.dpop),
    ...tokenTtlsOutOfOrder(config, settings, get),
    ...platformAttestationProblems(config, settings),
    ...runtimeBoundsOutOfOrder(config, settings),
    ...keysProblems(config, settings),
    ...grantBoundsOutOfOrder(config.grants),
    ...sidecarProblems(config.sidecar, settings),
    ...metricsOnAnMtlsPort(config),
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
      assertionMaxLifetimeSeconds:
        get("tokens.assertionMaxLifetimeSeconds") ?? DEFAULTS.tokens.assertionMaxLifetimeSeconds,
    },
    challenges: {
      ttlSeconds: get("challenges.ttlSeconds") ?? DEFAULTS.challenges.ttlSeconds,
      passTtlSeconds: get("challenges.passTtlSeconds") ?? DEFAULTS.challenges.passTtlSeconds,
      iteratedHashIterations:
        get("challenges.iteratedHashIterations") ?? DEFAULTS.challenges.iteratedHashIterations,
      hashcashDifficultyBits:
        get("challenges.hashcashDifficultyBits") ?? DEFAULTS.challenges.hashcashDifficultyBits,
      computeWorkers: get("challenges.computeWorkers") ?? DEFAULTS.challenges.computeWorkers,
      reasoningDifficulty:
        get("challenges.reasoningDifficulty") ?? DEFAULTS.challenges.reasoningDifficulty,
      reasoningDeadlineSeconds:
        get("challenges.reasoningDeadlineSeconds") ?? DEFAULTS.challenges.reasoningDeadlineSeconds,
      reasoningFamilies:
        get("challenges.reasoningFamilies") ?? DEFAULTS.challenges.reasoningFamilies,
    },
    limits: limitsConfig(get),
    transport: withDefaults(get, "transport", DEFAULTS.transport),
    keys: keysConfig(get),
    attestation: attestationConfig(get),
    runtime: runtimeConfig(get),
    proxy: proxyConfig(get),
    dpop: dpopConfig(get),
    verify: {
      cacheTtlMs: get("verify.cacheTtlMs") ?? DEFAULTS.verify.cacheTtlMs,
      cacheMaxEntries: get("verify.cacheMaxEntries") ?? DEFAULTS.verify.cacheMaxEntries,
    },
    audit: withDefaults(get, "audit", DEFAULTS.audit),
    domains: domainsConfig(get),
    operators: {
      requestSignatureWindowSeconds:
        get("operators.requestSignatureWindowSeconds") ??
        DEFAULTS.operators.requestSignatureWindowSeconds,
    },
    grants: grantsConfig(get),
    approval: approvalConfig(get),
    sidecar: sidecarConfig(get),
    metrics: withDefaults(get, "metrics", DEFAULTS.metrics),
    role: get("role") ?? DEFAULTS.role,
    log: { level: get("log.level") ?? DEFAULTS.log.level },
    shutdownGraceMs: get("shutdownGraceMs") ?? DEFAULTS.shutdownGraceMs,
    workers: get("workers") ?? DEFAULTS.workers,
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
    // Without a URL `missingRedisUrl` reports a problem, so this empty URL is never used.
    url: get("store.url") ?? "",
    cluster: get("store.cluster") ?? REDIS_CLUSTER_DEFAULT,
  };
}

function limitsConfig(get: Lookup): LimitsConfig {
  const defaults = DEFAULTS.limits;
  return {
    maxMessageBytes: get("limits.maxMessageBytes") ?? defaults.maxMessageBytes,
    challengePerIdentity: get("limits.challengePerIdentity") ?? defaults.challengePerIdentity,
    challengePerAddress: get("limits.challengePerAddress") ?? defaults.challengePerAddress,
    submitPerIdentity: get("limits.submitPerIdentity") ?? defaults.submitPerIdentity,
    submitPerAddress: get("limits.submitPerAddress") ?? defaults.submitPerAddress,
    windowSeconds: get("limits.windowSeconds") ?? defaults.windowSeconds,
    kinds: get("limits.kinds") ?? defaults.kinds,
    adaptive: {
      enabled: get("limits.adaptive.enabled") ?? defaults.adaptive.enabled,
      threshold: get("limits.adaptive.threshold") ?? defaults.adaptive.threshold,
    },
  };
}

/** Peers and secret are kept only when enabled: a disabled proxy holds no secret in memory. */
function proxyConfig(get: Lookup): ProxyConfig {
  if (!(get("proxy.enabled") ?? DEFAULTS.proxy.enabled)) return { enabled: false };
  return {
    enabled: true,
    // When unset `missingProxySettings` reports a problem, so these empty values are never used.
    trustedPeers: get("proxy.trustedPeers") ?? [],
    hmacSecret: get("proxy.hmacSecret") ?? "",
    maxAgeSeconds: get("proxy.maxAgeSeconds") ?? PROXY_MAX_AGE_DEFAULT,
  };
}

function domainsConfig(get: Lookup): DomainsConfig {
  const defaults = DEFAULTS.domains;
  const caFile = get("domains.caFile");
  return {
    dnsServers: get("domains.dnsServers") ?? defaults.dnsServers,
    timeoutMs: get("domains.timeoutMs") ?? defaults.timeoutMs,
    httpsPort: get("domains.httpsPort") ?? defaults.httpsPort,
    allowPrivateAddresses: get("domains.allowPrivateAddresses") ?? defaults.allowPrivateAddresses,
    ...(caFile === undefined ? {} : { caFile }),
    verificationTtlSeconds:
      get("domains.verificationTtlSeconds") ?? defaults.verificationTtlSeconds,
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

/** Worker processes share state only through Redis: the embedded store lives in one process. */
function workersWithoutSharedStore(config: GatehouseConfig): string[] {
  if (config.workers === 1 || config.store.kind === "redis") return [];
  return [`workers / ${envVarOf("workers")}: more than 1 needs store.kind "redis"`];
}

/** The metrics listener has no client authentication: it must never share an mTLS port. */
function metricsOnAnMtlsPort({ metrics, grpc, connect, sidecar }: GatehouseConfig): string[] {
  if (!metrics.enabled || metrics.port === 0) return [];
  if (![grpc.port, connect.port, sidecar.port].includes(metrics.port)) return [];
  return [
    `metrics.port / ${envVarOf("metrics.port")}: must differ from the gRPC, Connect and sidecar ports, got ${metrics.port}`,
  ];
}

/** The nonce secret is kept only when nonces are on: otherwise no secret is held. */
function dpopConfig(get: Lookup): DpopConfig {
  const nonces = get("dpop.nonces") ?? DEFAULTS.dpop.nonces;
  const nonceSecret = get("dpop.nonceSecret");
  return {
    maxAgeSeconds: get("dpop.maxAgeSeconds") ?? DEFAULTS.dpop.maxAgeSeconds,
    nonces,
    ...(nonces && nonceSecret !== undefined ? { nonceSecret } : {}),
  };
}

/** Replicas must agree on nonces, so a per-process random secret is never made up. */
function missingDpopNonceSecret(dpop: DpopConfig): string[] {
  if (!dpop.nonces || dpop.nonceSecret !== undefined) return [];
  const path = "dpop.nonceSecret";
  return [`${fileKeyOf(path)} / ${envVarOf(path)}: required when dpop.nonces is true`];
}

function missingProxySettings(proxy: ProxyConfig, settings: Settings): string[] {
  if (!proxy.enabled) return [];
  return PROXY_REQUIRED.filter((path) => !settings.has(path)).map(
    (path) => `${fileKeyOf(path)} / ${envVarOf(path)}: required when proxy.enabled is true`,
  );
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

function keysConfig(get: Lookup): KeysConfig {
  const encryptionKey = get("keys.encryptionKey");
  return {
    rotationIntervalSeconds:
      get("keys.rotationIntervalSeconds") ?? DEFAULTS.keys.rotationIntervalSeconds,
    publicationDelaySeconds:
      get("keys.publicationDelaySeconds") ?? DEFAULTS.keys.publicationDelaySeconds,
    ...(encryptionKey === undefined ? {} : { encryptionKey }),
  };
}

/**
 * A key must be published before it signs, so the interval cannot be shorter than the
 * delay; and in serve mode private keys never reach Redis unsealed (fail closed).
 */
function keysProblems({ mode, store, keys }: GatehouseConfig, settings: Settings): string[] {
  const problems: string[] = [];
  if (keys.publicationDelaySeconds < MIN_KEY_PUBLICATION_DELAY_SECONDS) {
    problems.push(
      `${settingName(settings, "keys.publicationDelaySeconds")}: must be at least ` +
        `${MIN_KEY_PUBLICATION_DELAY_SECONDS} s, the JWKS cache age (${JWKS_MAX_AGE_SECONDS} s) ` +
        `plus the key propagation bound between replicas (${KEY_PROPAGATION_BOUND_SECONDS} s), ` +
        `got ${keys.publicationDelaySeconds}`,
    );
  }
  const interval = keys.rotationIntervalSeconds;
  if (interval > 0 && interval < keys.publicationDelaySeconds) {
    problems.push(
      `${settingName(settings, "keys.rotationIntervalSeconds")}: must be 0 or at least ` +
        `${settingName(settings, "keys.publicationDelaySeconds")} (${keys.publicationDelaySeconds})`,
    );
  }
  if (mode === "serve" && store.kind === "redis" && keys.encryptionKey === undefined) {
    const path = "keys.encryptionKey";
    problems.push(
      `${fileKeyOf(path)} / ${envVarOf(path)}: required in serve mode with a redis store ` +
        "(signing keys are stored there encrypted)",
    );
  }
  return problems;
}

function attestationConfig(get: Lookup): AttestationConfig {
  const values = {
    platformIssuer: get("attestation.platformIssuer"),
    platformAudience: get("attestation.platformAudience"),
    platformJwksFile: get("attestation.platformJwksFile"),
    platformJwksUrl: get("attestation.platformJwksUrl"),
    platformJwksCaFile: get("attestation.platformJwksCaFile"),
  };
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}

function runtimeConfig(get: Lookup): RuntimeConfig {
  return withDefaults(get, "runtime", DEFAULTS.runtime);
}

/** An attestation issuer needs exactly one key source; the other settings need the issuer. */
function platformAttestationProblems(config: GatehouseConfig, settings: Settings): string[] {
  const nameOf = (path: FieldPath) => settingName(settings, path);
  const { platformIssuer, platformJwksFile, platformJwksUrl } = config.attestation;
  if (platformIssuer === undefined) {
    return PLATFORM_DEPENDENTS.filter((path) => settings.has(path)).map(
      (path) => `${nameOf(path)}: requires ${fileKeyOf("attestation.platformIssuer")}`,
    );
  }
  const problems: string[] = [];
  if ((platformJwksFile === undefined) === (platformJwksUrl === undefined)) {
    const [file, url] = PLATFORM_KEY_SOURCES.map(fileKeyOf);
    problems.push(
      `${nameOf("attestation.platformIssuer")}: needs exactly one of ${file} and ${url}`,
    );
  }
  if (settings.has("attestation.platformJwksCaFile") && platformJwksUrl === undefined) {
    problems.push(
      `${nameOf("attestation.platformJwksCaFile")}: applies only with ` +
        fileKeyOf("attestation.platformJwksUrl"),
    );
  }
  return problems;
}

function runtimeBoundsOutOfOrder({ runtime }: GatehouseConfig, settings: Settings): string[] {
  const nameOf = (key: keyof RuntimeConfig) => settingName(settings, `runtime.${key}`);
  return RUNTIME_BOUNDS.flatMap(([minKey, maxKey]) =>
    runtime[minKey] <= runtime[maxKey]
      ? []
      : [`${nameOf(minKey)}: must not exceed ${nameOf(maxKey)} (${runtime[maxKey]})`],
  );
}

/** How problems name a setting: as its source gave it, else by its file key. */
function settingName(settings: Settings, path: FieldPath): string {
  return settings.get(path)?.name ?? fileKeyOf(path);
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

function approvalConfig(get: Lookup): ApprovalConfig {
  const origin = get("approval.origin");
  return {
    ...withDefaults(get, "approval", DEFAULTS.approval),
    ...(origin === undefined ? {} : { origin }),
  };
}

function grantsConfig(get: Lookup): GatehouseConfig["grants"] {
  return withDefaults(get, "grants", DEFAULTS.grants);
}

/**
 * A flat section whose settings all have defaults: each key of `defaults` read from its field
 * path `<section>.<key>` (FIELDS), the default where unset — one rule, not a line per field.
 */
function withDefaults<T extends object>(get: Lookup, section: string, defaults: T): T {
  const read = get as (path: string) => unknown;
  return Object.fromEntries(
    Object.entries(defaults).map(([key, fallback]) => [key, read(`${section}.${key}`) ?? fallback]),
  ) as T;
}

function grantBoundsOutOfOrder(grants: GatehouseConfig["grants"]): string[] {
  const problems: string[] = [];
  if (grants.defaultDurationSeconds > grants.maxDurationSeconds) {
    problems.push("grants.default_duration_seconds must not exceed grants.max_duration_seconds");
  }
  if (grants.denialBackoffBaseSeconds > grants.denialBackoffMaxSeconds) {
    problems.push(
      "grants.denial_backoff_base_seconds must not exceed grants.denial_backoff_max_seconds",
    );
  }
  return problems;
}

/** Optional settings are kept only when set; the rest default like any flat section. */
function sidecarConfig(get: Lookup): SidecarConfig {
  const optional = {
    publicUrl: get("sidecar.publicUrl"),
    upstream: get("sidecar.upstream"),
    clientCertFile: get("sidecar.clientCertFile"),
    clientKeyFile: get("sidecar.clientKeyFile"),
    legacyAogAudience: get("sidecar.legacyAogAudience"),
    legacyAogHeaderSecret: get("sidecar.legacyAogHeaderSecret"),
  };
  return {
    ...withDefaults(get, "sidecar", DEFAULTS.sidecar),
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  };
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const SIDECAR_CLIENT_FILES = ["sidecar.clientCertFile", "sidecar.clientKeyFile"] as const;

/** Plain HTTP stays on loopback unless the file says otherwise; the client pair goes together. */
function sidecarProblems(sidecar: SidecarConfig, settings: Settings): string[] {
  const problems: string[] = [];
  if (sidecar.plainHttp && !sidecar.plainHttpAnyHost && !LOOPBACK.has(sidecar.host)) {
    problems.push(
      `${settingName(settings, "sidecar.host")}: plain HTTP listens on loopback only ` +
        `(set sidecar.plain_http_any_host to serve it on ${sidecar.host})`,
    );
  }
  if (
    sidecar.legacyAog &&
    (sidecar.legacyAogAudience === undefined || sidecar.legacyAogScopes.length === 0)
  ) {
    problems.push(
      `${settingName(settings, "sidecar.legacyAog")}: the AOG routes need ` +
        "sidecar.legacy_aog_audience and sidecar.legacy_aog_scopes (what each AOG login is for)",
    );
  }
  const given = SIDECAR_CLIENT_FILES.filter((path) => settings.has(path));
  if (given.length === 1) {
    problems.push(
      ...SIDECAR_CLIENT_FILES.filter((path) => !settings.has(path)).map(
        (path) =>
          `${fileKeyOf(path)} / ${envVarOf(path)}: required with ${given.map(fileKeyOf)[0]}`,
      ),
    );
  }
  return problems;
}
