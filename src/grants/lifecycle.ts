import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../errors/index.js";
import type { ApproverRecord, CapabilityRecord, GrantRecord } from "../store/ports.js";

/**
 * A capability grant's life cycle, as pure transitions (no store, no clock: the time is
 * passed in). The service (request, revoke) and the approval page (approve, deny) write
 * what these return, by compare-and-set on `revision`:
 *
 *   request → pending ─┬─ approve → approved ─┬─ revoke → revoked
 *                      ├─ deny    → denied    └─ lapse   → expired (at expiresAt)
 *                      ├─ revoke  → revoked
 *                      └─ lapse   → expired (at expiresAt, undecided)
 *
 * "expired" is never stored: it is what a pending or approved grant is once its time is up.
 */
export type GrantState = "pending" | "approved" | "denied" | "expired" | "revoked";

export type GrantDecision = "approve" | "deny";

/** A grant's effective state at `nowMs`: "expired" once a pending or approved grant lapsed. */
export function grantState(grant: GrantRecord, nowMs: number): GrantState {
  if ((grant.state === "pending" || grant.state === "approved") && nowMs >= grant.expiresAt) {
    return "expired";
  }
  return grant.state;
}

/** What an agent asks for; the request's bounds were checked by the service. */
export interface GrantRequest {
  readonly id: string;
  readonly agent: { readonly did: string; readonly operatorDomain: string };
  readonly audience: string;
  readonly capabilities: readonly CapabilityRecord[];
  readonly reason: string;
  /** How long the grant will last once approved. */
  readonly durationMs: number;
  /** How long the request waits for a human before it lapses. */
  readonly pendingTtlMs: number;
}

/** request: a new pending grant, lapsing `pendingTtlMs` from now unless decided. */
export function requested(request: GrantRequest, nowMs: number): GrantRecord {
  return {
    id: request.id,
    agentDid: request.agent.did,
    operatorDomain: request.agent.operatorDomain,
    audience: request.audience,
    capabilities: request.capabilities,
    reason: request.reason,
    durationMs: request.durationMs,
    state: "pending",
    createdAt: nowMs,
    expiresAt: nowMs + request.pendingTtlMs,
    revision: 1,
  };
}

/** Only a pending grant that has not lapsed can be decided (GRANT_STATE_CONFLICT). */
export function requirePending(grant: GrantRecord, nowMs: number): void {
  if (grantState(grant, nowMs) !== "pending") {
    throw new GatehouseError(Reason.GRANT_STATE_CONFLICT);
  }
}

/**
 * approve / deny, by a human approver: only a pending, unlapsed grant. An approved grant
 * runs for its duration from now; a denied one keeps its dates.
 */
export function decided(
  grant: GrantRecord,
  decision: GrantDecision,
  approver: Pick<ApproverRecord, "id" | "displayName">,
  nowMs: number,
): GrantRecord {
  requirePending(grant, nowMs);
  return {
    ...grant,
    state: decision === "approve" ? "approved" : "denied",
    ...(decision === "approve" && { expiresAt: nowMs + grant.durationMs }),
    decidedAt: nowMs,
    decidedBy: `${approver.displayName} (${approver.id})`,
    revision: grant.revision + 1,
  };
}

/** revoke: a pending or approved grant that has not ended (else GRANT_STATE_CONFLICT). */
export function revoked(grant: GrantRecord, nowMs: number): GrantRecord {
  const state = grantState(grant, nowMs);
  if (state !== "pending" && state !== "approved") {
    throw new GatehouseError(Reason.GRANT_STATE_CONFLICT);
  }
  return { ...grant, state: "revoked", revokedAt: nowMs, revision: grant.revision + 1 };
}
