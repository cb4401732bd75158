import { createHash } from "node:crypto";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { AgentRecord, EnvelopeRecord, TimeWindowRecord } from "../../store/ports.js";
import type { VerifyDeps, VerifyState } from "../types.js";

const MINUTES_PER_DAY = 1440;

/**
 * The agent's behavioural envelope (Policy.envelope), enforced server-side on every request
 * that passed every other check, in this order: frozen → allowed time windows → request rate
 * → currency and per-transaction cap → period budget. The budget is spent last, so a request
 * refused for any reason spends nothing; the request rate counts every request that reached
 * this step (including ones the cap or the budget then refuse).
 *
 * Store keys use a hash of the DID, so any DID fits the store's key rule.
 */
export function envelopeStep(
  state: VerifyState,
  deps: VerifyDeps,
): Reason | undefined | Promise<Reason | undefined> {
  const agent = state.agent;
  const envelope = agent?.policy.envelope;
  // No envelope: decided without waiting (the pipeline spends no microtask here).
  if (!agent || !envelope) return undefined;
  return enforceEnvelope(agent, envelope, state, deps);
}

async function enforceEnvelope(
  agent: AgentRecord,
  envelope: EnvelopeRecord,
  state: VerifyState,
  deps: VerifyDeps,
): Promise<Reason | undefined> {
  const id = agentKey(agent.did);
  const nowMs = deps.clock.now();

  if (envelope.freezeAfterFailures > 0 && (await deps.envelopes.isFrozen(`agent:${id}`))) {
    return Reason.AGENT_FROZEN;
  }
  if (envelope.allowedTimes.length > 0 && !insideAllowedTimes(envelope.allowedTimes, nowMs)) {
    return Reason.OUTSIDE_ALLOWED_TIME;
  }
  if (envelope.maxRequests > 0) {
    const hit = await deps.rateLimits.hit(
      `envelope:rate:${id}`,
      envelope.maxRequests,
      envelope.requestWindowMs,
    );
    if (!hit.allowed) return Reason.ENVELOPE_EXCEEDED;
  }
  const amount = state.input.amount;
  if (amount === undefined) return undefined;
  const { maxTransaction, budget } = envelope;
  const currency = maxTransaction?.currency ?? budget?.currency;
  if (currency !== undefined && amount.currency !== currency) return Reason.CURRENCY_MISMATCH;
  if (maxTransaction && amount.minorUnits > BigInt(maxTransaction.minorUnits)) {
    return Reason.TRANSACTION_LIMIT_EXCEEDED;
  }
  if (!budget || amount.minorUnits === 0n) return undefined;
  // More than the whole budget can never fit (and keeps the store's numbers safe integers).
  if (amount.minorUnits > BigInt(budget.minorUnits)) return Reason.BUDGET_EXCEEDED;
  const period = Math.floor(nowMs / envelope.budgetPeriodMs);
  const periodEnd = (period + 1) * envelope.budgetPeriodMs;
  const spend = await deps.envelopes.spend(
    `budget:${id}:${budget.currency}:${envelope.budgetPeriodMs}:${period}`,
    Number(amount.minorUnits),
    budget.minorUnits,
    periodEnd - nowMs,
  );
  return spend.allowed ? undefined : Reason.BUDGET_EXCEEDED;
}

/**
 * Counts a refused proof against the agent whose envelope applies (the token's subject); the
 * `freeze_after_failures`-th within `freeze_window` freezes it for `freeze_duration`. Called
 * by the pipeline for every denied request; only proofs the DPoP step found to be the bound
 * key holder's own failure count (`keyHolderProofFailed`, see DpopResult.byKeyHolder): junk
 * proofs, proofs by other keys, stale or replayed copies can be sent by anyone who has seen
 * the token or a proof, and counting them would let any such party freeze the agent.
 */
export async function recordProofFailure(state: VerifyState, deps: VerifyDeps): Promise<void> {
  const agent = state.agent;
  const envelope: EnvelopeRecord | undefined = agent?.policy.envelope;
  if (!agent || !envelope || envelope.freezeAfterFailures === 0) return;
  if (state.keyHolderProofFailed !== true) return;
  const id = agentKey(agent.did);
  const hit = await deps.rateLimits.hit(
    `envelope:failures:${id}`,
    envelope.freezeAfterFailures,
    envelope.freezeWindowMs,
  );
  if (!hit.allowed || hit.remaining === 0) {
    await deps.envelopes.freeze(`agent:${id}`, envelope.freezeDurationMs);
  }
}

/** Whether `nowMs` (UTC) falls in one of the windows: ISO weekday and minute of the day. */
export function insideAllowedTimes(windows: readonly TimeWindowRecord[], nowMs: number): boolean {
  const date = new Date(nowMs);
  const weekday = date.getUTCDay() === 0 ? 7 : date.getUTCDay();
  const minute = (date.getUTCHours() * 60 + date.getUTCMinutes()) % MINUTES_PER_DAY;
  return windows.some(
    (window) =>
      (window.days.length === 0 || window.days.includes(weekday)) &&
      minute >= window.startMinute &&
      minute < window.endMinute,
  );
}

function agentKey(did: string): string {
  return createHash("sha256").update(did, "utf8").digest("hex");
}
