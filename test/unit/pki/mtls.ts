import { once } from "node:events";
import type { AddressInfo } from "node:net";
import {
  connect,
  createServer,
  type DetailedPeerCertificate,
  type PeerCertificate,
} from "node:tls";
import type { PemPair } from "../../../src/pki/pem-pair.js";

/** A loopback mutual-TLS server that answers "ok" to every client it accepts. */
export interface MtlsServer {
  readonly port: number;
  /** The client certificate of every accepted connection, in order. */
  readonly accepted: PeerCertificate[];
  /** Handshakes the server refused. */
  readonly refused: Error[];
  close(): Promise<void>;
}

export async function startMtlsServer(server: PemPair, caPem: string): Promise<MtlsServer> {
  const accepted: PeerCertificate[] = [];
  const refused: Error[] = [];
  const tlsServer = createServer(
    {
      cert: server.certPem,
      key: server.keyPem,
      ca: caPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      accepted.push(socket.getPeerCertificate());
      socket.end("ok");
    },
  );
  tlsServer.on("tlsClientError", (error) => refused.push(error));
  tlsServer.listen(0, "127.0.0.1");
  await once(tlsServer, "listening");
  return {
    port: (tlsServer.address() as AddressInfo).port,
    accepted,
    refused,
    close: () => new Promise((resolve) => tlsServer.close(() => resolve())),
  };
}

/** What a client saw: the server's reply (empty if refused) and certificate. */
export interface MtlsOutcome {
  readonly reply: string;
  readonly error?: Error;
  readonly serverCert?: DetailedPeerCertificate;
}

/** Connects with a client certificate and reads until the server closes the connection. */
export function connectMtls(port: number, caPem: string, client: PemPair): Promise<MtlsOutcome> {
  return new Promise((resolve) => {
    let reply = "";
    let serverCert: DetailedPeerCertificate | undefined;
    const socket = connect({
      host: "127.0.0.1",
      port,
      ca: caPem,
      cert: client.certPem,
      key: client.keyPem,
    });
    socket.setEncoding("utf8");
    socket.on("secureConnect", () => {
      serverCert = socket.getPeerCertificate(true);
    });
    socket.on("data", (chunk: string) => {
      reply += chunk;
    });
    socket.on("error", (error) => resolve({ reply, error, ...(serverCert ? { serverCert } : {}) }));
    socket.on("close", () => resolve({ reply, ...(serverCert ? { serverCert } : {}) }));
  });
}
