import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { createManualClock, type ManualClock } from "../../src/clock.js";
import type { ConfigOverrides } from "../../src/config/index.js";
import { connectRedis } from "../../src/store/redis/index.js";
import { killCliProcesses, startCliServer } from "../support/cli-process.js";
import { solvedHashcash, wrongHashcashNonce } from "../support/compute-solvers.js";
import { AUDIENCE, type Enrolled, enrollAgent, signedChallenge } from "../support/flows.js";
import {
  ISSUER,
  startTestGatehouse,
  type TestGatehouse,
  TRUST_DOMAIN,
} from "../support/gatehouse.js";
import {
  type GateAddresses,
  type GateTransport,
  type RawGate,
  Refusal,
  rawGate,
} from "../support/raw-gate.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;
const RESOURCE_EXHAUSTED = 8;
const FAILED_PRECONDITION = 9;
const TRANSPORTS: readonly GateTransport[] = ["grpc", "connect"];

async function refusalOf(promise: Promise<unknown>): Promise<Refusal> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Refusal) return error;
    throw error;
  }
  throw new Error("expected the call to be refused");
}

/** RESOURCE_EXHAUSTED + RATE_LIMITED with a wait, in the detail and the retry-after metadata. */
async function expectRateLimited(promise: Promise<unknown>): Promise<Refusal> {
  const refusal = await refusalOf(promise);
  expect(refusal.reason, refusal.message).toBe(Reason.RATE_LIMITED);
  expect(refusal.code).toBe(RESOURCE_EXHAUSTED);
  expect(refusal.retryAfterMs).toBeGreaterThan(0);
  expect(refusal.retryAfter).toBe(String(Math.ceil(refusal.retryAfterMs / 1000)));
  return refusal;
}

async function expectRefused(promise: Promise<unknown>, reason: Reason, code: number) {
  const refusal = await refusalOf(promise);
  expect(refusal.reason, refusal.message).toBe(reason);
  expect(refusal.code).toBe(code);
}

/** Every test starts from an empty Redis: rate-limit windows must not leak between tests. */
async function flushRedis(url: string): Promise<void> {
  const redis = connectRedis(url);
  await redis.flushall();
  await redis.quit();
}

const submitSignature = (
  gate: RawGate,
  challenge: { challengeId: string; signature: Uint8Array },
) =>
  gate.submit({
    challengeId: challenge.challengeId,
    answer: { case: "signature", value: { signature: challenge.signature } },
  });

const submitHashcash = (gate: RawGate, challengeId: string, nonce: string) =>
  gate.submit({ challengeId, answer: { case: "hashcash", value: { nonce } } });

const challengeOf = (gate: RawGate, agent: Enrolled, kind: ChallengeKind) =>
  gate.challenge({ did: agent.did, kind, scopes: ["orders:read"], audience: AUDIENCE });

/** Starts Gatehouses and clients for one test, and disposes of them after it. */
function useGatehouses(storeKind: "memory" | "redis", redisUrl: () => string) {
  const running: TestGatehouse[] = [];
  const gates: RawGate[] = [];
  const state = { clock: createManualClock() };

  beforeEach(async () => {
    state.clock = createManualClock(Date.now());
    if (storeKind === "redis") await flushRedis(redisUrl());
  });
  afterEach(async () => {
    for (const gate of gates.splice(0)) gate.close();
    // The first instance owns the data directory the others share: it goes last.
    for (const gh of running.splice(0).reverse()) await gh.dispose();
  });

  return {
    get clock(): ManualClock {
      return state.clock;
    },
    /** A Gatehouse with these settings; `dataDir` shares another's PKI (and CA). */
    async start(overrides: ConfigOverrides, dataDir?: string): Promise<TestGatehouse> {
      const gh = await startTestGatehouse({
        storeKind,
        clock: state.clock,
        overrides,
        ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
        ...(dataDir === undefined ? {} : { dataDir }),
      });
      running.push(gh);
      return gh;
    },
    gate(gh: GateAddresses, tls: ClientTls, transport: GateTransport = "grpc"): RawGate {
      const gate = rawGate(gh, tls, transport);
      gates.push(gate);
      return gate;
    },
    /**
     * Lets time pass for the rate limits: the embedded store runs on the manual clock; Redis
     * on its own TIME, so the test waits (with a margin).
     */
    async elapse(ms: number): Promise<void> {
      if (storeKind === "memory") state.clock.advance(ms);
      else await sleep(ms + 50);
    },
  };
}

