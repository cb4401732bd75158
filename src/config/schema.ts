import { isIP } from "node:net";
import { resolve } from "node:path";

export type Mode = "dev" | "serve";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const SIGNING_ALGS = ["EdDSA", "ES256"] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

export interface Endpoint {
  readonly host: string;
  /** 0 asks the OS for an ephemeral port. */
  readonly port: number;
}

export interface TlsConfig {
  /** Absolute paths. Required in "serve" mode; omitted in "dev" mode to use the dev PKI. */
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly caFile?: string;
  readonly requireClientCert: boolean;
}

export type StoreConfig =
  | { readonly kind: "embedded" }
  | { readonly kind: "redis"; readonly url: string; readonly cluster: boolean };

/** The whole configuration; `loadConfig` returns it deeply frozen. */
export interface GatehouseConfig {
  readonly mode: Mode;
  /** https URL (http only for localhost), no query or fragment. */
  readonly issuer: string;
  /** Lowercase DNS name. */
  readonly trustDomain: string;
  /** Absolute path. */
  readonly dataDir: string;
  readonly grpc: Endpoint;
  readonly connect: Endpoint;
  readonly tls: TlsConfig;
  readonly store: StoreConfig;
  readonly tokens: {
    readonly defaultTtlSeconds: number;
    readonly maxTtlSeconds: number;
    readonly clockSkewSeconds: number;
    readonly signingAlg: SigningAlg;
  };
  readonly challenges: { readonly ttlSeconds: number; readonly passTtlSeconds: number };
  readonly limits: { readonly maxMessageBytes: number };
  readonly log: { readonly level: LogLevel };
  readonly shutdownGraceMs: number;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Programmatic settings (tests, CLI flags); they win over every other source. */
export type ConfigOverrides = DeepPartial<Omit<GatehouseConfig, "mode">>;

/** Defaults, before `dataDir` is resolved. TLS files have none: dev mode uses the dev PKI. */
export const DEFAULTS = {
  issuer: "https://gatehouse.local",
  trustDomain: "gatehouse.local",
  dataDir: ".gatehouse",
  grpc: { host: "127.0.0.1", port: 7443 },
  connect: { host: "127.0.0.1", port: 7444 },
  tls: { requireClientCert: true },
  store: { kind: "embedded" },
  tokens: {
    defaultTtlSeconds: 300,
    maxTtlSeconds: 3600,
    clockSkewSeconds: 30,
    signingAlg: "EdDSA",
  },
  challenges: { ttlSeconds: 60, passTtlSeconds: 60 },
  limits: { maxMessageBytes: 65_536 },
  log: { level: "info" },
  shutdownGraceMs: 10_000,
} as const satisfies Omit<GatehouseConfig, "mode">;

export const REDIS_CLUSTER_DEFAULT = false;

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };
type Parser<T> = (value: unknown) => Parsed<T>;

interface FieldRule {
  /** The environment variable that sets the field, if any. */
  readonly env?: string;
  readonly parse: Parser<unknown>;
}

/**
 * Every setting, keyed by its dotted path in `GatehouseConfig`. The config file key is
 * the same path in snake_case (`tokens.defaultTtlSeconds` → `tokens.default_ttl_seconds`).
 */
