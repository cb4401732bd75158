import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { agentDidDomain } from "../../crypto/did.js";
import { GatehouseError } from "../../errors/index.js";
import type { Caller } from "../../identity/caller.js";
import type { AgentRecord, OperatorRecord, RegistryStore } from "../../store/ports.js";
import { isDomainVerified } from "./domain-verification.js";

export type Access = "read" | "write";

/**
 * Operators act only on their own agents; admins on any; verifiers may read any (services
 * resolve the agents whose tokens they see). For a `did:agent` DID the domain is read from
 * the DID itself before any lookup, so an operator cannot probe which foreign DIDs exist.
 * Other DIDs (did:key) name no domain: requireOwner refuses operators for them, and
 * getOwnedAgent decides after reading the record.
 */
export function requireOwner(caller: Caller, did: string, access: Access): void {
  if (caller.role === "admin") return;
  if (caller.role === "verifier" && access === "read") return;
  if (caller.role !== "operator" || agentDidDomain(did) !== caller.operatorDomain) {
    throw new GatehouseError(Reason.OPERATOR_MISMATCH);
  }
}

/**
 * The agent, after the ownership check. A did:key DID carries no domain, so for an operator
 * the record is read first; a missing agent and another operator's agent both answer
 * OPERATOR_MISMATCH, so an operator still cannot tell which foreign did:key DIDs exist.
 */
export async function getOwnedAgent(
  registry: RegistryStore,
  caller: Caller,
  did: string,
  access: Access,
  now: number,
): Promise<AgentRecord> {
  await requireOperatorStanding(registry, caller, access, now);
  if (caller.role === "operator" && agentDidDomain(did) === undefined) {
    const agent = await registry.getAgent(did);
    if (!agent || agent.operatorDomain !== caller.operatorDomain) {
      throw new GatehouseError(Reason.OPERATOR_MISMATCH);
    }
    return agent;
  }
  requireOwner(caller, did, access);
  const agent = await registry.getAgent(did);
  if (!agent) throw new GatehouseError(Reason.AGENT_NOT_FOUND);
  return agent;
}

/**
 * Whether an operator caller may act in its own name; other roles pass (admins are never
 * gated here). A revoked operator can no longer manage nor read its agents. Writes, that is
 * everything that affects agents (registering, policy, status, keys, deletion, revocation),
 * also need a known operator whose domain ownership is verified and not expired: this is
 * the one place that gate is kept (REASON_OPERATOR_UNVERIFIED). Returns the operator's record
 * when the caller is an operator that has one.
 */
export async function requireOperatorStanding(
  registry: RegistryStore,
  caller: Caller,
  access: Access,
  now: number,
): Promise<OperatorRecord | undefined> {
  if (caller.role !== "operator" || !caller.operatorDomain) return undefined;
  const operator = await registry.getOperator(caller.operatorDomain);
  if (operator?.status === "revoked") throw new GatehouseError(Reason.OPERATOR_REVOKED);
  if (access === "read") return operator;
  if (!operator) throw new GatehouseError(Reason.OPERATOR_NOT_FOUND);
  if (!isDomainVerified(operator, now)) throw new GatehouseError(Reason.OPERATOR_UNVERIFIED);
  return operator;
}

/**
 * Read-modify-write of an agent with compare-and-set, retried when another writer got
 * there first. `change` returns the next fields or throws a GatehouseError.
 */
export async function updateOwnedAgent(
  registry: RegistryStore,
  caller: Caller,
  did: string,
  now: number,
  change: (agent: AgentRecord) => Partial<AgentRecord>,
): Promise<AgentRecord> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await getOwnedAgent(registry, caller, did, "write", now);
    const next: AgentRecord = {
      ...current,
      ...change(current),
      updatedAt: now,
      revision: current.revision + 1,
    };
    if (await registry.updateAgent(next, current.revision)) return next;
  }
  throw new GatehouseError(Reason.UNAVAILABLE, { description: "agent is being changed" });
}
