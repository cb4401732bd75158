import { endpointSettings } from "../config/endpoint.js";
import {
  absolutePath,
  boolean,
  hostPort,
  integer,
  ipList,
  issuerUrl,
  oneOf,
  scopeList,
  secret,
  text,
  workerCount,
} from "../config/parsers.js";
import { setting } from "../config/setting.js";
import { forwardAuthRoutes } from "./route-table.js";

/** `sidecar.verifier`: where `/auth` and REST Verify are decided (src/sidecar/replica.ts). */
export const SIDECAR_VERIFIERS = ["upstream", "replica"] as const;

/**
 * The HTTP sidecar's section (`gatehouse sidecar`): its listener, its limits, how it reaches
 * Gatehouse (gRPC, mTLS, its own `proxy` certificate, the `proxy.hmac_secret`) and the
 * forward-auth route table.
 */
export const sidecarSection = {
  ...endpointSettings("GATEHOUSE_SIDECAR", 7447, "the HTTP sidecar's listener"),
  plainHttp: setting({
    env: "GATEHOUSE_SIDECAR_PLAIN_HTTP",
    default: false,
    parse: boolean,
    doc: "plain HTTP instead of TLS, on loopback only unless `plain_http_any_host`",
  }),
  // No environment variable: exposing plain HTTP beyond loopback is a deliberate file edit.
  plainHttpAnyHost: setting({
    default: false,
    parse: boolean,
    doc: "file only: plain HTTP on a non-loopback address (behind a TLS-terminating proxy)",
  }),
  publicUrl: setting({
    env: "GATEHOUSE_SIDECAR_PUBLIC_URL",
    parse: issuerUrl,
    shownDefault: "the issuer",
    doc: "the URL clients reach the sidecar at; advertised URLs and the Token RPC's DPoP `htu` use it",
  }),
  upstream: setting({
    env: "GATEHOUSE_SIDECAR_UPSTREAM",
    parse: hostPort,
    shownDefault: "the `[grpc]` endpoint",
    doc: "Gatehouse's gRPC address, `host:port`",
  }),
  clientCertFile: setting({
    env: "GATEHOUSE_SIDECAR_CLIENT_CERT",
    parse: absolutePath,
    shownDefault: "dev PKI",
    doc: "the sidecar's `proxy` client certificate; required by `serve`; with `[proxy] enabled` and `hmac_secret`",
  }),
  clientKeyFile: setting({
    env: "GATEHOUSE_SIDECAR_CLIENT_KEY",
    parse: absolutePath,
    shownDefault: "dev PKI",
    doc: "the key of that certificate; set together with `client_cert_file`",
  }),
  trustedForwarders: setting({
    env: "GATEHOUSE_SIDECAR_TRUSTED_FORWARDERS",
    parse: ipList,
    shownDefault: "none: the caller's address is the TCP peer's",
    doc: "IPs / CIDRs of TLS terminators (nginx) whose `X-Forwarded-For` names the client's address on the legacy routes, REST and `/oauth2/token` (Gatehouse counts per-address limits under it); on the legacy routes their own certificate names no caller (env: comma-separated)",
  }),
  forwardAuthRequiresClientCert: setting({
    env: "GATEHOUSE_SIDECAR_FORWARD_AUTH_CLIENT_CERT",
    default: false,
    parse: boolean,
    doc: "`/auth` refuses a caller without a certificate of the CA (the shipped nginx config sets it); REST always needs one",
  }),
  maxBodyBytes: setting({
    env: "GATEHOUSE_SIDECAR_MAX_BODY",
    default: 65_536,
    parse: integer(1024, 4_194_304),
    doc: "request body limit; 413 beyond",
  }),
  maxHeaderBytes: setting({
    env: "GATEHOUSE_SIDECAR_MAX_HEADER",
    default: 16_384,
    parse: integer(4096, 65_536),
    doc: "request header limit; 431 beyond",
  }),
  requestTimeoutMs: setting({
    env: "GATEHOUSE_SIDECAR_REQUEST_TIMEOUT_MS",
    default: 15_000,
    parse: integer(100, 300_000),
    doc: "a whole request, headers to the last byte of the answer; 408 beyond; also the TLS handshake, and then the first request's headers, each on its own (closed beyond)",
  }),
  idleTimeoutMs: setting({
    env: "GATEHOUSE_SIDECAR_IDLE_TIMEOUT_MS",
    default: 60_000,
    parse: integer(100, 3_600_000),
    doc: "a connection with no request open for this long is closed (HTTP/2: `GOAWAY NO_ERROR`); a proxy's keep-alive pool should drop its idle connections sooner",
  }),
  maxConnections: setting({
    env: "GATEHOUSE_SIDECAR_MAX_CONNECTIONS",
    default: 1_024,
    parse: integer(1, 1_000_000),
    doc: "open connections to each sidecar process",
  }),
  /**
   * `gatehouse sidecar` processes sharing the listener (src/app/workers.ts, as the server's
   * `workers`). More than one needs nothing shared of its own: the sidecar keeps no
   * single-use value and counts no rate limit; what must hold across processes is decided
   * in Gatehouse or in the Redis store (challenges, passes, assertion `jti`s, DPoP proof
   * `jti`s and nonces, rate limits), and the replica verifier needs Redis already. What
   * each process holds for itself, and why that is safe:
   *   - the forwarded-identity headers memo (upstream.ts): a deterministic function's
   *     results, the same bytes in every process;
   *   - its gRPC channel to Gatehouse, and in dev mode its `proxy` certificate, issued in
   *     memory at each start (each process has its own; every one is a `proxy` of the CA);
   *   - with `verifier = "replica"`, a whole verifier replica: its caches are kept fresh by
   *     the store's invalidation bus, as any replica's are; Verify denials fold into audit
   *     entries per process (`[audit] denial_max_keys` is per process);
   *   - `max_connections`, which bounds each process.
   * The sidecar has no metrics listener, so there is nothing to add up across workers.
   */
  workers: setting({
    env: "GATEHOUSE_SIDECAR_WORKERS",
    default: 1,
    parse: workerCount,
    doc: "`gatehouse sidecar` processes sharing its port (1–64; also `sidecar --workers`); `gatehouse dev` runs one",
  }),
  verifier: setting({
    env: "GATEHOUSE_SIDECAR_VERIFIER",
    default: "upstream",
    parse: oneOf(SIDECAR_VERIFIERS),
    doc: "where `/auth` and REST Verify are decided: `upstream` (Gatehouse over gRPC) or `replica` (an in-process verifier replica on the shared Redis store)",
  }),
  upstreamTimeoutMs: setting({
    env: "GATEHOUSE_SIDECAR_UPSTREAM_TIMEOUT_MS",
    default: 5_000,
    parse: integer(50, 60_000),
    doc: "deadline of each gRPC call to Gatehouse",
  }),
  routes: setting({
    default: [],
    parse: forwardAuthRoutes,
    shownDefault: "none",
    doc: 'file only: forward-auth resources, `[[sidecar.routes]]` with `host`, `path_prefix`, `resource`, `audience`, `scopes`, `mcp`, `mcp_scopes` (`mcp_scopes = [{ method = "tools/call", name = "refund", scopes = ["orders:write"] }]`)',
  }),
  legacyAog: setting({
    env: "GATEHOUSE_SIDECAR_LEGACY_AOG",
    default: false,
    parse: boolean,
    doc: "AOG-style routes (`GET /challenge`, `POST /task`); need `legacy_aog_audience` and `legacy_aog_scopes`",
  }),
  legacyAogAudience: setting({
    env: "GATEHOUSE_SIDECAR_LEGACY_AOG_AUDIENCE",
    parse: text(256),
    doc: "the audience every AOG login is bound to",
  }),
  legacyAogScopes: setting({
    env: "GATEHOUSE_SIDECAR_LEGACY_AOG_SCOPES",
    default: [],
    parse: scopeList,
    shownDefault: "none",
    doc: "the scopes every AOG login is for (within the agent's policy); comma-separated in the environment",
  }),
  legacyAogHeaderSecret: setting({
    env: "GATEHOUSE_SIDECAR_LEGACY_AOG_HEADER_SECRET",
    parse: secret(32),
    secret: true,
    shownDefault: "unset: only mTLS names an AOG caller",
    doc: "the secret a TLS terminator signs `X-Client-Cert` with (base64 HMAC-SHA256 in `X-Client-Cert-Sig`), ≥ 32 bytes",
  }),
  // No environment variable: accepting self-reported attestations is a deliberate file edit.
  legacyAogUnsignedAutonomy: setting({
    default: false,
    parse: boolean,
    doc: "file only: accept AOG's unsigned `autonomy_attestation` object (weaker; refused by default)",
  }),
  legacyAuth4agent: setting({
    env: "GATEHOUSE_SIDECAR_LEGACY_AUTH4AGENT",
    default: false,
    parse: boolean,
    doc: "Auth4Agent-style routes (`/v1/challenge`, `/v1/token`, `/v1/verify`, …); always on in `gatehouse dev`",
  }),
};
