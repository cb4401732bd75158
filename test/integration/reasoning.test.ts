import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, type SubmitRequestSchema } from "../../gen/gatehouse/v1/gate_pb.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE } from "../support/flows.js";
import { promptParts, SOLVERS } from "../support/reasoning-solvers/index.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

type Answer = NonNullable<MessageInitShape<typeof SubmitRequestSchema>["answer"]>;

const INVALID_ARGUMENT = 3;
/** What the agent reports, and how far the server clock moves while it "thinks". */
const RUNTIME_MS = 1_500;

describe.each(STORE_KINDS)("reasoning challenges over gRPC + mTLS (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const env = useGatehouse({
    storeKind,
    redisUrl,
    clock: true,
    overrides: {
      challenges: {
        reasoningFamilies: { "program-trace": { deadlineSeconds: 5, difficulty: 3 } },
      },
    },
  });

  async function reasoningChallenge(reasoningFamily = "") {
    const challenge = await env.clients.gate.challenge({
      did: env.agent.did,
      kind: ChallengeKind.REASONING,
      scopes: ["orders:read"],
      audience: AUDIENCE,
      reasoningFamily,
    });
    if (challenge.body.case !== "reasoning" || !challenge.expiresAt) {
      throw new Error("expected a reasoning challenge");
    }
    rememberSecret(challenge.challengeId);
    const body = challenge.body.value;
    const family = body.family as keyof typeof SOLVERS;
    const expiresAtMs = timestampMs(challenge.expiresAt);
    return { challenge, body, expiresAtMs, answer: SOLVERS[family](body.prompt) };
  }

  const submit = (challengeId: string, answer: Answer) => {
    env.clock.advance(RUNTIME_MS);
    return env.clients.gate.submit({ challengeId, answer, runtimeMs: RUNTIME_MS });
  };
  const reasoning = (answer: string): Answer => ({
    case: "reasoning",
    value: { answer },
  });

  it("Challenge → solve → Submit → Token → Verify allowed", async () => {
    const { challenge, body, answer } = await reasoningChallenge();
    expect(challenge.kind).toBe(ChallengeKind.REASONING);
    expect(body.prompt.length).toBeGreaterThan(40);
    expect(body.answerFormat).not.toBe("");
    const { passToken: pass } = await submit(challenge.challengeId, reasoning(answer));
    const token = await env.clients.gate.token({ grant: { case: "passToken", value: pass } });
    rememberSecret(pass, token.accessToken);
    const decision = await env.verifier.verify.verify({
      token: token.accessToken,
      audience: AUDIENCE,
      requiredScopes: ["orders:read"],
    });
    expect(decision.allowed).toBe(true);
  });

  it.each(["ordering-puzzle", "word-problem", "string-edits", "table-query", "scoring-spec"])(
    "serves and accepts the requested family %s",
    async (family) => {
      const { challenge, body, answer } = await reasoningChallenge(family);
      expect(body.family).toBe(family);
      expect(body.difficulty).toBe(2);
      await submit(challenge.challengeId, reasoning(answer));
    },
  );

  it("refuses a wrong answer and consumes the challenge on that attempt", async () => {
    const { challenge, answer } = await reasoningChallenge("word-problem");
    await expectReason(
      submit(challenge.challengeId, reasoning(`${answer}1`)),
      Reason.ANSWER_INVALID,
    );
    await expectReason(
      submit(challenge.challengeId, reasoning(answer)),
      Reason.CHALLENGE_ALREADY_USED,
    );
  });

  it("refuses blind guesses at an ordering puzzle: one name, or every order as introduced", async () => {
    // Before every task had ≥ 2^20 possible answers, naming one person passed 1 time in 7.
    // (Either guess is right with probability ≤ 2^-20: never in a test run.)
    const introduced = (prompt: string) =>
      promptParts(prompt).map(
        (part) => /^((?:[A-Z][a-z]+, )*[A-Z][a-z]+ and [A-Z][a-z]+) /.exec(part)?.[1] ?? "",
      );
    const guesses = [
      (prompt: string) => introduced(prompt)[0]?.split(", ")[0] ?? "",
      (prompt: string) => introduced(prompt).join(" | "),
    ];
    for (const guess of guesses) {
      const { challenge, body } = await reasoningChallenge("ordering-puzzle");
      const attempt = guess(body.prompt);
      expect(attempt).toMatch(/^[A-Z]/);
      await expectReason(submit(challenge.challengeId, reasoning(attempt)), Reason.ANSWER_INVALID);
    }
  });

  it("refuses another kind's answer to a reasoning challenge", async () => {
    const { challenge } = await reasoningChallenge();
    const signature = { case: "signature", value: { signature: new Uint8Array(64) } } as const;
    await expectReason(submit(challenge.challengeId, signature), Reason.CHALLENGE_KIND_MISMATCH);
  });

  it("refuses an unknown family, naming reasoning_family", async () => {
    const error = await expectReason(
      reasoningChallenge("riddles"),
      Reason.INVALID_ARGUMENT,
      INVALID_ARGUMENT,
    );
    expect(error.field).toBe("reasoning_family");
  });

  it("enforces the per-family deadline (injected clock)", async () => {
    const { challenge, body, expiresAtMs, answer } = await reasoningChallenge("program-trace");
    expect(body.difficulty).toBe(3);
    const issued = env.clock.now();
    expect(expiresAtMs - issued).toBe(5_000);
    env.clock.advance(4_000);
    await expectReason(submit(challenge.challengeId, reasoning(answer)), Reason.CHALLENGE_EXPIRED);
    await expectReason(
      submit(challenge.challengeId, reasoning(answer)),
      Reason.CHALLENGE_ALREADY_USED,
    );
  });

  it("keeps the default deadline for the other families", async () => {
    const { challenge, answer } = await reasoningChallenge("table-query");
    env.clock.advance(15_000);
    await submit(challenge.challengeId, reasoning(answer));
  });
});
