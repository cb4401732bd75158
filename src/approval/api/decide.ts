import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { AuditEventType } from "../../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { randomId } from "../../crypto/random.js";
import { GatehouseError } from "../../errors/index.js";
import { decided, type GrantDecision, requirePending } from "../../grants/lifecycle.js";
import { decisionChallenge } from "../../grants/model.js";
import type { GrantRecord } from "../../store/ports.js";
import { grantDecided } from "../approver-events.js";
import type { ApprovalContext, Call, SignedIn } from "../context.js";
import { json, type Reply } from "../http/response.js";
import { assertionOptions, verifyAssertion } from "../webauthn/assertion.js";
import { approvalInvalid } from "../webauthn/refusal.js";
import { credentialField, decisionField, ticketField } from "./fields.js";
import { grantOfOperator } from "./grants.js";

/**
 * `POST /approve/api/grants/:id/options` {decision}: a decision ceremony. The WebAuthn
 * challenge is `decisionChallenge(grant, decision, nonce)`, so the passkey signs exactly this
 * decision on exactly the grant the page showed; only the approver's own passkeys may answer
 * (WebAuthn L3 §5.5 `allowCredentials`), with user verification.
 */
export function decisionOptions(ctx: ApprovalContext) {
  return async (call: Call, { approver }: SignedIn): Promise<Reply> => {
    const decision = decisionField(await call.body());
    const grant = await grantOfOperator(ctx, call.params[0], approver);
    requirePending(grant, ctx.clock.now());
    const nonce = randomId();
    const options = await assertionOptions(ctx.rp, {
      challenge: new Uint8Array(decisionChallenge(grant, decision, nonce)),
      allowCredentials: approver.passkeys,
      timeoutMs: ctx.ceremonyTtlMs,
    });
    const ticket = await ctx.tickets.issue({
      kind: "decision",
      grantId: grant.id,
      decision,
      nonce,
      approverId: approver.id,
      revision: grant.revision,
    });
    return json({ ticket, options });
  };
}

/**
 * `POST /approve/api/grants/:id/decide` {ticket, response}. In order:
 * 1. the ticket is consumed (used, unknown or expired: APPROVAL_REPLAYED);
 * 2. it was issued for this grant to this signed-in approver;
 * 3. the grant is re-read, and the challenge recomputed from its current content: a grant
 *    changed since the options no longer matches what was signed (APPROVAL_INVALID);
 * 4. the assertion is verified with the approver's own passkeys (WebAuthn L3 §7.2 step 5);
 * 5. the grant is still the revision shown, pending and unexpired (GRANT_STATE_CONFLICT);
 * 6. the grant is written by compare-and-set (a concurrent decision wins or this one does);
 * 7. the agent's denial streak is reset or extended, caches are told, the decision audited.
 */
export function decide(ctx: ApprovalContext) {
  return async (call: Call, { approver }: SignedIn): Promise<Reply> => {
    const body = await call.body();
    const ticketId = ticketField(body);
    const response = credentialField<AuthenticationResponseJSON>(body);
    const ticket = await ctx.tickets.redeem(ticketId, "decision");
    if (ticket.grantId !== call.params[0] || ticket.approverId !== approver.id) {
      throw approvalInvalid("ticket");
    }
    const grant = await grantOfOperator(ctx, ticket.grantId, approver);
    const challenge = decisionChallenge(grant, ticket.decision, ticket.nonce);
    const { credentialId } = await verifyAssertion(ctx.store.approvers, ctx.rp, {
      approver,
      response,
      expectedChallenge: Buffer.from(challenge).toString("base64url"),
      requireUserHandle: false,
    });
    const now = ctx.clock.now();
    if (grant.revision !== ticket.revision) throw new GatehouseError(Reason.GRANT_STATE_CONFLICT);
    // Pending and unlapsed, else GRANT_STATE_CONFLICT (grants/lifecycle.ts).
    const next = decided(grant, ticket.decision, approver, now);
    if (!(await ctx.store.grants.update(next, grant.revision))) {
      throw new GatehouseError(Reason.GRANT_STATE_CONFLICT);
    }
    await afterDecision(ctx, next, ticket.decision, now);
    const type =
      ticket.decision === "approve" ? AuditEventType.GRANT_APPROVED : AuditEventType.GRANT_DENIED;
    await ctx.audit.record(grantDecided(type, approver, next, credentialId));
    return json({
      grant: {
        id: next.id,
        state: next.state,
        decidedBy: next.decidedBy,
        expiresAt: new Date(next.expiresAt).toISOString(),
      },
    });
  };
}

/** An approval ends the agent's denial streak; a denial extends its cooldown. */
async function afterDecision(
  ctx: ApprovalContext,
  grant: GrantRecord,
  decision: GrantDecision,
  nowMs: number,
): Promise<void> {
  const { grants } = ctx.store;
  if (decision === "approve") {
    await grants.resetDenials(grant.agentDid);
  } else {
    const { baseMs, maxMs } = ctx.denialBackoff;
    await grants.recordDenial(grant.agentDid, nowMs, baseMs, maxMs);
  }
  await ctx.store.events.publish({ kind: "grant", id: grant.id });
}
