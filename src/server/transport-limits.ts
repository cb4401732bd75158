import * as http2 from "node:http2";
import type { Server, Socket } from "node:net";
import type { TransportLimits } from "../config/limits.js";

const { NGHTTP2_CANCEL } = http2.constants;

/**
 * The node:http2 server options both HTTP/2 listeners take (the Connect server directly,
 * grpc-js's through src/server/grpc-limits.ts): what each connection advertises and holds.
 */
export function http2ServerOptions(limits: TransportLimits) {
  return {
    settings: {
      // RFC 9113 §6.5.2. A stream past it is refused (§5.1.2): REFUSED_STREAM while the client
      // has not yet acknowledged these SETTINGS, after that a PROTOCOL_ERROR that ends the whole
      // connection and every stream it held (nghttp2).
      maxConcurrentStreams: limits.maxConcurrentStreams,
      // RFC 9113 §6.5.2: advertised, and node:http2 resets a stream whose headers exceed it.
      maxHeaderListSize: limits.maxHeaderListBytes,
    },
    maxHeaderListPairs: limits.maxHeaderPairs,
    maxSessionMemory: limits.maxSessionMemoryMb,
    handshakeTimeout: limits.requestTimeoutMs,
    // A TLS connection that negotiated no HTTP/2 (allowHTTP1 off) is closed after this.
    unknownProtocolTimeout: limits.requestTimeoutMs,
  } satisfies http2.SecureServerOptions;
}

/**
 * Enforces, on one HTTP/2 server, what SETTINGS cannot say: each stream must be received whole
 * (END_STREAM, RFC 9113 §8.1) within `requestTimeoutMs` or is reset (RST_STREAM CANCEL, §6.4);
 * a connection with no stream open for `idleTimeoutMs` is closed with GOAWAY NO_ERROR (§6.8).
 */
export function limitHttp2Streams(server: http2.Http2SecureServer, limits: TransportLimits): void {
  server.on("stream", (stream) => {
    if (stream.endAfterHeaders) return;
    const timer = setTimeout(resetUnlessReceived, limits.requestTimeoutMs, stream);
    stream.once("close", () => clearTimeout(timer));
  });
  server.on("session", (session) => closeWhenIdle(session, limits.idleTimeoutMs));
}

/** The peer has not closed its side of the stream in time: the request will not be served. */
function resetUnlessReceived(stream: http2.ServerHttp2Stream): void {
  if (stream.destroyed || stream.closed || stream.state.remoteClose === 1) return;
  stream.close(NGHTTP2_CANCEL);
}

/**
 * Closes the session once it has had no open stream for `idleMs`: the timer restarts whenever
 * the last open stream closes, so when it fires with none open the session was idle throughout.
 */
function closeWhenIdle(session: http2.ServerHttp2Session, idleMs: number): void {
  let open = 0;
  const timer = setTimeout(() => {
    if (open === 0 && !session.closed && !session.destroyed) session.close();
  }, idleMs).unref();
  session.on("stream", (stream) => {
    open += 1;
    stream.once("close", () => {
      open -= 1;
      if (open === 0) timer.refresh();
    });
  });
  session.once("close", () => clearTimeout(timer));
}

/** The node:http Server settings an HTTP/1.1 listener reads when it starts listening. */
interface Http1Settings {
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
  keepAliveTimeout: number;
  maxHeaderSize: number;
  maxHeadersCount: number;
}

/** How often node:http looks for requests past their timeout (its default is 30 s). */
const HTTP1_CHECK_INTERVAL_MS = 1_000;

/**
 * The same limits on HTTP/1.1 (the approval page, and the Connect port's HTTP/1.1 fallback,
 * which node:http2 serves with node:http's machinery): a request not received whole within
 * `requestTimeoutMs` is answered 408, headers over `maxHeaderListBytes` 431, fields past
 * `maxHeaderPairs` are dropped unread, an idle keep-alive connection is closed. Call before
 * `listen`: node reads the checking interval then.
 */
export function limitHttp1Requests(server: Server, limits: TransportLimits): void {
  const settings: Http1Settings = {
    headersTimeout: limits.requestTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: HTTP1_CHECK_INTERVAL_MS,
    keepAliveTimeout: limits.idleTimeoutMs,
    maxHeaderSize: limits.maxHeaderListBytes,
    maxHeadersCount: limits.maxHeaderPairs,
  };
  Object.assign(server, settings);
}

/**
 * Caps the open connections from one remote address to `server` (any net.Server: TLS, HTTP/2
 * or HTTPS). Counted before the TLS handshake, so a refused connection costs no cryptography;
 * beyond the cap the socket is closed at once. Per process: with N workers, N times the cap.
 */
export function limitConnectionsPerAddress(server: Server, maxPerAddress: number): void {
  const open = new Map<string, number>();
  server.prependListener("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "";
    const count = open.get(address) ?? 0;
    if (count >= maxPerAddress) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
