import { type KeyObject, X509Certificate } from "node:crypto";
import { parseCompactJws } from "../../../crypto/jose/compact.js";
import { verifyJwsSignature } from "../../../crypto/jose/signature.js";

export interface AttestationContext {
  /** The caller's client certificate, whose key signed the attestation. */
  readonly certificatePem: string;
  /** The DID the certificate names: the attestation's `sub`. */
  readonly did: string;
  /** Now, Unix seconds; how old an attestation may be; the tolerated skew. */
  readonly now: number;
  readonly maxAgeSeconds: number;
  readonly skewSeconds: number;
}

/** The JWS algorithm each key type of a client certificate signs with (RFC 7518 §3.1, RFC 8037). */
function algOf(key: KeyObject): string | undefined {
  switch (key.asymmetricKeyType) {
    case "ed25519":
      return "EdDSA";
    case "ec":
      return "ES256";
    case "rsa":
      return "RS256";
    default:
      return undefined;
  }
}

/**
 * AOG's `attestation`: a JWT signed with the TLS client key. The algorithm follows the
 * certificate's key, never the header (RFC 8725 §3.1); the signature is checked with the
 * certificate's public key (RFC 7515 §5.2); `sub` must be the certificate's DID and `iat`
 * recent (at most `maxAgeSeconds` old, not in the future beyond the skew), so an attestation
 * made long ago does not pass again. True only when all of that holds.
 */
export function verifyAogAttestation(token: string, context: AttestationContext): boolean {
  const jws = parseCompactJws(token);
  if (!jws) return false;
  const key = new X509Certificate(context.certificatePem).publicKey;
  const alg = algOf(key);
  if (alg === undefined || jws.header.alg !== alg) return false;
  if (!verifyJwsSignature(alg, key, jws.signingInput, jws.signature)) return false;
  const { sub, iat } = jws.payload;
  const { now, maxAgeSeconds, skewSeconds } = context;
  return (
    sub === context.did &&
    typeof iat === "number" &&
    Number.isFinite(iat) &&
    iat >= now - maxAgeSeconds - skewSeconds &&
    iat <= now + skewSeconds
  );
}
