import { approvalSection } from "../approval/settings.js";
import { attestationSection } from "../attestation/settings.js";
import { auditSection } from "../audit/settings.js";
import { computeEntries } from "../challenges/compute/settings.js";
import { hashcashEntries } from "../challenges/hashcash/settings.js";
import { iteratedHashEntries } from "../challenges/iterated-hash/settings.js";
import { reasoningEntries } from "../challenges/reasoning/settings.js";
import { signatureEntries } from "../challenges/signature/settings.js";
import { domainsSection } from "../domains/settings.js";
import { dpopSection } from "../dpop/settings.js";
import { proxySection } from "../identity/settings.js";
import { logSection, metricsSection } from "../observability/settings.js";
import { grantsSection } from "../services/grants/settings.js";
import { sidecarSection } from "../sidecar/settings.js";
import { verifyCacheSection } from "../verify/settings.js";
import { endpointSettings } from "./endpoint.js";
import { kindLimitsTable, MAX_RATE_LIMIT } from "./limits.js";
import {
  absolutePath,
  aes256Key,
  boolean,
  integer,
  issuerUrl,
  oneOf,
  redisUrl,
  trustDomain,
  workerCount,
} from "./parsers.js";
import { setting } from "./setting.js";

export const SIGNING_ALGS = ["EdDSA", "ES256"] as const;

/**
 * Which RPCs this process serves (src/app/roles.ts): "verifier" serves only Verify, Check,
 * GetJwks and GetIssuerMetadata (it never issues and never writes the registry), "issuer"
 * everything but those, "all" everything.
 */
export const SERVER_ROLES = ["all", "issuer", "verifier"] as const;

/** A rate limit: calls per window, `0` turns it off. */
function rateLimit(env: string, fallback: number, doc: string) {
  return setting({ env, default: fallback, parse: integer(0, MAX_RATE_LIMIT), doc });
}

/**
 * Every setting, by section. The config file key is the path in snake_case
 * (`tokens.defaultTtlSeconds` → `[tokens] default_ttl_seconds`). A module that owns a section
 * declares it beside its code, in its `settings.ts`, next to the function that maps it to the
 * module's own settings (dpop, verify, audit, grants, domains, approval, attestation, the proxy,
 * the sidecar, metrics); each challenge kind adds its entries to `challenges` and `runtime`.
 * A new setting is one entry.
 */
