import { type KeyObject, sign } from "node:crypto";
import type { SigningAlg } from "../store/ports.js";
import { encodeBase64url } from "./jose/base64url.js";
import type { SigningKey } from "./key-ring.js";

/** The JWT claims Gatehouse puts in an access token (RFC 9068 §2.2). */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly scope: string;
  readonly operator: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly jti: string;
  /** RFC 9449 §6.1: the SHA-256 JWK thumbprint of the key the token is bound to. */
  readonly cnf?: { readonly jkt: string };
  /** RFC 8693 §4.1: the delegation chain, the current actor outermost. */
  readonly act?: ActorClaim;
  /**
   * Ids of the human-approved grants behind scopes the standing policy does not cover
   * (GrantService); Verify refuses the token once any of them is revoked or has ended.
   */
  readonly grants?: readonly string[];
  /**
   * Token exchange (RFC 8693): the `jti`s of the tokens this one was derived from, oldest
   * first. Verify refuses it as soon as any of them is revoked.
   */
  readonly derived_from?: readonly string[];
}

/** RFC 8693 §4.1 `act`: who acts, and (nested) who acted before it. */
export interface ActorClaim {
  readonly sub: string;
  readonly act?: ActorClaim;
}

/** RFC 9068 §2.1: access tokens carry `typ: at+jwt`. */
export const ACCESS_TOKEN_TYP = "at+jwt";

/** Whether `key` is a private key of the type `alg` signs with (as jose checks). */
function fitsAlg(alg: SigningAlg, key: KeyObject): boolean {
  if (alg === "EdDSA") return key.asymmetricKeyType === "ed25519";
  return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1";
}

/**
 * Signs an access token: a compact JWS (RFC 7515 §7.1) of the claims under
 * `{alg, kid, typ: "at+jwt"}`, the bytes jose's SignJWT writes, signed with node:crypto (at
 * half the cost of jose, which goes through WebCrypto). EdDSA is pure Ed25519 (RFC 8037
 * §3.1); ES256 signatures are raw r||s (RFC 7518 §3.4), as verifyJwsSignature expects.
 */
export async function signAccessToken(key: SigningKey, claims: AccessTokenClaims): Promise<string> {
  if (!fitsAlg(key.alg, key.privateKey)) {
    throw new TypeError(`signing key ${key.kid} is not a key for ${key.alg}`);
  }
  const header = { alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP };
  const signingInput = `${base64urlJson(header)}.${base64urlJson(claims)}`;
  const data = Buffer.from(signingInput, "ascii");
  const signature =
    key.alg === "EdDSA"
      ? sign(null, data, key.privateKey)
      : sign("sha256", data, { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${encodeBase64url(signature)}`;
}

function base64urlJson(value: object): string {
  return encodeBase64url(JSON.stringify(value));
}
