import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError, toGatehouseError } from "../errors/index.js";
import type { Logger } from "../observability/logger.js";
import { watchForDrain } from "./drain.js";
import {
  errorAnswer,
  type HttpRequest,
  type HttpResponse,
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
  readonly requestTimeoutMs: number;
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

/**
 * HTTP/1.1 and HTTP/2 (ALPN) over TLS, client certificates requested but not required at the
 * handshake (public documents need none; each route decides), or plain HTTP/1.1 when no TLS
 * is given. Limits: header size, connections, streams per connection, and a whole-request
 * deadline answered with 408. Closing it drains it (drain.ts).
 */
export async function listen(options: ListenerOptions, handle: RouteHandler): Promise<Listener> {
  const { tls, maxHeaderBytes, requestTimeoutMs } = options;
  const onRequest = (req: HttpRequest, res: HttpResponse) => {
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
        } as http2.SecureServerOptions,
        onRequest,
      )
    : http.createServer(
        { maxHeaderSize: maxHeaderBytes, requestTimeout: requestTimeoutMs },
        onRequest,
      );
  // An HTTP/1.1 request Node's parser refuses never reaches a handler: a header section over
  // `maxHeaderSize` (Node 24 applies the limit to HTTP/1.1 on the HTTP/2 server too) or a
  // malformed request. Answer it as every other refusal is answered, typed JSON (431, RFC 6585
  // §5; else 400), then close.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const refusal =
      error.code === "HPE_HEADER_OVERFLOW"
        ? new GatehouseError(Reason.HTTP_HEADERS_TOO_LARGE)
        : new GatehouseError(Reason.INVALID_ARGUMENT, { description: "malformed HTTP request" });
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

async function serve(
  req: HttpRequest,
  res: HttpResponse,
  handle: RouteHandler,
  options: ListenerOptions,
): Promise<void> {
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
    const error = toGatehouseError(thrown);
    if (error.reason === Reason.INTERNAL)
      options.logger.error({ err: thrown }, "sidecar request failed");
    sendError(res, error);
  } finally {
    clearTimeout(timer);
  }
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
