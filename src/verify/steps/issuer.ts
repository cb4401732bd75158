import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { VerifyDeps, VerifyState } from "../types.js";

/** `iss` must be exactly this Gatehouse (RFC 9068 §4 step 3, RFC 7519 §4.1.1). */
export function issuerStep(
  state: VerifyState,
  deps: Pick<VerifyDeps, "settings">,
): Reason | undefined {
  return state.claims?.iss === deps.settings.issuer ? undefined : Reason.TOKEN_ISSUER_MISMATCH;
}
