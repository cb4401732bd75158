import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, type SubmitRequestSchema } from "../../gen/gatehouse/v1/gate_pb.js";
import {
  solvedHashcash,
  solvedIteratedHash,
  wrongHashcashNonce,
} from "../support/compute-solvers.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, type Clients, grpcClients, login, signedChallenge } from "../support/flows.js";
import { rememberSecret } from "../support/secrets.js";

type Answer = NonNullable<MessageInitShape<typeof SubmitRequestSchema>["answer"]>;
const iteratedHash = (digest: string): Answer => ({ case: "iteratedHash", value: { digest } });
const hashcash = (nonce: string): Answer => ({ case: "hashcash", value: { nonce } });
const signature = (bytes = new Uint8Array(64)): Answer => ({
  case: "signature",
  value: { signature: bytes },
});

/** Submit → Token → Verify; returns the Verify decision. */
async function redeem(clients: Clients, verifier: Clients, challengeId: string, answer: Answer) {
  const { passToken: pass } = await clients.gate.submit({ challengeId, answer });
  const token = await clients.gate.token({ grant: { case: "passToken", value: pass } });
  rememberSecret(pass, token.accessToken);
  return verifier.verify.verify({
    token: token.accessToken,
    audience: AUDIENCE,
    requiredScopes: ["orders:read"],
  });
}

describe("compute challenge kinds", () => {
  const env = useGatehouse({
    clock: true,
    overrides: { challenges: { iteratedHashIterations: 2_000, hashcashDifficultyBits: 8 } },
  });
  const submit = (challengeId: string, answer: Answer) =>
    env.clients.gate.submit({ challengeId, answer });

  it("iterated hash: Challenge → Submit → Token → Verify", async () => {
    const solved = await solvedIteratedHash(env.clients.gate, env.agent);
    expect(solved.iterations).toBe(2_000);
    expect(solved.seed).toMatch(/^[0-9a-f]{64}$/);
    const decision = await redeem(
      env.clients,
      env.verifier,
      solved.challengeId,
      iteratedHash(solved.digest),
    );
    expect(decision.allowed, String(decision.reason)).toBe(true);
    expect(decision.agentDid).toBe(env.agent.did);
  });

  it("hashcash: Challenge → Submit → Token → Verify", async () => {
    const solved = await solvedHashcash(env.clients.gate, env.agent);
    expect(solved.difficultyBits).toBe(8);
    expect(solved.prefix).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const decision = await redeem(
      env.clients,
      env.verifier,
      solved.challengeId,
      hashcash(solved.nonce),
    );
    expect(decision.allowed, String(decision.reason)).toBe(true);
  });

  it("accepts the digest in upper-case hex too", async () => {
    const solved = await solvedIteratedHash(env.clients.gate, env.agent);
    await expect(
      submit(solved.challengeId, iteratedHash(solved.digest.toUpperCase())),
    ).resolves.toHaveProperty("passToken");
  });

  it("refuses a wrong digest and consumes the challenge", async () => {
    const solved = await solvedIteratedHash(env.clients.gate, env.agent);
    const wrong = `${solved.digest.slice(0, -1)}${solved.digest.endsWith("0") ? "1" : "0"}`;
    await expectReason(submit(solved.challengeId, iteratedHash(wrong)), Reason.ANSWER_INVALID);
    await expectReason(
      submit(solved.challengeId, iteratedHash(solved.digest)),
      Reason.CHALLENGE_ALREADY_USED,
    );
  });

  it("refuses a wrong nonce and consumes the challenge", async () => {
    const solved = await solvedHashcash(env.clients.gate, env.agent);
    const wrong = wrongHashcashNonce(solved.prefix, solved.difficultyBits);
    await expectReason(submit(solved.challengeId, hashcash(wrong)), Reason.ANSWER_INVALID);
    await expectReason(
      submit(solved.challengeId, hashcash(solved.nonce)),
      Reason.CHALLENGE_ALREADY_USED,
    );
  });

  it("checks the answer with the stored kind: other kinds' answers are refused", async () => {
    const signed = await signedChallenge(env.clients.gate, env.agent);
    await expectReason(
      submit(signed.challengeId, iteratedHash("0".repeat(64))),
      Reason.CHALLENGE_KIND_MISMATCH,
    );
    const signedAgain = await signedChallenge(env.clients.gate, env.agent);
    await expectReason(
      submit(signedAgain.challengeId, hashcash("1")),
      Reason.CHALLENGE_KIND_MISMATCH,
    );

    const iterated = await solvedIteratedHash(env.clients.gate, env.agent);
    await expectReason(submit(iterated.challengeId, signature()), Reason.CHALLENGE_KIND_MISMATCH);
    // The mismatch spent the challenge like any other refusal.
    await expectReason(
      submit(iterated.challengeId, iteratedHash(iterated.digest)),
      Reason.CHALLENGE_ALREADY_USED,
    );
    const iteratedAgain = await solvedIteratedHash(env.clients.gate, env.agent);
    await expectReason(
      submit(iteratedAgain.challengeId, hashcash("1")),
      Reason.CHALLENGE_KIND_MISMATCH,
    );

    const cash = await solvedHashcash(env.clients.gate, env.agent);
    await expectReason(
      submit(cash.challengeId, iteratedHash("0".repeat(64))),
      Reason.CHALLENGE_KIND_MISMATCH,
    );
    const cashAgain = await solvedHashcash(env.clients.gate, env.agent);
    await expectReason(submit(cashAgain.challengeId, signature()), Reason.CHALLENGE_KIND_MISMATCH);
  });

  it("refuses expired compute challenges, even with the right answer", async () => {
    const iterated = await solvedIteratedHash(env.clients.gate, env.agent);
    const cash = await solvedHashcash(env.clients.gate, env.agent);
    env.clock.advance(61_000);
    await expectReason(
      submit(iterated.challengeId, iteratedHash(iterated.digest)),
      Reason.CHALLENGE_EXPIRED,
    );
    await expectReason(submit(cash.challengeId, hashcash(cash.nonce)), Reason.CHALLENGE_EXPIRED);
    await expectReason(
      submit(iterated.challengeId, iteratedHash(iterated.digest)),
      Reason.CHALLENGE_ALREADY_USED,
    );
  });
});

