import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { capabilityScopes } from "../../grants/model.js";
import type { VerifyState } from "../types.js";

/**
 * Every scope the verifier requires must be granted (RFC 6750 §3.1 `insufficient_scope`)
 * and still be allowed now — by the agent's current policy (scopes and standing
 * capabilities) or by a live grant the token relies on (checked by the grants step) — as
 * must the audience: narrowing a policy takes effect on live tokens at once.
 */
export function scopesStep(state: VerifyState): Reason | undefined {
  const granted = new Set(state.claims?.scopes ?? []);
  const { requiredScopes, audience } = state.input;
  if (requiredScopes.some((scope) => !granted.has(scope))) return Reason.INSUFFICIENT_SCOPE;
  const policy = state.agent?.policy;
  // The agent-status step runs first and sets the agent; without it, fail closed.
  if (!policy) return Reason.AGENT_NOT_FOUND;
  if (!policy.audiences.includes(audience)) return Reason.AUDIENCE_NOT_ALLOWED;
  const missing = requiredScopes.filter((scope) => !policy.scopes.includes(scope));
  if (missing.length === 0) return undefined;
  const allowed = new Set([
    ...capabilityScopes(policy.capabilities ?? []),
    ...(state.grantScopes ?? []),
  ]);
  return missing.every((scope) => allowed.has(scope)) ? undefined : Reason.SCOPE_NOT_ALLOWED;
}
