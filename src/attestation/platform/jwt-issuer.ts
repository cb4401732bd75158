import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { Clock } from "../../clock.js";
import { GatehouseError } from "../../errors/index.js";
import type { PlatformAttestationVerifier } from "./types.js";

/**
 * An explicit allowlist (RFC 8725 §3.1, §3.2): asymmetric only, so `none` and HMAC (a secret
 * shared with the issuer) are refused. jose also refuses RSA keys under 2048 bits.
 */
const PLATFORM_ALGS = ["ES256", "EdDSA", "RS256"];

/** Failures of the issuer's key set (unreachable, slow, malformed), not of the token. */
const KEY_SET_FAULTS = new Set(["ERR_JOSE_GENERIC", "ERR_JWKS_TIMEOUT", "ERR_JWKS_INVALID"]);

export interface JwtIssuerOptions {
  readonly issuer: string;
  readonly audience: string;
  /**
   * The issuer's key set (jose's local or remote JWKS). Keys come only from it: `jku`, `x5u`,
   * `jwk` or `x5c` in a token are never used to find a key (RFC 8725 §3.10).
   */
  readonly keys: JWTVerifyGetKey;
  readonly clock: Clock;
  readonly clockSkewSeconds: number;
}

/**
 * A platform attestation that is a JWT from one configured attestation issuer: signature by a
 * key of its set (RFC 7515 §5.2), `iss` and `aud` (RFC 7519 §4.1.1, §4.1.3; RFC 8725 §3.8,
 * §3.9), `exp` required and `nbf` honoured with the skew (RFC 7519 §4.1.4, §4.1.5), `iat` not
 * in the future (§4.1.6), and `nonce` = the challenge id, which makes it fresh: it cannot
 * predate the challenge.
 */
export function createJwtIssuerVerifier(options: JwtIssuerOptions): PlatformAttestationVerifier {
  const skewMs = options.clockSkewSeconds * 1000;
  return {
    async verify(token, { nonce }) {
      const now = options.clock.now();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, options.keys, {
          algorithms: PLATFORM_ALGS,
          issuer: options.issuer,
          audience: options.audience,
          requiredClaims: ["exp", "iat", "nonce"],
          currentDate: new Date(now),
          clockTolerance: options.clockSkewSeconds,
        }));
      } catch (error) {
        if (isKeySetFault(error)) throw new GatehouseError(Reason.UNAVAILABLE, { cause: error });
        return false;
      }
      const issuedAtMs = (payload.iat ?? Number.POSITIVE_INFINITY) * 1000;
      return payload.nonce === nonce && issuedAtMs <= now + skewMs ? payload : false;
    },
  };
}

/** Anything but jose's verdict on the token itself (e.g. the JWKS fetch failing). */
function isKeySetFault(error: unknown): boolean {
  return !(error instanceof errors.JOSEError) || KEY_SET_FAULTS.has(error.code);
}
