import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, type SubmitRequestSchema } from "../../gen/gatehouse/v1/gate_pb.js";
import { iteratedSha256 } from "../../src/challenges/iterated-hash/iterate.js";
import {
  solvedHashcash,
  solvedIteratedHash,
  wrongHashcashNonce,
} from "../support/compute-solvers.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  grpcClients,
  login,
  signedChallenge,
} from "../support/flows.js";
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
 * What an inline check would do: stall the loop for as long as one check takes. The test times
 * the server's own `iteratedSha256` for one check, on this process's loop (the server's), and
 * bounds the loop's delay at half of that, so the bound grows with the host's load as the
 * stall it stands for does. A fixed bound (100 ms, with checks of ~25 ms at the default N)
 * neither caught checks run inline one per tick nor left room for a loaded 2-core host's
 * scheduling noise (one 102-ms stall failed CI): here one check is ~0.5 s.
 */
const ITERATIONS = 2_000_000;

/** Asks for an iterated-hash challenge and computes its answer with the server's function. */
async function solvedHere(gate: Pick<Clients["gate"], "challenge">, agent: Enrolled) {
  const challenge = await gate.challenge({
    did: agent.did,
    kind: ChallengeKind.ITERATED_HASH,
    scopes: ["orders:read"],
    audience: AUDIENCE,
  });
  if (challenge.body.case !== "iteratedHash") throw new Error("expected an iterated hash");
  const { seed, iterations } = challenge.body.value;
  expect(iterations).toBe(ITERATIONS);
  const started = performance.now();
  const digest = iteratedSha256(Buffer.from(seed, "hex"), iterations).toString("hex");
  const inlineMs = performance.now() - started;
  rememberSecret(challenge.challengeId, seed, digest);
  return { challengeId: challenge.challengeId, digest, inlineMs };
}

describe("iterated hash under load: the event loop stays free", () => {
  const BURST = 4;
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
    const warm = await solvedHere(env.clients.gate, env.agent);
    await env.clients.gate.submit({
      challengeId: warm.challengeId,
      answer: iteratedHash(warm.digest),
    });
    const solved = [];
    for (let i = 0; i < BURST; i += 1) solved.push(await solvedHere(env.clients.gate, env.agent));
    // The stall one check run on the loop would cause, on this host now (the median solve).
    const inlineMs = solved.map((s) => s.inlineMs).sort((a, b) => a - b)[BURST / 2] ?? 0;

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
      `one check inline ${inlineMs.toFixed(0)} ms; burst ${(ended - started).toFixed(0)} ms; ` +
      `loop delay p99 ${p99.toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms; ` +
      `${answeredAt.length} Verify answers, longest gap ${verifyGapMs.toFixed(0)} ms`;
    expect(submissions.map((result) => result.status)).toEqual(Array(BURST).fill("fulfilled"));
    // The burst ran on the one worker, one check after another, not all at once.
    expect(ended - started, figures).toBeGreaterThan(inlineMs);
    // Inline, every check would be a delay of inlineMs in the loop and a gap as long in Verify.
    expect(p99, figures).toBeLessThan(inlineMs / 2);
    expect(verifyGapMs, figures).toBeLessThan(inlineMs);
  });
});
