import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { VerifyDeps, VerifyState } from "../types.js";

/**
 * Agent and operator status, read from the registry at verification time: suspending or
 * revoking an agent takes effect on its live tokens at once.
 */
export async function agentStatusStep(
  state: VerifyState,
  deps: VerifyDeps,
): Promise<Reason | undefined> {
  const claims = state.claims;
  if (!claims) return Reason.TOKEN_CLAIMS_INVALID;
  const agent = await deps.registry.getAgent(claims.sub);
  if (!agent || agent.operatorDomain !== claims.operator) return Reason.AGENT_NOT_FOUND;
  // A deleted agent (a tombstone) is refused like a revoked one.
  if (agent.status === "revoked" || agent.status === "deleted") return Reason.AGENT_REVOKED;
  if (agent.status === "suspended") return Reason.AGENT_SUSPENDED;
  const operator = await deps.registry.getOperator(agent.operatorDomain);
  if (!operator) return Reason.OPERATOR_NOT_FOUND;
  if (operator.status === "revoked") return Reason.OPERATOR_REVOKED;
  if (operator.status !== "active") return Reason.OPERATOR_SUSPENDED;
  state.agent = agent;
  return undefined;
}
