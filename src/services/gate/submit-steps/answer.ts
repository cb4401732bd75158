import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../../../errors/index.js";
import { registeredAgent } from "./agent.js";
import type { SubmitContext } from "./types.js";

/**
 * The answer is checked by the plugin of the kind that was *stored* with the challenge,
 * never the kind the client's answer claims; an answer of another kind is refused.
 */
export async function answerStep(submission: SubmitContext): Promise<void> {
  const { deps, request, record } = submission;
  const plugin = deps.kinds.get(record.kind);
  if (!plugin) throw new GatehouseError(Reason.CHALLENGE_KIND_UNSUPPORTED);
  if (request.answer.case !== plugin.answerCase) {
    throw new GatehouseError(Reason.CHALLENGE_KIND_MISMATCH, { field: "answer" });
  }
  const context = {
    challengeId: request.challengeId,
    issuer: deps.settings.issuer,
    record,
    agent: () => registeredAgent(submission),
  };
  if (!(await plugin.verify(context, request.answer.value))) {
    throw new GatehouseError(Reason.ANSWER_INVALID);
  }
}
