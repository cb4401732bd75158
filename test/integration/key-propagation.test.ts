import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryService } from "../../gen/gatehouse/v1/registry_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { JWKS_MAX_AGE_SECONDS, KEY_PROPAGATION_BOUND_SECONDS } from "../../src/config/index.js";
import { runCli } from "../support/cli-process.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { useRedis } from "../support/stores.js";

/** Far inside KEY_PROPAGATION_BOUND_SECONDS: the bus, not the periodic reload, carries it. */
const BUS_BOUND_MS = 5_000;

async function jwksKids(gh: TestGatehouse): Promise<string[]> {
  const tls = await gh.clientTls({ role: "verifier", name: "jwks-reader" });
  const client = createGrpcClient(VerifyService, { address: gh.grpcAddress, tls });
  try {
    const { keys } = await client.getJwks({});
    return keys.map((key) => key.kid);
  } finally {
    client.close();
  }
}

describe("a signing key rotated on one replica reaches the others over the bus", () => {
  const redisUrl = useRedis();
  let a: TestGatehouse;
  let b: TestGatehouse;

  beforeAll(async () => {
    // Two replicas sharing one real Redis (each with its own dev PKI and data dir).
    a = await startTestGatehouse({ storeKind: "redis", redisUrl: redisUrl() });
    b = await startTestGatehouse({ storeKind: "redis", redisUrl: redisUrl() });
  });
  afterAll(async () => {
    await Promise.all([a?.dispose(), b?.dispose()]);
  });

  it("shows A's new key in B's JWKS within seconds, not on B's maintenance timer", async () => {
    const before = await jwksKids(b);
    const tls = await a.clientTls({ role: "admin", name: "key-admin" });
    const admin = createGrpcClient(RegistryService, { address: a.grpcAddress, tls });
    const rotated = await admin.rotateSigningKey({}).finally(() => admin.close());
    expect(before).not.toContain(rotated.kid);

    const started = Date.now();
    while (!(await jwksKids(b)).includes(rotated.kid)) {
      expect(Date.now() - started).toBeLessThan(BUS_BOUND_MS);
      await sleep(50);
    }
    expect(Date.now() - started).toBeLessThan(BUS_BOUND_MS);
  });
});

describe("the minimum key publication delay", () => {
  const minimum = JWKS_MAX_AGE_SECONDS + KEY_PROPAGATION_BOUND_SECONDS;

  it("is the JWKS cache age plus the propagation bound: config check refuses less", async () => {
    const run = await runCli(["config", "check", "--mode", "dev"], {
      env: { GATEHOUSE_KEY_PUBLICATION_DELAY: String(JWKS_MAX_AGE_SECONDS) },
    });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `GATEHOUSE_KEY_PUBLICATION_DELAY: must be at least ${minimum} s, the JWKS cache age ` +
        `(${JWKS_MAX_AGE_SECONDS} s) plus the key propagation bound between replicas ` +
        `(${KEY_PROPAGATION_BOUND_SECONDS} s), got ${JWKS_MAX_AGE_SECONDS}`,
    );
  }, 60_000);

  it("accepts exactly the minimum", async () => {
    const run = await runCli(["config", "check", "--mode", "dev"], {
      env: { GATEHOUSE_KEY_PUBLICATION_DELAY: String(minimum) },
    });

    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  }, 60_000);
});
