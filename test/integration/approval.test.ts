import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { CapabilityAction, GrantState, Weekday } from "../../gen/gatehouse/v1/resources_pb.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { type ApiResponse, ApprovalClient, expectOk } from "../support/approval-flow.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  SCOPES,
} from "../support/flows.js";
import { FLAGS, withFlippedSignature } from "../support/soft-authenticator.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const MINUTE = 60_000;
const PENDING_TTL_SECONDS = 600;
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
  "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Asserts a refusal by HTTP status and reason name. */
function expectRefusal(response: ApiResponse, status: number, reason: string): void {
  expect(response.status, response.text).toBe(status);
  expect(response.body.reason).toBe(reason);
  expect(typeof response.body.message).toBe("string");
}

describe.each(STORE_KINDS)("Approval page (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const fx = useGatehouse({
    storeKind,
    redisUrl,
    clock: true,
    overrides: {
      grants: { maxPending: 50, pendingTtlSeconds: PENDING_TTL_SECONDS },
      // The overrides replace whole sections: keep the ephemeral port of the test default.
      approval: { host: "127.0.0.1", port: 0, sessionTtlSeconds: 3_600 },
    },
  });
  const open: Clients[] = [];

  /** An agent of its own operator, with clients for both. */
  async function freshAgent(): Promise<{ enrolled: Enrolled; agent: Clients; operator: Clients }> {
    const enrolled = await enrollAgent(fx.gh);
    const agent = grpcClients(fx.gh, enrolled.agentTls);
    const operator = grpcClients(fx.gh, enrolled.operatorTls);
    open.push(agent, operator);
    return { enrolled, agent, operator };
  }

  /** A fresh approver of `operator`'s domain, enrolled and signed in. */
  async function approverOf(operator: Clients, displayName = "Ada Approver") {
    const { inviteUrl } = await operator.grants.createApproverInvite({ displayName });
    const client = new ApprovalClient(fx.gh);
    expectOk(await client.enroll(inviteUrl));
    return client;
  }

  /** A pending grant of `agent`: transact on payments/eur for 2 hours. */
  async function pendingGrant(agent: Clients, reason = "pay invoice 2026-114"): Promise<string> {
    const { grant } = await agent.grants.requestGrant({
      audience: AUDIENCE,
      capabilities: [{ action: CapabilityAction.TRANSACT, resource: "payments/eur" }],
      reason,
      duration: { seconds: 7_200n },
    });
    return grant?.id ?? "";
  }

  let main: { enrolled: Enrolled; agent: Clients; operator: Clients };
  let approver: ApprovalClient;

  beforeAll(async () => {
    main = await freshAgent();
    await main.operator.registry.updateAgentPolicy({
      did: main.enrolled.did,
      policy: {
        scopes: SCOPES,
        audiences: [AUDIENCE],
        envelope: {
          maxTransaction: { currency: "EUR", minorUnits: 10_000n },
          budget: { currency: "EUR", minorUnits: 100_000n },
          budgetPeriod: { seconds: 86_400n },
          allowedTimes: [
            {
              days: [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY],
              startMinute: 540,
              endMinute: 1_020,
            },
          ],
        },
      },
    });
    approver = await approverOf(main.operator);
  });
  afterAll(() => {
    for (const clients of open.splice(0)) clients.close();
  });

  describe("enrollment and sign-in", () => {
    it("enrolls an approver from an invite, once", async () => {
      const { inviteUrl } = await main.operator.grants.createApproverInvite({
        displayName: "Grace",
      });
      expect(inviteUrl.startsWith(`${fx.gh.app.approvalOrigin}/approve/enroll#`)).toBe(true);
      const client = new ApprovalClient(fx.gh);
      const enrolled = expectOk(await client.enroll(inviteUrl));
      expect(enrolled.body.approver.name).toBe("Grace");

      const { approvers } = await main.operator.grants.listApprovers({});
      const listed = approvers.find((a) => a.id === enrolled.body.approver.id);
      expect(listed).toMatchObject({ displayName: "Grace", passkeyCount: 1 });
      expect(listed?.operatorDomain).toBe(main.enrolled.domain);

      // The invite was spent by the first attempt.
      const again = await new ApprovalClient(fx.gh).post("/approve/api/enroll/options", {
        invite: new URL(inviteUrl).hash.slice(1),
      });
      expectRefusal(again, 403, "REASON_INVITE_INVALID");
    });

    it("refuses a made-up invite and a registration without user verification", async () => {
      const client = new ApprovalClient(fx.gh);
      const unknown = await client.post("/approve/api/enroll/options", { invite: "A".repeat(43) });
      expectRefusal(unknown, 403, "REASON_INVITE_INVALID");

      const { inviteUrl } = await main.operator.grants.createApproverInvite({ displayName: "Eve" });
      const noUv = await client.enroll(inviteUrl, { flags: FLAGS.UP });
      expectRefusal(noUv, 403, "REASON_APPROVAL_INVALID");
    });

    it("signs in with a discoverable passkey, and signs out", async () => {
      const client = new ApprovalClient(fx.gh, approver.authenticator);
      expectRefusal(await client.get("/approve/api/session"), 401, "REASON_UNAUTHENTICATED");
      const signedIn = expectOk(await client.login());
      expect(signedIn.body.approver.name).toBe("Ada Approver");
      const session = expectOk(await client.get("/approve/api/session"));
      expect(session.body.operator).toBe(main.enrolled.domain);
      const cookie = signedIn.headers["set-cookie"]?.[0] ?? "";
      expect(cookie).toMatch(/^__Host-gatehouse_approve=[A-Za-z0-9_-]{43}; Path=\//);
      for (const attribute of ["Secure", "HttpOnly", "SameSite=Strict"]) {
        expect(cookie).toContain(attribute);
      }

      expectOk(await client.post("/approve/api/logout"));
      expectRefusal(await client.get("/approve/api/session"), 401, "REASON_UNAUTHENTICATED");
    });

    it("refuses sign-in without the user handle, from another origin or RP ID", async () => {
      const client = new ApprovalClient(fx.gh, approver.authenticator);
      for (const tampering of [
        { omitUserHandle: true },
        { origin: "https://evil.example" },
        { rpId: "evil.example" },
        { flags: FLAGS.UP },
        { crossOrigin: true },
      ]) {
        expectRefusal(await client.login(tampering), 403, "REASON_APPROVAL_INVALID");
      }
    });
  });

  describe("the pending grants, in words", () => {
    it("lists what the agent asks for, its limits and its reason", async () => {
      const id = await pendingGrant(main.agent, "<b>pay</b> the supplier");
      const listed = expectOk(await approver.get("/approve/api/grants"));
      const grant = listed.body.grants.find((g: { id: string }) => g.id === id);
      expect(grant).toMatchObject({
        agent: { name: "test agent", did: main.enrolled.did },
        audience: AUDIENCE,
        capabilities: ["transact on payments/eur"],
        scopes: ["transact:payments/eur"],
        duration: "2 hours",
        limits: [
          "at most EUR 100.00 per transaction",
          "at most EUR 1,000.00 in total per day",
          "only Mon, Tue, Wed 09:00–17:00 UTC",
        ],
        reason: "<b>pay</b> the supplier",
      });
      expect(Date.parse(grant.expiresAt)).toBe(fx.clock.now() + PENDING_TTL_SECONDS * 1000);
    });

    it("hides and refuses another operator's grant", async () => {
      const id = await pendingGrant(main.agent);
      const other = await freshAgent();
      const stranger = await approverOf(other.operator, "Stranger");
      const listed = expectOk(await stranger.get("/approve/api/grants"));
      expect(listed.body.grants.map((g: { id: string }) => g.id)).not.toContain(id);
      const options = await stranger.post(`/approve/api/grants/${id}/options`, {
        decision: "approve",
      });
      expectRefusal(options, 404, "REASON_GRANT_NOT_FOUND");
    });
  });

  describe("decisions", () => {
    it("approves a grant with a passkey", async () => {
      const id = await pendingGrant(main.agent);
      const decided = expectOk(await approver.decide(id, "approve"));
      expect(decided.body.grant.state).toBe("approved");
      const { grant } = await main.operator.grants.getGrant({ id });
      expect(grant?.state).toBe(GrantState.APPROVED);
      expect(grant?.decidedBy).toMatch(/^Ada Approver \(.+\)$/);
      expect(Number(grant?.expireTime?.seconds)).toBe(Math.floor(fx.clock.now() / 1000) + 7_200);
    });

    it("denies a grant, and the agent waits a cooldown; both steps are audited", async () => {
      const { enrolled, agent, operator } = await freshAgent();
      const id = await pendingGrant(agent);
      const decider = await approverOf(operator);
      expectOk(await decider.decide(id, "deny"));
      const { grant } = await operator.grants.getGrant({ id });
      expect(grant?.state).toBe(GrantState.DENIED);
      await expectReason(pendingGrant(agent), Reason.GRANT_COOLDOWN);

      await fx.gh.app.audit.flush();
      const audit = createGrpcClient(AuditService, {
        address: fx.gh.grpcAddress,
        tls: enrolled.operatorTls,
      });
      const { entries } = await audit
        .listAuditEvents({
          types: [AuditEventType.APPROVER_ENROLLED, AuditEventType.GRANT_DENIED],
          operatorDomain: enrolled.domain,
        })
        .finally(() => audit.close());
      const approverId = grant?.decidedBy.match(/\((.+)\)$/)?.[1];
      expect(entries.map((entry) => entry.event)).toMatchObject([
        { type: AuditEventType.APPROVER_ENROLLED, actorRole: "approver", actor: approverId },
        {
          type: AuditEventType.GRANT_DENIED,
          actorRole: "approver",
          actor: approverId,
          subjectDid: enrolled.did,
          grantId: id,
          scopes: ["transact:payments/eur"],
          audiences: [AUDIENCE],
        },
      ]);
    });

    it("refuses tampered, misdirected or unverified assertions, leaving the grant pending", async () => {
      const id = await pendingGrant(main.agent);
      const flipped = await approver.decisionOptions(id, "approve");
      const response = withFlippedSignature(approver.authenticator.assert(flipped.options));
      const tampered = await approver.post(`/approve/api/grants/${id}/decide`, {
        ticket: flipped.ticket,
        response,
      });
      expectRefusal(tampered, 403, "REASON_APPROVAL_INVALID");
      for (const tampering of [
        { origin: "https://evil.example" },
        { rpId: "evil.example" },
        { flags: FLAGS.UP },
        { crossOrigin: true },
      ]) {
        expectRefusal(
          await approver.decide(id, "approve", tampering),
          403,
          "REASON_APPROVAL_INVALID",
        );
      }
      const { grant } = await main.operator.grants.getGrant({ id });
      expect(grant?.state).toBe(GrantState.PENDING);
    });

    it("consumes a decision ticket once, even after a success", async () => {
      const id = await pendingGrant(main.agent);
      const { ticket, options } = await approver.decisionOptions(id, "approve");
      const response = approver.authenticator.assert(options);
      const path = `/approve/api/grants/${id}/decide`;
      expectOk(await approver.post(path, { ticket, response }));
      expectRefusal(
        await approver.post(path, { ticket, response }),
        403,
        "REASON_APPROVAL_REPLAYED",
      );
    });

    it("refuses a decision on a grant that changed after the options", async () => {
      const id = await pendingGrant(main.agent);
      const { ticket, options } = await approver.decisionOptions(id, "approve");
      const stored = await fx.gh.app.store.grants.get(id);
      if (!stored) throw new Error("grant not stored");
      const changed = { ...stored, reason: "something else", revision: stored.revision + 1 };
      expect(await fx.gh.app.store.grants.update(changed, stored.revision)).toBe(true);
      const response = approver.authenticator.assert(options);
      const refused = await approver.post(`/approve/api/grants/${id}/decide`, { ticket, response });
      expectRefusal(refused, 403, "REASON_APPROVAL_INVALID");
    });

    it("refuses to decide a grant twice or after it lapsed", async () => {
      const id = await pendingGrant(main.agent);
      expectOk(await approver.decide(id, "approve"));
      const again = await approver.post(`/approve/api/grants/${id}/options`, { decision: "deny" });
      expectRefusal(again, 409, "REASON_GRANT_STATE_CONFLICT");

      const lapsing = await pendingGrant(main.agent);
      fx.clock.advance(PENDING_TTL_SECONDS * 1000 - MINUTE);
      const { ticket, options } = await approver.decisionOptions(lapsing, "approve");
      fx.clock.advance(2 * MINUTE); // the request lapses while the ticket (5 min) lives
      const response = approver.authenticator.assert(options);
      const late = await approver.post(`/approve/api/grants/${lapsing}/decide`, {
        ticket,
        response,
      });
      expectRefusal(late, 409, "REASON_GRANT_STATE_CONFLICT");
    });
  });

  describe("request checks", () => {
    it("requires the page's Origin and the session's CSRF token on state changes", async () => {
      const id = await pendingGrant(main.agent);
      const path = `/approve/api/grants/${id}/options`;
      const body = { decision: "approve" };
      const refusals = [
        await approver.post(path, body, { headers: { origin: "https://evil.example" } }),
        await approver.post(path, body, { headers: { origin: undefined } }),
        await approver.post(path, body, { headers: { "x-csrf-token": undefined } }),
        await approver.post(path, body, { headers: { "x-csrf-token": "A".repeat(43) } }),
        await new ApprovalClient(fx.gh).post(
          "/approve/api/login/options",
          {},
          {
            headers: { origin: "https://evil.example" },
          },
        ),
      ];
      for (const refused of refusals) expectRefusal(refused, 403, "REASON_PERMISSION_DENIED");
    });

    it("requires a session", async () => {
      const anonymous = new ApprovalClient(fx.gh);
      expectRefusal(await anonymous.get("/approve/api/grants"), 401, "REASON_UNAUTHENTICATED");
      const options = await anonymous.post("/approve/api/grants/abc/options", { decision: "deny" });
      expectRefusal(options, 401, "REASON_UNAUTHENTICATED");
    });

    it("answers bad requests with 4xx JSON, never a 500", async () => {
      const path = "/approve/api/login/options";
      expectRefusal(await approver.post(path, "{not json"), 400, "REASON_INVALID_ARGUMENT");
      expectRefusal(await approver.post(path, "x".repeat(70_000)), 413, "REASON_INVALID_ARGUMENT");
      const form = await approver.post(path, "a=b", {
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expectRefusal(form, 415, "REASON_INVALID_ARGUMENT");
      expectRefusal(await approver.get("/approve/nothing"), 404, "REASON_INVALID_ARGUMENT");
      const wrongMethod = await approver.get(path);
      expectRefusal(wrongMethod, 405, "REASON_INVALID_ARGUMENT");
      expect(wrongMethod.headers.allow).toBe("POST");
      const noTicket = await approver.post("/approve/api/login/verify", { response: {} });
      expectRefusal(noTicket, 400, "REASON_INVALID_ARGUMENT");
      const badDecision = await approver.post("/approve/api/grants/abc/options", { decision: "x" });
      expectRefusal(badDecision, 400, "REASON_INVALID_ARGUMENT");
    });

    it("serves the page and every response with the security headers", async () => {
      const page = await approver.get("/approve");
      expect(page.status).toBe(200);
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(page.text).not.toMatch(/<script>|<style>|\son[a-z]+=/i);
      for (const response of [page, await approver.get("/approve/assets/app.js")]) {
        expect(response.headers).toMatchObject({
          "content-security-policy": CSP,
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
          "cache-control": "no-store",
          "cross-origin-opener-policy": "same-origin",
          "strict-transport-security": "max-age=31536000",
        });
      }
      const refused = await approver.get("/approve/missing");
      expect(refused.headers["content-security-policy"]).toBe(CSP);
    });

    // Last: it spends this address's budget of unauthenticated calls for a minute.
    it("limits unauthenticated ceremony calls per source address", async () => {
      const client = new ApprovalClient(fx.gh);
      let response = await client.post("/approve/api/login/options");
      for (let calls = 1; response.status === 200 && calls < 100; calls++) {
        response = await client.post("/approve/api/login/options");
      }
      expectRefusal(response, 429, "REASON_RATE_LIMITED");
      expect(Number(response.headers["retry-after"])).toBeGreaterThan(0);
    });
  });
});
