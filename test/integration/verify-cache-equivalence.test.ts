import type { MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { VerifyRequestSchema, VerifyResponse } from "../../gen/gatehouse/v1/verify_pb.js";
import { dpopProof } from "../../src/client/agent-keys.js";
import { createManualClock, type ManualClock } from "../../src/clock.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  login,
  signedChallenge,
} from "../support/flows.js";
import { ISSUER, startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { useRedis } from "../support/stores.js";

const TOKEN_URL = `${ISSUER}/v1/tokens`;
const RESOURCE_URL = `${AUDIENCE}/orders`;

/**
 * Two replicas on one Redis and one (manual) clock: A with Verify's caches (the verified-token
 * cache and the look-up caches), B with none (`verify.cacheTtlMs = 0`: every step reads the
 * store). The same requests must get the same decisions from both, first asked and asked
 * again (a cache hit on A), before and after the state changes under them.
 */
describe("Verify with and without its caches", () => {
  const redisUrl = useRedis();
  let clock: ManualClock;
  let a: TestGatehouse;
  let b: TestGatehouse;
  let agent: Enrolled;
  let agentClients: Clients;
  let verifierA: Clients;
  let verifierB: Clients;
  let operator: Clients;
  let bearer: string;
  let bound: string;

  beforeAll(async () => {
    clock = createManualClock(Date.now());
    a = await startTestGatehouse({ storeKind: "redis", redisUrl: redisUrl(), clock });
    b = await startTestGatehouse({
      storeKind: "redis",
      redisUrl: redisUrl(),
      clock,
      dataDir: a.dataDir,
      overrides: { verify: { cacheTtlMs: 0 } },
    });
    agent = await enrollAgent(a);
    agentClients = grpcClients(a, agent.agentTls);
    verifierA = grpcClients(a, agent.verifierTls);
    verifierB = grpcClients(b, agent.verifierTls);
    operator = grpcClients(a, agent.operatorTls);
    bearer = await login(agentClients.gate, agent);
    const { challengeId, signature } = await signedChallenge(agentClients.gate, agent);
    const { passToken: pass } = await agentClients.gate.submit({
      challengeId,
      answer: { case: "signature", value: { signature } },
    });
    const iat = Math.floor(clock.now() / 1000);
    const tokenProof = dpopProof(agent.key, { htm: "POST", htu: TOKEN_URL, iat });
    const response = await agentClients.gate.token({
      grant: { case: "passToken", value: pass },
      dpopProof: tokenProof,
    });
    bound = response.accessToken;
    rememberSecret(pass, tokenProof, bound);
  });

  afterAll(async () => {
    for (const clients of [agentClients, verifierA, verifierB, operator]) clients?.close();
    await b?.stop();
    await a?.dispose();
  });

  type Request = MessageInitShape<typeof VerifyRequestSchema>;

  /** A fresh DPoP proof for the resource request (each proof's jti is spent once). */
  const resourceProof = (token: string, htu = RESOURCE_URL) => {
    const iat = Math.floor(clock.now() / 1000);
    const proof = dpopProof(agent.key, { htm: "GET", htu, accessToken: token, iat });
    rememberSecret(proof);
    return proof;
  };

  /** Every input, built afresh per call (proofs are single-use). */
  const cases: Record<string, () => Request> = {
    valid: () => ({ token: bearer, audience: AUDIENCE, requiredScopes: ["orders:read"] }),
    "no scope asked": () => ({ token: bearer, audience: AUDIENCE }),
    "wrong audience": () => ({ token: bearer, audience: "https://other.example.com" }),
    "missing scope": () => ({ token: bearer, audience: AUDIENCE, requiredScopes: ["admin:all"] }),
    "scope outside the policy": () => ({
      token: bearer,
      audience: AUDIENCE,
      requiredScopes: ["orders:write"],
    }),
    tampered: () => ({ token: `${bearer.slice(0, -4)}AAAA`, audience: AUDIENCE }),
    junk: () => ({ token: "not.a.token", audience: AUDIENCE }),
    "DPoP-bound without a proof": () => ({ token: bound, audience: AUDIENCE }),
    "DPoP-bound with its proof": () => ({
      token: bound,
      audience: AUDIENCE,
      dpopProof: resourceProof(bound),
      httpMethod: "GET",
      httpUrl: RESOURCE_URL,
    }),
    "DPoP-bound, proof for another URL": () => ({
      token: bound,
      audience: AUDIENCE,
      dpopProof: resourceProof(bound, `${AUDIENCE}/elsewhere`),
      httpMethod: "GET",
      httpUrl: RESOURCE_URL,
    }),
  };

  /** What a decision says, field by field. */
  const decision = (response: VerifyResponse) => ({
    allowed: response.allowed,
    reason: Reason[response.reason],
    agentDid: response.agentDid,
    operatorDomain: response.operatorDomain,
    tokenId: response.tokenId,
    actorDid: response.actorDid,
    scopes: [...response.scopes],
    cacheTtlSeconds: response.cacheTtlSeconds,
  });

  /** Each input on A twice (the second from its caches) and on B; all three must agree. */
  async function expectSameDecisions(): Promise<Record<string, boolean>> {
    const allowed: Record<string, boolean> = {};
    for (const [name, build] of Object.entries(cases)) {
      const first = decision(await verifierA.verify.verify(build()));
      const again = decision(await verifierA.verify.verify(build()));
      const uncached = decision(await verifierB.verify.verify(build()));
      expect(again, `${name}: asked again on the cached replica`).toEqual(first);
      expect(uncached, `${name}: the uncached replica`).toEqual(first);
      allowed[name] = first.allowed;
    }
    return allowed;
  }

  /** Waits (bounded) until the cached replica has seen a change the store already holds. */
  async function untilDenied(request: () => Request): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (!(await verifierA.verify.verify(request())).allowed) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error("the change never reached the cached replica");
  }

  it("agrees on every input while nothing changes", async () => {
    const allowed = await expectSameDecisions();
    expect(allowed).toEqual({
      valid: true,
      "no scope asked": true,
      "wrong audience": false,
      "missing scope": false,
      "scope outside the policy": false,
      tampered: false,
      junk: false,
      "DPoP-bound without a proof": false,
      "DPoP-bound with its proof": true,
      "DPoP-bound, proof for another URL": false,
    });
  });

  it("agrees while the agent is suspended, and once it is active again", async () => {
    await operator.registry.suspendAgent({ did: agent.did });
    await untilDenied(cases.valid as () => Request);
    const suspended = await expectSameDecisions();
    expect(Object.values(suspended).some(Boolean)).toBe(false);
    await operator.registry.reactivateAgent({ did: agent.did });
    for (
      let i = 0;
      i < 100 && !(await verifierA.verify.verify(cases.valid?.() ?? {})).allowed;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await expectSameDecisions()).valid).toBe(true);
  });

  it("agrees once the token is revoked", async () => {
    const { tokenId } = await verifierB.verify.verify(cases.valid?.() ?? {});
    await operator.registry.revoke({ target: { case: "tokenId", value: tokenId } });
    await untilDenied(cases.valid as () => Request);
    const revoked = await verifierB.verify.verify(cases.valid?.() ?? {});
    expect(Reason[revoked.reason]).toBe(Reason[Reason.TOKEN_REVOKED]);
    const allowed = await expectSameDecisions();
    expect(allowed.valid).toBe(false);
    expect(allowed["DPoP-bound with its proof"]).toBe(true);
  });

  it("agrees once the tokens have expired", async () => {
    clock.advance(24 * 3600 * 1000);
    const allowed = await expectSameDecisions();
    expect(Object.values(allowed).some(Boolean)).toBe(false);
    const expired = await verifierA.verify.verify(cases["DPoP-bound without a proof"]?.() ?? {});
    expect(Reason[expired.reason]).toBe(Reason[Reason.TOKEN_EXPIRED]);
  });
});
