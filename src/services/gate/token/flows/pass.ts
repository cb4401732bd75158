import { Reason } from "../../../../../gen/gatehouse/v1/errors_pb.js";
import { constantTimeEqual } from "../../../../crypto/constant-time.js";
import { sha256Hex } from "../../../../crypto/random.js";
import { GatehouseError } from "../../../../errors/index.js";
import { authorizeScopes } from "../../../../grants/allowance.js";
import {
  prefetchCallerAgent,
  prefetchCallerStanding,
  requireActiveAgent,
} from "../../../agents.js";
import type { CallContext } from "../../../types.js";
import type { GateDeps, PassRecord } from "../../deps.js";
import type { FlowOutcome } from "./types.js";

/**
 * Redeems a pass from Submit, once, by the caller it was issued to. The agent's status and
 * policy are read again here: a suspension or a narrowed policy since the challenge wins.
 */
export async function passFlow(
  deps: GateDeps,
  pass: string,
  call: CallContext,
): Promise<FlowOutcome> {
  // The caller's own agent, its operator and its key's revocation are read in the consume's
  // round trip (a pass is the caller's own).
  const readAgent = prefetchCallerAgent(deps.store.registry, call.caller);
  const standing = prefetchCallerStanding(deps.store, deps.verify, call.caller, deps.clock.now());
  const consumed = await deps.store.passes.consume(sha256Hex(pass));
  if (consumed.status === "not_found") throw new GatehouseError(Reason.PASS_NOT_FOUND);
  if (consumed.status === "already_used") throw new GatehouseError(Reason.PASS_ALREADY_USED);
  const record = consumed.value as PassRecord;
  if (!constantTimeEqual(record.caller, call.caller.fingerprint)) {
    throw new GatehouseError(Reason.PASS_IDENTITY_MISMATCH);
  }
  const nowMs = deps.clock.now();
  if (nowMs > record.expiresAt) throw new GatehouseError(Reason.PASS_EXPIRED);

  const agent = await requireActiveAgent(standing, record.did, readAgent);
  const authority = await authorizeScopes(
    deps.store.grants,
    agent,
    record.scopes,
    record.audience,
    nowMs,
  );
  return { agent, presenter: agent, scopes: record.scopes, audience: record.audience, authority };
}
