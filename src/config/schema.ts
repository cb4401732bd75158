import { isIP } from "node:net";
import { resolve } from "node:path";
import {
  REASONING_DEADLINE_RANGE,
  REASONING_DIFFICULTY_RANGE,
  type ReasoningFamilyTable,
  reasoningFamilyTable,
} from "../challenges/reasoning/config.js";
import { type ForwardAuthRoute, forwardAuthRoutes } from "../sidecar/route-table.js";
import {
  kindLimitsTable,
  type LimitsConfig,
  MAX_RATE_LIMIT,
  type TransportLimits,
} from "./limits.js";

/** More server processes than this is a typo, not a deployment: run more replicas instead. */
const MAX_WORKERS = 64;

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

/**
 * Platform (hardware / cloud) attestation: JWTs of one attestation issuer, verified against
 * its key set (a local JWKS file or an https JWKS URL, exactly one). Without an issuer no
 * platform attestation can be verified, so a policy that requires one refuses every Submit.
 */
export interface AttestationConfig {
  readonly platformIssuer?: string;
  /** The `aud` platform tokens must carry; unset: this Gatehouse's `issuer`. */
  readonly platformAudience?: string;
  /** Absolute path. */
  readonly platformJwksFile?: string;
  /** https only. */
  readonly platformJwksUrl?: string;
  /** Absolute path: an extra CA (PEM) trusted for the JWKS URL, e.g. a private PKI. */
  readonly platformJwksCaFile?: string;
}

/**
 * Plausibility of the agent-reported `runtime_ms`, per challenge kind (milliseconds). 0 means
 * "not reported" and passes only where the kind's minimum is 0.
 */
/** Token-signing keys: scheduled rotation with overlap, encryption at rest outside the data dir. */
export interface KeysConfig {
  /** A new key is scheduled when the newest has signed this long; 0 = no scheduled rotation. */
  readonly rotationIntervalSeconds: number;
  /**
   * A new key is published this long before it signs: at least the JWKS cache lifetime, so a
   * verifier that cached the set knows the key before the first token it signs.
   */
  readonly publicationDelaySeconds: number;
  /**
   * AES-256 key (32 bytes, base64 or base64url) sealing private keys stored outside the data
   * directory (Redis). Never logged, echoed or described.
   */
  readonly encryptionKey?: string;
}

export interface RuntimeConfig {
  /** Slack on "reported ≤ server-measured elapsed time". */
  readonly toleranceMs: number;
  readonly signatureMinMs: number;
  readonly signatureMaxMs: number;
  readonly reasoningMinMs: number;
  readonly reasoningMaxMs: number;
  readonly iteratedHashMinMs: number;
  readonly iteratedHashMaxMs: number;
  readonly hashcashMinMs: number;
  readonly hashcashMaxMs: number;
}

/**
 * Identity forwarded by a TLS-terminating proxy (src/identity/forwarded.ts). Off unless
 * enabled; when enabled, the peers and the secret are required (`loadConfig` checks).
 */
/**
 * DPoP (RFC 9449). Server nonces are stateless: an HMAC of the time slot under `nonceSecret`,
 * so every replica given the same secret issues and accepts the same nonces (src/dpop/nonce.ts).
 */
export interface DpopConfig {
  /** Oldest accepted proof `iat`, seconds (RFC 9449 §11.1); also the nonce slot length. */
  readonly maxAgeSeconds: number;
  /** Require server-provided nonces in proofs (RFC 9449 §8, §9). */
  readonly nonces: boolean;
  /** HMAC key for nonces, at least 32 bytes; required when `nonces` is on. Never logged. */
  readonly nonceSecret?: string;
}

/**
 * Verify's in-process caches (src/verify/cache.ts). `cacheTtlMs` bounds how long a replica
 * may reuse an agent, operator or revocation look-up when an invalidation message is lost;
 * 0 turns every cache off.
 */
export interface VerifyCacheConfig {
  readonly cacheTtlMs: number;
  readonly cacheMaxEntries: number;
}

/**
 * The audit log's bounded record of denials (src/audit/denials.ts): Verify and Check denials
 * are folded per (kind, reason, agent, caller) into one entry per window.
 */
export interface AuditConfig {
  /** How long a window of folded denials stays open before its entries are written. */
  readonly denialWindowSeconds: number;
  /** Distinct keys per window and process; denials under further keys fold into one entry. */
  readonly denialMaxKeys: number;
}

