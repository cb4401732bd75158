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
  const granted = state.claims?.scopes ?? [];
  const { requiredScopes, audience } = state.input;
  // Lists of a few scopes: searched in place, no Set or filtered copy made per request.
  if (!requiredScopes.every((scope) => granted.includes(scope))) return Reason.INSUFFICIENT_SCOPE;
  const policy = state.agent?.policy;
  // The agent-status step runs first and sets the agent; without it, fail closed.
  if (!policy) return Reason.AGENT_NOT_FOUND;
  if (!policy.audiences.includes(audience)) return Reason.AUDIENCE_NOT_ALLOWED;
  if (requiredScopes.every((scope) => policy.scopes.includes(scope))) return undefined;
  const allowed = new Set([
    ...capabilityScopes(policy.capabilities ?? []),
    ...(state.grantScopes ?? []),
  ]);
  const fits = (scope: string) => policy.scopes.includes(scope) || allowed.has(scope);
  return requiredScopes.every(fits) ? undefined : Reason.SCOPE_NOT_ALLOWED;
}
