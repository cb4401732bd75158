import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import {
  ChallengeKind,
  type ChallengeRequest,
  type HashcashAdmission,
} from "../../../../gen/gatehouse/v1/gate_pb.js";
import { hashcashSolved } from "../../../challenges/hashcash/index.js";
import type { ChallengeRecord } from "../../../challenges/types.js";
import type { Clock } from "../../../clock.js";
import type { LimitsConfig } from "../../../config/limits.js";
import { constantTimeEqual } from "../../../crypto/constant-time.js";
import { sha256Hex } from "../../../crypto/random.js";
import { GatehouseError } from "../../../errors/index.js";
import type { Store } from "../../../store/ports.js";
import type { CallContext } from "../../types.js";
import { identitySubject } from "./rate-limits.js";

/**
 * Adaptive mode: once an identity was issued `threshold` challenges in the window, every
 * further Challenge (of any kind but hashcash, the ticket itself) must carry a solved
 * hashcash challenge issued to the same caller. Costly to find, one hash to check: a flood
 * now costs the flooder, not the gate. Off unless configured.
 */
export function createProofOfWorkGate(store: Store, clock: Clock, config: LimitsConfig) {
  const { enabled, threshold } = config.adaptive;
  const windowMs = config.windowSeconds * 1000;

  return async (request: ChallengeRequest, call: CallContext): Promise<void> => {
    if (!enabled || request.kind === ChallengeKind.HASHCASH) return;
    // Refused hits are not recorded, so admitted challenges do not keep the window full:
    // the mode ends once the unadmitted ones have left the window.
    const key = `adaptive:identity:${identitySubject(call)}`;
    if ((await store.rateLimits.hit(key, threshold, windowMs)).allowed) return;
    // An admission sent while none is required is left unspent, for when one is.
    if (!request.admission) throw new GatehouseError(Reason.PROOF_OF_WORK_REQUIRED);
    if (!(await redeem(store, clock.now(), request.admission, call))) {
      throw new GatehouseError(Reason.PROOF_OF_WORK_INVALID);
    }
  };
}

/**
 * Like Submit: the ticket is consumed atomically first, so whatever follows it is spent
 * (one attempt, and at most one admission per solved challenge, across replicas); then it
 * must be a hashcash challenge of this caller, within its deadline, and solved.
 */
async function redeem(
  store: Store,
  now: number,
  admission: HashcashAdmission,
  call: CallContext,
): Promise<boolean> {
  const consumed = await store.challenges.consume(sha256Hex(admission.challengeId));
  if (consumed.status !== "ok") return false;
  const record = consumed.value as ChallengeRecord;
  const { prefix, difficultyBits } = record.state;
  return (
    record.kind === ChallengeKind.HASHCASH &&
    constantTimeEqual(record.caller, call.caller.fingerprint) &&
    now <= record.expiresAt &&
    prefix !== undefined &&
    difficultyBits !== undefined &&
    admission.answer !== undefined &&
    hashcashSolved(prefix, admission.answer.nonce, Number(difficultyBits))
  );
}
