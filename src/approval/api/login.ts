import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import type { ApprovalContext, Call } from "../context.js";
import { requireActiveOperator } from "../guards.js";
import { json, type Reply } from "../http/response.js";
import { assertionOptions, verifyAssertion } from "../webauthn/assertion.js";
import { approvalInvalid } from "../webauthn/refusal.js";
import { credentialField, ticketField } from "./fields.js";

/**
 * `POST /approve/api/login/options`: a sign-in ceremony with a discoverable credential
 * (`allowCredentials` empty, WebAuthn L3 §5.5), so the approver types no name.
 */
export function loginOptions(ctx: ApprovalContext) {
  return async (call: Call): Promise<Reply> => {
    await call.body();
    const options = await assertionOptions(ctx.rp, {
      allowCredentials: [],
      timeoutMs: ctx.ceremonyTtlMs,
    });
    const ticket = await ctx.tickets.issue({ kind: "login", challenge: options.challenge });
    return json({ ticket, options });
  };
}

/**
 * `POST /approve/api/login/verify` {ticket, response}: the approver is identified by the
 * credential and, since nobody was identified before, its user handle must be present and
 * theirs (WebAuthn L3 §7.2 step 6); then the assertion is verified and a session starts.
 */
export function loginVerify(ctx: ApprovalContext) {
  return async (call: Call): Promise<Reply> => {
    const body = await call.body();
    const ticketId = ticketField(body);
    const response = credentialField<AuthenticationResponseJSON>(body);
    const ticket = await ctx.tickets.redeem(ticketId, "login");
    const approver = await ctx.store.approvers.findByCredential(response.id);
    if (!approver) throw approvalInvalid("credential");
    await verifyAssertion(ctx.store.approvers, ctx.rp, {
      approver,
      response,
      expectedChallenge: ticket.challenge,
      requireUserHandle: true,
    });
    await requireActiveOperator(ctx.store.registry, approver.operatorDomain);
    const cookie = await ctx.sessions.start(approver);
    return json({ approver: { id: approver.id, name: approver.displayName } }, cookie);
  };
}
