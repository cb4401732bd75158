import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { grantLive } from "../../grants/allowance.js";
import { capabilityScopes } from "../../grants/model.js";
import type { VerifiedClaims, VerifyDeps, VerifyState } from "../types.js";

/**
 * Human-approved grants, read at verification time like agent status: a token that relies
 * on a grant stops verifying as soon as the grant is revoked or ends (REASON_GRANT_REVOKED),
 * even though the token itself is unexpired. The grant must still belong to the token's
 * agent and audience — a token cannot borrow another agent's grant.
 */
export function grantsStep(
  state: VerifyState,
  deps: VerifyDeps,
): Reason | undefined | Promise<Reason | undefined> {
  const claims = state.claims;
  if (!claims) return Reason.TOKEN_CLAIMS_INVALID;
  // Decided without waiting for the usual token (no grants): no microtask spent here.
  if (claims.grants === undefined) return undefined;
  return checkGrants(state, deps, claims);
}

async function checkGrants(
  state: VerifyState,
  deps: VerifyDeps,
  claims: VerifiedClaims,
): Promise<Reason | undefined> {
  const nowMs = state.now * 1000;
  const scopes: string[] = [];
  for (const id of claims.grants ?? []) {
    const grant = await deps.grants.get(id, state.nowMs);
    if (!grant || !grantLive(grant, claims.sub, claims.aud, nowMs)) return Reason.GRANT_REVOKED;
    scopes.push(...capabilityScopes(grant.capabilities));
  }
  state.grantScopes = scopes;
  return undefined;
}
