import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../errors/index.js";
import type { AgentRecord, GrantRecord, GrantStore } from "../store/ports.js";
import { capabilityScopes, grantState } from "./model.js";

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
 * Deny by default: every requested scope must be in the agent's standing policy (its scopes
 * and capabilities) or in a grant a human approved for this audience that has not ended;
 * and the audience must be in the policy. Grants are read only when the policy alone does
 * not cover the request, so the usual login touches no grant.
 */
export async function authorizeScopes(
  grants: Pick<GrantStore, "list">,
  agent: AgentRecord,
  scopes: readonly string[],
  audience: string,
  nowMs: number,
): Promise<ScopeAuthority> {
  const { policy } = agent;
  const standing = new Set([...policy.scopes, ...capabilityScopes(policy.capabilities ?? [])]);
  const missing = scopes.filter((scope) => !standing.has(scope));
  const used =
    missing.length === 0 ? [] : await coveringGrants(grants, agent, missing, audience, nowMs);
  if (!policy.audiences.includes(audience)) throw new GatehouseError(Reason.AUDIENCE_NOT_ALLOWED);
  if (used.length === 0) return { grantIds: [] };
  return {
    grantIds: used.map((grant) => grant.id),
    notAfterMs: Math.min(...used.map((grant) => grant.expiresAt)),
  };
}

/** The fewest live approved grants (longest-lasting first) covering `missing`, or a refusal. */
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
  const live = page.grants
    .filter((grant) => grant.audience === audience && grantState(grant, nowMs) === "approved")
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
