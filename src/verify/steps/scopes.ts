import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { audienceAllowed, scopeAllowed } from "../../grants/allowance.js";
import type { VerifyState } from "../types.js";

/**
 * Every scope the verifier requires must be granted (RFC 6750 §3.1 `insufficient_scope`)
 * and still be allowed now (grants/allowance.ts, the same answer Token gave) — by the
 * agent's current policy (scopes and standing capabilities) or by a live grant the token
 * relies on (checked by the grants step) — as must the audience: narrowing a policy takes
 * effect on live tokens at once.
 */
export function scopesStep(state: VerifyState): Reason | undefined {
  const granted = state.claims?.scopes ?? [];
  const { requiredScopes, audience } = state.input;
  // Lists of a few scopes: searched in place, no Set, copy or closure made per request.
  for (const scope of requiredScopes) {
    if (!granted.includes(scope)) return Reason.INSUFFICIENT_SCOPE;
  }
  const policy = state.agent?.policy;
  // The agent-status step runs first and sets the agent; without it, fail closed.
  if (!policy) return Reason.AGENT_NOT_FOUND;
  if (!audienceAllowed(policy, audience)) return Reason.AUDIENCE_NOT_ALLOWED;
  for (const scope of requiredScopes) {
    if (!scopeAllowed(scope, policy, state.grantScopes)) return Reason.SCOPE_NOT_ALLOWED;
  }
  return undefined;
}
