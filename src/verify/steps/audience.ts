import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { VerifyState } from "../types.js";

/** `aud` must contain the verifier's audience (RFC 9068 §4 step 4, RFC 7519 §4.1.3). */
export function audienceStep(state: VerifyState): Reason | undefined {
  return state.claims?.aud.includes(state.input.audience)
    ? undefined
    : Reason.TOKEN_AUDIENCE_MISMATCH;
}
