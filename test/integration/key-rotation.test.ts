import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toJsonString } from "@bufbuild/protobuf";
import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ListSigningKeysResponseSchema,
  SigningKeyState,
} from "../../gen/gatehouse/v1/registry_pb.js";
import { startGatehouse } from "../../src/app/gatehouse.js";
import { createManualClock, type ManualClock } from "../../src/clock.js";
import { type ConfigOverrides, loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { createStore } from "../../src/store/index.js";
import { rejectionOf } from "../support/errors.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  login,
} from "../support/flows.js";
import {
  ISSUER,
  type StoreKind,
  startTestGatehouse,
  type TestGatehouse,
  TRUST_DOMAIN,
} from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const SECOND = 1000;
const INTERVAL_S = 3600;
const DELAY_S = 360;
const TTL_S = 600;
const SKEW_S = 30;
/** A superseded key stays published this long after its successor activates. */
const RETENTION_MS = (TTL_S + SKEW_S) * SECOND;

const OVERRIDES: ConfigOverrides = {
  tokens: { defaultTtlSeconds: TTL_S, maxTtlSeconds: TTL_S, clockSkewSeconds: SKEW_S },
  keys: { rotationIntervalSeconds: INTERVAL_S, publicationDelaySeconds: DELAY_S },
};

function headerOf(token: string): { alg: string; kid: string } {
  const [header = ""] = token.split(".");
  return JSON.parse(Buffer.from(header, "base64url").toString()) as { alg: string; kid: string };
}

async function jwksKids(clients: Clients): Promise<string[]> {
  const { keys } = await clients.verify.getJwks({});
  return keys.map((key) => key.kid).sort();
}

/** [kid, state] of every signing key, newest first, as an admin lists them. */
async function keyStates(admin: Clients): Promise<[string, SigningKeyState][]> {
  const { keys } = await admin.registry.listSigningKeys({});
  return keys.map((key) => [key.kid, key.state]);
}

/** A time the response must carry, in Unix ms. */
function msOf(timestamp: Timestamp | undefined): number {
  if (!timestamp) throw new Error("timestamp missing");
  return timestampMs(timestamp);
}

async function verified(clients: Clients, token: string): Promise<boolean> {
  const decision = await clients.verify.verify({ token, audience: AUDIENCE });
  return decision.allowed;
}

/** Fresh instances per test; Redis is flushed between tests so no keys carry over. */
function useInstances(storeKind: StoreKind) {
  const redisUrl = useRedis();
  const open: { gh: TestGatehouse; closers: Clients[] }[] = [];
  let redis: Redis | undefined;
  beforeAll(() => {
    if (storeKind === "redis") redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await redis?.quit();
  });
  beforeEach(async () => {
    await redis?.flushdb();
  });
  afterEach(async () => {
    for (const { gh, closers } of open.splice(0)) {
      for (const clients of closers) clients.close();
      await gh.dispose();
    }
  });
  return {
    redis: () => {
      if (!redis) throw new Error("no redis");
      return redis;
    },
    async start(clock: ManualClock, overrides: ConfigOverrides = OVERRIDES, dataDir?: string) {
      const gh = await startTestGatehouse({
        storeKind,
        clock,
        overrides,
        ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
        ...(dataDir === undefined ? {} : { dataDir }),
      });
      const closers: Clients[] = [];
      open.push({ gh, closers });
      const clients = (tls: Parameters<typeof grpcClients>[1]) => {
        const c = grpcClients(gh, tls);
        closers.push(c);
        return c;
      };
      return { gh, clients };
    },
  };
}