describe.each(STORE_KINDS)("rate limits on Challenge and Submit (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const env = useGatehouses(storeKind, redisUrl);

  it.each(TRANSPORTS)("limits Challenge per identity (%s)", async (transport) => {
    const gh = await env.start({ limits: { challengePerIdentity: 3 } });
    const [a, b] = [await enrollAgent(gh), await enrollAgent(gh)];
    const gateA = env.gate(gh, a.agentTls, transport);
    for (let i = 0; i < 3; i++) await signedChallenge(gateA, a);
    await expectRateLimited(signedChallenge(gateA, a));
    // Another identity from the same address is not affected.
    await signedChallenge(env.gate(gh, b.agentTls, transport), b);
  });

  it("limits Challenge per source address, across identities and both ports", async () => {
    const gh = await env.start({ limits: { challengePerAddress: 3 } });
    const [a, b] = [await enrollAgent(gh), await enrollAgent(gh)];
    await signedChallenge(env.gate(gh, a.agentTls, "grpc"), a);
    await signedChallenge(env.gate(gh, a.agentTls, "grpc"), a);
    await signedChallenge(env.gate(gh, b.agentTls, "connect"), b);
    // Both transports read the same address (127.0.0.1) out of their peer.
    await expectRateLimited(signedChallenge(env.gate(gh, b.agentTls, "grpc"), b));
    await expectRateLimited(signedChallenge(env.gate(gh, a.agentTls, "connect"), a));
  });

  it.each(TRANSPORTS)("limits Submit per identity (%s)", async (transport) => {
    const gh = await env.start({ limits: { submitPerIdentity: 2 } });
    const [a, b] = [await enrollAgent(gh), await enrollAgent(gh)];
    const gateA = env.gate(gh, a.agentTls, transport);
    const gateB = env.gate(gh, b.agentTls, transport);
    const first = await signedChallenge(gateA, a);
    const second = await signedChallenge(gateA, a);
    const third = await signedChallenge(gateA, a);
    await submitSignature(gateA, first);
    await submitSignature(gateA, second);
    await expectRateLimited(submitSignature(gateA, third));
    await submitSignature(gateB, await signedChallenge(gateB, b));
  });

  it("limits Submit per source address", async () => {
    const gh = await env.start({ limits: { submitPerAddress: 2 } });
    const [a, b] = [await enrollAgent(gh), await enrollAgent(gh)];
    const gateA = env.gate(gh, a.agentTls);
    const gateB = env.gate(gh, b.agentTls, "connect");
    const pending = await signedChallenge(gateA, a);
    await submitSignature(gateA, await signedChallenge(gateA, a));
    await submitSignature(gateB, await signedChallenge(gateB, b));
    await expectRateLimited(submitSignature(gateA, pending));
  });

  it("lets Challenge through again once the window has passed", async () => {
    const gh = await env.start({ limits: { challengePerIdentity: 1, windowSeconds: 1 } });
    const agent = await enrollAgent(gh);
    const gate = env.gate(gh, agent.agentTls);
    await signedChallenge(gate, agent);
    const refusal = await expectRateLimited(signedChallenge(gate, agent));
    expect(refusal.retryAfterMs).toBeLessThanOrEqual(1_000);
    await env.elapse(refusal.retryAfterMs);
    await signedChallenge(gate, agent);
  });

  it("refuses Submit before consuming: the challenge still works once the window passed", async () => {
    const gh = await env.start({ limits: { submitPerIdentity: 1, windowSeconds: 1 } });
    const agent = await enrollAgent(gh);
    const gate = env.gate(gh, agent.agentTls);
    const first = await signedChallenge(gate, agent);
    const second = await signedChallenge(gate, agent);
    await submitSignature(gate, first);
    const refusal = await expectRateLimited(submitSignature(gate, second));
    await env.elapse(refusal.retryAfterMs);
    const { passToken: pass } = await submitSignature(gate, second);
    expect(pass).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("applies per-kind limits, each kind overriding one in a bucket of its own", async () => {
    const gh = await env.start({
      limits: {
        challengePerIdentity: 50,
        submitPerIdentity: 50,
        kinds: {
          signature: { challengePerIdentity: 2 },
          hashcash: { challengePerIdentity: 3, submitPerIdentity: 1 },
        },
      },
      challenges: { hashcashDifficultyBits: 8 },
    });
    const agent = await enrollAgent(gh);
    const gate = env.gate(gh, agent.agentTls);
    const pending = await signedChallenge(gate, agent);
    await signedChallenge(gate, agent);
    await expectRateLimited(signedChallenge(gate, agent));

    const h1 = await solvedHashcash(gate, agent);
    const h2 = await solvedHashcash(gate, agent);
    await solvedHashcash(gate, agent);
    await expectRateLimited(challengeOf(gate, agent, ChallengeKind.HASHCASH));
    // A kind without overrides counts in the shared bucket, which is far from full.
    await challengeOf(gate, agent, ChallengeKind.ITERATED_HASH);

    // Submit: hashcash allows one attempt per window (a wrong answer counts too)…
    const wrong = wrongHashcashNonce(h1.prefix, h1.difficultyBits);
    await expectRefused(
      submitHashcash(gate, h1.challengeId, wrong),
      Reason.ANSWER_INVALID,
      UNAUTHENTICATED,
    );
    await expectRateLimited(submitHashcash(gate, h2.challengeId, h2.nonce));
    // …while signature answers count in the shared bucket.
    await submitSignature(gate, pending);
  });
});

describe.each(STORE_KINDS)("adaptive proof of work on Challenge (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const env = useGatehouses(storeKind, redisUrl);
  let gh: TestGatehouse;
  let agent: Enrolled;
  let gate: RawGate;

  beforeEach(async () => {
    gh = await env.start({
      limits: { adaptive: { enabled: true, threshold: 2 } },
      challenges: { hashcashDifficultyBits: 8 },
    });
    agent = await enrollAgent(gh);
    gate = env.gate(gh, agent.agentTls);
    // Below the threshold no admission is needed.
    await signedChallenge(gate, agent);
    await signedChallenge(gate, agent);
  });

  const withAdmission = (challengeId: string, nonce: string) =>
    gate.challenge({
      did: agent.did,
      kind: ChallengeKind.SIGNATURE,
      scopes: ["orders:read"],
      audience: AUDIENCE,
      admission: { challengeId, answer: { nonce } },
    });

  it("asks for proof of work above the threshold, and admits a solved hashcash once", async () => {
    await expectRefused(
      signedChallenge(gate, agent),
      Reason.PROOF_OF_WORK_REQUIRED,
      FAILED_PRECONDITION,
    );
    // Hashcash itself, the admission ticket, is never held back by adaptive mode.
    const ticket = await solvedHashcash(gate, agent);
    const admitted = await withAdmission(ticket.challengeId, ticket.nonce);
    expect(admitted.kind).toBe(ChallengeKind.SIGNATURE);
    await expectRefused(
      withAdmission(ticket.challengeId, ticket.nonce),
      Reason.PROOF_OF_WORK_INVALID,
      PERMISSION_DENIED,
    );
  });

  it("refuses a wrong nonce and spends the ticket on that attempt", async () => {
    const ticket = await solvedHashcash(gate, agent);
    const wrong = wrongHashcashNonce(ticket.prefix, ticket.difficultyBits);
    await expectRefused(
      withAdmission(ticket.challengeId, wrong),
      Reason.PROOF_OF_WORK_INVALID,
      PERMISSION_DENIED,
    );
    await expectRefused(
      withAdmission(ticket.challengeId, ticket.nonce),
      Reason.PROOF_OF_WORK_INVALID,
      PERMISSION_DENIED,
    );
  });

  it("refuses another caller's ticket and a challenge of another kind", async () => {
    const other = await enrollAgent(gh);
    const foreign = await solvedHashcash(env.gate(gh, other.agentTls), other);
    await expectRefused(
      withAdmission(foreign.challengeId, foreign.nonce),
      Reason.PROOF_OF_WORK_INVALID,
      PERMISSION_DENIED,
    );
    // A signature challenge this caller holds is no ticket.
    const ticket = await solvedHashcash(gate, agent);
    const signature = await withAdmission(ticket.challengeId, ticket.nonce);
    await expectRefused(
      withAdmission(signature.challengeId, ticket.nonce),
      Reason.PROOF_OF_WORK_INVALID,
      PERMISSION_DENIED,
    );
  });
});

