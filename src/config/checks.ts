import {
  envVarOf,
  type FieldPath,
  type FieldValue,
  fileKeyOf,
  type GatehouseConfig,
  JWKS_MAX_AGE_SECONDS,
  KEY_PROPAGATION_BOUND_SECONDS,
  MIN_KEY_PUBLICATION_DELAY_SECONDS,
  type Mode,
  type ProxyConfig,
  type RuntimeConfig,
  type SidecarConfig,
  type StoreConfig,
} from "./schema.js";

/**
 * The checks that span settings (one setting's parser checks only itself), run after every
 * setting is parsed so that every problem is reported together.
 */

/** One field as a source gave it; `name` is how problems refer to it. */
export interface Given {
  readonly value: unknown;
  readonly name: string;
}

export type GivenSettings = Map<FieldPath, Given>;

/** The valid value of a field, or undefined when it is unset or invalid. */
export type Lookup = <P extends FieldPath>(path: P) => FieldValue<P> | undefined;

/** Every problem spanning settings, in a fixed order. */
export function crossChecks(
  config: GatehouseConfig,
  settings: GivenSettings,
  get: Lookup,
): string[] {
  return [
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
  ];
}

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

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const SIDECAR_CLIENT_FILES = ["sidecar.clientCertFile", "sidecar.clientKeyFile"] as const;

/** Serve mode needs all three TLS files; dev mode takes all three or none (the dev PKI). */
function missingTlsFiles(mode: Mode, settings: GivenSettings): string[] {
  const missing = TLS_FILES.filter((path) => !settings.has(path));
  if (mode === "dev" && missing.length === TLS_FILES.length) return [];
  const when = mode === "serve" ? "in serve mode" : "when any TLS file is set";
  return missing.map((path) => `${fileKeyOf(path)} / ${envVarOf(path)}: required ${when}`);
}

function missingRedisUrl(store: StoreConfig, settings: GivenSettings): string[] {
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

/** Replicas must agree on nonces, so a per-process random secret is never made up. */
function missingDpopNonceSecret(dpop: GatehouseConfig["dpop"]): string[] {
  if (!dpop.nonces || dpop.nonceSecret !== undefined) return [];
  const path = "dpop.nonceSecret";
  return [`${fileKeyOf(path)} / ${envVarOf(path)}: required when dpop.nonces is true`];
}

function missingProxySettings(proxy: ProxyConfig, settings: GivenSettings): string[] {
  if (!proxy.enabled) return [];
  return PROXY_REQUIRED.filter((path) => !settings.has(path)).map(
    (path) => `${fileKeyOf(path)} / ${envVarOf(path)}: required when proxy.enabled is true`,
  );
}

function tokenTtlsOutOfOrder(
  config: GatehouseConfig,
  settings: GivenSettings,
  get: Lookup,
): string[] {
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

/**
 * A key must be published before it signs, so the interval cannot be shorter than the
 * delay; and in serve mode private keys never reach Redis unsealed (fail closed).
 */
function keysProblems({ mode, store, keys }: GatehouseConfig, settings: GivenSettings): string[] {
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

/** An attestation issuer needs exactly one key source; the other settings need the issuer. */
function platformAttestationProblems(config: GatehouseConfig, settings: GivenSettings): string[] {
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

function runtimeBoundsOutOfOrder({ runtime }: GatehouseConfig, settings: GivenSettings): string[] {
  const nameOf = (key: keyof RuntimeConfig) => settingName(settings, `runtime.${key}`);
  return RUNTIME_BOUNDS.flatMap(([minKey, maxKey]) =>
    runtime[minKey] <= runtime[maxKey]
      ? []
      : [`${nameOf(minKey)}: must not exceed ${nameOf(maxKey)} (${runtime[maxKey]})`],
  );
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

/** Plain HTTP stays on loopback unless the file says otherwise; the client pair goes together. */
function sidecarProblems(sidecar: SidecarConfig, settings: GivenSettings): string[] {
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

/** How problems name a setting: as its source gave it, else by its file key. */
function settingName(settings: GivenSettings, path: FieldPath): string {
  return settings.get(path)?.name ?? fileKeyOf(path);
}
