import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../../../errors/index.js";
import type { AgentRecord } from "../../../store/ports.js";
import type { SubmitContext } from "./types.js";

const loaded = new WeakMap<SubmitContext, Promise<AgentRecord | undefined>>();

/**
 * The agent the challenge was issued to, as registered now (its key and current policy), read
 * once per submission however many steps ask (the answer's check included); undefined when
 * it is gone.
 */
export function registeredAgent(context: SubmitContext): Promise<AgentRecord | undefined> {
  let agent = loaded.get(context);
  if (!agent) {
    agent = context.readAgent(context.record.did);
    loaded.set(context, agent);
  }
  return agent;
}

/** The registered agent of `registeredAgent`; an agent deleted meanwhile is refused. */
export async function submittingAgent(context: SubmitContext): Promise<AgentRecord> {
  const agent = await registeredAgent(context);
  if (!agent) throw new GatehouseError(Reason.AGENT_NOT_FOUND);
  return agent;
}