describe("rate limits across two Gatehouse instances sharing one Redis", () => {
  const redisUrl = useRedis();
  afterAll(killCliProcesses);
  const env = useGatehouses("redis", redisUrl);

  it("holds a limit in total across both instances", async () => {
    const overrides = { limits: { challengePerIdentity: 5 } };
    const a = await env.start(overrides);
    // Same data directory: same dev CA, so one client certificate works on both.
    const b = await env.start(overrides, a.dataDir);
    const agent = await enrollAgent(a);
    const gateA = env.gate(a, agent.agentTls);
    const gateB = env.gate(b, agent.agentTls, "connect");
    for (let i = 0; i < 3; i++) await signedChallenge(gateA, agent);
    for (let i = 0; i < 2; i++) await signedChallenge(gateB, agent);
    await expectRateLimited(signedChallenge(gateB, agent));
    await expectRateLimited(signedChallenge(gateA, agent));
  });

  it("holds a limit across two server processes: this one and a spawned `gatehouse dev`", async () => {
    const a = await env.start({ limits: { challengePerIdentity: 5 } });
    // A separate OS process on the same Redis and the same data directory (same dev CA).
    const b = await startCliServer(
      ["dev", "--data-dir", a.dataDir, "--grpc-port", "0", "--connect-port", "0"],
      {
        REDIS_URL: redisUrl(),
        GATEHOUSE_ISSUER: ISSUER,
        GATEHOUSE_TRUST_DOMAIN: TRUST_DOMAIN,
        GATEHOUSE_LIMIT_CHALLENGE_PER_IDENTITY: "5",
        GATEHOUSE_SIDECAR_PORT: "0",
      },
    );
    try {
      const agent = await enrollAgent(a);
      const gateA = env.gate(a, agent.agentTls);
      const gateB = env.gate(b, agent.agentTls);
      for (let i = 0; i < 3; i++) await signedChallenge(gateA, agent);
      for (let i = 0; i < 2; i++) await signedChallenge(gateB, agent);
      await expectRateLimited(signedChallenge(gateB, agent));
      await expectRateLimited(signedChallenge(gateA, agent));
    } finally {
      expect((await b.stop()).code).toBe(0);
    }
  });

  it("spends an admission ticket once, whichever instance redeems it", async () => {
    const overrides = {
      limits: { adaptive: { enabled: true, threshold: 1 } },
      challenges: { hashcashDifficultyBits: 8 },
    };
    const a = await env.start(overrides);
    const b = await env.start(overrides, a.dataDir);
    const agent = await enrollAgent(a);
    const gateA = env.gate(a, agent.agentTls);
    const gateB = env.gate(b, agent.agentTls);
    await signedChallenge(gateA, agent);
    await expectRefused(
      signedChallenge(gateB, agent),
      Reason.PROOF_OF_WORK_REQUIRED,
      FAILED_PRECONDITION,
    );
    const ticket = await solvedHashcash(gateA, agent);
    const admission = { challengeId: ticket.challengeId, answer: { nonce: ticket.nonce } };
    const request = {
      did: agent.did,
      kind: ChallengeKind.SIGNATURE,
      scopes: ["orders:read"],
      audience: AUDIENCE,
      admission,
    };
    await gateB.challenge(request);
    await expectRefused(gateA.challenge(request), Reason.PROOF_OF_WORK_INVALID, PERMISSION_DENIED);
  });
});
