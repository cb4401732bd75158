import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import {
  ChallengeKind,
  type SubmitRequest,
  type SubmitResponseSchema,
} from "../../../gen/gatehouse/v1/gate_pb.js";
import { AuditEventType, agentEvent, challengeFailed } from "../../audit/events.js";
import type { ChallengeRecord } from "../../challenges/types.js";
import { randomId, sha256Hex } from "../../crypto/random.js";
import { GatehouseError } from "../../errors/index.js";
import { prefetchCallerAgent } from "../agents.js";
import type { CallContext } from "../types.js";
import { EXPIRED_RECORD_GRACE_MS, type GateDeps, type PassRecord } from "./deps.js";
import { submittingAgent } from "./submit-steps/agent.js";
import { SUBMIT_STEPS } from "./submit-steps/index.js";

/**
 * Checks a submission: the challenge exists → it is consumed atomically on this first
 * attempt, whatever the outcome → then every step of SUBMIT_STEPS in order. Only then is a
 * single-use pass issued.
 *
 * The rate limits ran before (the dispatcher's `submit` limit, src/server/policy.ts), so a
 * refused submission leaves the challenge intact and the agent can retry it after
 * `retry_after_ms` (within the deadline) instead of starting over; and a flood of guesses at
 * challenge ids costs no store lookups. Once past the limits, a wrong answer still consumes
 * the challenge.
 */
export async function submitAnswer(
  deps: GateDeps,
  request: SubmitRequest,
  call: CallContext,
): Promise<MessageInitShape<typeof SubmitResponseSchema>> {
  try {
    return await checkSubmission(deps, request, call);
  } catch (error) {
    // Refused past the rate limits: audited with its reason (never the submission itself).
    if (error instanceof GatehouseError)
      await deps.audit.record(challengeFailed(call.caller, error.reason));
    throw error;
  }
}

async function checkSubmission(
  deps: GateDeps,
  request: SubmitRequest,
  call: CallContext,
): Promise<MessageInitShape<typeof SubmitResponseSchema>> {
  // The caller's own agent is read in the consume's round trip; the steps read it from there.
  const readAgent = prefetchCallerAgent(deps.store.registry, call.caller);
  const consumed = await deps.store.challenges.consume(sha256Hex(request.challengeId));
  if (consumed.status === "not_found") throw new GatehouseError(Reason.CHALLENGE_NOT_FOUND);
  if (consumed.status === "already_used") {
    throw new GatehouseError(Reason.CHALLENGE_ALREADY_USED);
  }
  const record = consumed.value as ChallengeRecord;
  // A DID proof binds no scopes: only Token's did_proof grant, which names them, redeems it.
  if (record.kind === ChallengeKind.DID_PROOF) {
    throw new GatehouseError(Reason.CHALLENGE_KIND_MISMATCH, { field: "challenge_id" });
  }
  const now = deps.clock.now();
  const context = { deps, request, call, record, now, readAgent };
  for (const step of SUBMIT_STEPS) await step(context);

  const pass = randomId();
  const ttlMs = deps.settings.passTtlSeconds * 1000;
  const passRecord: PassRecord = {
    did: record.did,
    caller: record.caller,
    scopes: record.scopes,
    audience: record.audience,
    expiresAt: now + ttlMs,
  };
  const agent = await submittingAgent(context);
  // Stored and audited in one round trip; the pass is returned only once both are done.
  await Promise.all([
    deps.store.passes.put(sha256Hex(pass), passRecord, ttlMs + EXPIRED_RECORD_GRACE_MS),
    deps.audit.record(
      agentEvent(AuditEventType.PASS_ISSUED, call.caller, agent, {
        scopes: [...record.scopes],
        audiences: [record.audience],
      }),
    ),
  ]);
  return { passToken: pass, expiresAt: timestampFromMs(passRecord.expiresAt) };
}