describe("iterated hash: the cheap checks come before any hashing", () => {
  /** ~9 s of SHA-256 on this machine class: far beyond the bound asserted below. */
  const ITERATIONS = 5_000_000;
  const env = useGatehouse({
    clock: true,
    overrides: { challenges: { iteratedHashIterations: ITERATIONS } },
  });

  /** An iterated-hash challenge, unsolved: these submissions must not get as far as hashing. */
  async function unsolved(): Promise<string> {
    const { challengeId } = await env.clients.gate.challenge({
      did: env.agent.did,
      kind: ChallengeKind.ITERATED_HASH,
      scopes: ["orders:read"],
      audience: AUDIENCE,
    });
    rememberSecret(challengeId);
    return challengeId;
  }

  it("answers an expired submission without hashing", async () => {
    const challengeId = await unsolved();
    env.clock.advance(61_000);
    const started = performance.now();
    await expectReason(
      env.clients.gate.submit({ challengeId, answer: iteratedHash("0".repeat(64)) }),
      Reason.CHALLENGE_EXPIRED,
    );
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("answers a submission from another certificate without hashing", async () => {
    const challengeId = await unsolved();
    const other = grpcClients(
      env.gh,
      await env.gh.clientTls({ role: "agent", did: env.agent.did }),
    );
    try {
      const started = performance.now();
      await expectReason(
        other.gate.submit({ challengeId, answer: iteratedHash("0".repeat(64)) }),
        Reason.CHALLENGE_IDENTITY_MISMATCH,
      );
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      other.close();
    }
  });
});

/**
 * The loop-delay bound: inline, the burst below stalls the loop for seconds (each check alone
 * ~0.2 s); on the pool, p99 stays in the tens of ms even on a 2-core machine oversubscribed
 * by parallel test runs. Scheduling noise, not hashing, is what the margin absorbs.
 */
const MAX_LOOP_DELAY_P99_MS = 100;
/** Verify must keep being answered: no gap between answers this long during the burst. */
const MAX_VERIFY_GAP_MS = 1_000;

describe("iterated hash under load: the event loop stays free", () => {
  /** The default N. */
  const ITERATIONS = 100_000;
  const BURST = 20;
  const VERIFY_EVERY_MS = 20;
  const env = useGatehouse({
    overrides: { challenges: { iteratedHashIterations: ITERATIONS, computeWorkers: 1 } },
  });

  /** Verify calls, paced like a gateway's, until `done()`; returns when each was answered. */
  function verifyTrickle(token: string) {
    const answeredAt: number[] = [];
    let running = true;
    const finished = (async () => {
      while (running) {
        const decision = await env.verifier.verify.verify({ token, audience: AUDIENCE });
        answeredAt.push(performance.now());
        expect(decision.allowed).toBe(true);
        await setTimeout(VERIFY_EVERY_MS);
      }
    })();
    return {
      async done() {
        running = false;
        await finished;
        return answeredAt;
      },
    };
  }

  it("keeps the loop free and Verify answering during a burst of checks", {
    timeout: 90_000,
  }, async () => {
    const token = await login(env.clients.gate, env.agent);
    // The first check starts the worker thread; start it before measuring.
    const warm = await solvedIteratedHash(env.clients.gate, env.agent);
    await env.clients.gate.submit({
      challengeId: warm.challengeId,
      answer: iteratedHash(warm.digest),
    });
    // The test solver runs in this process, which is the server's: solve before measuring.
    const solved = [];
    for (let i = 0; i < BURST; i += 1)
      solved.push(await solvedIteratedHash(env.clients.gate, env.agent));

    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    // The monitor's first tick is its baseline: a stall before it would go unrecorded.
    await setTimeout(50);
    const trickle = verifyTrickle(token);
    const started = performance.now();
    const submissions = await Promise.allSettled(
      solved.map(({ challengeId, digest }) =>
        env.clients.gate.submit({ challengeId, answer: iteratedHash(digest) }),
      ),
    );
    const ended = performance.now();
    const answeredAt = (await trickle.done()).filter((at) => at <= ended);
    delay.disable();

    const marks = [started, ...answeredAt, ended];
    const verifyGapMs = Math.max(...marks.slice(1).map((at, i) => at - (marks[i] ?? at)));
    const p99 = delay.percentile(99) / 1e6;
    const figures =
      `burst ${(ended - started).toFixed(0)} ms; loop delay p99 ${p99.toFixed(1)} ms, ` +
      `max ${(delay.max / 1e6).toFixed(1)} ms; ${answeredAt.length} Verify answers, ` +
      `longest gap ${verifyGapMs.toFixed(0)} ms`;
    expect(submissions.map((result) => result.status)).toEqual(Array(BURST).fill("fulfilled"));
    expect(p99, figures).toBeLessThan(MAX_LOOP_DELAY_P99_MS);
    expect(verifyGapMs, figures).toBeLessThan(MAX_VERIFY_GAP_MS);
  });
});
