import { type Client, Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createAgent,
  exchangeToken,
  loginWithChallenge,
  tokenByAssertion,
} from "../../../clients/typescript/src/agent/index.js";
import {
  ChallengeKind,
  createConnectClient,
  createMtlsTransport,
  GatehouseClientError,
  GateService,
  Reason,
} from "../../../clients/typescript/src/index.js";
import { createManualClock } from "../../../src/clock.js";
import { expectReason } from "../../support/errors.js";
import { AUDIENCE, type Enrolled, enrollAgent, recordingGate } from "../../support/flows.js";
import { ISSUER, startTestGatehouse, type TestGatehouse } from "../../support/gatehouse.js";
import { rememberSecret } from "../../support/secrets.js";
import { STORE_KINDS, useRedis } from "../../support/stores.js";
import { type SdkEnvironment, startSdkEnvironment } from "./support/environment.js";

const redisUrl = useRedis();

/** The payload of a JWT, read without verifying (the server verified it). */
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<
    string,
    unknown
  >;

describe.each(STORE_KINDS)("TypeScript SDK agent against Gatehouse (%s store)", (storeKind) => {
  let env: SdkEnvironment;

  beforeAll(async () => {
    env = await startSdkEnvironment({
      storeKind,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("logs in by signature challenge over Connect with mTLS, DPoP-bound", async () => {
    const { agent, gate, tokenEndpoint } = env;
    const token = await loginWithChallenge(recordingGate(gate), {
      key: agent.key,
      did: agent.did,
      scopes: ["orders:read"],
      audience: AUDIENCE,
      dpop: { key: agent.key, tokenEndpoint },
    });
    expect(token.tokenType).toBe("DPoP");
    const claims = claimsOf(token.accessToken);
    expect(claims.sub).toBe(agent.did);
    expect((claims.cnf as { jkt: string }).jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    ["iterated hash", ChallengeKind.ITERATED_HASH],
    ["hashcash", ChallengeKind.HASHCASH],
  ])("solves the %s compute kind itself", async (_name, kind) => {
    const { agent, gate } = env;
    const token = await loginWithChallenge(recordingGate(gate), {
      key: agent.key,
      did: agent.did,
      scopes: ["orders:read"],
      audience: AUDIENCE,
      kind,
    });
    expect(claimsOf(token.accessToken).sub).toBe(agent.did);
  });

  it("calls the API behind the sidecar's forward-auth with a fresh DPoP proof per request", async () => {
    const { agent, gate, api, tokenEndpoint } = env;
    const sdkAgent = createAgent({
      key: agent.key,
      did: agent.did,
      gate: recordingGate(gate),
      scopes: ["orders:read"],
      audience: AUDIENCE,
      tokenEndpoint,
    });
    const before = api.decisions.length;
    for (const id of [1, 2, 3]) {
      const response = await sdkAgent.fetch(`${api.url}/orders/${id}?view=full`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ agent: agent.did, path: `/orders/${id}?view=full` });
    }
    // One login for three requests (the token cache), three proofs accepted (none replayed).
    expect(api.decisions.slice(before)).toEqual([200, 200, 200]);
    expect((await sdkAgent.token()).tokenType).toBe("DPoP");
  });

  it("uses the assertion grant and token exchange, both bound to the key", async () => {
    const { agent, gate, tokenEndpoint } = env;
    const dpop = { key: agent.key, tokenEndpoint };
    const recorded = recordingGate(gate);
    const granted = await tokenByAssertion(recorded, {
      key: agent.key,
      did: agent.did,
      issuer: ISSUER,
      scopes: ["orders:read", "orders:write"],
      audience: AUDIENCE,
      dpop,
    });
    expect(granted.scopes).toEqual(["orders:read", "orders:write"]);
    const narrowed = await exchangeToken(recorded, {
      subjectToken: granted.accessToken,
      scopes: ["orders:read"],
      dpop,
    });
    expect(narrowed.scopes).toEqual(["orders:read"]);
    expect(claimsOf(narrowed.accessToken).sub).toBe(agent.did);
  });

  it("throws typed errors carrying the Reason", async () => {
    const { agent, gate } = env;
    const refusal = await expectReason(
      loginWithChallenge(gate, {
        key: agent.key,
        did: agent.did,
        scopes: ["payments:send"],
        audience: AUDIENCE,
      }),
      Reason.SCOPE_NOT_ALLOWED,
      Code.PermissionDenied,
    );
    expect(refusal).toBeInstanceOf(GatehouseClientError);
    expect(refusal.reasonName).toBe("SCOPE_NOT_ALLOWED");
    // A reasoning challenge without a solver is refused by the SDK before anything is sent.
    const local = await loginWithChallenge(gate, {
      key: agent.key,
      did: agent.did,
      scopes: ["orders:read"],
      audience: AUDIENCE,
      kind: ChallengeKind.REASONING,
    }).catch((error: unknown) => error);
    expect(local).toBeInstanceOf(GatehouseClientError);
    expect((local as GatehouseClientError).message).toContain("solveReasoning");
  });
});

describe("TypeScript SDK agent with server nonces (RFC 9449 §8)", () => {
  let env: SdkEnvironment;
  const nonceSecret = "sdk-test-nonce-secret-0123456789abcdef";

  beforeAll(async () => {
    rememberSecret(nonceSecret);
    env = await startSdkEnvironment({
      overrides: { dpop: { nonces: true, nonceSecret } } as never,
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("retries the token request and the API call once with the nonce it was given", async () => {
    const { agent, gate, api, tokenEndpoint } = env;
    const sdkAgent = createAgent({
      key: agent.key,
      did: agent.did,
      gate: recordingGate(gate),
      scopes: ["orders:read"],
      audience: AUDIENCE,
      tokenEndpoint,
    });
    const before = api.decisions.length;
    const first = await sdkAgent.fetch(`${api.url}/orders/7`);
    expect(first.status).toBe(200);
    // The first proof had no nonce: refused with one (401 + DPoP-Nonce), the retry passed.
    expect(api.decisions.slice(before)).toEqual([401, 200]);
    const second = await sdkAgent.fetch(`${api.url}/orders/8`);
    expect(second.status).toBe(200);
    // The nonce is kept for the origin: no refusal the second time.
    expect(api.decisions.slice(before)).toEqual([401, 200, 200]);
  });
});

describe("TypeScript SDK agent and Gatehouse's rate limit (Retry-After)", () => {
  const clock = createManualClock(Date.now());
  let gh: TestGatehouse;
  let agent: Enrolled;
  let gate: Client<typeof GateService>;

  beforeAll(async () => {
    gh = await startTestGatehouse({ clock, overrides: { limits: { challengePerIdentity: 1 } } });
    agent = await enrollAgent(gh);
    gate = createConnectClient(GateService, createMtlsTransport(gh.connectUrl, agent.agentTls));
  });
  afterAll(async () => {
    await gh?.dispose();
  });

  it("waits as long as RATE_LIMITED says, then logs in; without retries the refusal is typed", async () => {
    const waits: number[] = [];
    const options = {
      key: agent.key,
      did: agent.did,
      gate: recordingGate(gate),
      scopes: ["orders:read"],
      audience: AUDIENCE,
      clock,
    };
    const sdkAgent = createAgent({
      ...options,
      // The wait passes on the server's clock: no real time is spent.
      retry: {
        sleep: async (ms) => {
          waits.push(ms);
          clock.advance(ms);
        },
        random: () => 0,
      },
    });
    await sdkAgent.token();
    const impatient = createAgent({ ...options, retry: { attempts: 1 } });
    const refusal = await expectReason(
      impatient.token(),
      Reason.RATE_LIMITED,
      Code.ResourceExhausted,
    );
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
    sdkAgent.tokens.invalidate();
    expect((await sdkAgent.token()).accessToken).toMatch(/^ey/);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(refusal.retryAfterMs ?? Number.POSITIVE_INFINITY);
  });
});
