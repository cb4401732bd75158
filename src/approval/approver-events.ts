import { AuditEventType } from "../../gen/gatehouse/v1/audit_pb.js";
import type { AuditEventInput } from "../audit/writer.js";
import { capabilityScopes } from "../grants/model.js";
import type { ApproverRecord, GrantRecord } from "../store/ports.js";

/**
 * Audit events of approvers. The actor is the approver (role "approver", its id); `key_id`
 * is the passkey's credential id, which is public. Never a challenge, ticket or session.
 */
export function approverEnrolled(approver: ApproverRecord, credentialId: string): AuditEventInput {
  return {
    type: AuditEventType.APPROVER_ENROLLED,
    ...actor(approver),
    operatorDomain: approver.operatorDomain,
    keyId: credentialId,
  };
}

/** GRANT_APPROVED or GRANT_DENIED for `grant`, signed with `credentialId`. */
export function grantDecided(
  type: AuditEventType.GRANT_APPROVED | AuditEventType.GRANT_DENIED,
  approver: ApproverRecord,
  grant: GrantRecord,
  credentialId: string,
): AuditEventInput {
  return {
    type,
    ...actor(approver),
    subjectDid: grant.agentDid,
    operatorDomain: grant.operatorDomain,
    grantId: grant.id,
    scopes: capabilityScopes(grant.capabilities),
    audiences: [grant.audience],
    keyId: credentialId,
  };
}

function actor(approver: ApproverRecord) {
  return { actorRole: "approver", actor: approver.id };
}
