import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { expectReason } from "../support/errors.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  login,
  signedChallenge,
} from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";

/** The callers' deadline (the test clients' default) … */
const CALLER_DEADLINE_MS = 10_000;
/** … and how soon a refusal must come: well inside it (Redis command timeout: 1 s). */
const REFUSAL_BOUND_MS = 3_000;
/** How long health may take to follow the store (probe every 1 s, ping timeout 1 s). */
const HEALTH_BOUND_MS = 6_000;

const SERVING = 1;
const NOT_SERVING = 2;

/** grpc.health.v1 Check for the whole server: the status enum from the raw reply. */
function healthStatus(address: string, tls: ClientTls): Promise<number> {
  const credentials = grpc.credentials.createSsl(tls.ca, tls.key, tls.cert);
  const client = new grpc.Client(address, credentials);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      (request: Buffer) => request,
      (reply: Buffer) => reply,
      Buffer.alloc(0),
      new grpc.Metadata(),
      { deadline: Date.now() + 2_000 },
      (error, reply) => {
        client.close();
        // HealthCheckResponse { status = 1 }: one varint field, tag 0x08.
        if (error) reject(error);
        else resolve(reply?.[0] === 0x08 ? (reply[1] ?? 0) : 0);
      },
    );
  });
}

async function healthBecomes(address: string, tls: ClientTls, status: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < HEALTH_BOUND_MS) {
    if ((await healthStatus(address, tls).catch(() => 0)) === status) return Date.now() - started;
    await sleep(100);
  }
  throw new Error(`health did not become ${status} within ${HEALTH_BOUND_MS} ms`);
}

/** Awaits a call that must be refused UNAVAILABLE, and returns how long the refusal took. */
async function refusedUnavailable(call: Promise<unknown>): Promise<number> {
  const started = Date.now();
  await expectReason(call, Reason.UNAVAILABLE, grpc.status.UNAVAILABLE);
  return Date.now() - started;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.POSITIVE_INFINITY;
}

describe("a Redis outage: fast UNAVAILABLE, health that follows the store", () => {
  let redis: RedisServer;
  let gh: TestGatehouse;
  let agent: Enrolled;
  let clients: Clients;
  let verifier: Clients;

  beforeAll(async () => {
    redis = await startRedisServer();
    gh = await startTestGatehouse({
      storeKind: "redis",
      redisUrl: redis.url,
      // The Redis in this test is killed and restarted empty: the chain the server checks
      // as it stops is not the one it wrote.
      tampersWithAudit: true,
      overrides: { verify: { cacheTtlMs: 10_000 } },
    });
    agent = await enrollAgent(gh);
    clients = grpcClients(gh, agent.agentTls);
    verifier = grpcClients(gh, agent.verifierTls);
  });
  afterAll(async () => {
    redis?.resume();
    clients?.close();
    verifier?.close();
    await gh?.dispose();
    await redis?.stop();
  });

  it("keeps answering a cached Verify fast while Redis is stalled, refuses the rest UNAVAILABLE", async () => {
    const token = await login(clients.gate, agent);
    // Issued before the stall and never verified: Verify has to read the store for it.
    const unseen = await login(clients.gate, agent);
    const warm = await verifier.verify.verify({ token, audience: AUDIENCE });
    expect(warm.allowed).toBe(true);
    expect(await healthStatus(gh.grpcAddress, agent.verifierTls)).toBe(SERVING);

    redis.pause();
    try {
      const timings: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = Date.now();
        const decision = await verifier.verify.verify({ token, audience: AUDIENCE });
        timings.push(Date.now() - started);
        expect(decision.allowed).toBe(true);
      }
      expect(median(timings)).toBeLessThan(100);

      const challenge = clients.gate.challenge({
        did: agent.did,
        kind: ChallengeKind.SIGNATURE,
        scopes: ["orders:read"],
        audience: AUDIENCE,
      });
      expect(await refusedUnavailable(challenge)).toBeLessThan(REFUSAL_BOUND_MS);
      const uncached = verifier.verify.verify({ token: unseen, audience: AUDIENCE });
      expect(await refusedUnavailable(uncached)).toBeLessThan(REFUSAL_BOUND_MS);
      await healthBecomes(gh.grpcAddress, agent.verifierTls, NOT_SERVING);
    } finally {
      redis.resume();
    }
    await healthBecomes(gh.grpcAddress, agent.verifierTls, SERVING);
    expect((await verifier.verify.verify({ token, audience: AUDIENCE })).allowed).toBe(true);
  });

  it("refuses Verify, Challenge and Token UNAVAILABLE at once while Redis is down", async () => {
    // Obtained before the outage, never verified: Verify has to read the store for it.
    const token = await login(clients.gate, agent);
    const { challengeId, signature } = await signedChallenge(clients.gate, agent);
    const { passToken: pass } = await clients.gate.submit({
      challengeId,
      answer: { case: "signature", value: { signature } },
    });

    await redis.kill();
    const refusals = [
      await refusedUnavailable(verifier.verify.verify({ token, audience: AUDIENCE })),
      await refusedUnavailable(
        clients.gate.challenge({
          did: agent.did,
          kind: ChallengeKind.SIGNATURE,
          scopes: ["orders:read"],
          audience: AUDIENCE,
        }),
      ),
      await refusedUnavailable(clients.gate.token({ grant: { case: "passToken", value: pass } })),
    ];
    for (const ms of refusals) expect(ms).toBeLessThan(REFUSAL_BOUND_MS);
    expect(Math.max(...refusals)).toBeLessThan(CALLER_DEADLINE_MS / 3);
    await healthBecomes(gh.grpcAddress, agent.verifierTls, NOT_SERVING);

    await redis.restart();
    await healthBecomes(gh.grpcAddress, agent.verifierTls, SERVING);
    // Serving again: the restarted Redis is empty, so the agent is unknown, not unavailable.
    await expectReason(
      clients.gate.challenge({
        did: agent.did,
        kind: ChallengeKind.SIGNATURE,
        scopes: ["orders:read"],
        audience: AUDIENCE,
      }),
      Reason.AGENT_NOT_FOUND,
    );
  });
});
