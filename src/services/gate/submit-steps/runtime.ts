import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind } from "../../../../gen/gatehouse/v1/gate_pb.js";
import type { RuntimeConfig } from "../../../config/schema.js";
import { GatehouseError } from "../../../errors/index.js";
import type { RuntimeBounds } from "../deps.js";
import type { SubmitContext } from "./types.js";

/**
 * The agent-reported `runtime_ms` must fit the kind's plausibility bounds and must not exceed
 * what this server measured since it issued the challenge (plus a small tolerance: the two
 * clocks start and stop at different moments). 0 ("not reported") therefore passes only where
 * the kind's minimum is 0. A kind without bounds cannot be judged, so it is refused.
 */
export function runtimeStep({ deps, request, record, now }: SubmitContext): void {
  const { toleranceMs, bounds } = deps.settings.runtime;
  const limits = bounds.get(record.kind);
  const reported = request.runtimeMs;
  if (
    !limits ||
    reported < limits.minMs ||
    reported > limits.maxMs ||
    reported > now - record.issuedAt + toleranceMs
  ) {
    throw new GatehouseError(Reason.RUNTIME_IMPLAUSIBLE);
  }
}

/** The per-kind bounds of the configuration. */
export function runtimeBoundsByKind(
  runtime: RuntimeConfig,
): ReadonlyMap<ChallengeKind, RuntimeBounds> {
  return new Map([
    [ChallengeKind.SIGNATURE, { minMs: runtime.signatureMinMs, maxMs: runtime.signatureMaxMs }],
    [ChallengeKind.REASONING, { minMs: runtime.reasoningMinMs, maxMs: runtime.reasoningMaxMs }],
    [
      ChallengeKind.ITERATED_HASH,
      { minMs: runtime.iteratedHashMinMs, maxMs: runtime.iteratedHashMaxMs },
    ],
    [ChallengeKind.HASHCASH, { minMs: runtime.hashcashMinMs, maxMs: runtime.hashcashMaxMs }],
  ]);
}
