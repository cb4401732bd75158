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
import { createGateRateLimits } from "./rate-limits.js";

/** Abuse control on the gate; each method throws a GatehouseError or returns. */
export interface AbuseControl {
  /** The first step of Challenge: rate limits, then (adaptive mode) the admission ticket. */
  challenge(request: ChallengeRequest, call: CallContext): Promise<void>;
  /** The first step of Submit: rate limits. */
  submit(request: SubmitRequest, call: CallContext): Promise<void>;
  /** The first step of a challenge redeemed at Token (a DID proof): Submit's rate limits. */
  redeem(kind: ChallengeKind, call: CallContext): Promise<void>;
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
    async challenge(request, call) {
      await rateLimit("challenge", request.kind, call);
      await proofOfWork(request, call);
    },
    async submit(request, call) {
      // The kind the answer claims picks the per-kind limit. Trusting the claim is safe: an
      // answer of another kind than the stored challenge's is refused (and the challenge
      // spent), and that challenge was counted under its true kind when it was issued.
      const kind = plugins.find((plugin) => plugin.answerCase === request.answer.case)?.kind;
      await rateLimit("submit", kind, call);
    },
    redeem: (kind, call) => rateLimit("submit", kind, call),
  };
}
