import type { ClientAddressOf } from "../client-address.js";
import type { HttpRequest } from "../http-io.js";
import { peerCertificatePem } from "../peer.js";

/** What the sidecar knows of a legacy route's HTTP caller. */
export interface LegacyCaller {
  /** The address it connected from (src/sidecar/client-address.ts), forwarded to Gatehouse. */
  readonly address: string;
  /**
   * Its client certificate, when TLS verified one on its own connection. Undefined behind a
   * trusted forwarder: that TLS session, and its certificate, are the forwarder's.
   */
  readonly certificatePem: string | undefined;
}

export function legacyCaller(req: HttpRequest, clientAddressOf: ClientAddressOf): LegacyCaller {
  const { address, viaForwarder } = clientAddressOf(req);
  return { address, certificatePem: viaForwarder ? undefined : peerCertificatePem(req) };
}
