import { Reason } from "../../../../../gen/gatehouse/v1/errors_pb.js";
import { agentDidDomain } from "../../../../crypto/did.js";
import { GatehouseError } from "../../../../errors/index.js";
import type { AgentRecord, Store } from "../../../../store/ports.js";
import { requireActiveAgent } from "../../../agents.js";

/** Who takes part in handing a token on. */
export interface Handover {
  /** The token's subject, whose authority the token carries. */
  readonly principal: AgentRecord;
  /** The agent handing the token on: the principal, or the current actor re-delegating. */
  readonly holder: AgentRecord;
  /** The subject token's actors, current first. */
  readonly actors: readonly string[];
}

/**
 * The agent a token exchange hands the token to (RFC 8693 delegation), or undefined when
 * `delegateDid` is empty or the holder itself (a plain narrowing). Refused with
 * DELEGATION_NOT_ALLOWED unless:
 * - the principal's policy names the delegate: its authority (policy, human-approved grants,
 *   envelope) is what the delegate will spend, so the principal must have chosen it;
 * - when an actor re-delegates, the holder's policy names it too (every hand-off is allowed
 *   by the agent making it);
 * - the delegate is not already in the chain (the principal or an earlier actor).
 * Both are decided on the DID before any look-up, so the answer says nothing about whether
 * an agent of another tenant exists. Then the delegate must be active, with an active
 * operator and an unrevoked key (AGENT_SUSPENDED, OPERATOR_REVOKED, … as for a login).
 */
export async function delegateFor(
  store: Pick<Store, "registry" | "revocations">,
  delegateDid: string,
  { principal, holder, actors }: Handover,
): Promise<AgentRecord | undefined> {
  if (delegateDid === "" || delegateDid === holder.did) return undefined;
  const inChain = delegateDid === principal.did || actors.includes(delegateDid);
  if (inChain || !names(principal, delegateDid) || !names(holder, delegateDid)) {
    throw new GatehouseError(Reason.DELEGATION_NOT_ALLOWED);
  }
  return requireActiveAgent(store, delegateDid);
}

/**
 * Whether an agent's policy `delegates` names `did`. Delegating across operators is allowed
 * only by the delegate's exact DID: a domain wildcard, `did:agent:<domain>:*`, names the
 * agents of the policy owner's own operator and nothing else (a wildcard naming another
 * operator's domain is inert), so no operator can open its agents' authority to every agent
 * of another tenant, present and future, with one entry.
 */
function names(owner: AgentRecord, did: string): boolean {
  const delegates = owner.policy.delegates ?? [];
  if (delegates.includes(did)) return true;
  const domain = agentDidDomain(did);
  return domain === owner.operatorDomain && delegates.includes(`did:agent:${domain}:*`);
}
