import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseClientError } from "../../src/client/errors.js";
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
import {
  type RedisCluster,
  type RedisClusterOptions,
  startRedisCluster,
} from "../support/redis-cluster.js";

/** Concurrent submissions of one answer (and redemptions of one pass) per race. */
const RACERS = 40;
const RACES = 5;
const CHALLENGE_LIMIT = 30;

const jtiOf = (token: string): string =>
  JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()).jti;

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/** Settles every call; counts the fulfilled ones and the reasons of the refused ones. */
async function tally(calls: Promise<unknown>[]): Promise<{ ok: number; reasons: Set<string> }> {
  const results = await Promise.allSettled(calls);
  const reasons = new Set<string>();
  let ok = 0;
  for (const result of results) {
    if (result.status === "fulfilled") ok += 1;
    else if (result.reason instanceof GatehouseClientError)
      reasons.add(Reason[result.reason.reason]);
    else throw result.reason;
  }
  return { ok, reasons };
}

/**
 * A real Redis Cluster and two Gatehouse servers, A and B, on it for the describe block;
 * with `replicas`, every master has a replica to fail over to.
 */
function useClusterServers(options: RedisClusterOptions & { challengeLimit?: number } = {}) {
  let cluster: RedisCluster | undefined;
  let dataDir = "";
  const servers: TestGatehouse[] = [];
  const clients: Clients[] = [];
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the cluster servers are not started");
    return value;
  };
  const env = {
    cluster: () => started(cluster),
    a: () => started(servers[0]),
    b: () => started(servers[1]),
    clientsOf(gh: TestGatehouse, tls: Enrolled["agentTls"]): Clients {
      const made = grpcClients(gh, tls);
      clients.push(made);
      return made;
    },
    /** The agent's gates on A and B, and racer i's (alternating between the two). */
    racingGates(agent: Enrolled) {
      const gateA = env.clientsOf(env.a(), agent.agentTls).gate;
      const gateB = env.clientsOf(env.b(), agent.agentTls).gate;
      return { gateA, gateB, gateOf: (i: number) => (i % 2 === 0 ? gateA : gateB) };
    },
  };

  beforeAll(async () => {
    cluster = await startRedisCluster(options);
    // Same data directory: same dev CA, so one client certificate works on both servers.
    dataDir = await mkdtemp(join(tmpdir(), "gatehouse-cluster-"));
    const gatehouse = {
      storeKind: "redis" as const,
      redisUrl: cluster.url,
      redisCluster: true,
      dataDir,
      // The races submit one answer RACERS × RACES times: above the default Submit limit.
      overrides: {
        limits: {
          challengePerIdentity: options.challengeLimit ?? CHALLENGE_LIMIT,
          submitPerIdentity: 1_000,
        },
      },
    };
    servers.push(await startTestGatehouse(gatehouse));
    servers.push(await startTestGatehouse(gatehouse));
  }, 120_000);
  afterAll(async () => {
    for (const made of clients) made.close();
    // The first server owns the data directory the second shares: it stops last.
    for (const gh of servers.reverse()) await gh.stop();
    await rm(dataDir, { recursive: true, force: true });
    await cluster?.stop();
  });
  return env;
}

