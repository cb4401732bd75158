import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError, toGatehouseError } from "../errors/index.js";
import type { Logger } from "../observability/logger.js";
import { closeUnusedConnections } from "./connection-deadlines.js";
import { watchForDrain } from "./drain.js";
import {
  errorAnswer,
  type HttpRequest,
  type HttpResponse,
  headerOnce,
  sendError,
  sendJson,
} from "./http-io.js";

/** Answers one request, or returns false when no route has its path. */
export type RouteHandler = (req: HttpRequest, res: HttpResponse, url: URL) => Promise<boolean>;

export interface ListenerOptions {
  readonly host: string;
  readonly port: number;
  /** Server certificate, key and the CA client certificates are checked against; none: plain HTTP. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly ca: Buffer };
  readonly maxHeaderBytes: number;
  /** A whole request; also the TLS handshake, then the first request's head, each on its own. */
  readonly requestTimeoutMs: number;
  /** A connection with no request open is closed after this. */
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  /** How long `close` lets requests in flight finish before it cuts them. */
  readonly shutdownGraceMs: number;
  readonly logger: Logger;
}

export interface Listener {
  readonly port: number;
  /** Stops accepting, drains what is in flight (at most `shutdownGraceMs`), then resolves. */
  close(): Promise<void>;
}

/** Concurrent streams per HTTP/2 connection: enough for a proxy's pool, bounded for memory. */
const MAX_CONCURRENT_STREAMS = 256;

/** How often node:http looks for request heads past `headersTimeout` (its default is 30 s). */
const HTTP1_CHECK_INTERVAL_MS = 1_000;

/**
 * HTTP/1.1 and HTTP/2 (ALPN) over TLS, client certificates requested but not required at the
 * handshake (public documents need none; each route decides), or plain HTTP/1.1 when no TLS
 * is given. Limits: header size, connections, streams per connection, a whole-request
 * deadline answered with 408, and deadlines on connections that hold a slot of
 * `maxConnections` unused: the TLS handshake and then the first request's head each within
 * `requestTimeoutMs`, no request open for `idleTimeoutMs` (connection-deadlines.ts). Closing
 * it drains it (drain.ts).
 */
export async function listen(options: ListenerOptions, handle: RouteHandler): Promise<Listener> {
  const { tls, maxHeaderBytes, requestTimeoutMs } = options;
  const onRequest = (req: HttpRequest, res: HttpResponse) => {
    inUse(req, res);
    if (connections.admit(req, res)) void serve(req, res, handle, options);
  };
  const server = tls
    ? http2.createSecureServer(
        {
          ...tls,
          allowHTTP1: true,
          requestCert: true,
          rejectUnauthorized: false,
          minVersion: "TLSv1.2",
          maxHeaderSize: maxHeaderBytes,
          settings: {
            maxHeaderListSize: maxHeaderBytes,
            maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
          },
          maxSessionMemory: 16,
          // Node's default is 120 s; the handshake holds a connection slot like any request.
          handshakeTimeout: requestTimeoutMs,
          // As below: serve() answers HTTP/1.1 without Host with typed JSON (Node 24 applies
          // the option to the HTTP/1.1 side of the HTTP/2 server too; Node 20 does not check).
          requireHostHeader: false,
        } as http2.SecureServerOptions,
        onRequest,
      )
    : http.createServer(
        {
          maxHeaderSize: maxHeaderBytes,
          requestTimeout: requestTimeoutMs,
          // serve() answers a request without Host with typed JSON, not Node's bare 400.
          requireHostHeader: false,
        },
        onRequest,
      );
  // A later request's head on a keep-alive HTTP/1.1 connection, trickled in: 408 (the first
  // one's is bounded by connection-deadlines.ts). Set before listening: Node reads it then.
  Object.assign(server, {
    headersTimeout: requestTimeoutMs,
    connectionsCheckingInterval: HTTP1_CHECK_INTERVAL_MS,
  });
  const inUse = closeUnusedConnections(server, {
    firstRequestMs: requestTimeoutMs,
    idleMs: options.idleTimeoutMs,
  });
  // An HTTP/1.1 request Node's parser refuses never reaches a handler: a header section over
  // `maxHeaderSize` (Node 24 applies the limit to HTTP/1.1 on the HTTP/2 server too) or a
  // malformed request, or a head not whole within `headersTimeout`. Answer it as every other
  // refusal is answered, typed JSON (431, RFC 6585 §5; 408; else 400), then close.
  // Everything else that comes here is no HTTP/1.1 request to answer, and its socket is
  // destroyed: a client gone (ECONNRESET), and on the TLS server every TLS error, the
  // handshake timeout included. Ending such a socket instead queues plaintext behind a
  // handshake that never completes: the socket then never closes, not even when the client
  // leaves (CLOSE-WAIT), and its `maxConnections` slot is lost for good.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    const refusal = refusalOf(error);
    if (!refusal || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(rawAnswer(refusal));
  });
  server.maxConnections = options.maxConnections;
  const connections = watchForDrain(server, options.logger);
  server.on(tls ? "secureConnection" : "connection", (socket) => {
    // Small answers go out at once: with Nagle's algorithm a proxy's keep-alive connection
    // waits for the peer's delayed ACK (tens of ms) between requests.
    socket.setNoDelay(true);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => connections.drain(options.shutdownGraceMs),
  };
}

