import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { CapabilityAction } from "../../gen/gatehouse/v1/resources_pb.js";
import { type AgentKey, dpopProof } from "../../src/client/agent-keys.js";
import { createManualClock, type ManualClock } from "../../src/clock.js";
import { ed25519Thumbprint } from "../../src/crypto/jose/thumbprint.js";
import { decideGrant } from "../support/approval-flow.js";
import { expectReason } from "../support/errors.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  type GateLike,
  grpcClients,
  login,
  signedChallenge,
} from "../support/flows.js";
import { ISSUER, startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const TOKEN_URL = `${ISSUER}/v1/tokens`;
const RESOURCE_URL = `${AUDIENCE}/orders`;

const thumbprintOf = (key: AgentKey) => ed25519Thumbprint(key.publicKey);

describe.each(STORE_KINDS)("Revocation of keys and operators (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  let gh: TestGatehouse;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = createManualClock(Date.now());
    gh = await startTestGatehouse({
      storeKind,
      clock,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
    });
  });
  afterAll(async () => {
    await gh?.dispose();
  });

  /** Runs `body` with the agent's, its operator's, the admin's and a verifier's clients. */
  async function withClients<T>(
    agent: Enrolled,
    body: (c: { agent: Clients; operator: Clients; admin: Clients; verifier: Clients }) => T,
  ): Promise<Awaited<T>> {
    const c = {
      agent: grpcClients(gh, agent.agentTls),
      operator: grpcClients(gh, agent.operatorTls),
      admin: grpcClients(gh, agent.adminTls),
      verifier: grpcClients(gh, agent.verifierTls),
    };
    try {
      return await body(c);
    } finally {
      for (const clients of Object.values(c)) clients.close();
    }
  }

  const verify = (verifier: Clients, token: string, extra: Record<string, string> = {}) =>
    verifier.verify.verify({
      token,
      audience: AUDIENCE,
      requiredScopes: ["orders:read"],
      httpMethod: "GET",
      httpUrl: RESOURCE_URL,
      ...extra,
    });

  async function expectDenied(verifier: Clients, token: string, reason: Reason, dpop = "") {
    const decision = await verify(verifier, token, dpop ? { dpopProof: dpop } : {});
    expect(Reason[decision.reason]).toBe(Reason[reason]);
    expect(decision.allowed).toBe(false);
  }

  const proof = (key: AgentKey, input: { htm: string; htu: string; accessToken?: string }) => {
    const value = dpopProof(key, { iat: Math.floor(clock.now() / 1000), ...input });
    rememberSecret(value);
    return value;
  };

  /** Login whose token is bound (cnf.jkt) to `dpopKey`. */
  async function dpopLogin(gate: GateLike, who: Enrolled, dpopKey: AgentKey): Promise<string> {
    const { challengeId, signature } = await signedChallenge(gate, who);
    const { passToken: pass } = await gate.submit({
      challengeId,
      answer: { case: "signature", value: { signature } },
    });
    rememberSecret(pass);
    const response = await gate.token({
      grant: { case: "passToken", value: pass },
      dpopProof: proof(dpopKey, { htm: "POST", htu: TOKEN_URL }),
    });
    rememberSecret(response.accessToken);
    return response.accessToken;
  }

  it("revoking an agent key refuses its tokens, bearer and DPoP-bound, and its logins", async () => {
    const agent = await enrollAgent(gh);
    await withClients(agent, async (c) => {
      const bearer = await login(c.agent.gate, agent);
      const bound = await dpopLogin(c.agent.gate, agent, agent.key);
      expect((await verify(c.verifier, bearer)).allowed).toBe(true);

      await c.operator.registry.revoke({
        target: { case: "agentKeyThumbprint", value: thumbprintOf(agent.key) },
        reason: "key leaked",
      });

      await expectDenied(c.verifier, bearer, Reason.AGENT_KEY_REVOKED);
      const boundProof = proof(agent.key, { htm: "GET", htu: RESOURCE_URL, accessToken: bound });
      await expectDenied(c.verifier, bound, Reason.AGENT_KEY_REVOKED, boundProof);
      // The key can never log in again, at Challenge or at Token.
      await expectReason(signedChallenge(c.agent.gate, agent), Reason.AGENT_KEY_REVOKED);
    });
  });

  /** A pass from Submit, not yet redeemed at Token. */
  async function passFor(gate: GateLike, who: Enrolled): Promise<string> {
    const { challengeId, signature } = await signedChallenge(gate, who);
    const { passToken } = await gate.submit({
      challengeId,
      answer: { case: "signature", value: { signature } },
    });
    rememberSecret(passToken);
    return passToken;
  }

  it("refuses at Token a pass whose key was revoked, or whose operator was, after Submit", async () => {
    const keyRevoked = await enrollAgent(gh);
    await withClients(keyRevoked, async (c) => {
      await login(c.agent.gate, keyRevoked); // its standing as Verify's caches last saw it
      const pass = await passFor(c.agent.gate, keyRevoked);
      // In the store only, as another replica's revocation before its bus event arrives: the
      // caches still hold the agent, and Token's fresh reads must still see the revocation.
      await gh.app.store.revocations.revoke("agent_key", thumbprintOf(keyRevoked.key));
      await expectReason(
        c.agent.gate.token({ grant: { case: "passToken", value: pass } }),
        Reason.AGENT_KEY_REVOKED,
      );
    });
    const operatorRevoked = await enrollAgent(gh);
    await withClients(operatorRevoked, async (c) => {
      await login(c.agent.gate, operatorRevoked);
      const pass = await passFor(c.agent.gate, operatorRevoked);
      await c.admin.registry.revoke({
        target: { case: "operatorDomain", value: operatorRevoked.domain },
      });
      await expectReason(
        c.agent.gate.token({ grant: { case: "passToken", value: pass } }),
        Reason.OPERATOR_REVOKED,
      );
    });
  });

  it("refuses a token bound (cnf.jkt) to a revoked key, without the agent's watermark", async () => {
    const agent = await enrollAgent(gh);
    await withClients(agent, async (c) => {
      const bound = await dpopLogin(c.agent.gate, agent, agent.key);
      const ok = proof(agent.key, { htm: "GET", htu: RESOURCE_URL, accessToken: bound });
      expect((await verify(c.verifier, bound, { dpopProof: ok })).allowed).toBe(true);
      // Only the key record (as for a key no agent holds any more): the cnf.jkt check alone.
      const thumbprint = thumbprintOf(agent.key);
      await gh.app.store.revocations.revoke("agent_key", thumbprint);
      await gh.app.store.events.publish({ kind: "agent_key", thumbprint });
      const again = proof(agent.key, { htm: "GET", htu: RESOURCE_URL, accessToken: bound });
      await expectDenied(c.verifier, bound, Reason.AGENT_KEY_REVOKED, again);
    });
  });

  it("lets an operator revoke only its own agents' keys", async () => {
    const mine = await enrollAgent(gh);
    const theirs = await enrollAgent(gh);
    await withClients(mine, async (c) => {
      await expectReason(
        c.operator.registry.revoke({
          target: { case: "agentKeyThumbprint", value: thumbprintOf(theirs.key) },
        }),
        Reason.AGENT_NOT_FOUND,
      );
    });
    await withClients(theirs, async (c) => {
      const token = await login(c.agent.gate, theirs);
      expect((await verify(c.verifier, token)).allowed).toBe(true);
    });
  });

  it("revoking an operator (admin) refuses its agents' tokens and its management", async () => {
    const agent = await enrollAgent(gh);
    await withClients(agent, async (c) => {
      const token = await login(c.agent.gate, agent);
      expect((await verify(c.verifier, token)).allowed).toBe(true);

      await c.admin.registry.revoke({ target: { case: "operatorDomain", value: agent.domain } });

      await expectDenied(c.verifier, token, Reason.OPERATOR_REVOKED);
      await expectReason(signedChallenge(c.agent.gate, agent), Reason.OPERATOR_REVOKED);
      await expectReason(
        c.operator.registry.suspendAgent({ did: agent.did }),
        Reason.OPERATOR_REVOKED,
      );
      await expectReason(c.operator.registry.listAgents({}), Reason.OPERATOR_REVOKED);
    });
  });

  it("refuses an operator revoking an operator, even its own", async () => {
    const agent = await enrollAgent(gh);
    await withClients(agent, async (c) => {
      await expectReason(
        c.operator.registry.revoke({ target: { case: "operatorDomain", value: agent.domain } }),
        Reason.PERMISSION_DENIED,
      );
      const token = await login(c.agent.gate, agent);
      expect((await verify(c.verifier, token)).allowed).toBe(true);
    });
  });

  describe("verified-token cache", () => {
    it("never serves another audience or scope set from a cached allow", async () => {
      const agent = await enrollAgent(gh);
      await withClients(agent, async (c) => {
        const token = await login(c.agent.gate, agent);
        expect((await verify(c.verifier, token)).allowed).toBe(true);
        const other = await c.verifier.verify.verify({
          token,
          audience: "https://other.example.com",
          requiredScopes: ["orders:read"],
        });
        expect(Reason[other.reason]).toBe(Reason[Reason.TOKEN_AUDIENCE_MISMATCH]);
        const more = await c.verifier.verify.verify({
          token,
          audience: AUDIENCE,
          requiredScopes: ["orders:read", "orders:write"],
        });
        expect(Reason[more.reason]).toBe(Reason[Reason.INSUFFICIENT_SCOPE]);
        expect((await verify(c.verifier, token)).allowed).toBe(true);
      });
    });

    it("never lets a tampered token hit", async () => {
      const agent = await enrollAgent(gh);
      await withClients(agent, async (c) => {
        const token = await login(c.agent.gate, agent);
        expect((await verify(c.verifier, token)).allowed).toBe(true);
        const [header, payload, signature] = token.split(".") as [string, string, string];
        const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
        const widened = Buffer.from(
          JSON.stringify({ ...claims, scope: "orders:read orders:write admin" }),
        ).toString("base64url");
        await expectDenied(
          c.verifier,
          `${header}.${widened}.${signature}`,
          Reason.TOKEN_BAD_SIGNATURE,
        );
        const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BA" : "AA"}`;
        await expectDenied(
          c.verifier,
          `${header}.${payload}.${flipped}`,
          Reason.TOKEN_BAD_SIGNATURE,
        );
        expect((await verify(c.verifier, token)).allowed).toBe(true);
      });
    });

    it("refuses on the next call after a revocation, suspension or policy narrowing", async () => {
      const agent = await enrollAgent(gh);
      await withClients(agent, async (c) => {
        const revoked = await login(c.agent.gate, agent);
        expect((await verify(c.verifier, revoked)).allowed).toBe(true);
        const { jti } = JSON.parse(
          Buffer.from(revoked.split(".")[1] ?? "", "base64url").toString(),
        );
        await c.operator.registry.revoke({ target: { case: "tokenId", value: jti } });
        await expectDenied(c.verifier, revoked, Reason.TOKEN_REVOKED);

        const token = await login(c.agent.gate, agent);
        expect((await verify(c.verifier, token)).allowed).toBe(true);
        await c.operator.registry.suspendAgent({ did: agent.did });
        await expectDenied(c.verifier, token, Reason.AGENT_SUSPENDED);
        await c.operator.registry.reactivateAgent({ did: agent.did });
        expect((await verify(c.verifier, token)).allowed).toBe(true);

        await c.operator.registry.updateAgentPolicy({
          did: agent.did,
          policy: { scopes: ["orders:write"], audiences: [AUDIENCE] },
        });
        await expectDenied(c.verifier, token, Reason.SCOPE_NOT_ALLOWED);
      });
    });

    it("refuses once exp passes", async () => {
      const agent = await enrollAgent(gh);
      await withClients(agent, async (c) => {
        const token = await login(c.agent.gate, agent);
        expect((await verify(c.verifier, token)).allowed).toBe(true);
        const { exp } = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
        const start = clock.now();
        clock.set((exp + 31) * 1000);
        try {
          await expectDenied(c.verifier, token, Reason.TOKEN_EXPIRED);
        } finally {
          clock.set(start);
        }
      });
    });
  });
});

