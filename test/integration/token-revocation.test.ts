import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { expectReason } from "../support/errors.js";
import { AUDIENCE, type Clients, enrollAgent, grpcClients, login } from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const NOT_FOUND = 5;

const jtiOf = (token: string): string =>
  JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()).jti;

describe.each(STORE_KINDS)("Revoke by token id, per tenant (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  let gh: TestGatehouse;
  const open: Clients[] = [];

  beforeAll(async () => {
    gh = await startTestGatehouse({
      storeKind,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
    });
  });
  afterAll(async () => {
    for (const clients of open.splice(0)) clients.close();
    await gh?.dispose();
  });

  const clients = (tls: ClientTls) => {
    const c = grpcClients(gh, tls);
    open.push(c);
    return c;
  };

  /** Two tenants: X (the attacker) and V (the victim), each with one agent and a token. */
  async function tenants() {
    const x = await enrollAgent(gh);
    const v = await enrollAgent(gh);
    const victimToken = await login(clients(v.agentTls).gate, v);
    const ownToken = await login(clients(x.agentTls).gate, x);
    return {
      x,
      v,
      victimToken,
      ownToken,
      attacker: clients(x.operatorTls).registry,
      admin: clients(x.adminTls).registry,
      verifier: clients(x.verifierTls).verify,
    };
  }

  const allowed = async (verifier: Clients["verify"], token: string) =>
    (await verifier.verify({ token, audience: AUDIENCE, requiredScopes: ["orders:read"] })).allowed;

  it("refuses another operator's token as NOT_FOUND, and the token still verifies", async () => {
    const t = await tenants();
    const error = await expectReason(
      t.attacker.revoke({ target: { case: "tokenId", value: jtiOf(t.victimToken) } }),
      Reason.TOKEN_NOT_FOUND,
      NOT_FOUND,
    );
    expect(await allowed(t.verifier, t.victimToken)).toBe(true);
    // An id never issued answers exactly alike: the answer tells nothing about foreign ids.
    const unknown = await expectReason(
      t.attacker.revoke({ target: { case: "tokenId", value: "never-issued-0123456789" } }),
      Reason.TOKEN_NOT_FOUND,
      NOT_FOUND,
    );
    expect(unknown.message).toBe(error.message);
    expect(unknown.code).toBe(error.code);
  });

  it("revokes the operator's own token; Verify then refuses it", async () => {
    const t = await tenants();
    await t.attacker.revoke({ target: { case: "tokenId", value: jtiOf(t.ownToken) } });
    const decision = await t.verifier.verify({
      token: t.ownToken,
      audience: AUDIENCE,
      requiredScopes: ["orders:read"],
    });
    expect(Reason[decision.reason]).toBe(Reason[Reason.TOKEN_REVOKED]);
    expect(await allowed(t.verifier, t.victimToken)).toBe(true);
  });

  it("lets an admin revoke any tenant's token, audited under the owner's domain", async () => {
    const t = await tenants();
    const jti = jtiOf(t.victimToken);
    await t.admin.revoke({ target: { case: "tokenId", value: jti }, reason: "incident 42" });
    expect(await allowed(t.verifier, t.victimToken)).toBe(false);

    await gh.app.audit.flush();
    const audit = createGrpcClient(AuditService, {
      address: gh.grpcAddress,
      tls: t.v.operatorTls,
    });
    try {
      // The owner (V's operator) sees the revocation of its agent's token in its own list.
      const page = await audit.listAuditEvents({ types: [AuditEventType.TOKEN_REVOKED] });
      const events = page.entries.map((entry) => entry.event);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        tokenId: jti,
        operatorDomain: t.v.domain,
        subjectDid: t.v.did,
        actorRole: "admin",
        comment: "incident 42",
      });
    } finally {
      audit.close();
    }
  });
});