export type ProxyConfig =
  | { readonly enabled: false }
  | {
      readonly enabled: true;
      /** IP addresses and CIDR blocks the proxy connects from. */
      readonly trustedPeers: readonly string[];
      /** HMAC-SHA256 key, at least 32 bytes. Never logged, echoed or described. */
      readonly hmacSecret: string;
      /** Accepted age of `x-gatehouse-forwarded-at`, either way (clock skew). */
      readonly maxAgeSeconds: number;
    };

/** Operators' domain ownership checks (src/domains): where they look, and how long a proof holds. */
export interface DomainsConfig {
  /** Resolvers, `ip` or `ip:port` (`[ipv6]:port`); empty: the system's. */
  readonly dnsServers: readonly string[];
  /** Bound on one check: DNS, connect, TLS, headers and body. */
  readonly timeoutMs: number;
  /** The port the well-known file is fetched from. */
  readonly httpsPort: number;
  /** Tests only: fetch the well-known file from loopback and private addresses too. */
  readonly allowPrivateAddresses: boolean;
  /** Absolute path: an extra CA (PEM) trusted for the well-known file, e.g. a private PKI. */
  readonly caFile?: string;
  /** A DNS or HTTPS proof holds this long, then must be checked again. */
  readonly verificationTtlSeconds: number;
}

/**
 * The passkey approval page (src/approval): its own HTTPS listener, for humans' browsers
 * (which carry no client certificate), on the server certificate.
 */
export interface ApprovalConfig extends Endpoint {
  readonly enabled: boolean;
  /**
   * The origin browsers reach the page at (`https://host[:port]`, e.g. behind a proxy); its
   * hostname is the WebAuthn RP ID. Unset: `https://localhost:<bound port>`.
   */
  readonly origin?: string;
  /** How long an approver invitation link stays valid. */
  readonly inviteTtlSeconds: number;
  /** How long an approver stays signed in. */
  readonly sessionTtlSeconds: number;
}

/**
 * The HTTP sidecar (`gatehouse sidecar`, src/sidecar): its listener, its limits, how it
 * reaches Gatehouse (gRPC, mTLS, its own `proxy` certificate, the `proxy.hmac_secret`) and
 * the forward-auth route table.
 */
export interface SidecarConfig extends Endpoint {
  /** Plain HTTP instead of TLS: only when set, and only on loopback unless `plainHttpAnyHost`. */
  readonly plainHttp: boolean;
  /** File only: plain HTTP on a non-loopback address (behind a TLS-terminating proxy). */
  readonly plainHttpAnyHost: boolean;
  /** The URL clients reach the sidecar at; GetIssuerMetadata advertises URLs under it. */
  readonly publicUrl?: string;
  /** Gatehouse's gRPC address, `host:port`; unset: this configuration's `grpc` endpoint. */
  readonly upstream?: string;
  /** Absolute paths: the sidecar's `proxy` client certificate and key (dev: the dev PKI's). */
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
  /**
   * Whether `/auth` (forward-auth) refuses a caller without a client certificate from the CA.
   * REST always needs one (every RPC needs a caller); the public documents never do.
   */
  readonly forwardAuthRequiresClientCert: boolean;
  readonly maxBodyBytes: number;
  readonly maxHeaderBytes: number;
  /** Whole request, headers to last byte of the answer. */
  readonly requestTimeoutMs: number;
  readonly maxConnections: number;
  /** Deadline of each gRPC call to Gatehouse. */
  readonly upstreamTimeoutMs: number;
  /** Forward-auth: host and path prefix → protected resource (file only). */
  readonly routes: readonly ForwardAuthRoute[];
  /**
   * AOG-style routes (`GET /challenge`, `POST /task`, src/sidecar/legacy/aog): off unless set;
   * they need `legacyAogAudience` and `legacyAogScopes`, what every AOG login is bound to.
   */
  readonly legacyAog: boolean;
  readonly legacyAogAudience?: string;
  readonly legacyAogScopes: readonly string[];
  /**
   * The secret a TLS terminator signs `X-Client-Cert` with (HMAC-SHA256, base64 in
   * `X-Client-Cert-Sig`). Unset: those headers are refused and only mTLS names a caller.
   */
  readonly legacyAogHeaderSecret?: string;
  /** File only: accept AOG's unsigned `autonomy_attestation` object (weaker; default refused). */
  readonly legacyAogUnsignedAutonomy: boolean;
  /** Auth4Agent-style routes (`/v1/challenge`, `/v1/token`, …, src/sidecar/legacy/auth4agent). */
  readonly legacyAuth4agent: boolean;
}

