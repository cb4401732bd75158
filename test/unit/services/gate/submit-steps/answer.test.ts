import { describe, expect, it } from "vitest";
import { Reason } from "../../../../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind } from "../../../../../gen/gatehouse/v1/gate_pb.js";
import { answerStep } from "../../../../../src/services/gate/submit-steps/answer.js";
import { refused, thrownOutcome } from "../../../outcome.js";
import { gateHarness, submission } from "../fixture.js";

describe("answer step: checked by the kind stored with the challenge", () => {
  it.each([
    ["the right answer", {}, {}, "allowed"],
    [
      "a wrong answer",
      { answer: { case: "signature" as const, value: { signature: Buffer.from("no") } } },
      {},
      refused(Reason.ANSWER_INVALID, "challenge answer invalid"),
    ],
    [
      "an answer of another kind",
      { answer: { case: "hashcash" as const, value: { nonce: "1" } } },
      {},
      refused(Reason.CHALLENGE_KIND_MISMATCH, "answer kind differs from challenge kind: answer"),
    ],
    [
      "a stored kind this server no longer runs",
      {},
      { kind: ChallengeKind.REASONING },
      refused(Reason.CHALLENGE_KIND_UNSUPPORTED, "challenge kind not supported"),
    ],
  ])("%s", async (_case, request, record, expected) => {
    const h = await gateHarness();
    expect(await thrownOutcome(() => answerStep(submission(h, request, record)))).toEqual(expected);
  });
});