export const FIELDS = {
  issuer: { env: "GATEHOUSE_ISSUER", parse: issuerUrl },
  trustDomain: { env: "GATEHOUSE_TRUST_DOMAIN", parse: trustDomain },
  dataDir: { env: "GATEHOUSE_DATA_DIR", parse: absolutePath },
  "grpc.host": { env: "GATEHOUSE_GRPC_HOST", parse: host },
  "grpc.port": { env: "GATEHOUSE_GRPC_PORT", parse: integer(0, 65_535) },
  "connect.host": { env: "GATEHOUSE_CONNECT_HOST", parse: host },
  "connect.port": { env: "GATEHOUSE_CONNECT_PORT", parse: integer(0, 65_535) },
  "tls.certFile": { env: "GATEHOUSE_TLS_CERT", parse: absolutePath },
  "tls.keyFile": { env: "GATEHOUSE_TLS_KEY", parse: absolutePath },
  "tls.caFile": { env: "GATEHOUSE_TLS_CA", parse: absolutePath },
  "tls.requireClientCert": { env: "GATEHOUSE_REQUIRE_CLIENT_CERT", parse: boolean },
  "store.kind": { parse: oneOf(["embedded", "redis"] as const) },
  "store.url": { env: "REDIS_URL", parse: redisUrl },
  "store.cluster": { env: "GATEHOUSE_REDIS_CLUSTER", parse: boolean },
  "tokens.defaultTtlSeconds": { env: "GATEHOUSE_TOKEN_TTL", parse: integer(1, 86_400) },
  "tokens.maxTtlSeconds": { env: "GATEHOUSE_TOKEN_MAX_TTL", parse: integer(1, 86_400) },
  "tokens.clockSkewSeconds": { env: "GATEHOUSE_CLOCK_SKEW", parse: integer(0, 300) },
  "tokens.signingAlg": { env: "GATEHOUSE_SIGNING_ALG", parse: oneOf(SIGNING_ALGS) },
  "challenges.ttlSeconds": { env: "GATEHOUSE_CHALLENGE_TTL", parse: integer(5, 600) },
  "challenges.passTtlSeconds": { env: "GATEHOUSE_PASS_TTL", parse: integer(5, 600) },
  "limits.maxMessageBytes": { env: "GATEHOUSE_MAX_MESSAGE_BYTES", parse: integer(1024, 4_194_304) },
  "log.level": { env: "GATEHOUSE_LOG_LEVEL", parse: oneOf(LOG_LEVELS) },
  shutdownGraceMs: { parse: integer(0, 600_000) },
} satisfies Record<string, FieldRule>;

export type FieldPath = keyof typeof FIELDS;
export type FieldValue<P extends FieldPath> =
  (typeof FIELDS)[P]["parse"] extends Parser<infer T> ? T : never;

export const FIELD_PATHS = Object.keys(FIELDS) as FieldPath[];

export function envVarOf(path: FieldPath): string | undefined {
  const rule: FieldRule = FIELDS[path];
  return rule.env;
}

/** The config file key of a field: its path in snake_case. */
export function fileKeyOf(path: FieldPath): string {
  return path.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1"]);

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (problem: string): Parsed<never> => ({ ok: false, problem });

/** How a problem quotes a (non-secret) value. */
function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "a table";
  return String(value);
}

/** Accepts numbers, and decimal strings (environment variables, CLI flags). */
function integer(min: number, max: number): Parser<number> {
  return (value) => {
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max
      ? ok(n)
      : fail(`must be an integer ${min}..${max}, got ${shown(value)}`);
  };
}

function boolean(value: unknown): Parsed<boolean> {
  if (value === true || value === "true" || value === "1") return ok(true);
  if (value === false || value === "false" || value === "0") return ok(false);
  return fail(`must be true or false, got ${shown(value)}`);
}

function oneOf<T extends string>(options: readonly T[]): Parser<T> {
  return (value) =>
    options.includes(value as T)
      ? ok(value as T)
      : fail(`must be one of ${options.join(", ")}; got ${shown(value)}`);
}

function absolutePath(value: unknown): Parsed<string> {
  return typeof value === "string" && value.trim() !== ""
    ? ok(resolve(value))
    : fail(`must be a non-empty path, got ${shown(value)}`);
}

function host(value: unknown): Parsed<string> {
  return typeof value === "string" && (isIP(value) !== 0 || DNS_NAME.test(value.toLowerCase()))
    ? ok(value)
    : fail(`must be a hostname or IP address, got ${shown(value)}`);
}

function trustDomain(value: unknown): Parsed<string> {
  return typeof value === "string" && DNS_NAME.test(value)
    ? ok(value)
    : fail(`must be a lowercase DNS name, got ${shown(value)}`);
}

function issuerUrl(value: unknown): Parsed<string> {
  if (typeof value !== "string" || !URL.canParse(value)) {
    return fail(`must be an https URL, got ${shown(value)}`);
  }
  const url = new URL(value);
  if (url.username !== "" || url.password !== "") return fail("must not contain credentials");
  if (/[?#]/.test(value)) return fail(`must not have a query or fragment, got ${shown(value)}`);
  const secure = url.protocol === "https:";
  const localHttp = url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
  return secure || localHttp
    ? ok(value)
    : fail(`must be an https URL (http only for localhost), got ${shown(value)}`);
}

/** The URL may hold a password: problems never quote it. */
function redisUrl(value: unknown): Parsed<string> {
  if (typeof value === "string" && URL.canParse(value)) {
    const { protocol, host } = new URL(value);
    if ((protocol === "redis:" || protocol === "rediss:") && host !== "") return ok(value);
  }
  return fail("invalid URL: must be redis://… or rediss://… (value not shown)");
}
