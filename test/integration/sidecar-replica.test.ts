import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { sidecarProblems } from "../../src/sidecar/index.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  login,
} from "../support/flows.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import {
  type HttpAnswer,
  http1,
  ORDERS_ROUTE,
  ordersForwardAuth,
  startTestSidecar,
  type TestSidecar,
} from "../support/sidecar.js";

const ROUTES = [ORDERS_ROUTE];

/** Polls until `done` holds for an answer, or the deadline passes (then the last answer). */
async function eventually(
  ask: () => Promise<HttpAnswer>,
  done: (answer: HttpAnswer) => boolean,
  deadlineMs = 10_000,
): Promise<HttpAnswer> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const answer = await ask();
    if (done(answer) || Date.now() > until) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function jtiOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
  return String(payload.jti);
}

describe("sidecar with an in-process verifier replica (sidecar.verifier = replica)", () => {
  let redis: RedisServer;
  let t: TestSidecar;
  let agent: Enrolled;
  let clients: Clients;
  let operator: Clients;
  let token: string;

  beforeAll(async () => {
    // Its own Redis: a test stalls it.
    redis = await startRedisServer();
    t = await startTestSidecar({
      storeKind: "redis",
      redisUrl: redis.url,
      overrides: {
        store: { kind: "redis", url: redis.url, cluster: false },
        sidecar: { routes: ROUTES, verifier: "replica" },
      } as never,
    });
    agent = await enrollAgent(t.gh);
    clients = grpcClients(t.gh, agent.agentTls);
    operator = grpcClients(t.gh, agent.operatorTls);
    token = await login(clients.gate, agent);
  });
  // The last test stops Gatehouse itself.
  let gatehouseStopped = false;
  afterAll(async () => {
    clients?.close();
    operator?.close();
    await t?.sidecar.stop();
    if (!gatehouseStopped) await t?.gh.dispose();
    await redis?.stop();
  });

  const auth = (bearer: string): Promise<HttpAnswer> =>
    http1(t.gh.caPem, `${t.url}/auth`, ordersForwardAuth(bearer));
  const restVerify = (bearer: string): Promise<HttpAnswer> =>
    http1(t.gh.caPem, `${t.url}/v1/tokens:verify`, {
      method: "POST",
      body: JSON.stringify({ token: bearer, audience: AUDIENCE, requiredScopes: ["orders:read"] }),
      tls: agent.verifierTls,
    });

  it("allows a valid token at /auth and REST Verify (the caller's identity forwarded in process)", async () => {
    const allowed = await auth(token);
    expect(allowed.status).toBe(200);
    expect(allowed.headers["x-gatehouse-agent"]).toBe(agent.did);
    const verified = await restVerify(token);
    expect(verified.status).toBe(200);
    expect(verified.json()).toMatchObject({ allowed: true, agentDid: agent.did });
    // Without a client certificate REST Verify is refused, as upstream would refuse it.
    const anonymous = await http1(t.gh.caPem, `${t.url}/v1/tokens:verify`, {
      method: "POST",
      body: JSON.stringify({ token, audience: AUDIENCE }),
    });
    expect(anonymous.status).toBe(401);
  });

  it("refuses a forged token and another audience as Gatehouse does", async () => {
    const [header, payload] = token.split(".");
    expect((await auth(`${header}.${payload}.AAAA`)).status).toBe(401);
    const elsewhere = await http1(t.gh.caPem, `${t.url}/v1/tokens:verify`, {
      method: "POST",
      body: JSON.stringify({ token, audience: "https://elsewhere.example" }),
      tls: agent.verifierTls,
    });
    expect(elsewhere.json()).toMatchObject({
      allowed: false,
      reason: "REASON_TOKEN_AUDIENCE_MISMATCH",
    });
  });

  it("sees a revocation made on Gatehouse through the store's invalidation bus", async () => {
    const revoked = await login(clients.gate, agent);
    expect((await auth(revoked)).status).toBe(200); // cached in the replica now
    await operator.registry.revoke({
      target: { case: "tokenId", value: jtiOf(revoked) },
      reason: "test",
    });
    const after = await eventually(
      () => auth(revoked),
      (answer) => answer.status !== 200,
    );
    expect(after.status).toBe(401);
    expect(after.headers["www-authenticate"]).toContain('error="invalid_token"');
  });

  it("fails closed (503, not ready) while the store does not answer, and serves again once it does", async () => {
    const ready = () => http1(t.gh.caPem, `${t.url}/readyz`);
    expect((await ready()).status).toBe(200);
    redis.pause();
    try {
      const refused = await eventually(
        () => auth(token),
        (answer) => answer.status === 503,
      );
      expect(refused.status).toBe(503);
      expect(refused.headers["cache-control"]).toBe("no-store");
      // Within the store probe's period (src/app/store-health.ts).
      const notReady = await eventually(ready, (answer) => answer.status === 503);
      expect(notReady.status).toBe(503);
      expect((await auth(token)).status).toBe(503);
    } finally {
      redis.resume();
    }
    const again = await eventually(
      () => auth(token),
      (answer) => answer.status === 200,
    );
    expect(again.status).toBe(200);
    expect((await ready()).status).toBe(200);
  });

  it("decides in process: /auth still answers while Gatehouse's gRPC port is gone", async () => {
    // Gatehouse stops as every test server does (its audit chain, the replica's denials
    // included, verified first).
    await t.gh.dispose();
    gatehouseStopped = true;
    expect((await auth(token)).status).toBe(200);
    // Everything else still goes upstream, and fails closed.
    const jwks = await http1(t.gh.caPem, `${t.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(503);
  });
});

describe("sidecar.verifier = replica: start-up problems", () => {
  const configWith = (overrides: object) =>
    loadConfig({
      mode: "dev",
      env: {},
      overrides: {
        proxy: {
          enabled: true,
          trustedPeers: ["10.0.0.1"],
          hmacSecret: "x".repeat(43),
          maxAgeSeconds: 30,
        },
        sidecar: { verifier: "replica" },
        ...overrides,
      } as never,
    });

  it("names the Redis store and the loopback trusted peer it needs", () => {
    const problems = sidecarProblems(configWith({}));
    expect(problems).toEqual([
      expect.stringContaining('needs the shared Redis store ([store] kind = "redis")'),
      expect.stringContaining("needs 127.0.0.1 in proxy.trusted_peers"),
    ]);
  });
});
