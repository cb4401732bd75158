import { describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { CapabilityAction, GrantState } from "../../gen/gatehouse/v1/resources_pb.js";
import { ApprovalClient, decideGrant, expectOk } from "../support/approval-flow.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, type Clients, enrollAgent, grpcClients, login } from "../support/flows.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const MINUTE = 60_000;
const TRANSACT = { action: CapabilityAction.TRANSACT, resource: "payments/eur" };
const TRANSACT_SCOPE = "transact:payments/eur";

function payloadOf(token: string): Record<string, unknown> {
  const [, payload = ""] = token.split(".");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

describe.each(STORE_KINDS)("Capability grants (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const fx = useGatehouse({
    storeKind,
    redisUrl,
    clock: true,
    overrides: {
      grants: {
        maxPending: 3,
        pendingTtlSeconds: 600,
        defaultDurationSeconds: 1800,
        maxDurationSeconds: 7200,
        denialBackoffBaseSeconds: 60,
        denialBackoffMaxSeconds: 3600,
      },
    },
  });

  /** A fresh agent with its own, its operator's and the admin's clients. */
  async function freshAgent() {
    const enrolled = await enrollAgent(fx.gh);
    const agent = grpcClients(fx.gh, enrolled.agentTls);
    const operator = grpcClients(fx.gh, enrolled.operatorTls);
    const admin = grpcClients(fx.gh, enrolled.adminTls);
    const close = () => {
      for (const clients of [agent, operator, admin]) clients.close();
    };
    return { enrolled, agent, operator, admin, close };
  }

  const ask = (clients: Clients, overrides: Record<string, unknown> = {}) =>
    clients.grants.requestGrant({
      audience: AUDIENCE,
      capabilities: [TRANSACT],
      reason: "pay the supplier's invoice 2026-114",
      ...overrides,
    });

  it("refuses what the policy and the contract do not allow", async () => {
    const { agent, operator, close } = await freshAgent();
    try {
      await expectReason(
        ask(agent, { audience: "https://other.example" }),
        Reason.AUDIENCE_NOT_ALLOWED,
      );
      const custom = { action: CapabilityAction.CUSTOM };
      const noName = await expectReason(
        ask(agent, { capabilities: [custom] }),
        Reason.INVALID_ARGUMENT,
      );
      expect(noName.field).toBe("capabilities[0].name");
      await expectReason(
        ask(agent, { capabilities: [{ ...custom, name: "read" }] }),
        Reason.INVALID_ARGUMENT,
      );
      await expectReason(
        ask(agent, { capabilities: [{ action: CapabilityAction.READ, name: "x" }] }),
        Reason.INVALID_ARGUMENT,
      );
      await expectReason(ask(agent, { duration: { seconds: 7201n } }), Reason.INVALID_ARGUMENT);
      await expectReason(ask(agent, { duration: { seconds: -5n } }), Reason.INVALID_ARGUMENT);
      await expectReason(ask(agent, { capabilities: [] }), Reason.INVALID_ARGUMENT);
      await expectReason(ask(agent, { reason: "" }), Reason.INVALID_ARGUMENT);
      // Only agents ask, and only for themselves.
      await expectReason(ask(operator), Reason.PERMISSION_DENIED);
    } finally {
      close();
    }
  });

  it("caps pending requests per agent; lapsed requests no longer count", async () => {
    const { enrolled, agent, close } = await freshAgent();
    try {
      const first = await ask(agent);
      expect(first.grant?.state).toBe(GrantState.PENDING);
      expect(first.grant?.scopes).toEqual([TRANSACT_SCOPE]);
      await ask(agent);
      await ask(agent);
      await expectReason(ask(agent), Reason.GRANT_PENDING_LIMIT);
      fx.clock.advance(11 * MINUTE);
      const lapsed = await agent.grants.getGrant({ id: first.grant?.id ?? "" });
      expect(lapsed.grant?.state).toBe(GrantState.EXPIRED);
      expect((await ask(agent)).grant?.agentDid).toBe(enrolled.did);
    } finally {
      close();
    }
  });

  it("shows a grant to its agent, its operator and admins only", async () => {
    const one = await freshAgent();
    const other = await freshAgent();
    try {
      const { grant } = await ask(one.agent);
      const id = grant?.id ?? "";
      expect((await one.operator.grants.getGrant({ id })).grant?.agentDid).toBe(one.enrolled.did);
      expect((await one.admin.grants.getGrant({ id })).grant?.id).toBe(id);
      await expectReason(other.agent.grants.getGrant({ id }), Reason.GRANT_NOT_FOUND);
      await expectReason(other.operator.grants.getGrant({ id }), Reason.GRANT_NOT_FOUND);
      await expectReason(other.operator.grants.revokeGrant({ id }), Reason.GRANT_NOT_FOUND);
      const mine = await one.agent.grants.listGrants({});
      expect(mine.grants.map((g) => g.id)).toEqual([id]);
      await expectReason(
        one.agent.grants.listGrants({ agentDid: other.enrolled.did }),
        Reason.PERMISSION_DENIED,
      );
      const pending = await one.operator.grants.listGrants({ state: GrantState.PENDING });
      expect(pending.grants.map((g) => g.id)).toEqual([id]);
      await expectReason(
        one.operator.grants.listGrants({ operatorDomain: other.enrolled.domain }),
        Reason.OPERATOR_MISMATCH,
      );
      const byAdmin = await one.admin.grants.listGrants({ agentDid: one.enrolled.did });
      expect(byAdmin.grants.map((g) => g.id)).toEqual([id]);
    } finally {
      one.close();
      other.close();
    }
  });

  it("pages through grants newest first without gaps or repeats", async () => {
    const { agent, operator, close } = await freshAgent();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.unshift((await ask(agent)).grant?.id ?? "");
        fx.clock.advance(1_000);
      }
      const seen: string[] = [];
      let pageToken = "";
      do {
        const page = await operator.grants.listGrants({ pageSize: 2, pageToken });
        seen.push(...page.grants.map((g) => g.id));
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      expect(seen).toEqual(ids);
      await expectReason(
        operator.grants.listGrants({ pageToken: "not a token!" }),
        Reason.INVALID_ARGUMENT,
      );
    } finally {
      close();
    }
  });

  it("pages through an operator's approvers, oldest first", async () => {
    const { operator, admin, enrolled, close } = await freshAgent();
    try {
      for (const displayName of ["Ada", "Grace", "Edsger"]) {
        const { inviteUrl } = await operator.grants.createApproverInvite({ displayName });
        expectOk(await new ApprovalClient(fx.gh).enroll(inviteUrl));
        fx.clock.advance(1_000);
      }
      const first = await operator.grants.listApprovers({ pageSize: 2 });
      expect(first.approvers.map((a) => a.displayName)).toEqual(["Ada", "Grace"]);
      expect(first.approvers[0]?.passkeyCount).toBe(1);
      const second = await operator.grants.listApprovers({
        pageSize: 2,
        pageToken: first.nextPageToken,
      });
      expect(second.approvers.map((a) => a.displayName)).toEqual(["Edsger"]);
      expect(second.nextPageToken).toBe("");
      await expectReason(
        operator.grants.listApprovers({ pageToken: "unknown" }),
        Reason.INVALID_ARGUMENT,
      );
      await expectReason(admin.grants.listApprovers({}), Reason.INVALID_ARGUMENT);
      const all = await admin.grants.listApprovers({ operatorDomain: enrolled.domain });
      expect(all.approvers).toHaveLength(3);
    } finally {
      close();
    }
  });

  it("removing an approver ends its session at once and only its operator or an admin may", async () => {
    const one = await freshAgent();
    const other = await freshAgent();
    try {
      const invite = async (displayName: string) => {
        const { inviteUrl } = await one.operator.grants.createApproverInvite({ displayName });
        const client = new ApprovalClient(fx.gh);
        const enrolled = expectOk(await client.enroll(inviteUrl));
        return { client, id: enrolled.body.approver.id as string };
      };
      const leaver = await invite("Leaver");
      const stays = await invite("Stays");
      expectOk(await leaver.client.get("/approve/api/grants"));

      await expectReason(
        other.operator.grants.removeApprover({ id: leaver.id }),
        Reason.APPROVER_NOT_FOUND,
      );
      await expectReason(
        one.agent.grants.removeApprover({ id: leaver.id }),
        Reason.PERMISSION_DENIED,
      );
      await one.operator.grants.removeApprover({ id: leaver.id });
      const { approvers } = await one.operator.grants.listApprovers({});
      expect(approvers.map((a) => a.id)).toEqual([stays.id]);
      // The signed-in session is refused on its very next call; the passkey signs in no more.
      expect((await leaver.client.get("/approve/api/grants")).status).toBe(401);
      expect((await leaver.client.login()).status).not.toBe(200);
      expectOk(await stays.client.get("/approve/api/grants"));

      await expectReason(
        one.operator.grants.removeApprover({ id: leaver.id }),
        Reason.APPROVER_NOT_FOUND,
      );
      await expectReason(
        one.operator.grants.removeApprover({ id: "A".repeat(43) }),
        Reason.APPROVER_NOT_FOUND,
      );
      await one.admin.grants.removeApprover({ id: stays.id });
      expect((await stays.client.get("/approve/api/grants")).status).toBe(401);
    } finally {
      one.close();
      other.close();
    }
  });

  it("an approved grant adds its scope to tokens until it is revoked", async () => {
    const { enrolled, agent, operator, close } = await freshAgent();
    try {
      const scopes = ["orders:read", TRANSACT_SCOPE];
      // Not in the standing policy: refused at Challenge.
      await expectReason(login(agent.gate, enrolled, scopes), Reason.SCOPE_NOT_ALLOWED);
      const { grant } = await ask(agent, { duration: { seconds: 1200n } });
      const id = grant?.id ?? "";
      await expectReason(login(agent.gate, enrolled, scopes), Reason.SCOPE_NOT_ALLOWED);

      const approved = await decideGrant(fx.gh, enrolled, id, "approve");
      expect(approved.state).toBe(GrantState.APPROVED);

      const token = await login(agent.gate, enrolled, scopes);
      const claims = payloadOf(token);
      expect(claims.grants).toEqual([id]);
      expect(claims.scope).toBe(`orders:read ${TRANSACT_SCOPE}`);
      // Never outlives the grant (20 min), even if the token lifetime allowed more.
      expect(claims.exp as number).toBeLessThanOrEqual(Math.floor(fx.clock.now() / 1000) + 1200);

      const verify = () =>
        fx.verifier.verify.verify({ token, audience: AUDIENCE, requiredScopes: [TRANSACT_SCOPE] });
      expect((await verify()).allowed).toBe(true);
      // Tokens without the grant's scope carry no grant and do not depend on it.
      const plain = await login(agent.gate, enrolled, ["orders:read"]);
      expect(payloadOf(plain).grants).toBeUndefined();

      const { grant: revoked } = await operator.grants.revokeGrant({ id, comment: "done" });
      expect(revoked?.state).toBe(GrantState.REVOKED);
      const denied = await verify();
      expect(denied.allowed).toBe(false);
      expect(denied.reason).toBe(Reason.GRANT_REVOKED);
      await expectReason(operator.grants.revokeGrant({ id }), Reason.GRANT_STATE_CONFLICT);
      await expectReason(login(agent.gate, enrolled, scopes), Reason.SCOPE_NOT_ALLOWED);
      expect((await fx.verifier.verify.verify({ token: plain, audience: AUDIENCE })).allowed).toBe(
        true,
      );
    } finally {
      close();
    }
  });

  it("a token relying on a grant stops verifying when the grant ends", async () => {
    const { enrolled, agent, close } = await freshAgent();
    try {
      const { grant } = await ask(agent, { duration: { seconds: 120n } });
      await decideGrant(fx.gh, enrolled, grant?.id ?? "", "approve");
      const token = await login(agent.gate, enrolled, [TRANSACT_SCOPE]);
      expect(payloadOf(token).exp as number).toBeLessThanOrEqual(
        Math.floor(fx.clock.now() / 1000) + 120,
      );
      fx.clock.advance(3 * MINUTE);
      const after = await agent.grants.getGrant({ id: grant?.id ?? "" });
      expect(after.grant?.state).toBe(GrantState.EXPIRED);
      await expectReason(login(agent.gate, enrolled, [TRANSACT_SCOPE]), Reason.SCOPE_NOT_ALLOWED);
    } finally {
      close();
    }
  });

  it("denials impose a cooldown that doubles", async () => {
    const { enrolled, agent, close } = await freshAgent();
    try {
      const first = await ask(agent);
      await decideGrant(fx.gh, enrolled, first.grant?.id ?? "", "deny");
      expect((await agent.grants.getGrant({ id: first.grant?.id ?? "" })).grant?.state).toBe(
        GrantState.DENIED,
      );
      await expectReason(ask(agent), Reason.GRANT_COOLDOWN);
      fx.clock.advance(61_000);
      const second = await ask(agent);
      await decideGrant(fx.gh, enrolled, second.grant?.id ?? "", "deny");
      fx.clock.advance(61_000);
      // The second denial doubled the wait to two minutes.
      await expectReason(ask(agent), Reason.GRANT_COOLDOWN);
      fx.clock.advance(60_000);
      expect((await ask(agent)).grant?.state).toBe(GrantState.PENDING);
    } finally {
      close();
    }
  });
});
