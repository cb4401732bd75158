import { KeyObject, type webcrypto } from "node:crypto";
import { type CompactJWSHeaderParameters, errors, type JWTVerifyGetKey } from "jose";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { Clock } from "../../clock.js";
import { parseCompactJws, splitCompactJws } from "../../crypto/jose/compact.js";
import { verifyJwsSignature } from "../../crypto/jose/signature.js";
import { GatehouseError } from "../../errors/index.js";
import type { PlatformAttestationVerifier, PlatformClaims } from "./types.js";

/**
 * An explicit allowlist (RFC 8725 §3.1, §3.2): asymmetric only, so `none` and HMAC (a secret
 * shared with the issuer) are refused; RSA keys under 2048 bits are refused too.
 */
const PLATFORM_ALGS = new Set(["ES256", "EdDSA", "RS256"]);

/** Failures of the issuer's key set (unreachable, slow, malformed), not of the token. */
const KEY_SET_FAULTS = new Set(["ERR_JOSE_GENERIC", "ERR_JWKS_TIMEOUT", "ERR_JWKS_INVALID"]);

export interface JwtIssuerOptions {
  readonly issuer: string;
  readonly audience: string;
  /**
   * The issuer's key set (jose's local or remote JWKS): only key selection and fetching is
   * jose's. Keys come only from it: `jku`, `x5u`, `jwk` or `x5c` in a token are never used to
   * find a key (RFC 8725 §3.10).
   */
  readonly keys: JWTVerifyGetKey;
  readonly clock: Clock;
  readonly clockSkewSeconds: number;
}

/**
 * A platform attestation that is a JWT from one configured attestation issuer, checked by the
 * one JOSE module: the compact-JWS parser (canonical base64url, RFC 7515 §2, §7.1), the
 * signature by a key of the issuer's set (RFC 7515 §5.2; an Ed25519 key through the one key
 * parser), then `iss` and `aud` (RFC 7519 §4.1.1, §4.1.3; RFC 8725 §3.8, §3.9), `exp` required
 * and `nbf` honoured with the skew (RFC 7519 §4.1.4, §4.1.5), `iat` required and not in the
 * future (§4.1.6), and `nonce` = the challenge id, which makes it fresh: it cannot predate the
 * challenge.
 */
export function createJwtIssuerVerifier(options: JwtIssuerOptions): PlatformAttestationVerifier {
  const skewMs = options.clockSkewSeconds * 1000;
  return {
    async verify(token, { nonce }) {
      const now = options.clock.now();
      const jws = parseCompactJws(token);
      const segments = splitCompactJws(token);
      if (!jws || !segments) return false;
      const { header, payload } = jws;
      const alg = header.alg;
      // RFC 7515 §4.1.11: no extension is understood, so `crit` is refused.
      if (typeof alg !== "string" || !PLATFORM_ALGS.has(alg) || "crit" in header) return false;
      const keys = await issuerKeys(options.keys, { ...header, alg }, segments);
      if (!keys.some((key) => verifyJwsSignature(alg, key, jws.signingInput, jws.signature))) {
        return false;
      }
      return claimsAcceptable(payload, options, nonce, now, skewMs) ? payload : false;
    },
  };
}

const isTime = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

function claimsAcceptable(
  payload: PlatformClaims,
  options: JwtIssuerOptions,
  nonce: string,
  now: number,
  skewMs: number,
): boolean {
  const { iss, aud, exp, nbf, iat } = payload;
  if (iss !== options.issuer) return false;
  const audOk = aud === options.audience || (Array.isArray(aud) && aud.includes(options.audience));
  if (!audOk || !isTime(exp) || !isTime(iat)) return false;
  if (exp * 1000 <= now - skewMs || iat * 1000 > now + skewMs) return false;
  if (nbf !== undefined && (!isTime(nbf) || nbf * 1000 > now + skewMs)) return false;
  return payload.nonce === nonce;
}

/**
 * The keys of the issuer's set that the header selects (jose's JWKS matching by `kid` and
 * `alg`; several when they tie). None when nothing matches; UNAVAILABLE when the set itself
 * cannot be had.
 */
async function issuerKeys(
  getKey: JWTVerifyGetKey,
  header: CompactJWSHeaderParameters,
  [protectedPart, payload, signature]: readonly [string, string, string],
): Promise<KeyObject[]> {
  const found: KeyObject[] = [];
  try {
    found.push(
      ...keyObject(await getKey(header, { protected: protectedPart, payload, signature })),
    );
  } catch (error) {
    if (error instanceof errors.JWKSMultipleMatchingKeys) {
      for await (const key of error) found.push(...keyObject(key));
    } else if (isKeySetFault(error)) {
      throw new GatehouseError(Reason.UNAVAILABLE, { cause: error });
    }
  }
  return found;
}

/** A public key as node:crypto's KeyObject; none for anything else (a secret, a raw JWK). */
function keyObject(key: Awaited<ReturnType<JWTVerifyGetKey>>): KeyObject[] {
  if (key instanceof KeyObject) return key.type === "public" ? [key] : [];
  if (key instanceof Uint8Array || !("algorithm" in key) || key.type !== "public") return [];
  return [KeyObject.from(key as webcrypto.CryptoKey)];
}

/** Anything but jose's verdict on the token itself (e.g. the JWKS fetch failing). */
function isKeySetFault(error: unknown): boolean {
  return !(error instanceof errors.JOSEError) || KEY_SET_FAULTS.has(error.code);
}
