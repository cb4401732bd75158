import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { toGatehouseError } from "../errors/index.js";
import { limitConnectionsPerAddress, limitHttp1Requests } from "../server/transport-limits.js";
import { loadAssets } from "./assets.js";
import type { ApprovalContext, Call } from "./context.js";
import { type ApprovalRoute, runRoute } from "./guards.js";
import { readJsonObject } from "./http/request.js";
import { writeError, writeReply } from "./http/response.js";
import { matchRoute } from "./http/router.js";
import { type ApprovalServerOptions, DEFAULT_CEREMONY_TTL_MS } from "./options.js";
import { approvalRoutes } from "./routes.js";
import { createSessions } from "./session.js";
import { createCeremonyTickets } from "./tickets.js";
import { relyingParty } from "./webauthn/relying-party.js";

export interface ApprovalServer {
  /** Binds the HTTPS listener; resolves with the bound port. */
  start(): Promise<number>;
  /** The page's origin: the configured one, else `https://localhost:<port>` once started. */
  origin(): string;
  /** Stops accepting connections and resolves once open requests have finished. */
  close(): Promise<void>;
  /** Drops every open connection (when the shutdown grace has run out). */
  forceClose(): void;
}

/**
 * The approval page's own HTTPS listener (not the gRPC port: browsers cannot present the
 * client certificates the gRPC port requires), serving the page, its assets and its JSON API
 * under `/approve`.
 */
export function createApprovalServer(options: ApprovalServerOptions): ApprovalServer {
  let server: Server | undefined;
  let origin = options.origin;
  return {
    async start() {
      const assets = await loadAssets();
      const { transport } = options;
      const listening = createServer({
        ...options.tls,
        minVersion: "TLSv1.2",
        handshakeTimeout: transport.requestTimeoutMs,
      });
      limitHttp1Requests(listening, transport);
      limitConnectionsPerAddress(listening, transport.maxConnectionsPerAddress);
      const port = await listen(listening, options.listen);
      origin ??= `https://localhost:${port}`;
      const ctx = approvalContext(options, origin);
      const routes = approvalRoutes(ctx, assets);
      listening.on("request", (req, res) => void handle(req, res, ctx, routes));
      server = listening;
      options.logger.info({ port, origin }, "approval page serving");
      return port;
    },
    origin() {
      if (origin === undefined) throw new Error("approval server not started");
      return origin;
    },
    close() {
      return new Promise((resolve) => {
        if (!server?.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
    forceClose() {
      server?.closeAllConnections();
    },
  };
}

function approvalContext(options: ApprovalServerOptions, origin: string): ApprovalContext {
  const ceremonyTtlMs = options.ceremonyTtlMs ?? DEFAULT_CEREMONY_TTL_MS;
  return {
    store: options.store,
    clock: options.clock,
    audit: options.audit,
    logger: options.logger,
    rp: relyingParty(origin),
    sessions: createSessions(options.store.sessions, options.sessionTtlMs),
    tickets: createCeremonyTickets(options.store.approvalTickets, ceremonyTtlMs),
    ceremonyTtlMs,
    denialBackoff: { baseMs: options.denialBackoffBaseMs, maxMs: options.denialBackoffMaxMs },
  };
}

/** Routes one request; every refusal is JSON `{reason, message}`, never a stack or a value. */
async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ApprovalContext,
  routes: readonly ApprovalRoute[],
): Promise<void> {
  try {
    const path = new URL(req.url ?? "/", ctx.rp.origin).pathname;
    const { route, params } = matchRoute(routes, req.method, path);
    let body: Promise<Record<string, unknown>> | undefined;
    const call: Call = { req, params, body: () => (body ??= readJsonObject(req)) };
    writeReply(req, res, await runRoute(route, call, ctx));
  } catch (error) {
    const refusal = toGatehouseError(error);
    if (refusal.reason === Reason.INTERNAL) {
      ctx.logger.error({ err: refusal.cause }, "approval request failed");
    }
    if (!res.headersSent) writeError(req, res, refusal);
    else res.destroy();
  }
}

function listen(server: Server, endpoint: { host: string; port: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(endpoint.port, endpoint.host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
