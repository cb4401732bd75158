import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../errors/index.js";
import type { AgentRecord, GrantRecord, GrantStore, PolicyRecord } from "../store/ports.js";
import { grantState } from "./lifecycle.js";
import { capabilityScope, capabilityScopes } from "./model.js";

/**
 * "Is scope S allowed now", the one answer for Token (before it signs) and Verify (on every
 * request): deny by default; a scope is allowed by the agent's standing policy (its scopes
 * and capabilities) or by a live grant — one a human approved for this agent and audience
 * that has not ended or been revoked — and only for an audience in the policy. Token finds
 * the grants (`authorizeScopes`); Verify re-reads those the token names (its grants step)
 * and asks the same predicates, so a narrowed policy or a revoked grant wins at once.
 */

/** The policy's own audiences: the one thing no grant extends. */
export function audienceAllowed(policy: PolicyRecord, audience: string): boolean {
  return policy.audiences.includes(audience);
}

/**
 * The standing policy's scopes first (lists of a few: searched in place, nothing built per
 * call), then its capabilities, then the scopes of the live grants the caller found.
 */
export function scopeAllowed(
  scope: string,
  policy: PolicyRecord,
  grantScopes: readonly string[] = [],
): boolean {
  if (policy.scopes.includes(scope)) return true;
  if ((policy.capabilities ?? []).some((capability) => capabilityScope(capability) === scope)) {
    return true;
  }
  return grantScopes.includes(scope);
}

/**
 * A grant the agent may rely on at `nowMs`: its own (a token cannot borrow another agent's
 * grant), for one of `audiences`, approved and neither lapsed nor revoked.
 */
export function grantLive(
  grant: GrantRecord,
  agentDid: string,
  audiences: readonly string[],
  nowMs: number,
): boolean {
  return (
    grant.agentDid === agentDid &&
    audiences.includes(grant.audience) &&
    grantState(grant, nowMs) === "approved"
  );
}

/** What made a token's scopes allowed beyond the standing policy. */
export interface ScopeAuthority {
  /** The approved grants whose scopes the token carries (the `grants` claim); may be empty. */
  readonly grantIds: readonly string[];
  /** Unix ms when the first of those grants ends: a token never outlives its grants. */
  readonly notAfterMs?: number;
}

/** How many approved grants of one agent are considered (newest first). */
const MAX_GRANTS_CONSIDERED = 100;

/**
 * Token's (and Challenge's) side: every requested scope allowed, the audience in the
 * policy, else SCOPE_NOT_ALLOWED / AUDIENCE_NOT_ALLOWED. Grants are read only when the
 * policy alone does not cover the request, so the usual login touches no grant.
 */
export async function authorizeScopes(
  grants: Pick<GrantStore, "list">,
  agent: AgentRecord,
  scopes: readonly string[],
  audience: string,
  nowMs: number,
): Promise<ScopeAuthority> {
  const { policy } = agent;
  const missing = scopes.filter((scope) => !scopeAllowed(scope, policy));
  const used =
    missing.length === 0 ? [] : await coveringGrants(grants, agent, missing, audience, nowMs);
  if (!audienceAllowed(policy, audience)) throw new GatehouseError(Reason.AUDIENCE_NOT_ALLOWED);
  if (used.length === 0) return { grantIds: [] };
  return {
    grantIds: used.map((grant) => grant.id),
    notAfterMs: Math.min(...used.map((grant) => grant.expiresAt)),
  };
}

/** The fewest live grants (longest-lasting first) covering `missing`, or a refusal. */
async function coveringGrants(
  grants: Pick<GrantStore, "list">,
  agent: AgentRecord,
  missing: readonly string[],
  audience: string,
  nowMs: number,
): Promise<GrantRecord[]> {
  const page = await grants.list({
    agentDid: agent.did,
    state: "approved",
    limit: MAX_GRANTS_CONSIDERED,
  });
  const audiences = [audience];
  const live = page.grants
    .filter((grant) => grantLive(grant, agent.did, audiences, nowMs))
    .sort((a, b) => b.expiresAt - a.expiresAt);
  const used: GrantRecord[] = [];
  for (const scope of missing) {
    if (used.some((grant) => capabilityScopes(grant.capabilities).includes(scope))) continue;
    const grant = live.find((candidate) =>
      capabilityScopes(candidate.capabilities).includes(scope),
    );
    if (!grant) throw new GatehouseError(Reason.SCOPE_NOT_ALLOWED);
    used.push(grant);
  }
  return used;
}
