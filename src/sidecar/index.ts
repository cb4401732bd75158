import { readFile } from "node:fs/promises";
import { AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import { GrantService } from "../../gen/gatehouse/v1/grants_pb.js";
import { RegistryService } from "../../gen/gatehouse/v1/registry_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { devPkiDir, loadTlsMaterial } from "../app/tls.js";
import type { ClientTls } from "../client/credentials.js";
import { type Clock, systemClock } from "../clock.js";
import type { GatehouseConfig } from "../config/index.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { ensureDevPki } from "../pki/dev-pki.js";
import { issueCertificate } from "../pki/issue-certificate.js";
import { roleCertificateSpec } from "../pki/role-certificate.js";
import { createClientAddressOf } from "./client-address.js";
import { createForwardAuth } from "./forward-auth.js";
import { type HttpRequest, type HttpResponse, methodIsOneOf, READ_METHODS } from "./http-io.js";
import { createLegacyRoutes } from "./legacy/index.js";
import { createOAuthTokenEndpoint } from "./oauth/token-endpoint.js";
import { createOpenApiEndpoint } from "./openapi/serve.js";
import { createProtectedResourceMetadata } from "./protected-resource.js";
import { createPublicDocuments } from "./public-documents.js";
import { createReadiness } from "./readiness.js";
import { replicaProblems, startVerifierReplica } from "./replica.js";
import { createRestHandler } from "./rest/handler.js";
import { healthz, listen, type RouteHandler } from "./server.js";
import { createUpstream } from "./upstream.js";

/** Every service with `google.api.http` rules: the REST surface. */
export const REST_SERVICES = [
  GateService,
  VerifyService,
  RegistryService,
  GrantService,
  AuditService,
];

export interface SidecarOptions {
  readonly config: GatehouseConfig;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface Sidecar {
  readonly port: number;
  /** The URL the listener answers on (the public URL is `sidecar.public_url`). */
  readonly url: string;
  /**
   * Drains: stops accepting, reports not ready, lets requests in flight finish (at most
   * `shutdown_grace_ms`), then closes the channel to Gatehouse (or the replica) they used.
   */
  stop(): Promise<void>;
}

/** Where a sidecar listens: what a `sidecar --workers` worker tells its primary. */
export type SidecarListening = Pick<Sidecar, "port" | "url">;

/** Only these fields, from a running sidecar or from a worker's message as it arrived. */
export function sidecarListening(from: unknown): SidecarListening {
  const fields = (from ?? {}) as Partial<Record<keyof SidecarListening, unknown>>;
  return { port: Number(fields.port), url: String(fields.url) };
}

/** Problems that stop the sidecar before it listens: it cannot forward identities without them. */
export function sidecarProblems(config: GatehouseConfig): string[] {
  const problems: string[] = [];
  if (!config.proxy.enabled) {
    problems.push(
      "proxy.enabled / GATEHOUSE_PROXY_ENABLED: the sidecar needs the proxy HMAC secret",
    );
  }
  if (config.sidecar.verifier === "replica") problems.push(...replicaProblems(config));
  if (config.mode === "serve" && config.sidecar.clientCertFile === undefined) {
    problems.push(
      "sidecar.client_cert_file / GATEHOUSE_SIDECAR_CLIENT_CERT: required in serve mode",
    );
  }
  return problems;
}

/** Composes the sidecar from the configuration and starts listening. */
export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.log.level);
  const problems = sidecarProblems(config);
  if (problems.length > 0 || !config.proxy.enabled) throw new Error(problems.join("; "));
  const { sidecar } = config;
  const server = await loadTlsMaterial(config);
  const address =
    sidecar.upstream ?? `${hostForUrl(dialHost(config.grpc.host))}:${config.grpc.port}`;
  const proxyTls = await proxyClientTls(config, server.ca, clock);
  const remote = createUpstream({
    address,
    tls: proxyTls,
    hmacSecret: config.proxy.hmacSecret,
    timeoutMs: sidecar.upstreamTimeoutMs,
    clock,
  });
  const replica =
    sidecar.verifier === "replica"
      ? await startVerifierReplica({
          config,
          clock,
          logger,
          tls: server,
          proxyTls,
          address,
          upstream: remote,
        }).catch((error: unknown) => {
          remote.close();
          throw error;
        })
      : undefined;
  const upstream = replica ?? remote;
  const listener = await listen(
    {
      host: sidecar.host,
      port: sidecar.port,
      ...(sidecar.plainHttp ? {} : { tls: { cert: server.cert, key: server.key, ca: server.ca } }),
      maxHeaderBytes: sidecar.maxHeaderBytes,
      requestTimeoutMs: sidecar.requestTimeoutMs,
      idleTimeoutMs: sidecar.idleTimeoutMs,
      maxConnections: sidecar.maxConnections,
      shutdownGraceMs: config.shutdownGraceMs,
      logger,
    },
    lazy(() => routes),
  ).catch(async (error: unknown) => {
    await upstream.close(); // a port already taken: nothing keeps the channel to Gatehouse open
    throw error;
  });
  const scheme = sidecar.plainHttp ? "http" : "https";
  const url = `${scheme}://${hostForUrl(dialHost(sidecar.host))}:${listener.port}`;
  const publicUrl = sidecar.publicUrl ?? url;
  const documents = createPublicDocuments(upstream, publicUrl);
  const clientAddressOf = createClientAddressOf(sidecar.trustedForwarders);
  const rest = createRestHandler(REST_SERVICES, {
    upstream,
    maxBodyBytes: sidecar.maxBodyBytes,
    clientAddressOf,
  });
  const forwardAuth = createForwardAuth({
    upstream,
    routes: sidecar.routes,
    requireClientCert: sidecar.forwardAuthRequiresClientCert,
  });
  const oauthToken = createOAuthTokenEndpoint({
    upstream,
    maxBodyBytes: sidecar.maxBodyBytes,
    clock,
    clientAddressOf,
  });
  const protectedResource = createProtectedResourceMetadata(sidecar.routes, config.issuer);
  const openApi = createOpenApiEndpoint();
  const legacy = createLegacyRoutes(config, upstream, publicUrl, clock, clientAddressOf);
  let draining = false;
  const readiness = createReadiness({
    readJwks: documents.readJwks,
    // Not while draining (balancers stop sending here), nor while the replica's store does not
    // answer (every Verify would be refused).
    ready: () => !draining && replica?.serving() !== false,
  });
  // Every path is matched first, then its methods: a known path with another method is 405
  // with `Allow` (RFC 9110 §15.5.6), never 404 nor another route's answer.
  const read = async (
    req: HttpRequest,
    res: HttpResponse,
    answer: () => unknown,
  ): Promise<true> => {
    if (methodIsOneOf(req, res, READ_METHODS)) await answer();
    return true;
  };
  const routes: RouteHandler = async (req, res, url) => {
    switch (url.pathname) {
      case "/healthz":
        return read(req, res, () => healthz(res));
      case "/readyz":
        return read(req, res, () => readiness(req, res));
      case "/.well-known/jwks.json":
        return read(req, res, () => documents.jwks(req, res));
      case "/.well-known/oauth-authorization-server":
        return read(req, res, () => documents.authorizationServer(req, res));
      case "/.well-known/gatehouse":
        return read(req, res, () => documents.gatehouse(req, res));
      case "/openapi.json":
        return read(req, res, () => openApi(req, res));
      case "/auth":
        await forwardAuth(req, res);
        return true;
      case "/oauth2/token":
        await oauthToken(req, res);
        return true;
      default:
        if (url.pathname.startsWith("/auth/")) {
          await forwardAuth(req, res); // Envoy: /auth + the original path
          return true;
        }
        if (await legacy(req, res, url)) return true;
        return protectedResource(req, res, url) || rest(req, res, url);
    }
  };
  logger.info(
    { port: listener.port, upstream: sidecar.upstream, verifier: sidecar.verifier },
    "sidecar serving",
  );
  return {
    port: listener.port,
    url,
    async stop() {
      draining = true;
      await listener.close();
      await upstream.close();
    },
  };
}