/**
 * The plain-HTTP listener for Prometheus and orchestrators (src/observability): `/metrics`,
 * `/healthz`, `/readyz`. No TLS and no client certificate (kubelet probes and scrapers carry
 * none), so it serves nothing secret and defaults to loopback; never one of the mTLS ports.
 */
export interface MetricsConfig extends Endpoint {
  readonly enabled: boolean;
}

/**
 * Which RPCs this process serves (src/server/roles.ts): "verifier" serves only Verify, Check,
 * GetJwks and GetIssuerMetadata (it never issues and never writes the registry), "issuer"
 * everything but those, "all" everything.
 */
export const SERVER_ROLES = ["all", "issuer", "verifier"] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

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
    /** Longest `exp - iat` of a JWT-bearer assertion (RFC 7523 §3 items 4–6): keep it short. */
    readonly assertionMaxLifetimeSeconds: number;
  };
  readonly challenges: {
    readonly ttlSeconds: number;
    readonly passTtlSeconds: number;
    /** N of CHALLENGE_KIND_ITERATED_HASH. */
    readonly iteratedHashIterations: number;
    /** D of CHALLENGE_KIND_HASHCASH. */
    readonly hashcashDifficultyBits: number;
    /** Worker threads that check compute answers off the event loop. */
    readonly computeWorkers: number;
    /** Reasoning task difficulty, 1–5, unless `reasoningFamilies` says otherwise. */
    readonly reasoningDifficulty: number;
    /** Reasoning deadline, unless `reasoningFamilies` says otherwise. */
    readonly reasoningDeadlineSeconds: number;
    /** Per-family overrides (file only: `[challenges.reasoning_families.<family>]`). */
    readonly reasoningFamilies: ReasoningFamilyTable;
  };
  readonly limits: LimitsConfig;
  /** Streams, headers, timeouts and connections on every listener. */
  readonly transport: TransportLimits;
  readonly keys: KeysConfig;
  readonly attestation: AttestationConfig;
  readonly runtime: RuntimeConfig;
  readonly proxy: ProxyConfig;
  readonly dpop: DpopConfig;
  readonly verify: VerifyCacheConfig;
  readonly audit: AuditConfig;
  readonly domains: DomainsConfig;
  /** Operators' Ed25519-signed requests (src/identity/signed-request.ts). */
  readonly operators: {
    /** Accepted distance of `gatehouse-timestamp` from now, either way; nonces live twice it. */
    readonly requestSignatureWindowSeconds: number;
  };
  /** Capability grants approved by humans (src/services/grants). */
  readonly grants: {
    /** Pending requests an agent may have at once. */
    readonly maxPending: number;
    /** How long a request waits for a decision before it lapses. */
    readonly pendingTtlSeconds: number;
    /** How long an approved grant lasts when the request names no duration. */
    readonly defaultDurationSeconds: number;
    /** The longest an approved grant may last. */
    readonly maxDurationSeconds: number;
    /** The cooldown after a first denial; it doubles with each consecutive denial. */
    readonly denialBackoffBaseSeconds: number;
    /** The longest cooldown. */
    readonly denialBackoffMaxSeconds: number;
  };
  readonly approval: ApprovalConfig;
  readonly sidecar: SidecarConfig;
  readonly metrics: MetricsConfig;
  readonly role: ServerRole;
  readonly log: { readonly level: LogLevel };
  readonly shutdownGraceMs: number;
  /**
   * Server processes (node:cluster): each serves every port and TLS connections are shared
   * among them. More than one needs the Redis store, which the processes share as replicas.
   */
  readonly workers: number;
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
    assertionMaxLifetimeSeconds: 300,
  },
  challenges: {
    ttlSeconds: 60,
    passTtlSeconds: 60,
    iteratedHashIterations: 100_000,
    hashcashDifficultyBits: 18,
    computeWorkers: 1,
    reasoningDifficulty: 2,
    reasoningDeadlineSeconds: 20,
    reasoningFamilies: {},
  },
  limits: {
    maxMessageBytes: 65_536,
    // Generous for an agent (a login or two per token lifetime), tight for a flood.
    challengePerIdentity: 120,
    challengePerAddress: 1_200,
    submitPerIdentity: 120,
    submitPerAddress: 1_200,
    windowSeconds: 60,
    kinds: {},
    adaptive: { enabled: false, threshold: 30 },
  },
  transport: {
    // RFC 9113 §6.5.2 recommends no fewer than 100, so that parallelism is not needlessly limited.
    maxConcurrentStreams: 100,
    maxHeaderListBytes: 16_384,
    maxHeaderPairs: 64,
    requestTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
    maxConnectionsPerAddress: 64,
    maxSessionMemoryMb: 10,
  },
  keys: {
    rotationIntervalSeconds: 7 * 86_400,
    // The JWKS cache lifetime (300 s) plus a minute for clock skew and replicas' reloads.
    publicationDelaySeconds: 360,
  },
  attestation: {},
  runtime: {
    toleranceMs: 1_000,
    signatureMinMs: 0,
    signatureMaxMs: 30_000,
    reasoningMinMs: 50,
    reasoningMaxMs: 60_000,
    iteratedHashMinMs: 0,
    iteratedHashMaxMs: 60_000,
    hashcashMinMs: 0,
    hashcashMaxMs: 600_000,
  },
  proxy: { enabled: false },
  dpop: { maxAgeSeconds: 60, nonces: false },
  verify: { cacheTtlMs: 2_000, cacheMaxEntries: 10_000 },
  audit: { denialWindowSeconds: 60, denialMaxKeys: 256 },
  domains: {
    dnsServers: [],
    timeoutMs: 5_000,
    httpsPort: 443,
    allowPrivateAddresses: false,
    verificationTtlSeconds: 30 * 86_400,
  },
  operators: { requestSignatureWindowSeconds: 60 },
  grants: {
    maxPending: 5,
    pendingTtlSeconds: 86_400,
    defaultDurationSeconds: 3_600,
    maxDurationSeconds: 30 * 86_400,
    denialBackoffBaseSeconds: 60,
    denialBackoffMaxSeconds: 86_400,
  },
  approval: {
    enabled: true,
    host: "127.0.0.1",
    port: 7445,
    inviteTtlSeconds: 86_400,
    sessionTtlSeconds: 900,
  },
  sidecar: {
    host: "127.0.0.1",
    port: 7447,
    plainHttp: false,
    plainHttpAnyHost: false,
    forwardAuthRequiresClientCert: false,
    maxBodyBytes: 65_536,
    maxHeaderBytes: 16_384,
    requestTimeoutMs: 15_000,
    maxConnections: 1_024,
    upstreamTimeoutMs: 5_000,
    routes: [],
    legacyAog: false,
    legacyAogScopes: [],
    legacyAogUnsignedAutonomy: false,
    legacyAuth4agent: false,
  },
  metrics: { enabled: true, host: "127.0.0.1", port: 7446 },
  role: "all",
  log: { level: "info" },
  shutdownGraceMs: 10_000,
  workers: 1,
} as const satisfies Omit<GatehouseConfig, "mode">;

