import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { VerifyState } from "../types.js";

/** Every scope the verifier requires must be granted (RFC 6750 §3.1 `insufficient_scope`). */
export function scopesStep(state: VerifyState): Reason | undefined {
  const granted = new Set(state.claims?.scopes ?? []);
  const missing = state.input.requiredScopes.some((scope) => !granted.has(scope));
  return missing ? Reason.INSUFFICIENT_SCOPE : undefined;
}
