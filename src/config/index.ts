import type { Endpoint, GatehouseConfig, ProxyConfig, StoreConfig, TlsConfig } from "./schema.js";

export { ConfigError, type LoadConfigOptions, loadConfig } from "./load.js";
export {
  type ConfigOverrides,
  DEFAULTS,
  type Endpoint,
  type GatehouseConfig,
  LOG_LEVELS,
  type LogLevel,
  type Mode,
  type ProxyConfig,
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
    ["max message", `${config.limits.maxMessageBytes} bytes`],
    ...describeProxy(config.proxy),
    ["log level", config.log.level],
    ["shutdown grace", `${config.shutdownGraceMs} ms`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
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
