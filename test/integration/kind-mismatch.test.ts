import type { MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, type SubmitRequestSchema } from "../../gen/gatehouse/v1/gate_pb.js";
import { expectReason } from "../support/errors.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
} from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";

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
  let gh: TestGatehouse;
  let agent: Enrolled;
  let clients: Clients;
  beforeAll(async () => {
    gh = await startTestGatehouse();
    agent = await enrollAgent(gh);
    clients = grpcClients(gh, agent.agentTls);
  });
  afterAll(async () => {
    clients?.close();
    await gh?.dispose();
  });

  for (const [kind, ownCase] of KINDS) {
    for (const [answerCase, answer] of Object.entries(ANSWERS)) {
      if (answerCase === ownCase) continue;
      it(`${ChallengeKind[kind]} challenge, ${answerCase} answer → KIND_MISMATCH, then consumed`, async () => {
        const { challengeId } = await clients.gate.challenge({
          did: agent.did,
          kind,
          scopes: ["orders:read"],
          audience: AUDIENCE,
        });
        await expectReason(
          clients.gate.submit({ challengeId, answer }),
          Reason.CHALLENGE_KIND_MISMATCH,
          3,
        );
        await expectReason(
          clients.gate.submit({ challengeId, answer: ANSWERS[ownCase] ?? { case: undefined } }),
          Reason.CHALLENGE_ALREADY_USED,
        );
      });
    }
  }
});
