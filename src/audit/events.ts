import { AuditEventType } from "../../gen/gatehouse/v1/audit_pb.js";
import type { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { Caller } from "../identity/caller.js";
import type { AgentRecord } from "../store/ports.js";
import type { AuditEventInput } from "./writer.js";

export { AuditEventType };

/**
 * Builders of audit events, so each emission in the services stays one line. They take
 * identifiers only: never a token, pass, challenge id, nonce, signature or key material.
 */
export function actorOf(caller: Caller) {
  return {
    actorRole: caller.role ?? "",
    actor: caller.did ?? caller.operatorDomain ?? caller.name ?? "",
    actorFingerprint: caller.fingerprint,
  };
}

/** A change to (or a decision about) one agent. */
export function agentEvent(
  type: AuditEventType,
  caller: Caller,
  agent: Pick<AgentRecord, "did" | "operatorDomain">,
  extra: Partial<AuditEventInput> = {},
): AuditEventInput {
  return {
    type,
    ...actorOf(caller),
    subjectDid: agent.did,
    operatorDomain: agent.operatorDomain,
    ...extra,
  };
}

/** A change to one operator, or one made in an operator's name. */
export function operatorEvent(
  type: AuditEventType,
  caller: Caller,
  operatorDomain: string,
  extra: Partial<AuditEventInput> = {},
): AuditEventInput {
  return { type, ...actorOf(caller), operatorDomain, ...extra };
}

/** The operator domain of a did:agent DID ("" for did:key: its domain is in the registry). */
export function domainOfDid(did: string): string {
  const match = /^did:agent:([^:]+):/.exec(did);
  return match?.[1] ?? "";
}

/** A refused submission: the caller's DID and the reason, nothing of the submission. */
export function challengeFailed(caller: Caller, reason: Reason): AuditEventInput {
  const did = caller.did ?? "";
  return {
    type: AuditEventType.CHALLENGE_FAILED,
    ...actorOf(caller),
    subjectDid: did,
    operatorDomain: domainOfDid(did),
    reason,
  };
}
