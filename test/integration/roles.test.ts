import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { startGatehouse } from "../../src/app/gatehouse.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { createStore } from "../../src/store/index.js";
import { expectReason } from "../support/errors.js";
import { AUDIENCE, type Clients, enrollAgent, grpcClients, login } from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";

const NOT_SERVED = Reason.METHOD_NOT_SERVED;
const UNIMPLEMENTED = 12;

/** Polls Verify on `verifier` until the token is refused (the bus, else the cache TTL). */
async function deniedWithin(verifier: Clients, token: string, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const decision = await verifier.verify.verify({ token, audience: AUDIENCE });
    if (!decision.allowed || Date.now() > deadline) return decision;
    await sleep(50);
  }
}

describe("an issuer and a verifier sharing one redis-server", () => {
  let redis: RedisServer;
  let issuer: TestGatehouse;
  let verifier: TestGatehouse;
  beforeAll(async () => {
    redis = await startRedisServer();
    issuer = await startTestGatehouse({
      storeKind: "redis",
      redisUrl: redis.url,
      overrides: { role: "issuer" },
    });
    // The same data dir: the same dev CA, so one client certificate works on both.
    verifier = await startTestGatehouse({
      storeKind: "redis",
      redisUrl: redis.url,
      dataDir: issuer.dataDir,
      overrides: { role: "verifier" },
    });
  });
  afterAll(async () => {
    await verifier?.dispose();
    await issuer?.dispose();
    await redis?.stop();
  });

  it("a token the issuer signed verifies on the verifier; its revocation reaches the verifier", async () => {
    const agent = await enrollAgent(issuer);
    const atIssuer = grpcClients(issuer, agent.agentTls);
    const operator = grpcClients(issuer, agent.operatorTls);
    const atVerifier = grpcClients(verifier, agent.verifierTls);
    const authz = createGrpcClient(Authorization, {
      address: verifier.grpcAddress,
      tls: agent.verifierTls,
    });
    try {
      const token = await login(atIssuer.gate, agent);
      const decision = await atVerifier.verify.verify({ token, audience: AUDIENCE });
      expect(decision).toMatchObject({ allowed: true, agentDid: agent.did });
      // The verifier publishes the issuer's keys.
      const [issuerKeys, verifierKeys] = await Promise.all([
        atIssuer.verify.getJwks({}),
        atVerifier.verify.getJwks({}),
      ]);
      expect(verifierKeys.keys.map((key) => key.kid)).toEqual(
        issuerKeys.keys.map((key) => key.kid),
      );

      const { jti } = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
      await operator.registry.revoke({ target: { case: "tokenId", value: jti } });
      const after = await deniedWithin(atVerifier, token, 5_000);
      expect(after).toMatchObject({ allowed: false, reason: Reason.TOKEN_REVOKED });
      expect((await authz.check(checkOf(token))).status?.code).not.toBe(0);
    } finally {
      atIssuer.close();
      operator.close();
      atVerifier.close();
      authz.close();
    }
  });

  it("the verifier refuses logins and every registry call with METHOD_NOT_SERVED (UNIMPLEMENTED)", async () => {
    const agent = await enrollAgent(issuer);
    const asAgent = grpcClients(verifier, agent.agentTls);
    const asOperator = grpcClients(verifier, agent.operatorTls);
    const asAdmin = grpcClients(verifier, agent.adminTls);
    try {
      await expectReason(
        asAgent.gate.challenge({ did: agent.did, scopes: ["orders:read"], audience: AUDIENCE }),
        NOT_SERVED,
        UNIMPLEMENTED,
      );
      await expectReason(asAgent.gate.token({}), NOT_SERVED, UNIMPLEMENTED);
      await expectReason(
        asAdmin.registry.createOperator({ domain: "new.example.com", displayName: "x" }),
        NOT_SERVED,
        UNIMPLEMENTED,
      );
      await expectReason(
        asOperator.registry.revoke({ target: { case: "tokenId", value: "x" } }),
        NOT_SERVED,
      );
      await expectReason(asOperator.registry.getAgent({ did: agent.did }), NOT_SERVED);
      await expectReason(asAdmin.registry.rotateSigningKey({}), NOT_SERVED);
      await expectReason(asOperator.grants.listGrants({}), NOT_SERVED);
      // The approval page (grant decisions) is not served either.
      expect(verifier.app.approvalOrigin).toBeUndefined();
    } finally {
      asAgent.close();
      asOperator.close();
      asAdmin.close();
    }
  });

  it("the issuer leaves decisions to verifiers but publishes its keys", async () => {
    const agent = await enrollAgent(issuer);
    const clients = grpcClients(issuer, agent.verifierTls);
    try {
      await expectReason(
        clients.verify.verify({ token: "x.y.z", audience: AUDIENCE }),
        NOT_SERVED,
        UNIMPLEMENTED,
      );
      expect((await clients.verify.getJwks({})).keys.length).toBeGreaterThan(0);
      expect((await clients.verify.getIssuerMetadata({})).issuer).toBeTruthy();
    } finally {
      clients.close();
    }
  });

  it("both answer readiness on their own metrics listeners", async () => {
    for (const gh of [issuer, verifier]) {
      expect((await fetch(`${gh.metricsUrl}/readyz`)).status).toBe(200);
    }
  });
});

describe("a verifier on a store no issuer has used", () => {
  it("refuses to start rather than create a signing key of its own", async () => {
    const redis = await startRedisServer();
    const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-verifier-"));
    const store = await createStore({ kind: "redis", url: redis.url, clock: { now: Date.now } });
    try {
      const config = loadConfig({
        mode: "dev",
        env: {},
        overrides: {
          dataDir,
          grpc: { host: "127.0.0.1", port: 0 },
          connect: { host: "127.0.0.1", port: 0 },
          metrics: { host: "127.0.0.1", port: 0 },
          store: { kind: "redis", url: redis.url, cluster: false },
          role: "verifier",
        },
      });
      await expect(
        startGatehouse({ config, store, logger: createLogger("silent") }),
      ).rejects.toThrow("a verifier never creates signing keys");
      expect(await store.signingKeys.list()).toEqual([]);
    } finally {
      await store.close();
      await redis.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

function checkOf(token: string) {
  const host = new URL(AUDIENCE).host;
  return {
    attributes: {
      request: {
        http: {
          method: "GET",
          path: "/",
          host,
          headers: { host, authorization: `Bearer ${token}` },
        },
      },
    },
  };
}
