import type { Message } from "@bufbuild/protobuf";
import type {
  ChallengeKind,
  ChallengeRequest,
  SubmitRequest,
} from "../../../../gen/gatehouse/v1/gate_pb.js";
import type { ChallengeKinds } from "../../../challenges/index.js";
import type { Clock } from "../../../clock.js";
import type { LimitsConfig } from "../../../config/limits.js";
import type { Store } from "../../../store/ports.js";
import type { CallContext } from "../../types.js";
import { createProofOfWorkGate } from "./admission.js";
import { createLiveDidProofBound } from "./live-did-proofs.js";
import { createGateRateLimits } from "./rate-limits.js";

/** Abuse control on the gate; each member throws a GatehouseError or returns. */
export interface AbuseControl {
  /** The first step of Challenge: (adaptive mode) the admission ticket. */
  challenge(request: ChallengeRequest, call: CallContext): Promise<void>;
  /**
   * The per-RPC table's `challenge` and `submit` rate limits, which the dispatcher checks for
   * every authorized call of those methods (src/server/call-steps.ts).
   */
  readonly rateLimits: {
    readonly challenge: (request: Message, call: CallContext) => Promise<void>;
    readonly submit: (request: Message, call: CallContext) => Promise<void>;
  };
  /**
   * A challenge redeemed at Token (a DID proof) counts against Submit's limits: Token's row
   * has none, since its other grants answer no challenge.
   */
  redeem(kind: ChallengeKind, call: CallContext): Promise<void>;
  /**
   * Before a DID-proof challenge is stored: at most LIVE_DID_PROOFS of them per DID (and per
   * DID from one address) within `ttlMs`, the challenge lifetime (live-did-proofs.ts).
   */
  liveDidProof(did: string, call: CallContext, ttlMs: number): Promise<void>;
}

export interface AbuseControlDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly kinds: ChallengeKinds;
  readonly limits: LimitsConfig;
}

export function createAbuseControl(deps: AbuseControlDeps): AbuseControl {
  const rateLimit = createGateRateLimits(deps.store.rateLimits, deps.limits);
  const proofOfWork = createProofOfWorkGate(deps.store, deps.clock, deps.limits);
  const plugins = [...deps.kinds.values()];

  return {
    challenge: proofOfWork,
    rateLimits: {
      // The kind the request names picks the per-kind limit (an unknown kind counts in the
      // shared bucket; validation then refuses it).
      challenge: (request, call) =>
        rateLimit("challenge", (request as ChallengeRequest).kind, call),
      submit(request, call) {
        // The kind the answer claims picks the per-kind limit. Trusting the claim is safe: an
        // answer of another kind than the stored challenge's is refused (and the challenge
        // spent), and that challenge was counted under its true kind when it was issued.
        const answer = (request as SubmitRequest).answer.case;
        const kind = plugins.find((plugin) => plugin.answerCase === answer)?.kind;
        return rateLimit("submit", kind, call);
      },
    },
    redeem: (kind, call) => rateLimit("submit", kind, call),
    liveDidProof: createLiveDidProofBound(deps.store.rateLimits),
  };
}
