import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { Socket } from "node:net";
import type { Logger } from "../observability/logger.js";
import type { HttpRequest, HttpResponse } from "./http-io.js";

/** The listener's connections, watched from the start so that its stop can drain them. */
export interface Drain {
  /**
   * Called with each request before it is served; false when it must not be: it came on an
   * HTTP/1.1 connection already told `close` (RFC 9112 §9.6: no further request on it is
   * processed; the client retries it elsewhere, §9.3.1).
   */
  admit(req: HttpRequest, res: HttpResponse): boolean;
  /**
   * Stops accepting at once and lets the requests in flight finish: HTTP/2 sessions get GOAWAY
   * (RFC 9113 §6.8), idle HTTP/1.1 connections are closed, a busy one answers its last request
   * with `connection: close` and is closed after it (RFC 9112 §9.6). Whatever is still open
   * after `graceMs` is destroyed, so a stuck client cannot hold the stop. Resolves once every
   * connection is gone.
   */
  drain(graceMs: number): Promise<void>;
}

/** Watches `server` (plain HTTP/1.1, or TLS with HTTP/2 and HTTP/1.1) from before it listens. */
export function watchForDrain(
  server: http.Server | http2.Http2SecureServer,
  logger: Logger,
): Drain {
  let draining = false;
  // Raw TCP sockets (under TLS too): the deadline also ends handshakes that never complete.
  const sockets = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  // Each HTTP/1.1 connection's last request still being answered (answers go out in order).
  const lastInFlight = new Map<Socket, HttpResponse>();
  const toldClose = new WeakSet<Socket>();

  /** The answer to `res` carries `connection: close`, and its connection ends after it. */
  const closeAfter = (socket: Socket, res: HttpResponse): void => {
    toldClose.add(socket);
    // Node ends a connection after an answer whose header says close.
    if (!res.headersSent) res.setHeader("connection", "close");
    else res.once("close", () => socket.end());
  };

  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("session", (session: http2.ServerHttp2Session) => {
    // A handshake that completes during the drain: GOAWAY before any stream.
    if (draining) session.close();
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  return {
    admit(req, res) {
      if ("stream" in req) return true; // HTTP/2: the session's GOAWAY bounds its streams
      const { socket } = req;
      if (draining) {
        if (toldClose.has(socket)) return false;
        // Its headers were still arriving when the drain began: answered, then closed.
        closeAfter(socket, res);
      }
      lastInFlight.set(socket, res);
      res.once("close", () => {
        if (lastInFlight.get(socket) === res) lastInFlight.delete(socket);
      });
      return true;
    },

    async drain(graceMs) {
      draining = true;
      // Node's close() also closes the idle HTTP/1.1 connections, neither receiving a request nor
      // awaiting an answer (the HTTP/2 server's too, with allowHTTP1: sidecar-drain.test.ts
      // checks both); it calls back once no connection is left.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      for (const [socket, res] of lastInFlight) closeAfter(socket, res);
      const deadline = setTimeout(() => {
        // An operator sees that requests were cut, not only that the stop took the whole grace.
        logger.warn({ connections: sockets.size, graceMs }, "sidecar drain: grace over; cutting");
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(deadline);
    },
  };
}
