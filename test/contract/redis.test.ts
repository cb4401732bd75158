import { randomUUID } from "node:crypto";
import { type AddressInfo, createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { StorePreconditionError } from "../../src/store/common.js";
import { createStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/ports.js";
import { connectRedis, createRedisStore, type RedisLike } from "../../src/store/redis/index.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { agentRecord, describeStoreContract, didOf } from "./store.contract.js";

let standalone: RedisServer;
let cluster: RedisServer;

beforeAll(async () => {
  [standalone, cluster] = await Promise.all([
    startRedisServer(),
    startRedisServer({ cluster: true }),
  ]);
});

afterAll(async () => {
  await Promise.all([standalone?.stop(), cluster?.stop()]);
});

/** Every test gets its own key prefix, so tests never see each other's keys. */
const freshPrefix = (): string => `t-${randomUUID()}`;

describeStoreContract("redis", async () => {
  const store = createRedisStore({
    redis: connectRedis(standalone.url),
    prefix: freshPrefix(),
    ownsConnection: true,
  });
  return { store, cleanup: () => store.close() };
});

// One node owning every slot still enforces CROSSSLOT, so this run proves the hash tags.
describeStoreContract("redis cluster", async () => {
  const store = createRedisStore({
    redis: connectRedis(cluster.url, { cluster: true }),
    prefix: freshPrefix(),
    ownsConnection: true,
  });
  return { store, cleanup: () => store.close() };
});

describe("redis store across replicas", () => {
  let connections: RedisLike[];
  let replicas: Store[];

  beforeAll(() => {
    const prefix = freshPrefix();
    connections = [connectRedis(standalone.url), connectRedis(standalone.url)];
    replicas = connections.map((redis) => createRedisStore({ redis, prefix }));
  });

  afterAll(async () => {
    await Promise.all(replicas.map((store) => store.close()));
    await Promise.all(connections.map((redis) => redis.quit()));
  });

  /** Runs `call` 50 times, alternating between the two replicas' connections. */
  function race<T>(call: (store: Store) => Promise<T>): Promise<T[]> {
    return Promise.all(Array.from({ length: 50 }, (_, i) => call(replicas[i % 2] as Store)));
  }

  it("lets exactly one consume win", async () => {
    await replicas[0]?.passes.put("race", { pass: 1 }, 60_000);
    const results = await race((store) => store.passes.consume("race"));
    expect(results.filter((result) => result.status === "ok")).toHaveLength(1);
  });

  it("lets exactly one nonce through", async () => {
    const results = await race((store) => store.nonces.useOnce("dpop", "race", 60_000));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("carries invalidation events from one replica to the other", async () => {
    const seen: unknown[] = [];
    const unsubscribe = await (replicas[1] as Store).events.subscribe((event) => seen.push(event));
    await (replicas[0] as Store).events.publish({ kind: "operator", domain: "alpha.example" });
    for (let i = 0; i < 200 && seen.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(seen).toEqual([{ kind: "operator", domain: "alpha.example" }]);
    unsubscribe();
  });

  it("creates exactly one agent for a DID", async () => {
    let n = 0;
    const results = await race((store) =>
      store.registry.createAgent(agentRecord(5_000 + n++, { did: "did:key:zreplicas" })),
    );
    expect(results.filter((result) => result === "created")).toHaveLength(1);
  });
});

describe("redis store specifics", () => {
  let redis: RedisLike;

  beforeAll(() => {
    redis = connectRedis(standalone.url);
  });

  afterAll(async () => {
    await redis.quit();
  });

  it("keeps a consumed record's TTL, so the used-marker expires with it", async () => {
    const prefix = freshPrefix();
    const store = createRedisStore({ redis, prefix });
    await store.challenges.put("c-1", "value", 60_000);
    await store.challenges.consume("c-1");
    const remaining = await redis.pttl(`${prefix}:ot:challenge:c-1`);
    expect(remaining).toBeGreaterThan(50_000);
    expect(remaining).toBeLessThanOrEqual(60_000);
  });

  it("expires a rate-limit log one window after its newest hit, and never shortens it", async () => {
    const prefix = freshPrefix();
    const store = createRedisStore({ redis, prefix });
    const log = `${prefix}:{rl:k}:log`;
    await store.rateLimits.hit("k", 5, 60_000);
    const first = await redis.pttl(log);
    expect(first).toBeGreaterThan(55_000);
    expect(first).toBeLessThanOrEqual(60_000);
    // A hit with a shorter window (as a stepped-back clock would make it end sooner) keeps
    // the later expiry; a hit with a longer one extends it.
    await store.rateLimits.hit("k", 5, 1_000);
    expect(await redis.pttl(log)).toBeGreaterThan(55_000);
    await store.rateLimits.hit("k", 5, 120_000);
    expect(await redis.pttl(log)).toBeGreaterThan(115_000);
  });

  it("runs its scripts again once Redis has forgotten them (SCRIPT FLUSH, as after a restart)", async () => {
    const store = createRedisStore({ redis, prefix: freshPrefix() });
    await store.challenges.put("c-1", "value", 60_000);
    await store.rateLimits.hit("k", 2, 60_000);
    await store.envelopes.spend("b", 5, 100, 60_000);
    await redis.script("FLUSH");
    // EVALSHA answers NOSCRIPT; each script then runs by EVAL, which loads it again.
    await expect(store.challenges.consume("c-1")).resolves.toEqual({
      status: "ok",
      value: "value",
    });
    await expect(store.rateLimits.hit("k", 2, 60_000)).resolves.toMatchObject({
      allowed: true,
      remaining: 0,
    });
    await expect(store.envelopes.spend("b", 5, 100, 60_000)).resolves.toEqual({
      allowed: true,
      spent: 10,
    });
    await expect(store.challenges.consume("c-1")).resolves.toEqual({ status: "already_used" });
  });

  it("returns a short page with a cursor when a filter rejects too many agents", async () => {
    const store = createRedisStore({ redis, prefix: freshPrefix() });
    const others = Array.from({ length: 1_001 }, (_, i) => agentRecord(i + 1));
    await Promise.all(others.map((agent) => store.registry.createAgent(agent)));
    const wanted = agentRecord(2_000, { operatorDomain: "beta.example" });
    await store.registry.createAgent(wanted);

    const query = { operatorDomain: "beta.example", limit: 10 };
    const first = await store.registry.listAgents(query);
    expect(first.agents).toEqual([]);
    expect(first.nextAfterDid).toBe(didOf(1_000));
    const second = await store.registry.listAgents({ ...query, afterDid: didOf(1_000) });
    expect(second).toEqual({ agents: [wanted] });
  });

  it("leaves a connection it does not own open on close", async () => {
    const store = createRedisStore({ redis, prefix: freshPrefix() });
    await store.close();
    await expect(redis.ping()).resolves.toBe("PONG");
  });

  it("quits a connection it owns on close", async () => {
    const own = connectRedis(standalone.url);
    const store = createRedisStore({ redis: own, prefix: freshPrefix(), ownsConnection: true });
    await store.ping();
    await store.close();
    await expect(own.ping()).rejects.toThrow();
  });

  it("fails ping after a bounded wait when Redis accepts but never answers", async () => {
    // Reads (so the socket can see the client hang up) but never answers.
    const silent = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as AddressInfo).port;
    const stuck = connectRedis(`redis://127.0.0.1:${port}`, { onError: () => {} });
    const store = createRedisStore({ redis: stuck, prefix: freshPrefix() });
    await expect(store.ping()).rejects.toThrow("did not answer PING");
    stuck.disconnect();
    await new Promise((resolve) => silent.close(resolve));
  });

  it.each(["", "a{b}", "x}"])("refuses key prefix %j", (prefix) => {
    expect(() => createRedisStore({ redis, prefix })).toThrow(StorePreconditionError);
  });
});

describe("createStore redis", () => {
  it("connects, answers ping and quits on close", async () => {
    const store = await createStore({ kind: "redis", url: standalone.url, clock: systemClock });
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });

  it("connects to a cluster", async () => {
    const store = await createStore({
      kind: "redis",
      url: cluster.url,
      cluster: true,
      clock: systemClock,
    });
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
  });

  it("fails ping quickly and reports errors when Redis is unreachable", async () => {
    const errors: Error[] = [];
    const store = await createStore({
      kind: "redis",
      url: `redis://127.0.0.1:${await closedPort()}`,
      clock: systemClock,
      onError: (error) => errors.push(error),
    });
    const started = Date.now();
    await expect(store.ping()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(errors.length).toBeGreaterThan(0);
    await store.close();
  });

  it("refuses a cluster url that is not redis:// or rediss://", () => {
    expect(() => connectRedis("http://127.0.0.1:6379", { cluster: true })).toThrow(
      "must start with redis:// or rediss://",
    );
  });
});

/** A loopback port with nothing listening on it. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
