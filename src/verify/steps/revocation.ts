import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { VerifyDeps, VerifyState } from "../types.js";

/** Revocation of the token by `jti` (RFC 7009 semantics, checked server-side). */
export async function revocationStep(
  state: VerifyState,
  deps: VerifyDeps,
): Promise<Reason | undefined> {
  const jti = state.claims?.jti;
  if (!jti) return Reason.TOKEN_CLAIMS_INVALID;
  return (await deps.revocations.isRevoked("token", jti)) ? Reason.TOKEN_REVOKED : undefined;
}