describe.each(STORE_KINDS)("signing key rotation (%s store)", (storeKind) => {
  const instances = useInstances(storeKind);

  async function setUp(overrides?: ConfigOverrides) {
    const clock = createManualClock(Date.now());
    const { gh, clients } = await instances.start(clock, overrides);
    const agent = await enrollAgent(gh);
    return {
      clock,
      gh,
      agent,
      gate: clients(agent.agentTls),
      verifier: clients(agent.verifierTls),
      admin: clients(agent.adminTls),
      operator: clients(agent.operatorTls),
    };
  }

  it("publishes a successor before it signs; the old key verifies until its tokens expire", async () => {
    const { clock, agent, gate, verifier } = await setUp();
    const [first] = await jwksKids(verifier);
    expect(await jwksKids(verifier)).toHaveLength(1);

    // Due: the newest key has signed for the interval minus the publication delay.
    clock.advance((INTERVAL_S - DELAY_S) * SECOND);
    const published = await jwksKids(verifier);
    expect(published).toHaveLength(2);
    const successor = published.find((kid) => kid !== first);
    expect(successor).toBeDefined();

    // Published, not yet signing.
    const old = await login(gate.gate, agent);
    expect(headerOf(old).kid).toBe(first);

    clock.advance(DELAY_S * SECOND);
    const fresh = await login(gate.gate, agent);
    expect(headerOf(fresh).kid).toBe(successor);
    expect(await verified(verifier, fresh)).toBe(true);
    expect(await verified(verifier, old)).toBe(true);
    expect(await jwksKids(verifier)).toContain(first);

    // Just before retirement the old key is still there; after, it is gone.
    clock.advance(RETENTION_MS - SECOND);
    expect(await jwksKids(verifier)).toContain(first);
    clock.advance(2 * SECOND);
    expect(await jwksKids(verifier)).toEqual([successor]);
  });

  it("forced rotation: admin only; published at once, signing after the delay", async () => {
    const { clock, agent, gate, verifier, admin, operator } = await setUp();
    for (const caller of [operator, gate]) {
      const error = await rejectionOf(caller.registry.rotateSigningKey({}));
      expect(error.code).toBe(status.PERMISSION_DENIED);
    }
    const [first] = await jwksKids(verifier);
    const rotated = await admin.registry.rotateSigningKey({});
    expect(rotated.alg).toBe("EdDSA");
    expect(Number(rotated.activateTime?.seconds) * SECOND).toBeGreaterThanOrEqual(
      clock.now() + DELAY_S * SECOND - SECOND,
    );
    expect(await jwksKids(verifier)).toEqual([first, rotated.kid].sort());
    const old = await login(gate.gate, agent);
    expect(headerOf(old).kid).toBe(first);

    clock.advance(SECOND);
    const ec = await admin.registry.rotateSigningKey({ alg: "ES256" });
    expect(ec.alg).toBe("ES256");
    const { keys } = await verifier.verify.getJwks({});
    expect(keys.find((key) => key.kid === ec.kid)).toMatchObject({ kty: "EC", crv: "P-256" });

    clock.advance((DELAY_S + 1) * SECOND);
    const token = await login(gate.gate, agent);
    expect(headerOf(token)).toMatchObject({ alg: "ES256", kid: ec.kid });
    expect(await verified(verifier, token)).toBe(true);
    expect(await verified(verifier, old)).toBe(true);
  });

  it("ListSigningKeys: admin only; each key's state through a rotation, no key material", async () => {
    const { clock, agent, gate, verifier, admin, operator } = await setUp();
    for (const caller of [verifier, operator]) {
      const error = await rejectionOf(caller.registry.listSigningKeys({}));
      expect(error.code).toBe(status.PERMISSION_DENIED);
    }
    const [first = ""] = await jwksKids(verifier);
    expect(await keyStates(admin)).toEqual([[first, SigningKeyState.SIGNING]]);

    const rotated = await admin.registry.rotateSigningKey({});
    const listed = await admin.registry.listSigningKeys({});
    expect(listed.keys.map((key) => [key.kid, key.state])).toEqual([
      [rotated.kid, SigningKeyState.PENDING],
      [first, SigningKeyState.SIGNING],
    ]);
    const [next, old] = listed.keys;
    expect(next).toMatchObject({ alg: "EdDSA", activateTime: rotated.activateTime });
    expect(next?.retireTime).toBeUndefined();
    expect(msOf(next?.createTime)).toBe(clock.now());
    const activateAt = msOf(rotated.activateTime);
    expect(msOf(old?.retireTime)).toBe(activateAt + RETENTION_MS);
    const json = toJsonString(ListSigningKeysResponseSchema, listed);
    expect(json).not.toContain("PRIVATE KEY");
    expect(json).not.toContain("-----BEGIN");

    clock.set(activateAt);
    expect(await keyStates(admin)).toEqual([
      [rotated.kid, SigningKeyState.SIGNING],
      [first, SigningKeyState.RETIRING],
    ]);
    expect(headerOf(await login(gate.gate, agent)).kid).toBe(rotated.kid);

    // The old key's last token has expired: out of the JWKS, still listed as retired.
    clock.set(activateAt + RETENTION_MS);
    expect(await keyStates(admin)).toEqual([
      [rotated.kid, SigningKeyState.SIGNING],
      [first, SigningKeyState.RETIRED],
    ]);
    expect(await jwksKids(verifier)).toEqual([rotated.kid]);
  });

  it("ListSigningKeys pages newest first; a foreign page token or an oversized page is refused", async () => {
    const { clock, admin } = await setUp();
    const second = await admin.registry.rotateSigningKey({});
    clock.set(clock.now() + 1_000); // a later activation: the order is by schedule
    const third = await admin.registry.rotateSigningKey({});
    const all = (await admin.registry.listSigningKeys({})).keys.map((key) => key.kid);
    expect(all.slice(0, 2)).toEqual([third.kid, second.kid]);
    expect(all).toHaveLength(3);

    const first = await admin.registry.listSigningKeys({ pageSize: 2 });
    expect(first.keys.map((key) => key.kid)).toEqual(all.slice(0, 2));
    expect(first.nextPageToken).not.toBe("");
    const rest = await admin.registry.listSigningKeys({
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    expect(rest.keys.map((key) => key.kid)).toEqual(all.slice(2));
    expect(rest.nextPageToken).toBe("");

    for (const request of [{ pageToken: "not-a-kid" }, { pageSize: 501 }]) {
      const error = await rejectionOf(admin.registry.listSigningKeys(request));
      expect(error.code).toBe(status.INVALID_ARGUMENT);
    }
  });

  it("ES256 end to end (tokens.signingAlg = ES256)", async () => {
    const { agent, gate, verifier } = await setUp({
      ...OVERRIDES,
      tokens: { ...OVERRIDES.tokens, signingAlg: "ES256" },
    });
    const token = await login(gate.gate, agent);
    expect(headerOf(token).alg).toBe("ES256");
    expect(await verified(verifier, token)).toBe(true);
    const { keys, cacheMaxAgeSeconds } = await verifier.verify.getJwks({});
    expect(cacheMaxAgeSeconds).toBeGreaterThan(0);
    expect(keys).toHaveLength(1);
    const [key] = keys;
    expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(key?.x).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key?.y).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key?.kid).toBe(headerOf(token).kid);
    const metadata = await verifier.verify.getIssuerMetadata({});
    expect(metadata.issuer).toBe(ISSUER);
    expect(metadata.tokenSigningAlgValuesSupported).toEqual(["ES256"]);
    expect(metadata.cacheMaxAgeSeconds).toBeGreaterThan(0);
  });
});