describe("Revocation propagates across replicas (redis store)", () => {
  const redisUrl = useRedis();
  let dataDir: string;
  let a: TestGatehouse;
  let b: TestGatehouse;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gatehouse-replicas-"));
    const options = { storeKind: "redis" as const, redisUrl: redisUrl(), dataDir };
    a = await startTestGatehouse(options);
    b = await startTestGatehouse(options);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("denies on replica B within 100 ms (p99) of Revoke returning on replica A", async () => {
    const agent = await enrollAgent(a);
    const agentA = grpcClients(a, agent.agentTls);
    const operatorA = grpcClients(a, agent.operatorTls);
    const verifierB = grpcClients(b, agent.verifierTls);
    const request = (token: string) =>
      verifierB.verify.verify({ token, audience: AUDIENCE, requiredScopes: ["orders:read"] });
    const latencies: number[] = [];
    try {
      for (let i = 0; i < 50; i++) {
        const token = await login(agentA.gate, agent);
        // Warm B's caches: the allow (and the "not revoked" look-up) is cached now.
        expect((await request(token)).allowed).toBe(true);
        expect((await request(token)).allowed).toBe(true);
        const { jti } = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
        await operatorA.registry.revoke({ target: { case: "tokenId", value: jti } });
        const returned = performance.now();
        for (;;) {
          const decision = await request(token);
          if (!decision.allowed) {
            expect(Reason[decision.reason]).toBe(Reason[Reason.TOKEN_REVOKED]);
            break;
          }
          if (performance.now() - returned > 5_000) throw new Error("never denied on B");
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        latencies.push(performance.now() - returned);
      }
    } finally {
      agentA.close();
      operatorA.close();
      verifierB.close();
    }
    latencies.sort((x, y) => x - y);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? 0;
    console.log(
      `revocation propagation A→B over ${latencies.length} revocations: p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, max ${at(1).toFixed(2)} ms`,
    );
    expect(at(0.99)).toBeLessThan(100);
  });

  it("propagates a grant revocation to replica B within the same bound", async () => {
    const agent = await enrollAgent(a);
    const agentA = grpcClients(a, agent.agentTls);
    const operatorA = grpcClients(a, agent.operatorTls);
    const verifierB = grpcClients(b, agent.verifierTls);
    const scope = "transact:payments";
    try {
      const { grant } = await agentA.grants.requestGrant({
        audience: AUDIENCE,
        capabilities: [{ action: CapabilityAction.TRANSACT, resource: "payments" }],
        reason: "settle the monthly invoice",
      });
      const id = grant?.id ?? "";
      await decideGrant(a, agent, id, "approve");
      const token = await login(agentA.gate, agent, [scope]);
      const request = () =>
        verifierB.verify.verify({ token, audience: AUDIENCE, requiredScopes: [scope] });
      // Warm B's caches: the grant look-up is cached now.
      expect((await request()).allowed).toBe(true);
      expect((await request()).allowed).toBe(true);
      await operatorA.grants.revokeGrant({ id });
      const returned = performance.now();
      for (;;) {
        const decision = await request();
        if (!decision.allowed) {
          expect(Reason[decision.reason]).toBe(Reason[Reason.GRANT_REVOKED]);
          break;
        }
        if (performance.now() - returned > 5_000) throw new Error("never denied on B");
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      expect(performance.now() - returned).toBeLessThan(100);
    } finally {
      agentA.close();
      operatorA.close();
      verifierB.close();
    }
  });

  it("propagates an agent suspension and an operator revocation to replica B", async () => {
    const agent = await enrollAgent(a);
    const agentA = grpcClients(a, agent.agentTls);
    const operatorA = grpcClients(a, agent.operatorTls);
    const adminA = grpcClients(a, agent.adminTls);
    const verifierB = grpcClients(b, agent.verifierTls);
    const request = (token: string) =>
      verifierB.verify.verify({ token, audience: AUDIENCE, requiredScopes: ["orders:read"] });
    const firstDenial = async (token: string) => {
      const started = performance.now();
      for (;;) {
        const decision = await request(token);
        if (!decision.allowed) return decision.reason;
        if (performance.now() - started > 5_000) throw new Error("never denied on B");
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    try {
      const token = await login(agentA.gate, agent);
      expect((await request(token)).allowed).toBe(true);
      await operatorA.registry.suspendAgent({ did: agent.did });
      expect(Reason[await firstDenial(token)]).toBe(Reason[Reason.AGENT_SUSPENDED]);
      await operatorA.registry.reactivateAgent({ did: agent.did });
      const again = await login(agentA.gate, agent);
      await adminA.registry.revoke({ target: { case: "operatorDomain", value: agent.domain } });
      expect(Reason[await firstDenial(again)]).toBe(Reason[Reason.OPERATOR_REVOKED]);
    } finally {
      agentA.close();
      operatorA.close();
      adminA.close();
      verifierB.close();
    }
  });
});