export const REDIS_CLUSTER_DEFAULT = false;
/** How long verifiers may cache the JWKS (GetJwks `cache_max_age_seconds`). */
export const JWKS_MAX_AGE_SECONDS = 300;
/**
 * How long a key one replica adds takes at most to reach every other replica's JWKS: the
 * invalidation bus delivers it within about a second (src/app/gatehouse.ts: a replica
 * reloads its key ring on the message); if the message is lost (pub/sub is at most once),
 * the key ring's periodic reload, which runs this often, finds it.
 */
export const KEY_PROPAGATION_BOUND_SECONDS = 60;
/**
 * A new key must be in every JWKS a verifier may hold before it signs: the verifier may
 * have fetched the JWKS just before the key reached the replica it asked.
 */
export const MIN_KEY_PUBLICATION_DELAY_SECONDS =
  JWKS_MAX_AGE_SECONDS + KEY_PROPAGATION_BOUND_SECONDS;
export const PROXY_MAX_AGE_DEFAULT = 30;

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
  "tokens.assertionMaxLifetimeSeconds": {
    env: "GATEHOUSE_ASSERTION_MAX_LIFETIME",
    parse: integer(1, 3_600),
  },
  "challenges.ttlSeconds": { env: "GATEHOUSE_CHALLENGE_TTL", parse: integer(5, 600) },
  "challenges.passTtlSeconds": { env: "GATEHOUSE_PASS_TTL", parse: integer(5, 600) },
  "challenges.iteratedHashIterations": {
    env: "GATEHOUSE_ITERATED_HASH_ITERATIONS",
    parse: integer(1_000, 5_000_000),
  },
  "challenges.hashcashDifficultyBits": {
    env: "GATEHOUSE_HASHCASH_DIFFICULTY_BITS",
    parse: integer(8, 32),
  },
  "challenges.computeWorkers": { env: "GATEHOUSE_COMPUTE_WORKERS", parse: integer(1, 16) },
  "challenges.reasoningDifficulty": {
    env: "GATEHOUSE_REASONING_DIFFICULTY",
    parse: integer(...REASONING_DIFFICULTY_RANGE),
  },
  "challenges.reasoningDeadlineSeconds": {
    env: "GATEHOUSE_REASONING_DEADLINE",
    parse: integer(...REASONING_DEADLINE_RANGE),
  },
  "challenges.reasoningFamilies": { parse: reasoningFamilyTable },
  "limits.maxMessageBytes": { env: "GATEHOUSE_MAX_MESSAGE_BYTES", parse: integer(1024, 4_194_304) },
  "limits.challengePerIdentity": {
    env: "GATEHOUSE_LIMIT_CHALLENGE_PER_IDENTITY",
    parse: integer(0, MAX_RATE_LIMIT),
  },
  "limits.challengePerAddress": {
    env: "GATEHOUSE_LIMIT_CHALLENGE_PER_ADDRESS",
    parse: integer(0, MAX_RATE_LIMIT),
  },
  "limits.submitPerIdentity": {
    env: "GATEHOUSE_LIMIT_SUBMIT_PER_IDENTITY",
    parse: integer(0, MAX_RATE_LIMIT),
  },
  "limits.submitPerAddress": {
    env: "GATEHOUSE_LIMIT_SUBMIT_PER_ADDRESS",
    parse: integer(0, MAX_RATE_LIMIT),
  },
  "limits.windowSeconds": { env: "GATEHOUSE_LIMIT_WINDOW_SECONDS", parse: integer(1, 3_600) },
  "limits.kinds": { parse: kindLimitsTable },
  "limits.adaptive.enabled": { env: "GATEHOUSE_ADAPTIVE_POW", parse: boolean },
  "limits.adaptive.threshold": {
    env: "GATEHOUSE_ADAPTIVE_POW_THRESHOLD",
    parse: integer(1, MAX_RATE_LIMIT),
  },
  "transport.maxConcurrentStreams": {
    env: "GATEHOUSE_MAX_CONCURRENT_STREAMS",
    parse: integer(1, 10_000),
  },
  "transport.maxHeaderListBytes": {
    env: "GATEHOUSE_MAX_HEADER_LIST_BYTES",
    parse: integer(1_024, 1_048_576),
  },
  "transport.maxHeaderPairs": { env: "GATEHOUSE_MAX_HEADER_PAIRS", parse: integer(8, 1_000) },
  "transport.requestTimeoutMs": {
    env: "GATEHOUSE_REQUEST_TIMEOUT_MS",
    parse: integer(100, 600_000),
  },
  "transport.idleTimeoutMs": { env: "GATEHOUSE_IDLE_TIMEOUT_MS", parse: integer(100, 3_600_000) },
  "transport.maxConnectionsPerAddress": {
    env: "GATEHOUSE_MAX_CONNECTIONS_PER_ADDRESS",
    parse: integer(1, 100_000),
  },
  "transport.maxSessionMemoryMb": {
    env: "GATEHOUSE_MAX_SESSION_MEMORY_MB",
    parse: integer(1, 1_024),
  },
  "keys.rotationIntervalSeconds": {
    env: "GATEHOUSE_KEY_ROTATION_INTERVAL",
    parse: integer(0, 366 * 86_400),
  },
  "keys.publicationDelaySeconds": {
    env: "GATEHOUSE_KEY_PUBLICATION_DELAY",
    // The minimum is checked with the other key settings (load.ts), to say why.
    parse: integer(0, 7 * 86_400),
  },
  "keys.encryptionKey": { env: "GATEHOUSE_KEY_ENCRYPTION_KEY", parse: aes256Key },
  "attestation.platformIssuer": { env: "GATEHOUSE_PLATFORM_ISSUER", parse: text(1024) },
  "attestation.platformAudience": { env: "GATEHOUSE_PLATFORM_AUDIENCE", parse: text(1024) },
  "attestation.platformJwksFile": { env: "GATEHOUSE_PLATFORM_JWKS_FILE", parse: absolutePath },
  "attestation.platformJwksUrl": { env: "GATEHOUSE_PLATFORM_JWKS_URL", parse: httpsUrl },
  "attestation.platformJwksCaFile": { env: "GATEHOUSE_PLATFORM_JWKS_CA", parse: absolutePath },
  "runtime.toleranceMs": { env: "GATEHOUSE_RUNTIME_TOLERANCE_MS", parse: integer(0, 60_000) },
  "runtime.signatureMinMs": { parse: integer(0, 3_600_000) },
  "runtime.signatureMaxMs": { parse: integer(0, 3_600_000) },
  "runtime.reasoningMinMs": { parse: integer(0, 3_600_000) },
  "runtime.reasoningMaxMs": { parse: integer(0, 3_600_000) },
  "runtime.iteratedHashMinMs": { parse: integer(0, 3_600_000) },
  "runtime.iteratedHashMaxMs": { parse: integer(0, 3_600_000) },
  "runtime.hashcashMinMs": { parse: integer(0, 3_600_000) },
  "runtime.hashcashMaxMs": { parse: integer(0, 3_600_000) },
  "proxy.enabled": { env: "GATEHOUSE_PROXY_ENABLED", parse: boolean },
  "proxy.trustedPeers": { env: "GATEHOUSE_PROXY_TRUSTED_PEERS", parse: ipList },
  "proxy.hmacSecret": { env: "GATEHOUSE_PROXY_HMAC_SECRET", parse: secret(32) },
  "proxy.maxAgeSeconds": { env: "GATEHOUSE_PROXY_MAX_AGE", parse: integer(1, 300) },
  "dpop.maxAgeSeconds": { env: "GATEHOUSE_DPOP_MAX_AGE", parse: integer(5, 600) },
  "dpop.nonces": { env: "GATEHOUSE_DPOP_NONCES", parse: boolean },
  "dpop.nonceSecret": { env: "GATEHOUSE_DPOP_NONCE_SECRET", parse: secret(32) },
  "verify.cacheTtlMs": { env: "GATEHOUSE_VERIFY_CACHE_TTL_MS", parse: integer(0, 60_000) },
  "verify.cacheMaxEntries": {
    env: "GATEHOUSE_VERIFY_CACHE_MAX_ENTRIES",
    parse: integer(1, 1_000_000),
  },
  "audit.denialWindowSeconds": {
    env: "GATEHOUSE_AUDIT_DENIAL_WINDOW",
    parse: integer(1, 3_600),
  },
  "audit.denialMaxKeys": { env: "GATEHOUSE_AUDIT_DENIAL_MAX_KEYS", parse: integer(1, 10_000) },
  "operators.requestSignatureWindowSeconds": {
    env: "GATEHOUSE_OPERATOR_REQUEST_WINDOW",
    parse: integer(5, 600),
  },
  "grants.maxPending": { env: "GATEHOUSE_GRANTS_MAX_PENDING", parse: integer(1, 100) },
  "grants.pendingTtlSeconds": { parse: integer(60, 30 * 86_400) },
  "grants.defaultDurationSeconds": { parse: integer(60, 365 * 86_400) },
  "grants.maxDurationSeconds": { parse: integer(60, 365 * 86_400) },
  "grants.denialBackoffBaseSeconds": { parse: integer(0, 86_400) },
  "grants.denialBackoffMaxSeconds": { parse: integer(0, 30 * 86_400) },
  "domains.dnsServers": { env: "GATEHOUSE_DOMAIN_DNS_SERVERS", parse: dnsServerList },
  "domains.timeoutMs": { env: "GATEHOUSE_DOMAIN_TIMEOUT_MS", parse: integer(100, 60_000) },
  "domains.httpsPort": { env: "GATEHOUSE_DOMAIN_HTTPS_PORT", parse: integer(1, 65_535) },
  // No environment variable: a switch for tests, not one to flip by accident in production.
  "domains.allowPrivateAddresses": { parse: boolean },
  "domains.caFile": { env: "GATEHOUSE_DOMAIN_CA", parse: absolutePath },
  "domains.verificationTtlSeconds": {
    env: "GATEHOUSE_DOMAIN_VERIFICATION_TTL",
    parse: integer(60, 366 * 86_400),
  },
  "approval.enabled": { env: "GATEHOUSE_APPROVAL_ENABLED", parse: boolean },
  "approval.host": { env: "GATEHOUSE_APPROVAL_HOST", parse: host },
  "approval.port": { env: "GATEHOUSE_APPROVAL_PORT", parse: integer(0, 65_535) },
  "approval.origin": { env: "GATEHOUSE_APPROVAL_ORIGIN", parse: httpsOrigin },
  "approval.inviteTtlSeconds": {
    env: "GATEHOUSE_APPROVAL_INVITE_TTL",
    parse: integer(60, 30 * 86_400),
  },
  "approval.sessionTtlSeconds": {
    env: "GATEHOUSE_APPROVAL_SESSION_TTL",
    parse: integer(60, 86_400),
  },
  "sidecar.host": { env: "GATEHOUSE_SIDECAR_HOST", parse: host },
  "sidecar.port": { env: "GATEHOUSE_SIDECAR_PORT", parse: integer(0, 65_535) },
  "sidecar.plainHttp": { env: "GATEHOUSE_SIDECAR_PLAIN_HTTP", parse: boolean },
  // No environment variable: exposing plain HTTP beyond loopback is a deliberate file edit.
  "sidecar.plainHttpAnyHost": { parse: boolean },
  "sidecar.publicUrl": { env: "GATEHOUSE_SIDECAR_PUBLIC_URL", parse: issuerUrl },
  "sidecar.upstream": { env: "GATEHOUSE_SIDECAR_UPSTREAM", parse: hostPort },
  "sidecar.clientCertFile": { env: "GATEHOUSE_SIDECAR_CLIENT_CERT", parse: absolutePath },
  "sidecar.clientKeyFile": { env: "GATEHOUSE_SIDECAR_CLIENT_KEY", parse: absolutePath },
  "sidecar.forwardAuthRequiresClientCert": {
    env: "GATEHOUSE_SIDECAR_FORWARD_AUTH_CLIENT_CERT",
    parse: boolean,
  },
  "sidecar.maxBodyBytes": { env: "GATEHOUSE_SIDECAR_MAX_BODY", parse: integer(1024, 4_194_304) },
  "sidecar.maxHeaderBytes": {
    env: "GATEHOUSE_SIDECAR_MAX_HEADER",
    parse: integer(4096, 65_536),
  },
  "sidecar.requestTimeoutMs": {
    env: "GATEHOUSE_SIDECAR_REQUEST_TIMEOUT_MS",
    parse: integer(100, 300_000),
  },
  "sidecar.maxConnections": {
    env: "GATEHOUSE_SIDECAR_MAX_CONNECTIONS",
    parse: integer(1, 1_000_000),
  },
  "sidecar.upstreamTimeoutMs": {
    env: "GATEHOUSE_SIDECAR_UPSTREAM_TIMEOUT_MS",
    parse: integer(50, 60_000),
  },
  "sidecar.routes": { parse: forwardAuthRoutes },
  "sidecar.legacyAog": { env: "GATEHOUSE_SIDECAR_LEGACY_AOG", parse: boolean },
  "sidecar.legacyAogAudience": { env: "GATEHOUSE_SIDECAR_LEGACY_AOG_AUDIENCE", parse: text(256) },
  "sidecar.legacyAogScopes": { env: "GATEHOUSE_SIDECAR_LEGACY_AOG_SCOPES", parse: scopeList },
  "sidecar.legacyAogHeaderSecret": {
    env: "GATEHOUSE_SIDECAR_LEGACY_AOG_HEADER_SECRET",
    parse: secret(32),
  },
  // No environment variable: accepting self-reported attestations is a deliberate file edit.
  "sidecar.legacyAogUnsignedAutonomy": { parse: boolean },
  "sidecar.legacyAuth4agent": { env: "GATEHOUSE_SIDECAR_LEGACY_AUTH4AGENT", parse: boolean },
  "metrics.enabled": { env: "GATEHOUSE_METRICS_ENABLED", parse: boolean },
  "metrics.host": { env: "GATEHOUSE_METRICS_HOST", parse: host },
  "metrics.port": { env: "GATEHOUSE_METRICS_PORT", parse: integer(0, 65_535) },
  role: { env: "GATEHOUSE_ROLE", parse: oneOf(SERVER_ROLES) },
  "log.level": { env: "GATEHOUSE_LOG_LEVEL", parse: oneOf(LOG_LEVELS) },
  shutdownGraceMs: { parse: integer(0, 600_000) },
  workers: { env: "GATEHOUSE_WORKERS", parse: integer(1, MAX_WORKERS) },
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

