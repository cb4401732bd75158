import { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import type { HttpRequest } from "./http-io.js";

/**
 * The HTTP caller's client certificate as PEM, when TLS verified it against Gatehouse's CA;
 * undefined otherwise. Only the TLS handshake names a caller: no request header can.
 * Computed once per connection (the certificate cannot change on it).
 */
export function peerCertificatePem(req: HttpRequest): string | undefined {
  const socket = ("stream" in req ? req.stream.session?.socket : req.socket) as
    | TLSSocket
    | undefined;
  // An HTTP/2 session's socket is a Proxy: `in` does not see its methods, typeof does.
  if (typeof socket?.getPeerCertificate !== "function") return undefined;
  if (cache.has(socket)) return cache.get(socket);
  const pem = socket.authorized ? pemOf(socket) : undefined;
  cache.set(socket, pem);
  return pem;
}

const cache = new WeakMap<object, string | undefined>();

function pemOf(socket: TLSSocket): string | undefined {
  const raw = socket.getPeerCertificate()?.raw;
  return raw === undefined ? undefined : new X509Certificate(raw).toString();
}
