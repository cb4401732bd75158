import { createHash, X509Certificate } from "node:crypto";

/**
 * Lowercase hex SHA-256 of a certificate's DER encoding. Gatehouse binds this
 * caller identity into challenges; it equals Node's
 * `tlsSocket.getPeerCertificate().fingerprint256` without colons, lowercased.
 *
 * Accepts PEM text or DER bytes (e.g. `getPeerCertificate().raw`). Parsing
 * first means only a real certificate is ever fingerprinted, and a PEM input
 * is hashed over its DER rather than its text.
 */
export function fingerprintSha256(certPemOrDer: string | Uint8Array): string {
  const der = new X509Certificate(certPemOrDer).raw;
  return createHash("sha256").update(der).digest("hex");
}
