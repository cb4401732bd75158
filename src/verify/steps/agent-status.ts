import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { afterSettled } from "../settled.js";
import type { VerifyDeps, VerifyState } from "../types.js";

/**
 * Agent and operator status, read from the registry at verification time: suspending or
 * revoking an agent takes effect on its live tokens at once.
 */
export function agentStatusStep(
  state: VerifyState,
  deps: VerifyDeps,
): Reason | undefined | Promise<Reason | undefined> {
  const claims = state.claims;
  if (!claims) return Reason.TOKEN_CLAIMS_INVALID;
  // Synchronous when the registry's answers are cached (cache.ts, settled.ts).
  return afterSettled(deps.registry.getAgent(claims.sub), (agent) => {
    if (!agent || agent.operatorDomain !== claims.operator) return Reason.AGENT_NOT_FOUND;
    // A deleted agent (a tombstone) is refused like a revoked one.
    if (agent.status === "revoked" || agent.status === "deleted") return Reason.AGENT_REVOKED;
    if (agent.status === "suspended") return Reason.AGENT_SUSPENDED;
    return afterSettled(deps.registry.getOperator(agent.operatorDomain), (operator) => {
      if (!operator) return Reason.OPERATOR_NOT_FOUND;
      if (operator.status === "revoked") return Reason.OPERATOR_REVOKED;
      if (operator.status !== "active") return Reason.OPERATOR_SUSPENDED;
      state.agent = agent;
      return undefined;
    });
  });
}
