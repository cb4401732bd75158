import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { Socket } from "node:net";
import type { HttpRequest, HttpResponse } from "./http-io.js";

export interface ConnectionDeadlines {
  /** From the connection's start (after the TLS handshake) to its first request's whole head. */
  readonly firstRequestMs: number;
  /** With no request open, how long a connection may stay before it is closed. */
  readonly idleMs: number;
}

/**
 * Closes the listener's connections that hold a slot of `maxConnections` without using it: a
 * connection whose first request head is not whole within `firstRequestMs` (nothing sent, a
 * head trickled in, an HTTP/2 session with no stream), and one with no request open for
 * `idleMs` (an HTTP/1.1 keep-alive connection between requests, RFC 9112 §9.5; an HTTP/2
 * session with no stream, closed with GOAWAY NO_ERROR, RFC 9113 §6.8). The TLS handshake
 * before it is bounded by the server's `handshakeTimeout`. Returns what the request handler
 * calls with each request, before serving it.
 */
export function closeUnusedConnections(
  server: http.Server | http2.Http2SecureServer,
  deadlines: ConnectionDeadlines,
): (req: HttpRequest, res: HttpResponse) => void {
  const http1 = new WeakMap<Socket, Idleness>();

  server.on(isSecure(server) ? "secureConnection" : "connection", (socket: Socket) => {
    // Under TLS, a connection that negotiated h2 already has its session (watched below).
    if ((socket as Socket & { alpnProtocol?: string | false }).alpnProtocol === "h2") return;
    const idleness = watchIdleness(deadlines, () => socket.destroy());
    http1.set(socket, idleness);
    socket.once("close", () => idleness.stop());
  });
  server.on("session", (session: http2.ServerHttp2Session) => {
    const idleness = watchIdleness(deadlines, () => {
      session.close();
      // GOAWAY with no stream open ends the session at once, unless the peer reads nothing
      // and it cannot be written: then the socket goes.
      setTimeout(() => session.destroy(), deadlines.firstRequestMs).unref();
    });
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      idleness.opened();
      stream.once("close", () => idleness.closed());
    });
    session.once("close", () => idleness.stop());
  });

  return (req, res) => {
    if ("stream" in req) return; // counted by its session
    const idleness = http1.get(req.socket);
    if (!idleness) return;
    idleness.opened();
    res.once("close", () => idleness.closed());
  };
}

function isSecure(server: http.Server | http2.Http2SecureServer): boolean {
  return "setSecureContext" in server;
}

/** One connection's open requests, and the timer that runs while it has none. */
interface Idleness {
  opened(): void;
  closed(): void;
  stop(): void;
}

function watchIdleness(deadlines: ConnectionDeadlines, close: () => void): Idleness {
  let open = 0;
  let timer = setTimeout(close, deadlines.firstRequestMs);
  return {
    opened() {
      open += 1;
      clearTimeout(timer);
    },
    closed() {
      open -= 1;
      if (open > 0) return;
      clearTimeout(timer);
      timer = setTimeout(close, deadlines.idleMs);
    },
    stop() {
      clearTimeout(timer);
    },
  };
}
