import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { randomId } from "../../crypto/random.js";
import { GatehouseError } from "../../errors/index.js";
import { redeemInvite } from "../../grants/invites.js";
import type { ApproverRecord } from "../../store/ports.js";
import { approverEnrolled } from "../approver-events.js";
import type { ApprovalContext, Call } from "../context.js";
import { requireActiveOperator } from "../guards.js";
import { json, type Reply } from "../http/response.js";
import { approvalInvalid } from "../webauthn/refusal.js";
import { registrationOptions, verifyRegistration } from "../webauthn/registration.js";
import { credentialField, inviteField, ticketField } from "./fields.js";

/**
 * `POST /approve/api/enroll/options` {invite}: redeems the invitation (single use, whatever
 * follows) and starts a registration ceremony for a fresh, random user handle.
 */
export function enrollOptions(ctx: ApprovalContext) {
  return async (call: Call): Promise<Reply> => {
    const invite = await redeemInvite(ctx.store.approvalTickets, inviteField(await call.body()));
    if (!invite) throw new GatehouseError(Reason.INVITE_INVALID);
    await requireActiveOperator(ctx.store.registry, invite.operatorDomain);
    const handle = Buffer.from(randomId(), "base64url");
    const options = await registrationOptions(
      ctx.rp,
      { handle, name: invite.displayName },
      ctx.ceremonyTtlMs,
    );
    const ticket = await ctx.tickets.issue({
      kind: "registration",
      challenge: options.challenge,
      operatorDomain: invite.operatorDomain,
      displayName: invite.displayName,
      userHandle: options.user.id,
    });
    return json({ ticket, options });
  };
}

/**
 * `POST /approve/api/enroll/verify` {ticket, response}: verifies the new passkey, creates the
 * approver (refused when the credential is already registered: WebAuthn L3 §7.1 step 26),
 * records APPROVER_ENROLLED and signs the approver in.
 */
export function enrollVerify(ctx: ApprovalContext) {
  return async (call: Call): Promise<Reply> => {
    const body = await call.body();
    const ticketId = ticketField(body);
    const response = credentialField<RegistrationResponseJSON>(body);
    const ticket = await ctx.tickets.redeem(ticketId, "registration");
    const passkey = await verifyRegistration(ctx.rp, response, ticket.challenge);
    const now = ctx.clock.now();
    const approver: ApproverRecord = {
      id: randomId(),
      operatorDomain: ticket.operatorDomain,
      displayName: ticket.displayName,
      userHandle: ticket.userHandle,
      passkeys: [{ ...passkey, createdAt: now }],
      createdAt: now,
    };
    if ((await ctx.store.approvers.create(approver)) === "exists") {
      throw approvalInvalid("credential already registered");
    }
    await ctx.audit.record(approverEnrolled(approver, passkey.credentialId));
    const cookie = await ctx.sessions.start(approver);
    return json({ approver: { id: approver.id, name: approver.displayName } }, cookie);
  };
}