/** The route table is built after the listener knows its port (the public URL may name it). */
function lazy(get: () => RouteHandler): RouteHandler {
  return (req, res, url) => get()(req, res, url);
}

/**
 * The `proxy` client certificate: configured files, or (dev mode) one issued in memory from
 * the dev CA at each start, never written to disk.
 */
async function proxyClientTls(
  config: GatehouseConfig,
  ca: Buffer,
  clock: Clock,
): Promise<ClientTls> {
  const { clientCertFile, clientKeyFile } = config.sidecar;
  if (clientCertFile !== undefined && clientKeyFile !== undefined) {
    const [cert, key] = await Promise.all([readFile(clientCertFile), readFile(clientKeyFile)]);
    return { cert, key, ca };
  }
  const pki = await ensureDevPki(devPkiDir(config), { trustDomain: config.trustDomain });
  const spec = roleCertificateSpec(config.trustDomain, { role: "proxy", name: DEV_SIDECAR_NAME });
  const pair = await issueCertificate({ ca: pki.ca, ...spec, validityDays: 30, clock });
  return { cert: Buffer.from(pair.certPem), key: Buffer.from(pair.keyPem), ca };
}

/** The name in the URI SAN of the dev sidecar's `proxy` certificate. */
const DEV_SIDECAR_NAME = "dev-sidecar";

const WILDCARD_DIAL: Readonly<Record<string, string>> = { "0.0.0.0": "127.0.0.1", "::": "::1" };

function dialHost(host: string): string {
  return WILDCARD_DIAL[host] ?? host;
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