/** Printable ASCII, no spaces (issuer and audience identifiers). */
function text(maxLength: number): Parser<string> {
  return (value) =>
    typeof value === "string" && value.length <= maxLength && /^[\x21-\x7e]+$/.test(value)
      ? ok(value)
      : fail(`must be 1..${maxLength} printable characters without spaces, got ${shown(value)}`);
}

/** An https URL without credentials (fetched by the server). */
function httpsUrl(value: unknown): Parsed<string> {
  if (typeof value === "string" && URL.canParse(value)) {
    const url = new URL(value);
    if (url.protocol === "https:" && url.username === "" && url.password === "") return ok(value);
  }
  return fail("must be an https URL without credentials (value not shown)");
}

/** An https origin, nothing after the port: the approval page's WebAuthn origin. */
function httpsOrigin(value: unknown): Parsed<string> {
  if (typeof value === "string" && URL.canParse(value)) {
    const { protocol, origin } = new URL(value);
    if (protocol === "https:" && origin === value.replace(/\/$/, "")) return ok(origin);
  }
  return fail(`must be an https origin (https://host or https://host:port), got ${shown(value)}`);
}

/** The URL may hold a password: problems never quote it. */
function redisUrl(value: unknown): Parsed<string> {
  if (typeof value === "string" && URL.canParse(value)) {
    const { protocol, host } = new URL(value);
    if ((protocol === "redis:" || protocol === "rediss:") && host !== "") return ok(value);
  }
  return fail("invalid URL: must be redis://… or rediss://… (value not shown)");
}

