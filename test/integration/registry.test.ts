import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { AgentStatus } from "../../gen/gatehouse/v1/resources_pb.js";
import { agentDid, generateAgentKey, proofOfPossession } from "../../src/client/agent-keys.js";
import { expectReason } from "../support/errors.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
} from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

describe.each(STORE_KINDS)("RegistryService (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  let gh: TestGatehouse;
  let agent: Enrolled;
  let operator: Clients;
  let admin: Clients;

  beforeAll(async () => {
    gh = await startTestGatehouse({
      storeKind,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
    });
    agent = await enrollAgent(gh);
    operator = grpcClients(gh, agent.operatorTls);
    admin = grpcClients(gh, agent.adminTls);
  });
  afterAll(async () => {
    operator?.close();
    admin?.close();
    await gh?.dispose();
  });

  function registration(domain = agent.domain, key = generateAgentKey()) {
    const did = agentDid(key, domain);
    return {
      did,
      publicKey: key.publicKey,
      proofOfPossession: proofOfPossession(key, did, domain),
      policy: { scopes: ["orders:read"], audiences: [AUDIENCE] },
    };
  }

  it("creates an operator once", async () => {
    const domain = `fresh-${storeKind}.example.org`;
    const { operator: created } = await admin.registry.createOperator({ domain });
    expect(created?.domain).toBe(domain);
    await expectReason(
      admin.registry.createOperator({ domain }),
      Reason.OPERATOR_ALREADY_EXISTS,
      6,
    );
  });

  it("registers an agent with proof of possession and resolves it by DID", async () => {
    const request = registration();
    const { agent: created } = await operator.registry.registerAgent(request);
    expect(created?.status).toBe(AgentStatus.ACTIVE);
    expect(created?.policyVersion).toBe(1n);
    const { agent: fetched } = await operator.registry.getAgent({ did: request.did });
    expect(fetched?.did).toBe(request.did);
    expect(Buffer.from(fetched?.publicKey ?? []).equals(Buffer.from(request.publicKey))).toBe(true);
    expect(fetched?.policy?.scopes).toEqual(["orders:read"]);
  });

  it("refuses a registration without a valid proof of possession", async () => {
    const request = registration();
    const otherKey = generateAgentKey();
    await expectReason(
      operator.registry.registerAgent({
        ...request,
        proofOfPossession: proofOfPossession(otherKey, request.did, agent.domain),
      }),
      Reason.PROOF_OF_POSSESSION_INVALID,
    );
  });

  it("refuses a key or DID registered before", async () => {
    const key = generateAgentKey();
    await operator.registry.registerAgent(registration(agent.domain, key));
    await expectReason(
      operator.registry.registerAgent(registration(agent.domain, key)),
      Reason.AGENT_ALREADY_EXISTS,
      6,
    );
  });

  it("refuses a DID in a domain the operator does not own, or not derived from the key", async () => {
    await expectReason(
      operator.registry.registerAgent(registration("someone-else.example")),
      Reason.OPERATOR_MISMATCH,
    );
    const request = registration();
    const forged = `did:agent:${agent.domain}:${"0".repeat(32)}`;
    await expectReason(
      operator.registry.registerAgent({ ...request, did: forged }),
      Reason.DID_KEY_MISMATCH,
    );
  });

  it("refuses registration by an operator certificate with no operator record", async () => {
    const ghost = grpcClients(
      gh,
      await gh.clientTls({ role: "operator", domain: "ghost.example" }),
    );
    try {
      await expectReason(
        ghost.registry.registerAgent(registration("ghost.example")),
        Reason.OPERATOR_NOT_FOUND,
      );
    } finally {
      ghost.close();
    }
  });

  it("refuses a policy TTL above the server maximum", async () => {
    await expectReason(
      operator.registry.registerAgent({
        ...registration(),
        policy: { scopes: [], audiences: [], maxTokenTtl: { seconds: 86_400n } },
      }),
      Reason.INVALID_ARGUMENT,
    );
  });

  it("updates a policy with optimistic concurrency", async () => {
    const request = registration();
    await operator.registry.registerAgent(request);
    const { agent: updated } = await operator.registry.updateAgentPolicy({
      did: request.did,
      policy: { scopes: ["orders:write"], audiences: [AUDIENCE] },
      expectedVersion: 1n,
    });
    expect(updated?.policyVersion).toBe(2n);
    expect(updated?.policy?.scopes).toEqual(["orders:write"]);
    await expectReason(
      operator.registry.updateAgentPolicy({
        did: request.did,
        policy: { scopes: [], audiences: [] },
        expectedVersion: 1n,
      }),
      Reason.POLICY_VERSION_CONFLICT,
      10,
    );
  });

  it("suspends, reactivates, revokes; a revoked agent stays revoked", async () => {
    const request = registration();
    await operator.registry.registerAgent(request);
    const suspended = await operator.registry.suspendAgent({ did: request.did, reason: "audit" });
    expect(suspended.agent?.status).toBe(AgentStatus.SUSPENDED);
    const active = await operator.registry.reactivateAgent({ did: request.did });
    expect(active.agent?.status).toBe(AgentStatus.ACTIVE);
    await operator.registry.revoke({ target: { case: "agentDid", value: request.did } });
    const { agent: revoked } = await operator.registry.getAgent({ did: request.did });
    expect(revoked?.status).toBe(AgentStatus.REVOKED);
    await expectReason(
      operator.registry.reactivateAgent({ did: request.did }),
      Reason.AGENT_REVOKED,
    );
    // The DID and key are tombstoned: they cannot be registered again.
    await expectReason(operator.registry.registerAgent(request), Reason.AGENT_ALREADY_EXISTS);
  });

  it("lets a verifier resolve any agent but change none", async () => {
    const verifier = grpcClients(gh, agent.verifierTls);
    try {
      const { agent: resolved } = await verifier.registry.getAgent({ did: agent.did });
      expect(resolved?.did).toBe(agent.did);
      await expectReason(
        verifier.registry.suspendAgent({ did: agent.did }),
        Reason.PERMISSION_DENIED,
      );
    } finally {
      verifier.close();
    }
  });

  it("answers AGENT_NOT_FOUND for an unknown DID of the operator's own domain", async () => {
    const { did } = registration();
    await expectReason(operator.registry.getAgent({ did }), Reason.AGENT_NOT_FOUND, 5);
  });

  it("lists agents a page at a time, filtered, operators seeing only their own", async () => {
    const mine = await enrollAgent(gh);
    const own = grpcClients(gh, mine.operatorTls);
    try {
      for (let i = 0; i < 4; i++) await own.registry.registerAgent(registration(mine.domain));
      const seen: string[] = [];
      let pageToken = "";
      do {
        const page = await own.registry.listAgents({ pageSize: 2, pageToken });
        expect(page.agents.length).toBeLessThanOrEqual(2);
        seen.push(...page.agents.map((a) => a.did));
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(seen).toHaveLength(5);
      expect(new Set(seen).size).toBe(5);
      expect(seen.every((did) => did.startsWith(`did:agent:${mine.domain}:`))).toBe(true);
      expect([...seen].sort()).toEqual(seen);

      await own.registry.suspendAgent({ did: mine.did });
      const suspended = await own.registry.listAgents({ status: AgentStatus.SUSPENDED });
      expect(suspended.agents.map((a) => a.did)).toEqual([mine.did]);

      const all = await admin.registry.listAgents({ operatorDomain: mine.domain, pageSize: 500 });
      expect(all.agents).toHaveLength(5);
      await expectReason(own.registry.listAgents({ pageToken: "!!!" }), Reason.INVALID_ARGUMENT);
    } finally {
      own.close();
    }
  });
});