/** The answer to a request Node's HTTP/1.1 parser gave up on; none when nothing is to answer. */
function refusalOf(error: NodeJS.ErrnoException): GatehouseError | undefined {
  if (error.code === "HPE_HEADER_OVERFLOW")
    return new GatehouseError(Reason.HTTP_HEADERS_TOO_LARGE);
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return new GatehouseError(Reason.HTTP_REQUEST_TIMEOUT);
  }
  if (error.code?.startsWith("HPE_")) {
    return new GatehouseError(Reason.INVALID_ARGUMENT, { description: "malformed HTTP request" });
  }
  return undefined;
}

async function serve(
  req: HttpRequest,
  res: HttpResponse,
  handle: RouteHandler,
  options: ListenerOptions,
): Promise<void> {
  const hostProblem = hostProblemOf(req);
  if (hostProblem) {
    // A malformed message: whatever follows it on the connection is not read either.
    sendError(res, new GatehouseError(Reason.INVALID_ARGUMENT, { description: hostProblem }), {
      connection: "close",
    });
    return;
  }
  const timer = setTimeout(() => {
    sendError(res, new GatehouseError(Reason.HTTP_REQUEST_TIMEOUT), { connection: "close" });
    req.destroy();
  }, options.requestTimeoutMs);
  try {
    // Origin-form only (RFC 9112 §3.2.1): "//host/x" must stay a path, not become a host.
    const target = req.url ?? "";
    if (!target.startsWith("/")) throw new GatehouseError(Reason.HTTP_ROUTE_NOT_FOUND);
    // HTTP/2 bounds the header list in SETTINGS; HTTP/1.1 over the same TLS port is checked here.
    if (headerBytes(req) > options.maxHeaderBytes) {
      throw new GatehouseError(Reason.HTTP_HEADERS_TOO_LARGE);
    }
    const url = new URL(`http://sidecar${target}`);
    if (!(await handle(req, res, url))) throw new GatehouseError(Reason.HTTP_ROUTE_NOT_FOUND);
  } catch (thrown) {
    if (abortedByClient(req, thrown)) {
      // No one is left to answer, and nothing failed here.
      options.logger.debug({ err: thrown }, "sidecar request aborted by the client");
      return;
    }
    const error = toGatehouseError(thrown);
    if (error.reason === Reason.INTERNAL)
      options.logger.error({ err: thrown }, "sidecar request failed");
    sendError(res, error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host, and to any
 * request with more than one Host field line. Node keeps only the first one in `headers`, so
 * they are counted in the raw ones. HTTP/2 carries the authority in `:authority` (RFC 9113
 * §8.3.1) and Node's HTTP/2 layer checks it.
 */
function hostProblemOf(req: HttpRequest): string | undefined {
  if (req.httpVersionMajor !== 1) return undefined;
  const host = headerOnce(req, "host");
  if (host === null) return "more than one Host field";
  if (host === undefined && req.httpVersionMinor >= 1) return "no Host field";
  return undefined;
}

/**
 * The client went away before its request was whole: Node fails reading the body with
 * `aborted` (ECONNRESET) on HTTP/1.1, and the request is destroyed unfinished.
 */
function abortedByClient(req: HttpRequest, thrown: unknown): boolean {
  const code = (thrown as NodeJS.ErrnoException | undefined)?.code;
  return req.destroyed && !req.complete && code === "ECONNRESET";
}

/** A whole HTTP/1.1 refusal, for a socket no response object was made for. */
function rawAnswer(error: GatehouseError): string {
  const { status, body } = errorAnswer(error);
  const text = JSON.stringify(body);
  return (
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\n` +
    "content-type: application/json\r\n" +
    `content-length: ${Buffer.byteLength(text)}\r\n` +
    "connection: close\r\n\r\n" +
    text
  );
}

/** Names and values as received, with 4 bytes each for separators (RFC 9112 §5). */
function headerBytes(req: HttpRequest): number {
  let total = 0;
  for (const part of req.rawHeaders) total += part.length + 2;
  return total;
}

/** `/healthz`: the process answers. */
export function healthz(res: HttpResponse): void {
  sendJson(res, 200, { status: "ok" });
}
