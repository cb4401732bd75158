import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { SubmitRequest, SubmitResponseSchema } from "../../../gen/gatehouse/v1/gate_pb.js";
import { CHALLENGE_KINDS } from "../../challenges/index.js";
import type { ChallengeRecord } from "../../challenges/types.js";
import { constantTimeEqual, randomId, sha256Hex } from "../../crypto/random.js";
import { GatehouseError } from "../../errors/index.js";
import type { CallContext } from "../types.js";
import { EXPIRED_RECORD_GRACE_MS, type GateDeps, type PassRecord } from "./deps.js";

/**
 * Checks a submission, in this order (each with its own reason): the challenge exists →
 * it is consumed atomically on this first attempt, whatever the outcome → the caller is
 * the one it was issued to → the deadline has not passed → the answer is checked by the
 * kind that was *stored*. Only then is a single-use pass issued.
 */
export async function submitAnswer(
  deps: GateDeps,
  request: SubmitRequest,
  call: CallContext,
): Promise<MessageInitShape<typeof SubmitResponseSchema>> {
  const consumed = await deps.store.challenges.consume(sha256Hex(request.challengeId));
  if (consumed.status === "not_found") throw new GatehouseError(Reason.CHALLENGE_NOT_FOUND);
  if (consumed.status === "already_used") {
    throw new GatehouseError(Reason.CHALLENGE_ALREADY_USED);
  }
  const record = consumed.value as ChallengeRecord;
  if (!constantTimeEqual(record.caller, call.caller.fingerprint)) {
    throw new GatehouseError(Reason.CHALLENGE_IDENTITY_MISMATCH);
  }
  const now = deps.clock.now();
  if (now > record.expiresAt) throw new GatehouseError(Reason.CHALLENGE_EXPIRED);

  const plugin = CHALLENGE_KINDS.get(record.kind);
  if (!plugin) throw new GatehouseError(Reason.CHALLENGE_KIND_UNSUPPORTED);
  if (request.answer.case !== plugin.answerCase) {
    throw new GatehouseError(Reason.CHALLENGE_KIND_MISMATCH, { field: "answer" });
  }
  const context = {
    challengeId: request.challengeId,
    issuer: deps.settings.issuer,
    record,
    registry: deps.store.registry,
  };
  if (!(await plugin.verify(context, request.answer.value))) {
    throw new GatehouseError(Reason.ANSWER_INVALID);
  }

  const pass = randomId();
  const ttlMs = deps.settings.passTtlSeconds * 1000;
  const passRecord: PassRecord = {
    did: record.did,
    caller: record.caller,
    scopes: record.scopes,
    audience: record.audience,
    expiresAt: now + ttlMs,
  };
  await deps.store.passes.put(sha256Hex(pass), passRecord, ttlMs + EXPIRED_RECORD_GRACE_MS);
  return { pass, expiresAt: timestampFromMs(passRecord.expiresAt) };
}
