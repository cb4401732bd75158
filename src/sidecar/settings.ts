import { endpointSettings } from "../config/endpoint.js";
import { absolutePath, boolean, hostPort, integer, issuerUrl } from "../config/parsers.js";
import { setting } from "../config/setting.js";
import { forwardAuthRoutes } from "./route-table.js";

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
    doc: "a whole request, headers to the last byte of the answer; 408 beyond",
  }),
  maxConnections: setting({
    env: "GATEHOUSE_SIDECAR_MAX_CONNECTIONS",
    default: 1_024,
    parse: integer(1, 1_000_000),
    doc: "open connections to the sidecar",
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
};
