import { capabilityScopes } from "../../grants/model.js";
import type { AgentRecord, EnvelopeRecord, GrantRecord } from "../../store/ports.js";
import { capabilityWords, durationWords, moneyWords, perWords, timeWindowWords } from "./words.js";

/** A pending grant as the approval page shows it: everything the passkey will sign for. */
export interface GrantView {
  readonly id: string;
  readonly agent: { readonly name: string; readonly did: string };
  /** The service the capabilities are for. */
  readonly audience: string;
  /** "transact on payments/eur", … */
  readonly capabilities: readonly string[];
  readonly scopes: readonly string[];
  /** How long the grant lasts once approved, in words. */
  readonly duration: string;
  /** The agent's envelope in words; empty when its policy sets no limit. */
  readonly limits: readonly string[];
  /** The agent's words, to be shown as text. */
  readonly reason: string;
  /** ISO 8601. */
  readonly requestedAt: string;
  /** ISO 8601: when the request lapses unless decided. */
  readonly expiresAt: string;
}

/** `agent` is the registry's record of the grant's agent (undefined when it is gone). */
export function grantView(grant: GrantRecord, agent: AgentRecord | undefined): GrantView {
  return {
    id: grant.id,
    agent: { name: agent?.displayName ?? "(unknown agent)", did: grant.agentDid },
    audience: grant.audience,
    capabilities: grant.capabilities.map(capabilityWords),
    scopes: capabilityScopes(grant.capabilities),
    duration: durationWords(grant.durationMs),
    limits: envelopeWords(agent?.policy.envelope),
    reason: grant.reason,
    requestedAt: new Date(grant.createdAt).toISOString(),
    expiresAt: new Date(grant.expiresAt).toISOString(),
  };
}

/** The bounds Verify enforces on the agent's tokens, grant or not (0 = no bound). */
function envelopeWords(envelope: EnvelopeRecord | undefined): string[] {
  if (!envelope) return [];
  const limits: string[] = [];
  if (envelope.maxTransaction && envelope.maxTransaction.minorUnits > 0) {
    limits.push(`at most ${moneyWords(envelope.maxTransaction)} per transaction`);
  }
  if (envelope.budget && envelope.budget.minorUnits > 0) {
    const period = envelope.budgetPeriodMs > 0 ? ` ${perWords(envelope.budgetPeriodMs)}` : "";
    limits.push(`at most ${moneyWords(envelope.budget)} in total${period}`);
  }
  if (envelope.maxRequests > 0 && envelope.requestWindowMs > 0) {
    limits.push(`at most ${envelope.maxRequests} requests ${perWords(envelope.requestWindowMs)}`);
  }
  if (envelope.allowedTimes.length > 0) {
    limits.push(`only ${envelope.allowedTimes.map(timeWindowWords).join(" or ")}`);
  }
  return limits;
}
