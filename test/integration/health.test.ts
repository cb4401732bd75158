import { type AddressInfo, createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";

interface Probe {
  readonly status: number;
  readonly body: { status?: string; checks?: Record<string, string> };
}

async function probe(gh: TestGatehouse, path: string, method = "GET"): Promise<Probe> {
  const response = await fetch(`${gh.metricsUrl}${path}`, { method });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

/** Polls `/readyz` until it answers `status` (kubelet polls the same way). */
async function readinessBecomes(gh: TestGatehouse, status: number): Promise<Probe> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await probe(gh, "/readyz");
    if (answer.status === status || Date.now() > deadline) return answer;
    await sleep(100);
  }
}

describe("health for orchestrators, on the metrics listener (plain HTTP, no certificate)", () => {
  let gh: TestGatehouse;
  beforeAll(async () => {
    gh = await startTestGatehouse();
  });
  afterAll(async () => {
    await gh.dispose();
  });

  it("answers /healthz and /readyz with every check named; other paths 404, writes 405", async () => {
    expect(await probe(gh, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await probe(gh, "/readyz")).toEqual({
      status: 200,
      body: {
        status: "ready",
        checks: { store: "ok", signing_keys: "ok", not_draining: "ok" },
      },
    });
    expect((await probe(gh, "/debug")).status).toBe(404);
    expect((await probe(gh, "/readyz", "POST")).status).toBe(405);
  });

  it("a metrics port already taken stops the start-up with the error, not a half-started server", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      await expect(
        startTestGatehouse({ overrides: { metrics: { host: "127.0.0.1", port } } }),
      ).rejects.toThrow("EADDRINUSE");
    } finally {
      blocker.close();
    }
  });
});

describe("readiness during a real Redis outage", () => {
  let redis: RedisServer;
  let gh: TestGatehouse;
  beforeAll(async () => {
    redis = await startRedisServer();
    gh = await startTestGatehouse({ storeKind: "redis", redisUrl: redis.url });
  });
  afterAll(async () => {
    await gh.dispose();
    await redis.stop();
  });

  it("flips to 503 (store failed) while redis-server is down and back to 200 once it is up", async () => {
    expect((await probe(gh, "/readyz")).status).toBe(200);
    const { port } = redis;
    await redis.stop();

    const down = await readinessBecomes(gh, 503);
    expect(down).toEqual({
      status: 503,
      body: {
        status: "not ready",
        checks: { store: "failed", signing_keys: "ok", not_draining: "ok" },
      },
    });
    // Live all along: an outage of a dependency is no reason to restart the process.
    expect((await probe(gh, "/healthz")).status).toBe(200);

    redis = await startRedisServer({ port });
    const up = await readinessBecomes(gh, 200);
    expect(up.body.checks).toEqual({ store: "ok", signing_keys: "ok", not_draining: "ok" });
  });
});
