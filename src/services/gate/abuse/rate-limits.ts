import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import type { ChallengeKind } from "../../../../gen/gatehouse/v1/gate_pb.js";
import { kindName, type LimitsConfig, type RateLimits } from "../../../config/limits.js";
import { GatehouseError } from "../../../errors/index.js";
import { sourceAddress } from "../../../identity/source-address.js";
import type { RateLimiter } from "../../../store/ports.js";
import type { CallContext } from "../../types.js";

export type GateAction = "challenge" | "submit";

const LIMIT_NAMES = {
  challenge: { identity: "challengePerIdentity", address: "challengePerAddress" },
  submit: { identity: "submitPerIdentity", address: "submitPerAddress" },
} as const satisfies Record<GateAction, Record<string, keyof RateLimits>>;

/**
 * The identity a caller's limits count under: its certificate's fingerprint. A claimant (a DID
 * claimed without a certificate, proven only later) counts per claimed DID AND source address
 * (the client's, forwarded under the proxy MAC): anyone can claim any DID, so a stranger's
 * flood for a DID fills only the stranger's own bucket, never the agent's.
 */
export function identitySubject(call: CallContext): string {
  const { caller } = call;
  return caller.role === "claimant"
    ? `${caller.fingerprint}@${sourceAddress(call.peerAddress)}`
    : caller.fingerprint;
}

/**
 * Per caller identity (identitySubject) AND per source address, in the store, so
 * every replica counts into the same windows. A kind that overrides a limit has a bucket
 * of its own; the others share the `all` bucket.
 */
export function createGateRateLimits(rateLimits: RateLimiter, config: LimitsConfig) {
  const windowMs = config.windowSeconds * 1000;

  const limitOf = (name: keyof RateLimits, kind: ChallengeKind | undefined) => {
    const bucket = kind === undefined ? undefined : kindName(kind);
    const override = bucket === undefined ? undefined : config.kinds[bucket]?.[name];
    return bucket === undefined || override === undefined
      ? { bucket: "all", limit: config[name] }
      : { bucket, limit: override };
  };

  /** Throws RATE_LIMITED, with the longest wait any refusing limit asks for. */
  return async (action: GateAction, kind: ChallengeKind | undefined, call: CallContext) => {
    const subjects = { identity: identitySubject(call), address: sourceAddress(call.peerAddress) };
    // Both limits are hit even when one refuses: a refused call was still an attempt. One
    // store call hits both (one script on Redis), so the added latency is one round trip.
    const hits = (["identity", "address"] as const).flatMap((dimension) => {
      const { bucket, limit } = limitOf(LIMIT_NAMES[action][dimension], kind);
      if (limit === 0) return []; // 0 turns a limit off (e.g. address behind a load balancer)
      return [{ key: `${action}:${dimension}:${bucket}:${subjects[dimension]}`, limit, windowMs }];
    });
    const refused = (await rateLimits.hitEach(hits)).filter((result) => !result.allowed);
    if (refused.length > 0) {
      const retryAfterMs = Math.max(...refused.map((result) => result.retryAfterMs));
      throw new GatehouseError(Reason.RATE_LIMITED, { retryAfterMs });
    }
  };
}
