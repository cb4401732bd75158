import { Reason } from "../../../../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, type DidProofGrant } from "../../../../../gen/gatehouse/v1/gate_pb.js";
import { challengeFailed } from "../../../../audit/events.js";
import { verifyDidProof } from "../../../../challenges/did-proof/index.js";
import type { ChallengeRecord } from "../../../../challenges/types.js";
import { constantTimeEqual } from "../../../../crypto/constant-time.js";
import { sha256Hex } from "../../../../crypto/random.js";
import { GatehouseError } from "../../../../errors/index.js";
import { authorizeScopes } from "../../../../grants/allowance.js";
import { requireActiveAgent } from "../../../agents.js";
import type { CallContext } from "../../../types.js";
import type { GateDeps } from "../../deps.js";
import type { FlowOutcome } from "./types.js";

/**
 * Redeems a CHALLENGE_KIND_DID_PROOF challenge (the Auth4Agent-style login) with Submit's
 * guarantees: rate limits → the challenge is consumed atomically on this first attempt,
 * whatever follows → it is a DID proof → it was issued to this caller → before its deadline
 * → the signature verifies with the DID's registered key → the agent is active → its policy
 * asks for no attestation (this proof carries none) → the scopes and audience are within
 * its policy or live grants. A refusal past the rate limits is audited, as Submit's are.
 */
export async function didProofFlow(
  deps: GateDeps,
  grant: DidProofGrant,
  call: CallContext,
): Promise<FlowOutcome> {
  await deps.abuse.redeem(ChallengeKind.DID_PROOF, call);
  try {
    return await redeem(deps, grant, call);
  } catch (error) {
    if (error instanceof GatehouseError)
      await deps.audit.record(challengeFailed(call.caller, error.reason));
    throw error;
  }
}

async function redeem(
  deps: GateDeps,
  grant: DidProofGrant,
  call: CallContext,
): Promise<FlowOutcome> {
  const consumed = await deps.store.challenges.consume(sha256Hex(grant.challengeId));
  if (consumed.status === "not_found") throw new GatehouseError(Reason.CHALLENGE_NOT_FOUND);
  if (consumed.status === "already_used") throw new GatehouseError(Reason.CHALLENGE_ALREADY_USED);
  const record = consumed.value as ChallengeRecord;
  if (record.kind !== ChallengeKind.DID_PROOF) {
    throw new GatehouseError(Reason.CHALLENGE_KIND_MISMATCH, { field: "did_proof.challenge_id" });
  }
  if (!constantTimeEqual(record.caller, call.caller.fingerprint)) {
    throw new GatehouseError(Reason.CHALLENGE_IDENTITY_MISMATCH);
  }
  const nowMs = deps.clock.now();
  if (nowMs > record.expiresAt) throw new GatehouseError(Reason.CHALLENGE_EXPIRED);

  const registered = await deps.store.registry.getAgent(record.did);
  if (!verifyDidProof(registered, grant.challengeId, record, grant.signature)) {
    throw new GatehouseError(Reason.ANSWER_INVALID);
  }
  const agent = await requireActiveAgent(deps.store, record.did);
  const autonomy = agent.policy.autonomy;
  if (autonomy?.requireAttestation || autonomy?.requirePlatformAttestation) {
    throw new GatehouseError(Reason.ATTESTATION_REQUIRED);
  }
  const scopes = [...new Set(grant.scopes)].sort();
  const authority = await authorizeScopes(deps.store.grants, agent, scopes, grant.audience, nowMs);
  return {
    agent,
    presenter: agent,
    scopes,
    audience: grant.audience,
    authority,
    ...(grant.ttlSeconds > 0 ? { ttlSeconds: grant.ttlSeconds } : {}),
  };
}
