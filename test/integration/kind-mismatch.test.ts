import type { MessageInitShape } from "@bufbuild/protobuf";
import { describe, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, type SubmitRequestSchema } from "../../gen/gatehouse/v1/gate_pb.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE } from "../support/flows.js";

type Answer = NonNullable<MessageInitShape<typeof SubmitRequestSchema>["answer"]>;

/** A well-formed answer of every kind: each passes input validation, none fits another kind. */
const ANSWERS: Record<string, Answer> = {
  signature: { case: "signature", value: { signature: new Uint8Array(64) } },
  reasoning: { case: "reasoning", value: { answer: "42" } },
  iteratedHash: { case: "iteratedHash", value: { digest: "ab".repeat(32) } },
  hashcash: { case: "hashcash", value: { nonce: "1" } },
};

const KINDS: [ChallengeKind, string][] = [
  [ChallengeKind.SIGNATURE, "signature"],
  [ChallengeKind.REASONING, "reasoning"],
  [ChallengeKind.ITERATED_HASH, "iteratedHash"],
  [ChallengeKind.HASHCASH, "hashcash"],
];

describe("an answer is checked by the stored kind: every kind mismatch is refused", () => {
  const env = useGatehouse();

  for (const [kind, ownCase] of KINDS) {
    for (const [answerCase, answer] of Object.entries(ANSWERS)) {
      if (answerCase === ownCase) continue;
      it(`${ChallengeKind[kind]} challenge, ${answerCase} answer → KIND_MISMATCH, then consumed`, async () => {
        const { challengeId } = await env.clients.gate.challenge({
          did: env.agent.did,
          kind,
          scopes: ["orders:read"],
          audience: AUDIENCE,
        });
        await expectReason(
          env.clients.gate.submit({ challengeId, answer }),
          Reason.CHALLENGE_KIND_MISMATCH,
          3,
        );
        await expectReason(
          env.clients.gate.submit({ challengeId, answer: ANSWERS[ownCase] ?? { case: undefined } }),
          Reason.CHALLENGE_ALREADY_USED,
        );
      });
    }
  }
});