describe("two Gatehouse servers on a real three-master Redis Cluster", () => {
  const env = useClusterServers();

  it("spreads over all three masters and logs in on A for a token B verifies", async () => {
    const agent = await enrollAgent(env.a());
    const gateA = env.clientsOf(env.a(), agent.agentTls).gate;
    const verifierB = env.clientsOf(env.b(), agent.verifierTls).verify;
    const timings: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const token = await login(gateA, agent);
      timings.push(performance.now() - started);
      const decision = await verifierB.verify({
        token,
        audience: AUDIENCE,
        requiredScopes: ["orders:read"],
      });
      expect(decision.allowed).toBe(true);
    }
    // The state really is spread: every master holds some of it.
    for (const node of env.cluster().nodes) {
      const redis = new Redis(node.url);
      expect(await redis.dbsize().finally(() => redis.disconnect())).toBeGreaterThan(0);
    }
    console.info(
      `cluster login (Challenge+Submit+Token): p50 ${percentile(timings, 50).toFixed(1)} ms, ` +
        `max ${Math.max(...timings).toFixed(1)} ms`,
    );
  });

  it("propagates a token revocation on A to B over cluster pub/sub", async () => {
    const agent = await enrollAgent(env.a());
    const gateA = env.clientsOf(env.a(), agent.agentTls).gate;
    const operatorA = env.clientsOf(env.a(), agent.operatorTls).registry;
    const verifierB = env.clientsOf(env.b(), agent.verifierTls).verify;
    const verify = (token: string) =>
      verifierB.verify({ token, audience: AUDIENCE, requiredScopes: ["orders:read"] });
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const token = await login(gateA, agent);
      // Warm B's caches: the "not revoked" look-up is cached now, only the bus can clear it.
      expect((await verify(token)).allowed).toBe(true);
      expect((await verify(token)).allowed).toBe(true);
      await operatorA.revoke({ target: { case: "tokenId", value: jtiOf(token) } });
      const returned = performance.now();
      for (;;) {
        const decision = await verify(token);
        if (!decision.allowed) {
          expect(Reason[decision.reason]).toBe(Reason[Reason.TOKEN_REVOKED]);
          break;
        }
        if (performance.now() - returned > 5_000) throw new Error("never denied on B");
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      latencies.push(performance.now() - returned);
    }
    console.info(
      `cluster revocation A→B: p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
        `max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    expect(Math.max(...latencies)).toBeLessThan(1_000);
  });

  it("holds a rate limit in total across A and B", async () => {
    const agent = await enrollAgent(env.a());
    const gateA = env.clientsOf(env.a(), agent.agentTls).gate;
    const gateB = env.clientsOf(env.b(), agent.agentTls).gate;
    for (let i = 0; i < CHALLENGE_LIMIT; i++) {
      await signedChallenge(i % 2 === 0 ? gateA : gateB, agent);
    }
    await expectReason(signedChallenge(gateA, agent), Reason.RATE_LIMITED);
    await expectReason(signedChallenge(gateB, agent), Reason.RATE_LIMITED);
  });

  it("accepts one answer to a challenge exactly once across A and B (no double accept)", async () => {
    const agent = await enrollAgent(env.a());
    const { gateB, gateOf } = env.racingGates(agent);
    for (let race = 0; race < RACES; race++) {
      const { challengeId, signature } = await signedChallenge(gateB, agent);
      const request = { challengeId, answer: { case: "signature" as const, value: { signature } } };
      const outcome = await tally(
        Array.from({ length: RACERS }, (_, i) => gateOf(i).submit(request)),
      );
      expect(outcome.ok, [...outcome.reasons].join()).toBe(1);
      expect([...outcome.reasons]).toEqual([Reason[Reason.CHALLENGE_ALREADY_USED]]);
    }
  });

  it("redeems one pass exactly once across A and B (no double accept)", async () => {
    const agent = await enrollAgent(env.a());
    const { gateA, gateB, gateOf } = env.racingGates(agent);
    for (let race = 0; race < RACES; race++) {
      const { challengeId, signature } = await signedChallenge(gateB, agent);
      const { passToken: pass } = await gateA.submit({
        challengeId,
        answer: { case: "signature", value: { signature } },
      });
      const outcome = await tally(
        Array.from({ length: RACERS }, (_, i) =>
          gateOf(i).token({ grant: { case: "passToken", value: pass } }),
        ),
      );
      expect(outcome.ok, [...outcome.reasons].join()).toBe(1);
      expect([...outcome.reasons]).toEqual([Reason[Reason.PASS_ALREADY_USED]]);
    }
  });
});

describe("a manual failover of a master during single-use races (cluster with replicas)", () => {
  // The recovery probe logs in every 100 ms until the failover is over: the default limit
  // would turn a slow failover into a permanent RATE_LIMITED.
  const env = useClusterServers({ replicas: true, challengeLimit: 10_000 });

  it("accepts every answer exactly once across the failover, and measures recovery", async () => {
    const agent = await enrollAgent(env.a());
    const probe = await enrollAgent(env.a());
    const { gateOf } = env.racingGates(agent);
    const probeGates = env.racingGates(probe);
    const requests = await Promise.all(
      Array.from({ length: RACES }, async (_, race) => {
        const { challengeId, signature } = await signedChallenge(gateOf(race), agent);
        return { challengeId, answer: { case: "signature" as const, value: { signature } } };
      }),
    );

    const started = performance.now();
    const failedOver = env.cluster().failover();
    const during = await Promise.all(
      requests.map((request) =>
        tally(Array.from({ length: RACERS }, (_, i) => gateOf(i).submit(request))),
      ),
    );
    await failedOver;
    // Recovered: a full login goes through on A and on B again.
    let lastRefusals: unknown[] = [];
    for (;;) {
      const attempt = await Promise.allSettled([
        login(probeGates.gateA, probe),
        login(probeGates.gateB, probe),
      ]);
      lastRefusals = attempt.flatMap((a) => (a.status === "rejected" ? [String(a.reason)] : []));
      if (lastRefusals.length === 0) break;
      if (performance.now() - started > 30_000)
        throw new Error(`no login after the failover: ${lastRefusals.join("; ")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const recoveryMs = performance.now() - started;
    // After the failover each answer is submitted again: what was accepted during it stays
    // consumed (the promoted replica has it); what the failover refused is accepted now.
    for (const [race, request] of requests.entries()) {
      const after = await tally([gateOf(0).submit(request), gateOf(1).submit(request)]);
      const outcome = during[race];
      expect((outcome?.ok ?? 0) + after.ok, [...(outcome?.reasons ?? [])].join()).toBe(1);
    }
    console.info(
      `cluster failover: logins on A and B again ${recoveryMs.toFixed(0)} ms after CLUSTER ` +
        `FAILOVER; refusals during it: ${[...new Set(during.flatMap((o) => [...o.reasons]))].join(", ")}`,
    );
  }, 120_000);
});
