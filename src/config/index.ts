import {
  DEFAULTS,
  type Endpoint,
  type GatehouseConfig,
  type KeysConfig,
  type ProxyConfig,
  type StoreConfig,
  type TlsConfig,
} from "./schema.js";

export { type ClientDefaults, clientDefaults } from "./client.js";
export { ConfigError, type LoadConfigOptions, loadConfig } from "./load.js";
export { describeSettings } from "./redact.js";
export {
  type ConfigOverrides,
  DEFAULTS,
  type Endpoint,
  type GatehouseConfig,
  JWKS_MAX_AGE_SECONDS,
  KEY_PROPAGATION_BOUND_SECONDS,
  type KeysConfig,
  LOG_LEVELS,
  type LogLevel,
  type MetricsConfig,
  type Mode,
  type ProxyConfig,
  SERVER_ROLES,
  type ServerRole,
  SIGNING_ALGS,
  type SigningAlg,
  type StoreConfig,
  type TlsConfig,
} from "./schema.js";

/** A short, secret-free summary, one setting a line (`gatehouse config check`, start-up logs). */
export function describeConfig(config: GatehouseConfig): string {
  const { tokens, challenges } = config;
  const rows: [string, string][] = [
    ["mode", config.mode],
    ["issuer", config.issuer],
    ["trust domain", config.trustDomain],
    ["data dir", config.dataDir],
    ["grpc", describeEndpoint(config.grpc)],
    ["connect", describeEndpoint(config.connect)],
    ["tls", describeTls(config.tls)],
    ["store", describeStore(config.store)],
    [
      "tokens",
      `ttl ${tokens.defaultTtlSeconds}s (max ${tokens.maxTtlSeconds}s), ` +
        `clock skew ${tokens.clockSkewSeconds}s, ${tokens.signingAlg}`,
    ],
    ["challenges", `ttl ${challenges.ttlSeconds}s, pass ttl ${challenges.passTtlSeconds}s`],
    [
      "challenge kinds",
      `reasoning difficulty ${challenges.reasoningDifficulty}, ` +
        `deadline ${challenges.reasoningDeadlineSeconds}s; ` +
        `iterated hash ${challenges.iteratedHashIterations} rounds on ` +
        `${challenges.computeWorkers} worker(s); hashcash ${challenges.hashcashDifficultyBits} bits`,
    ],
    ["rate limits", describeLimits(config.limits)],
    [
      "dpop",
      `proof max age ${config.dpop.maxAgeSeconds}s, ` +
        `server nonces ${config.dpop.nonces ? "on (secret set)" : "off"}`,
    ],
    ["max message", `${config.limits.maxMessageBytes} bytes`],
    ["transport", describeTransport(config.transport)],
    [
      "audit denials",
      `folded per key into one entry per ${config.audit.denialWindowSeconds}s window, ` +
        `at most ${config.audit.denialMaxKeys} keys per window`,
    ],
    ...describeKeys(config.keys, config.store),
    ...describeProxy(config.proxy),
    ["domains", describeDomains(config.domains)],
    [
      "signed requests",
      `operators may sign requests; accepted within ±${config.operators.requestSignatureWindowSeconds}s`,
    ],
    [
      "grants",
      `at most ${config.grants.maxPending} pending per agent, lapse after ` +
        `${config.grants.pendingTtlSeconds}s; last ${config.grants.defaultDurationSeconds}s ` +
        `(max ${config.grants.maxDurationSeconds}s); denial cooldown ` +
        `${config.grants.denialBackoffBaseSeconds}s doubling to ${config.grants.denialBackoffMaxSeconds}s`,
    ],
    ["approval", describeApproval(config.approval)],
    ["sidecar", describeSidecar(config.sidecar)],
    ["metrics", config.metrics.enabled ? `http://${describeEndpoint(config.metrics)}` : "off"],
    ["role", config.role],
    ["log level", config.log.level],
    ["shutdown grace", `${config.shutdownGraceMs} ms`],
    [
      "workers",
      config.workers === 1 ? "1 process" : `${config.workers} processes sharing the ports`,
    ],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}

function describeDomains(domains: GatehouseConfig["domains"]): string {
  const resolvers = domains.dnsServers.length > 0 ? domains.dnsServers.join(", ") : "system";
  return (
    `resolvers ${resolvers}; timeout ${domains.timeoutMs} ms; well-known on port ` +
    `${domains.httpsPort}; private addresses ${domains.allowPrivateAddresses ? "ALLOWED (tests only)" : "refused"}; ` +
    `proofs hold ${domains.verificationTtlSeconds}s`
  );
}

function describeApproval(approval: GatehouseConfig["approval"]): string {
  if (!approval.enabled) return "off";
  const origin = approval.origin ?? "https://localhost:<port>";
  return (
    `${describeEndpoint(approval)} as ${origin}; invites ${approval.inviteTtlSeconds}s, ` +
    `sessions ${approval.sessionTtlSeconds}s`
  );
}

/** Where `gatehouse sidecar` listens and what it allows; its client key file is named only. */
function describeSidecar(sidecar: GatehouseConfig["sidecar"]): string {
  const transport = sidecar.plainHttp ? "plain HTTP" : "TLS, HTTP/1.1 and HTTP/2";
  const publicUrl = sidecar.publicUrl === undefined ? "" : ` as ${sidecar.publicUrl}`;
  const upstream = sidecar.upstream ?? "the grpc endpoint";
  const legacy = [
    ...(sidecar.legacyAog ? ["AOG"] : []),
    ...(sidecar.legacyAuth4agent ? ["Auth4Agent"] : []),
  ];
  return (
    `${describeEndpoint(sidecar)} (${transport})${publicUrl} -> ${upstream}; ` +
    (legacy.length > 0 ? `legacy routes: ${legacy.join(", ")}; ` : "") +
    `${sidecar.routes.length} forward-auth route(s)` +
    `${sidecar.forwardAuthRequiresClientCert ? ", client certificate required" : ""}; ` +
    `body ${sidecar.maxBodyBytes} B, headers ${sidecar.maxHeaderBytes} B, ` +
    `request ${sidecar.requestTimeoutMs} ms, upstream ${sidecar.upstreamTimeoutMs} ms, ` +
    `${sidecar.maxConnections} connections` +
    (sidecar.workers === 1 ? "" : ` per process, ${sidecar.workers} processes sharing the port`)
  );
}

function describeLimits(limits: GatehouseConfig["limits"]): string {
  const adaptive = limits.adaptive.enabled
    ? `adaptive proof of work above ${limits.adaptive.threshold}`
    : "adaptive proof of work off";
  return (
    `per ${limits.windowSeconds}s: challenge ${limits.challengePerIdentity}/identity, ` +
    `${limits.challengePerAddress}/address; submit ${limits.submitPerIdentity}/identity, ` +
    `${limits.submitPerAddress}/address; ${adaptive}`
  );
}

function describeTransport(transport: GatehouseConfig["transport"]): string {
  return (
    `${transport.maxConcurrentStreams} streams/connection, headers ` +
    `${transport.maxHeaderListBytes} bytes and ${transport.maxHeaderPairs} fields, ` +
    `request ${transport.requestTimeoutMs} ms, idle ${transport.idleTimeoutMs} ms, ` +
    `${transport.maxConnectionsPerAddress} connections/address, ` +
    `${transport.maxSessionMemoryMb} MB/connection`
  );
}

function describeEndpoint({ host, port }: Endpoint): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function describeTls(tls: TlsConfig): string {
  const files =
    tls.certFile === undefined
      ? "dev PKI"
      : `cert ${tls.certFile}, key ${tls.keyFile}, ca ${tls.caFile}`;
  return `${files}; client certificate ${tls.requireClientCert ? "required" : "optional"}`;
}

/** A row only when enabled; the HMAC secret is never shown, not even in part. */
function describeProxy(proxy: ProxyConfig): [string, string][] {
  if (!proxy.enabled) return [];
  const peers = proxy.trustedPeers.join(", ");
  return [["proxy", `trusted peers ${peers}; max age ${proxy.maxAgeSeconds}s; HMAC secret set`]];
}

/**
 * A row when the key settings differ from the defaults or keys are stored in Redis; the
 * encryption key is never shown, only whether one is set.
 */
function describeKeys(keys: KeysConfig, store: StoreConfig): [string, string][] {
  const defaults = DEFAULTS.keys;
  const isDefault =
    keys.rotationIntervalSeconds === defaults.rotationIntervalSeconds &&
    keys.publicationDelaySeconds === defaults.publicationDelaySeconds;
  if (isDefault && store.kind === "embedded") return [];
  const rotation =
    keys.rotationIntervalSeconds === 0
      ? "no scheduled rotation"
      : `rotation every ${keys.rotationIntervalSeconds}s`;
  const sealing =
    store.kind === "embedded"
      ? "stored in the data dir"
      : keys.encryptionKey === undefined
        ? "stored in redis UNENCRYPTED"
        : "stored in redis encrypted";
  return [["keys", `${rotation}, published ${keys.publicationDelaySeconds}s ahead; ${sealing}`]];
}

function describeStore(store: StoreConfig): string {
  if (store.kind === "embedded") return "embedded";
  return `redis ${redactUrl(store.url)}${store.cluster ? " (cluster)" : ""}`;
}

/** Keeps scheme, host and path; drops credentials and the query (which may carry them too). */
function redactUrl(url: string): string {
  if (!URL.canParse(url)) return "(unparseable URL)";
  const { protocol, username, password, host, pathname } = new URL(url);
  const credentials = username !== "" || password !== "" ? "***@" : "";
  return `${protocol}//${credentials}${host}${pathname}`;
}