describe("signing keys shared through Redis", () => {
  const instances = useInstances("redis");

  async function twoReplicas(overrides: ConfigOverrides = OVERRIDES) {
    const clock = createManualClock(Date.now());
    const one = await instances.start(clock, overrides);
    // Same data dir: the same dev PKI, so one agent's certificate works on both.
    const two = await instances.start(clock, overrides, one.gh.dataDir);
    const agent: Enrolled = await enrollAgent(one.gh);
    return {
      clock,
      agent,
      one: { gate: one.clients(agent.agentTls), verifier: one.clients(agent.verifierTls) },
      two: { gate: two.clients(agent.agentTls), verifier: two.clients(agent.verifierTls) },
      admin: one.clients(agent.adminTls),
    };
  }

  it("two replicas agree on the signing key and verify each other's tokens across rotations", async () => {
    const { clock, agent, one, two, admin } = await twoReplicas();
    expect(await jwksKids(two.verifier)).toEqual(await jwksKids(one.verifier));

    // Forced rotation on one; the other learns it by its own maintenance.
    const rotated = await admin.registry.rotateSigningKey({});
    clock.advance((DELAY_S + 1) * SECOND);
    const fromOne = await login(one.gate.gate, agent);
    const fromTwo = await login(two.gate.gate, agent);
    expect(headerOf(fromOne).kid).toBe(rotated.kid);
    expect(headerOf(fromTwo).kid).toBe(rotated.kid);
    expect(await verified(two.verifier, fromOne)).toBe(true);
    expect(await verified(one.verifier, fromTwo)).toBe(true);

    // Scheduled rotation, both replicas racing to add the successor at once.
    clock.advance((INTERVAL_S - DELAY_S - 1) * SECOND);
    const [kidsOne, kidsTwo] = await Promise.all([jwksKids(one.verifier), jwksKids(two.verifier)]);
    expect(kidsOne.length).toBeGreaterThanOrEqual(2);
    const beforeSwitch = await login(two.gate.gate, agent);
    expect(headerOf(beforeSwitch).kid).toBe(rotated.kid);
    clock.advance(DELAY_S * SECOND);
    const [afterOne, afterTwo] = [
      await login(one.gate.gate, agent),
      await login(two.gate.gate, agent),
    ];
    expect(headerOf(afterOne).kid).not.toBe(rotated.kid);
    expect(headerOf(afterTwo).kid).toBe(headerOf(afterOne).kid);
    expect(kidsOne.concat(kidsTwo)).toContain(headerOf(afterOne).kid);
    expect(await verified(one.verifier, afterTwo)).toBe(true);
    expect(await verified(two.verifier, afterOne)).toBe(true);
    expect(await verified(one.verifier, beforeSwitch)).toBe(true);
    expect(await jwksKids(two.verifier)).toEqual(await jwksKids(one.verifier));
  });

  it("seals private keys with the encryption key; a wrong key fails closed at start-up", async () => {
    const encryptionKey = randomBytes(32).toString("base64url");
    rememberSecret(encryptionKey);
    const overrides = { ...OVERRIDES, keys: { ...OVERRIDES.keys, encryptionKey } };
    const clock = createManualClock(Date.now());
    const { gh, clients } = await instances.start(clock, overrides);
    const agent = await enrollAgent(gh);
    const token = await login(clients(agent.agentTls).gate, agent);
    expect(await verified(clients(agent.verifierTls), token)).toBe(true);

    const raw = await instances.redis().hgetall("gh:signing-keys");
    const values = Object.values(raw);
    expect(values).toHaveLength(1);
    for (const value of values) {
      expect(value).not.toContain("PRIVATE KEY");
      expect(JSON.parse(value).privateKeyPem).toMatch(/^gh-sealed:v1:[A-Za-z0-9_-]+$/);
    }
    const logs = gh.logs.join("");
    expect(logs).not.toContain(encryptionKey);
    expect(logs).not.toContain("PRIVATE KEY");

    const wrongKey = randomBytes(32).toString("base64url");
    await expect(startDirect({ ...overrides, keys: { encryptionKey: wrongKey } })).rejects.toThrow(
      /cannot decrypt signing key .*wrong keys\.encryptionKey/,
    );
    await expect(startDirect(OVERRIDES)).rejects.toThrow(/encrypted: set keys\.encryptionKey/);
  });

  /** startGatehouse on the shared Redis with its own store, closed whatever happens. */
  async function startDirect(overrides: ConfigOverrides): Promise<void> {
    const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-test-"));
    const url = instances.redis().options;
    const redisUrl = `redis://${url.host}:${url.port}`;
    const config = loadConfig({
      mode: "dev",
      env: {},
      overrides: {
        issuer: ISSUER,
        trustDomain: TRUST_DOMAIN,
        dataDir,
        grpc: { host: "127.0.0.1", port: 0 },
        connect: { host: "127.0.0.1", port: 0 },
        approval: { host: "127.0.0.1", port: 0 },
        metrics: { host: "127.0.0.1", port: 0 },
        store: { kind: "redis", url: redisUrl, cluster: false },
        ...overrides,
      },
    });
    const store = await createStore({ kind: "redis", url: redisUrl, clock: { now: Date.now } });
    try {
      const app = await startGatehouse({ config, store, logger: createLogger("silent") });
      await app.stop();
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
});
