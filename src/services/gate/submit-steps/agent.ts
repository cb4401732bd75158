import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../../../errors/index.js";
import type { AgentRecord } from "../../../store/ports.js";
import type { SubmitContext } from "./types.js";

const loaded = new WeakMap<SubmitContext, Promise<AgentRecord>>();

/**
 * The agent the challenge was issued to, as registered now (its key and current policy), read
 * once per submission however many steps ask. An agent deleted meanwhile is refused.
 */
export function submittingAgent(context: SubmitContext): Promise<AgentRecord> {
  let agent = loaded.get(context);
  if (!agent) {
    agent = context.deps.store.registry.getAgent(context.record.did).then((found) => {
      if (!found) throw new GatehouseError(Reason.AGENT_NOT_FOUND);
      return found;
    });
    loaded.set(context, agent);
  }
  return agent;
}
