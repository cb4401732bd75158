import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { GrantService } from "../../../gen/gatehouse/v1/grants_pb.js";
import { AuditEventType as Audited, operatorEvent } from "../../audit/events.js";
import type { Audit } from "../../audit/writer.js";
import type { Clock } from "../../clock.js";
import { GatehouseError, invalidArgument } from "../../errors/index.js";
import { toGrantMessage } from "../../grants/convert.js";
import { createInvite } from "../../grants/invites.js";
import { revoked } from "../../grants/lifecycle.js";
import type { Caller } from "../../identity/caller.js";
import type { GrantRecord, Store } from "../../store/ports.js";
import { pageOf } from "../paging.js";
import { requireOperatorStanding } from "../registry/ownership.js";
import { bindService, type ServiceBinding } from "../types.js";
import { listGrants } from "./list.js";
import { requestGrant } from "./request.js";

/** The grant lifecycle bounds (config `grants.*`). */
export interface GrantSettings {
  /** Pending requests an agent may have at once. */
  readonly maxPending: number;
  /** How long a request waits for a human before it lapses. */
  readonly pendingTtlMs: number;
  /** How long an approved grant lasts when the request names no duration. */
  readonly defaultDurationMs: number;
  /** The longest an approved grant may last. */
  readonly maxDurationMs: number;
}

export interface GrantDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly audit: Audit;
  readonly settings: GrantSettings;
  /** The approval page, when it is served: its origin (known once it listens) and invite life. */
  readonly approval?: { readonly origin: () => string; readonly inviteTtlMs: number };
}

export function createGrantService(deps: GrantDeps): ServiceBinding {
  const { store, clock } = deps;
  return bindService(GrantService, {
    async requestGrant(request, { caller }) {
      const grant = await requestGrant(deps, caller, request);
      return { grant: toGrantMessage(grant, clock.now()) };
    },

    async getGrant(request, { caller }) {
      const grant = await visibleGrant(store, caller, request.id, "read", clock.now());
      return { grant: toGrantMessage(grant, clock.now()) };
    },

    async listGrants(request, { caller }) {
      await requireOperatorStanding(store.registry, caller, "read", clock.now());
      return listGrants(store.grants, caller, request, clock.now());
    },

    async revokeGrant(request, { caller }) {
      const revoked = await revokeGrant(deps, caller, request.id);
      // Verify caches grant look-ups: every replica drops this one at once.
      await store.events.publish({ kind: "grant", id: revoked.id });
      await deps.audit.record(
        operatorEvent(Audited.GRANT_REVOKED, caller, revoked.operatorDomain, {
          subjectDid: revoked.agentDid,
          grantId: revoked.id,
          comment: request.comment,
        }),
      );
      return { grant: toGrantMessage(revoked, clock.now()) };
    },

    async createApproverInvite(request, { caller }) {
      const operatorDomain = caller.operatorDomain ?? "";
      // Approvers decide for the operator's agents: an unverified operator may not invite.
      await requireOperatorStanding(store.registry, caller, "write", clock.now());
      const approval = deps.approval;
      if (!approval) {
        throw new GatehouseError(Reason.UNAVAILABLE, {
          description: "the approval page is disabled on this server",
        });
      }
      const inviteUrl = await createInvite(store.approvalTickets, {
        operatorDomain,
        displayName: request.displayName,
        nowMs: clock.now(),
        ttlMs: approval.inviteTtlMs,
        origin: approval.origin(),
      });
      await deps.audit.record(
        operatorEvent(Audited.APPROVER_INVITED, caller, operatorDomain, {
          comment: request.displayName,
        }),
      );
      return { inviteUrl, expiresIn: durationFromMs(approval.inviteTtlMs) };
    },

    async listApprovers(request, { caller }) {
      const domain = scopedDomain(caller, request.operatorDomain);
      await requireOperatorStanding(store.registry, caller, "read", clock.now());
      const all = await store.approvers.listByDomain(domain);
      // Oldest first (ids are URL-safe).
      const page = pageOf(all, (approver) => approver.id, request);
      return {
        nextPageToken: page.nextPageToken,
        approvers: page.items.map((approver) => ({
          id: approver.id,
          operatorDomain: approver.operatorDomain,
          displayName: approver.displayName,
          passkeyCount: approver.passkeys.length,
          createTime: timestampFromMs(approver.createdAt),
        })),
      };
    },

    async removeApprover(request, { caller }) {
      // Taking access away is always allowed, even while the domain proof has lapsed
      // (a revoked operator still can do nothing).
      await requireOperatorStanding(store.registry, caller, "read", clock.now());
      const approver = await store.approvers.get(request.id);
      const owned =
        approver !== undefined &&
        (caller.role === "admin" ||
          (caller.role === "operator" && approver.operatorDomain === caller.operatorDomain));
      // Another operator's approver is reported as unknown, so approver ids cannot be probed.
      // The approval page checks the approver on every call: its sessions end with it.
      if (!owned || !(await store.approvers.remove(approver.id))) {
        throw new GatehouseError(Reason.APPROVER_NOT_FOUND);
      }
      await deps.audit.record(
        operatorEvent(Audited.APPROVER_REMOVED, caller, approver.operatorDomain, {
          comment: `${approver.displayName} (${approver.id})`,
        }),
      );
      return {};
    },
  });
}

/**
 * The grant, when the caller may see it: its agent, its agent's operator, or an admin. Any
 * other caller is told it does not exist, so grant ids of others cannot be probed.
 */
export async function visibleGrant(
  store: Pick<Store, "grants" | "registry">,
  caller: Caller,
  id: string,
  access: "read" | "write",
  nowMs: number,
): Promise<GrantRecord> {
  await requireOperatorStanding(store.registry, caller, access, nowMs);
  const grant = await store.grants.get(id);
  const visible =
    grant !== undefined &&
    (caller.role === "admin" ||
      (caller.role === "agent" && grant.agentDid === caller.did) ||
      (caller.role === "operator" && grant.operatorDomain === caller.operatorDomain));
  if (!visible) throw new GatehouseError(Reason.GRANT_NOT_FOUND);
  return grant;
}

/** Operators act on their own domain only; admins must name one. */
function scopedDomain(caller: Caller, requested: string): string {
  if (caller.role === "operator") {
    if (requested !== "" && requested !== caller.operatorDomain) {
      throw new GatehouseError(Reason.OPERATOR_MISMATCH, { field: "operator_domain" });
    }
    return caller.operatorDomain ?? "";
  }
  if (requested === "") throw invalidArgument("operator_domain", "is required for admins");
  return requested;
}

/** Pending or approved (and not ended) → revoked, compare-and-set, retried on a race. */
async function revokeGrant(deps: GrantDeps, caller: Caller, id: string): Promise<GrantRecord> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = deps.clock.now();
    const grant = await visibleGrant(deps.store, caller, id, "write", now);
    const next = revoked(grant, now);
    if (await deps.store.grants.update(next, grant.revision)) return next;
  }
  throw new GatehouseError(Reason.UNAVAILABLE, { description: "grant is being changed" });
}