/** IP addresses and CIDR blocks: a TOML array, or comma-separated (environment, flags). */
function ipList(value: unknown): Parsed<readonly string[]> {
  const entries = typeof value === "string" ? value.split(",").map((e) => e.trim()) : value;
  if (!Array.isArray(entries) || entries.length === 0) {
    return fail(`must list IP addresses or CIDR blocks, got ${shown(value)}`);
  }
  const invalid = entries.find((entry) => !isIpOrCidr(entry));
  return invalid === undefined
    ? ok(entries as string[])
    : fail(`must list IP addresses or CIDR blocks, got ${shown(invalid)}`);
}

/** Scope names (a list, or comma-separated in the environment), 1 to 64. */
function scopeList(value: unknown): Parsed<readonly string[]> {
  const entries = typeof value === "string" ? value.split(",").map((e) => e.trim()) : value;
  const valid =
    Array.isArray(entries) &&
    entries.length > 0 &&
    entries.length <= 64 &&
    entries.every((entry) => typeof entry === "string" && /^[A-Za-z0-9:._/-]{1,128}$/.test(entry));
  return valid ? ok(entries as string[]) : fail(`must list 1..64 scope names, got ${shown(value)}`);
}

/** `host:port` or `[ipv6]:port`: an address to dial. */
function hostPort(value: unknown): Parsed<string> {
  const match =
    typeof value === "string"
      ? (/^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:]+):(\d{1,5})$/.exec(value))
      : null;
  const [address = "", port = "0"] = match ? [match[1], match[2]] : [];
  const valid = (isIP(address) !== 0 || DNS_NAME.test(address.toLowerCase())) && Number(port) >= 1;
  return valid && Number(port) <= 65_535
    ? ok(value as string)
    : fail(`must be host:port, got ${shown(value)}`);
}

