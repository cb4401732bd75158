import { ANONYMOUS, type Caller } from "./caller.js";
import { type ClientCertificateCheck, peerCertificateCaller } from "./client-certificate.js";

/** What one transport says about a call's connection, read only when not yet known. */
export interface PeerSources {
  /**
   * The connection the call came on (its TLS socket): a connection's certificate cannot
   * change (node:http2 disables TLS renegotiation on every session socket; TLS 1.3 has none),
   * nor can its remote address. Undefined: not known, so nothing is cached for the call.
   */
  readonly connection: object | undefined;
  /** The DER certificate the peer presented and TLS verified; undefined when none. */
  peerCertificate(): Uint8Array | undefined;
  /** The peer's bare IP address. */
  peerAddress(): string;
}

/** A connection's identity: its certificate's caller and its bare IP address. */
export interface Peer {
  readonly caller: Caller;
  readonly address: string;
}

/**
 * The one per-connection identity cache, shared by the gRPC and the Connect transports:
 * reading and checking the peer certificate per call is the largest per-call cost of a cached
 * Verify, so it is done once per connection (and the entry dies with the connection). Built
 * by the composition root and handed to the dispatcher.
 */
export function createPeerIdentities(certificates: ClientCertificateCheck) {
  const byConnection = new WeakMap<object, Peer>();
  return (sources: PeerSources): Peer => {
    const { connection } = sources;
    let peer = connection && byConnection.get(connection);
    if (peer === undefined) {
      const der = sources.peerCertificate();
      const caller = der ? peerCertificateCaller(certificates, der) : ANONYMOUS;
      peer = { caller, address: sources.peerAddress() };
      if (connection) byConnection.set(connection, peer);
    }
    return peer;
  };
}

export type PeerIdentities = ReturnType<typeof createPeerIdentities>;
