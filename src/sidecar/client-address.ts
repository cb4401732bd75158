import { isIP } from "node:net";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../errors/index.js";
import { createAddressMatcher } from "../identity/address-list.js";
import type { HttpRequest } from "./http-io.js";

/** Where an HTTP request came from. */
export interface ClientAddress {
  /** The IP address the HTTP client connected from, as the sidecar or its terminator saw it. */
  readonly address: string;
  /**
   * The TCP peer is a trusted TLS terminator: the TLS session (and any client certificate on
   * it) is the terminator's, not the client's.
   */
  readonly viaForwarder: boolean;
}

export type ClientAddressOf = (req: HttpRequest) => ClientAddress;

/** The header a trusted terminator names its client's address in (nginx `$remote_addr`). */
export const FORWARDED_FOR = "x-forwarded-for";

/**
 * The caller's address: the TCP peer's, unless the peer is one of `sidecar.trusted_forwarders`
 * (a TLS terminator such as nginx); then the last `X-Forwarded-For` entry, the address that
 * terminator saw (RFC 7239 §5.2's chain: every earlier entry is whatever the client wrote).
 * A trusted forwarder that names no valid address is refused (fail closed) rather than
 * letting all its clients share its own address. From any other peer the header is ignored.
 */
export function createClientAddressOf(trustedForwarders: readonly string[] = []): ClientAddressOf {
  const trusted = createAddressMatcher(trustedForwarders);
  return (req) => {
    const peer = req.socket.remoteAddress ?? "";
    if (!trusted(peer)) return { address: peer, viaForwarder: false };
    const raw = req.headers[FORWARDED_FOR];
    const value = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
    const address = value.split(",").at(-1)?.trim() ?? "";
    if (isIP(address) === 0) {
      throw new GatehouseError(Reason.FORWARDED_IDENTITY_INVALID, {
        description: "the trusted forwarder sent no valid X-Forwarded-For address",
      });
    }
    return { address, viaForwarder: true };
  };
}