/** DNS resolvers, `ip`, `ip:port` or `[ipv6]:port`: a TOML array, or comma-separated. */
function dnsServerList(value: unknown): Parsed<readonly string[]> {
  const entries = typeof value === "string" ? value.split(",").map((e) => e.trim()) : value;
  if (!Array.isArray(entries)) return fail(`must list DNS server addresses, got ${shown(value)}`);
  const invalid = entries.find((entry) => !isDnsServer(entry));
  return invalid === undefined
    ? ok(entries as string[])
    : fail(`must list DNS server addresses (ip or ip:port), got ${shown(invalid)}`);
}

function isDnsServer(entry: unknown): boolean {
  if (typeof entry !== "string") return false;
  const withPort = /^\[([^\]]+)\]:(\d{1,5})$/.exec(entry) ?? /^([^:]+):(\d{1,5})$/.exec(entry);
  const [address, port] = withPort ? [withPort[1] ?? "", Number(withPort[2])] : [entry, 53];
  return isIP(address) !== 0 && port >= 1 && port <= 65_535;
}

function isIpOrCidr(entry: unknown): boolean {
  if (typeof entry !== "string") return false;
  const [address = "", prefix, ...rest] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  const maxPrefix = family === 4 ? 32 : 128;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
}

/** A key: long enough to resist guessing; problems never quote it. */
function secret(minBytes: number): Parser<string> {
  return (value) =>
    typeof value === "string" && Buffer.byteLength(value) >= minBytes
      ? ok(value)
      : fail(`must be at least ${minBytes} bytes (value not shown)`);
}

/** 32 bytes, base64 or base64url (padding optional); problems never quote it. */
function aes256Key(value: unknown): Parsed<string> {
  const problem = "must be 32 bytes, base64 or base64url encoded (value not shown)";
  if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)) return fail(problem);
  return Buffer.from(value, "base64").length === 32 ? ok(value) : fail(problem);
}
