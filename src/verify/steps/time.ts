import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { VerifyDeps, VerifyState } from "../types.js";

/**
 * Time claims with bounded skew: `exp` (RFC 7519 §4.1.4), `nbf` (§4.1.5), `iat` not in the
 * future, and a maximum lifetime `exp - iat` (RFC 8725 §3.10 advice against long-lived
 * tokens): a token minted with a huge lifetime by a leaked key is still refused.
 */
export function timeStep(
  state: VerifyState,
  deps: Pick<VerifyDeps, "settings">,
): Reason | undefined {
  const claims = state.claims;
  if (!claims) return Reason.TOKEN_CLAIMS_INVALID;
  const { clockSkewSeconds: skew, maxTokenTtlSeconds } = deps.settings;
  if (claims.exp <= state.now - skew) return Reason.TOKEN_EXPIRED;
  if (claims.nbf > state.now + skew || claims.iat > state.now + skew) {
    return Reason.TOKEN_NOT_YET_VALID;
  }
  if (claims.exp - claims.iat > maxTokenTtlSeconds || claims.nbf < claims.iat - skew) {
    return Reason.TOKEN_LIFETIME_EXCEEDED;
  }
  return undefined;
}
