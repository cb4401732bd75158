import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import type { EnvelopeRecord } from "../../../../src/store/ports.js";
import { envelopeStep, recordProofFailure } from "../../../../src/verify/steps/envelope.js";
import type { VerifyAmount } from "../../../../src/verify/types.js";
import { refused, stepOutcome } from "../../outcome.js";
import { agentRecord, harness, input, policy, state } from "./fixture.js";

const ENVELOPE: EnvelopeRecord = {
  maxRequests: 0,
  requestWindowMs: 0,
  allowedTimes: [],
  budgetPeriodMs: 86_400_000,
  freezeAfterFailures: 0,
  freezeWindowMs: 0,
  freezeDurationMs: 0,
};
const EUR = (minorUnits: bigint): VerifyAmount => ({ currency: "EUR", minorUnits });
const capped: Partial<EnvelopeRecord> = {
  maxTransaction: { currency: "EUR", minorUnits: 500 },
  budget: { currency: "EUR", minorUnits: 800 },
};

/** The step for one request under `envelope` (the fixture's clock: Monday 12:00 UTC). */
async function outcome(changes: Partial<EnvelopeRecord>, amount?: VerifyAmount, times = 1) {
  const { deps } = await harness();
  const agent = agentRecord({ policy: policy({ envelope: { ...ENVELOPE, ...changes } }) });
  let last: unknown;
  for (let i = 0; i < times; i++) {
    const s = state({ agent, input: input(amount === undefined ? {} : { amount }) });
    last = await stepOutcome(envelopeStep(s, deps));
  }
  return last;
}

describe("envelope step (Policy.envelope: time, rate, currency, cap, budget)", () => {
  it.each<[string, Partial<EnvelopeRecord>, VerifyAmount | undefined, number, unknown]>([
    ["no bound", {}, undefined, 1, "allowed"],
    [
      "inside a time window",
      { allowedTimes: [{ days: [1], startMinute: 600, endMinute: 780 }] },
      undefined,
      1,
      "allowed",
    ],
    [
      "outside the time windows (another day)",
      { allowedTimes: [{ days: [2], startMinute: 0, endMinute: 1440 }] },
      undefined,
      1,
      refused(Reason.OUTSIDE_ALLOWED_TIME, "outside the agent's allowed time windows"),
    ],
    [
      "the window's end is exclusive",
      { allowedTimes: [{ days: [], startMinute: 0, endMinute: 720 }] },
      undefined,
      1,
      refused(Reason.OUTSIDE_ALLOWED_TIME, "outside the agent's allowed time windows"),
    ],
    [
      "within the request rate",
      { maxRequests: 2, requestWindowMs: 60_000 },
      undefined,
      2,
      "allowed",
    ],
    [
      "over the request rate",
      { maxRequests: 2, requestWindowMs: 60_000 },
      undefined,
      3,
      refused(Reason.ENVELOPE_EXCEEDED, "envelope request rate exceeded"),
    ],
    [
      "another currency",
      capped,
      { currency: "USD", minorUnits: 1n },
      1,
      refused(Reason.CURRENCY_MISMATCH, "currency not allowed by policy"),
    ],
    [
      "over the per-transaction cap",
      capped,
      EUR(501n),
      1,
      refused(Reason.TRANSACTION_LIMIT_EXCEEDED, "amount exceeds the per-transaction limit"),
    ],
    ["within cap and budget", capped, EUR(400n), 2, "allowed"],
    [
      "over the remaining budget",
      capped,
      EUR(400n),
      3,
      refused(Reason.BUDGET_EXCEEDED, "amount exceeds the remaining budget"),
    ],
    [
      "more than the whole budget",
      { budget: { currency: "EUR", minorUnits: 100 } },
      EUR(101n),
      1,
      refused(Reason.BUDGET_EXCEEDED, "amount exceeds the remaining budget"),
    ],
  ])("%s", async (_case, changes, amount, times, expected) => {
    expect(await outcome(changes, amount, times)).toEqual(expected);
  });

  it("freezes the agent after its own proof failures, and only those count", async () => {
    const { deps } = await harness();
    const envelope = {
      ...ENVELOPE,
      freezeAfterFailures: 2,
      freezeWindowMs: 60_000,
      freezeDurationMs: 60_000,
    };
    const agent = agentRecord({ policy: policy({ envelope }) });
    // Failures not marked as the key holder's own never count.
    for (let i = 0; i < 3; i++) await recordProofFailure(state({ agent }), deps);
    expect(await stepOutcome(envelopeStep(state({ agent }), deps))).toBe("allowed");
    for (let i = 0; i < 2; i++) {
      await recordProofFailure(state({ agent, keyHolderProofFailed: true }), deps);
    }
    expect(await stepOutcome(envelopeStep(state({ agent }), deps))).toEqual(
      refused(Reason.AGENT_FROZEN, "agent temporarily frozen"),
    );
  });
});
