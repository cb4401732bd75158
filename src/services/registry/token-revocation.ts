import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { AuditEventType, agentEvent } from "../../audit/events.js";
import type { Audit } from "../../audit/writer.js";
import { GatehouseError } from "../../errors/index.js";
import type { Caller } from "../../identity/caller.js";
import type { Store } from "../../store/ports.js";
import { requireOperatorStanding } from "./ownership.js";

export interface TokenRevocationDeps {
  readonly store: Pick<Store, "registry" | "revocations" | "issuedTokens" | "events">;
  readonly audit: Audit;
  /** How long a revocation is kept: as long as any token could still verify. */
  readonly revocationTtlMs: number;
}

/**
 * Revoke by `jti`. An operator revokes only tokens issued to its own agents: an unknown,
 * expired or another operator's id answers TOKEN_NOT_FOUND alike, after the same one
 * look-up, so token ids cannot be probed. An admin revokes any id, even one whose issuance
 * record is gone (the embedded store forgets them on restart). The audit entry is filed
 * under the owner's domain, naming the caller as the actor, so the owner sees it.
 */
export async function revokeToken(
  deps: TokenRevocationDeps,
  caller: Caller,
  jti: string,
  now: number,
  comment: string,
): Promise<void> {
  const { store } = deps;
  await requireOperatorStanding(store.registry, caller, "write", now);
  const issued = await store.issuedTokens.get(jti);
  const owns = issued !== undefined && issued.operatorDomain === caller.operatorDomain;
  if (caller.role !== "admin" && !owns) throw new GatehouseError(Reason.TOKEN_NOT_FOUND);
  await store.revocations.revoke("token", jti, deps.revocationTtlMs);
  await store.events.publish({ kind: "token", id: jti });
  const owner = { did: issued?.sub ?? "", operatorDomain: issued?.operatorDomain ?? "" };
  await deps.audit.record(
    agentEvent(AuditEventType.TOKEN_REVOKED, caller, owner, { tokenId: jti, comment }),
  );
}