export const SETTINGS = {
  issuer: setting({
    env: "GATEHOUSE_ISSUER",
    default: "https://gatehouse.local",
    parse: issuerUrl,
    doc: "the `iss` of issued tokens: an https URL (http only for localhost), no query or fragment",
  }),
  trustDomain: setting({
    env: "GATEHOUSE_TRUST_DOMAIN",
    default: "gatehouse.local",
    parse: trustDomain,
    doc: "trust domain of role URIs (a lowercase DNS name)",
  }),
  dataDir: setting({
    env: "GATEHOUSE_DATA_DIR",
    default: ".gatehouse",
    parse: absolutePath,
    doc: "embedded state and dev PKI",
  }),
  grpc: endpointSettings("GATEHOUSE_GRPC", 7443, "native gRPC listener"),
  connect: endpointSettings("GATEHOUSE_CONNECT", 7444, "Connect / gRPC-Web listener"),
  tls: {
    certFile: setting({
      env: "GATEHOUSE_TLS_CERT",
      parse: absolutePath,
      shownDefault: "dev PKI",
      doc: "server certificate (PEM); required by `serve`",
    }),
    keyFile: setting({
      env: "GATEHOUSE_TLS_KEY",
      parse: absolutePath,
      shownDefault: "dev PKI",
      doc: "its private key; required by `serve`",
    }),
    caFile: setting({
      env: "GATEHOUSE_TLS_CA",
      parse: absolutePath,
      shownDefault: "dev PKI",
      doc: "CA bundle client certificates are verified with; required by `serve`",
    }),
    requireClientCert: setting({
      env: "GATEHOUSE_REQUIRE_CLIENT_CERT",
      default: true,
      parse: boolean,
      doc: "refuse TLS without a client certificate",
    }),
  },
  store: {
    kind: setting({
      default: "embedded",
      parse: oneOf(["embedded", "redis"] as const),
      doc: "`embedded` or `redis`; a Redis URL alone selects Redis",
    }),
    url: setting({
      env: "REDIS_URL",
      parse: redisUrl,
      secret: true,
      doc: "`redis://…` or `rediss://…`; the summary shows it without its credentials",
    }),
    cluster: setting({
      env: "GATEHOUSE_REDIS_CLUSTER",
      default: false,
      parse: boolean,
      doc: "the URL names a node of a Redis Cluster",
    }),
  },
  tokens: {
    defaultTtlSeconds: setting({
      env: "GATEHOUSE_TOKEN_TTL",
      default: 300,
      parse: integer(1, 86_400),
      doc: "token lifetime unless the policy says less; at most `max_ttl_seconds`",
    }),
    maxTtlSeconds: setting({
      env: "GATEHOUSE_TOKEN_MAX_TTL",
      default: 3600,
      parse: integer(1, 86_400),
      doc: "hard maximum, also enforced by Verify",
    }),
    clockSkewSeconds: setting({
      env: "GATEHOUSE_CLOCK_SKEW",
      default: 30,
      parse: integer(0, 300),
      doc: "tolerated skew on `exp`/`nbf`/`iat`",
    }),
    signingAlg: setting({
      env: "GATEHOUSE_SIGNING_ALG",
      default: "EdDSA",
      parse: oneOf(SIGNING_ALGS),
      doc: "`EdDSA` or `ES256`",
    }),
    assertionMaxLifetimeSeconds: setting({
      env: "GATEHOUSE_ASSERTION_MAX_LIFETIME",
      default: 300,
      parse: integer(1, 3_600),
      doc: "longest `exp - iat` of an RFC 7523 assertion (§3 items 4–6): keep it short",
    }),
  },
  challenges: {
    ttlSeconds: setting({
      env: "GATEHOUSE_CHALLENGE_TTL",
      default: 60,
      parse: integer(5, 600),
      doc: "challenge deadline",
    }),
    passTtlSeconds: setting({
      env: "GATEHOUSE_PASS_TTL",
      default: 60,
      parse: integer(5, 600),
      doc: "pass lifetime",
    }),
    ...iteratedHashEntries.challenges,
    ...hashcashEntries.challenges,
    ...computeEntries.challenges,
    ...reasoningEntries.challenges,
  },
  limits: {
    maxMessageBytes: setting({
      env: "GATEHOUSE_MAX_MESSAGE_BYTES",
      default: 65_536,
      parse: integer(1024, 4_194_304),
      doc: "request/response size limit",
    }),
    // Generous for an agent (a login or two per token lifetime), tight for a flood.
    challengePerIdentity: rateLimit(
      "GATEHOUSE_LIMIT_CHALLENGE_PER_IDENTITY",
      120,
      "Challenge calls per window per client certificate; `0` = off",
    ),
    challengePerAddress: rateLimit(
      "GATEHOUSE_LIMIT_CHALLENGE_PER_ADDRESS",
      1_200,
      "Challenge calls per window per source IP (IPv6: per /64); `0` = off",
    ),
    submitPerIdentity: rateLimit(
      "GATEHOUSE_LIMIT_SUBMIT_PER_IDENTITY",
      120,
      "Submit calls per window per client certificate, checked before the challenge is consumed",
    ),
    submitPerAddress: rateLimit(
      "GATEHOUSE_LIMIT_SUBMIT_PER_ADDRESS",
      1_200,
      "Submit calls per window per source IP, likewise",
    ),
    windowSeconds: setting({
      env: "GATEHOUSE_LIMIT_WINDOW_SECONDS",
      default: 60,
      parse: integer(1, 3_600),
      doc: "sliding window of the limits, shared by every replica through the store",
    }),
    kinds: setting({
      default: {},
      parse: kindLimitsTable,
      shownDefault: "—",
      doc: "file only: per-kind limits, `[limits.kinds.<kind>]` with the four keys above (`signature`, `reasoning`, `iterated_hash`, `hashcash`), each counted apart",
    }),
    adaptive: {
      enabled: setting({
        env: "GATEHOUSE_ADAPTIVE_POW",
        default: false,
        parse: boolean,
        doc: "above `threshold` challenges per window per identity, Challenge needs a solved hashcash `admission`",
      }),
      threshold: setting({
        env: "GATEHOUSE_ADAPTIVE_POW_THRESHOLD",
        default: 30,
        parse: integer(1, MAX_RATE_LIMIT),
        doc: "challenges per window before adaptive proof of work applies",
      }),
    },
  },
  /** Bounds on every listener (gRPC, Connect and the approval page): src/server/transport-limits.ts. */
  transport: {
    maxConcurrentStreams: setting({
      env: "GATEHOUSE_MAX_CONCURRENT_STREAMS",
      // RFC 9113 §6.5.2 recommends no fewer than 100, so that parallelism is not needlessly limited.
      default: 100,
      parse: integer(1, 10_000),
      doc: "HTTP/2 `SETTINGS_MAX_CONCURRENT_STREAMS` on the gRPC and Connect ports (RFC 9113 §6.5.2); a stream past it is refused (`REFUSED_STREAM`, or a `PROTOCOL_ERROR` ending the connection once the client acknowledged the setting); 1..10000",
    }),
    maxHeaderListBytes: setting({
      env: "GATEHOUSE_MAX_HEADER_LIST_BYTES",
      default: 16_384,
      parse: integer(1_024, 1_048_576),
      doc: "`SETTINGS_MAX_HEADER_LIST_SIZE` (names, values and 32 octets a field); a larger header list is reset (`ENHANCE_YOUR_CALM`); the approval page answers 431",
    }),
    maxHeaderPairs: setting({
      env: "GATEHOUSE_MAX_HEADER_PAIRS",
      default: 64,
      parse: integer(8, 1_000),
      doc: "header fields per request, pseudo-headers included (HTTP/2: reset; HTTP/1.1: fields past it are ignored)",
    }),
    requestTimeoutMs: setting({
      env: "GATEHOUSE_REQUEST_TIMEOUT_MS",
      default: 10_000,
      parse: integer(100, 600_000),
      doc: "time to finish the TLS handshake, then to send each request whole; a half-sent HTTP/2 stream is reset (`CANCEL`), HTTP/1.1 gets 408",
    }),
    idleTimeoutMs: setting({
      env: "GATEHOUSE_IDLE_TIMEOUT_MS",
      default: 60_000,
      parse: integer(100, 3_600_000),
      doc: "a connection with no open request for this long is closed (`GOAWAY NO_ERROR`)",
    }),
    maxConnectionsPerAddress: setting({
      env: "GATEHOUSE_MAX_CONNECTIONS_PER_ADDRESS",
      default: 64,
      parse: integer(1, 100_000),
      doc: "open connections from one IP to one listener, counted before TLS, per process; raise it for a proxy whose clients share one address",
    }),
    maxSessionMemoryMb: setting({
      env: "GATEHOUSE_MAX_SESSION_MEMORY_MB",
      default: 10,
      parse: integer(1, 1_024),
      doc: "memory one HTTP/2 connection may hold in its HTTP/2 state (node:http2 `maxSessionMemory`)",
    }),
  },
  /** Token-signing keys: scheduled rotation with overlap, encryption at rest outside the data dir. */
  keys: {
    rotationIntervalSeconds: setting({
      env: "GATEHOUSE_KEY_ROTATION_INTERVAL",
      default: 7 * 86_400,
      parse: integer(0, 366 * 86_400),
      doc: "a new key is scheduled when the newest has signed this long; `0` = no scheduled rotation",
    }),
    publicationDelaySeconds: setting({
      env: "GATEHOUSE_KEY_PUBLICATION_DELAY",
      // The JWKS cache lifetime (300 s) plus a minute for clock skew and replicas' reloads.
      default: 360,
      // The minimum is checked with the other key settings (checks.ts), to say why.
      parse: integer(0, 7 * 86_400),
      doc: "a new key is in the JWKS this long before it signs (≥ 360: the JWKS cache age, 300, plus the 60 s propagation bound)",
    }),
    encryptionKey: setting({
      env: "GATEHOUSE_KEY_ENCRYPTION_KEY",
      parse: aes256Key,
      secret: true,
      doc: "32 bytes (base64/base64url) sealing signing keys in Redis (AES-256-GCM); required by `serve` with Redis",
    }),
  },
  attestation: attestationSection,
  /**
   * Plausibility of the agent-reported `runtime_ms`, per challenge kind (milliseconds). 0 means
   * "not reported" and passes only where the kind's minimum is 0.
   */
  runtime: {
    toleranceMs: setting({
      env: "GATEHOUSE_RUNTIME_TOLERANCE_MS",
      default: 1_000,
      parse: integer(0, 60_000),
      doc: "reported `runtime_ms` may exceed the server-measured time since the challenge by this much",
    }),
    ...signatureEntries.runtime,
    ...reasoningEntries.runtime,
    ...iteratedHashEntries.runtime,
    ...hashcashEntries.runtime,
  },
  proxy: proxySection,
  dpop: dpopSection,
  verify: verifyCacheSection,
  audit: auditSection,
  /** Operators' Ed25519-signed requests (src/identity/signed-request.ts). */
  operators: {
    requestSignatureWindowSeconds: setting({
      env: "GATEHOUSE_OPERATOR_REQUEST_WINDOW",
      default: 60,
      parse: integer(5, 600),
      doc: "accepted distance of a signed operator request's timestamp from now, either way (5..600); nonces are kept twice as long",
    }),
  },
  grants: grantsSection,
  domains: domainsSection,
  approval: approvalSection,
  sidecar: sidecarSection,
  metrics: metricsSection,
  role: setting({
    env: "GATEHOUSE_ROLE",
    default: "all",
    parse: oneOf(SERVER_ROLES),
    doc: "`all`, `issuer` or `verifier` (also `serve --role`; see [Roles and scaling](#roles-and-scaling))",
  }),
  log: logSection,
  shutdownGraceMs: setting({
    default: 10_000,
    parse: integer(0, 600_000),
    doc: "SIGTERM drain time",
  }),
  /**
   * Server processes (node:cluster): each serves every port and TLS connections are shared
   * among them. More than one needs the Redis store, which the processes share as replicas.
   */
  workers: setting({
    env: "GATEHOUSE_WORKERS",
    default: 1,
    parse: workerCount,
    doc: "server processes sharing the ports (1–64; also `serve --workers`); more than 1 needs Redis",
  }),
};
