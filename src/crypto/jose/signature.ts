import { type KeyObject, verify } from "node:crypto";
import { verifyEd25519KeyObject } from "../ed25519.js";

/** RFC 8725 §3.5 / RFC 7518 §3.3: RSA keys shorter than this are refused. */
const MIN_RSA_BITS = 2048;

/**
 * The one JWS signature check (RFC 7515 §5.2 step 8) with node:crypto. EdDSA is pure Ed25519
 * under the strict rules of ../ed25519.ts (key and R screened, S < L); ES256 signatures are raw
 * r‖s (RFC 7518 §3.4), hence `ieee-p1363`; RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (§3.3).
 * The key must be of the type the alg names; any other alg (`none`, a MAC) is false. Never
 * throws: anything unacceptable is false.
 */
export function verifyJwsSignature(
  alg: string,
  publicKey: KeyObject,
  signingInput: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    switch (alg) {
      case "EdDSA":
        return verifyEd25519KeyObject(publicKey, signingInput, signature);
      case "ES256":
        return (
          publicKey.asymmetricKeyType === "ec" &&
          publicKey.asymmetricKeyDetails?.namedCurve === "prime256v1" &&
          signature.length === 64 &&
          verify("sha256", signingInput, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature)
        );
      case "RS256":
        return (
          publicKey.asymmetricKeyType === "rsa" &&
          (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS &&
          verify("sha256", signingInput, publicKey, signature)
        );
      default:
        return false;
    }
  } catch {
    return false;
  }
}
