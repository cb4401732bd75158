import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Duration, durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Agent,
  AgentSchema,
  AgentStatus,
  DomainVerificationMethod,
  DomainVerificationState,
  type Envelope,
  type Money,
  type Operator,
  OperatorSchema,
  OperatorStatus,
  type Policy,
} from "../../../gen/gatehouse/v1/resources_pb.js";
import type { DomainProofLocations, DomainProofMethod } from "../../domains/index.js";
import { invalidArgument } from "../../errors/index.js";
import { capabilitiesFromMessage, toCapabilityMessage } from "../../grants/convert.js";
import type {
  AgentRecord,
  AutonomyRecord,
  EnvelopeRecord,
  MoneyRecord,
  OperatorRecord,
  PolicyRecord,
  AgentStatus as StoredAgentStatus,
  DomainVerificationMethod as StoredVerificationMethod,
} from "../../store/ports.js";
import {
  domainVerificationOf,
  type DomainVerificationState as StoredVerificationState,
  verificationState,
} from "./domain-verification.js";

const AGENT_STATUS: Record<StoredAgentStatus, AgentStatus> = {
  active: AgentStatus.ACTIVE,
  suspended: AgentStatus.SUSPENDED,
  revoked: AgentStatus.REVOKED,
  deleted: AgentStatus.DELETED,
};

const OPERATOR_STATUS: Record<OperatorRecord["status"], OperatorStatus> = {
  active: OperatorStatus.ACTIVE,
  suspended: OperatorStatus.SUSPENDED,
  revoked: OperatorStatus.REVOKED,
};

const VERIFICATION_METHOD: Record<StoredVerificationMethod, DomainVerificationMethod> = {
  dns_txt: DomainVerificationMethod.DNS_TXT,
  https_well_known: DomainVerificationMethod.HTTPS_WELL_KNOWN,
  admin_attested: DomainVerificationMethod.ADMIN_ATTESTED,
};

const VERIFICATION_STATE: Record<StoredVerificationState, DomainVerificationState> = {
  pending: DomainVerificationState.PENDING,
  verified: DomainVerificationState.VERIFIED,
  expired: DomainVerificationState.EXPIRED,
};

/** The proofs the server checks; undefined for an attestation (made only at CreateOperator). */
const PROOF_METHOD: Partial<Record<DomainVerificationMethod, DomainProofMethod>> = {
  [DomainVerificationMethod.DNS_TXT]: "dns_txt",
  [DomainVerificationMethod.HTTPS_WELL_KNOWN]: "https_well_known",
};

export function proofMethodFromProto(
  method: DomainVerificationMethod,
): DomainProofMethod | undefined {
  return PROOF_METHOD[method];
}

export function agentStatusFromProto(status: AgentStatus): StoredAgentStatus | undefined {
  const entry = Object.entries(AGENT_STATUS).find(([, value]) => value === status);
  return entry?.[0] as StoredAgentStatus | undefined;
}

export function toAgentMessage(agent: AgentRecord): Agent {
  const init: MessageInitShape<typeof AgentSchema> = {
    did: agent.did,
    operatorDomain: agent.operatorDomain,
    publicKey: Buffer.from(agent.publicKeyHex, "hex"),
    status: AGENT_STATUS[agent.status],
    policy: {
      scopes: [...agent.policy.scopes],
      audiences: [...agent.policy.audiences],
      maxTokenTtl: durationFromMs(agent.policy.maxTokenTtlSeconds * 1000),
      autonomy: toAutonomyMessage(agent.policy.autonomy),
      delegates: [...(agent.policy.delegates ?? [])],
      ...(agent.policy.envelope && { envelope: toEnvelopeMessage(agent.policy.envelope) }),
      capabilities: (agent.policy.capabilities ?? []).map(toCapabilityMessage),
    },
    policyVersion: BigInt(agent.policyVersion),
    displayName: agent.displayName,
    createTime: timestampFromMs(agent.createdAt),
    updateTime: timestampFromMs(agent.updatedAt),
    keys: agentKeyHistory(agent).map((key) => ({
      publicKey: Buffer.from(key.publicKeyHex, "hex"),
      createTime: timestampFromMs(key.createdAt),
      ...(key.retiredAt !== undefined && { retireTime: timestampFromMs(key.retiredAt) }),
    })),
  };
  return create(AgentSchema, init);
}

/** Every key the agent has had, oldest first; the last is the current one (no `retiredAt`). */
export function agentKeyHistory(
  agent: AgentRecord,
): { publicKeyHex: string; createdAt: number; retiredAt?: number }[] {
  return [
    ...(agent.retiredKeys ?? []),
    { publicKeyHex: agent.publicKeyHex, createdAt: agent.keyCreatedAt ?? agent.createdAt },
  ];
}

function toAutonomyMessage(autonomy: AutonomyRecord | undefined) {
  return {
    requireAttestation: autonomy?.requireAttestation ?? false,
    minContinuousOperation: durationFromMs((autonomy?.minOperationSeconds ?? 0) * 1000),
    minAutonomousActions: BigInt(autonomy?.minAutonomousActions ?? 0),
    requirePlatformAttestation: autonomy?.requirePlatformAttestation ?? false,
  };
}

/**
 * The operator with its verification token and where to publish it (`locations`): every RPC
 * that returns an Operator answers the operator itself or an admin only.
 */
export function toOperatorMessage(
  operator: OperatorRecord,
  now: number,
  locations: DomainProofLocations,
): Operator {
  const verification = domainVerificationOf(operator);
  const { method, verifiedAt, expiresAt } = verification;
  return create(OperatorSchema, {
    domain: operator.domain,
    displayName: operator.displayName,
    status: OPERATOR_STATUS[operator.status],
    createTime: timestampFromMs(operator.createdAt),
    verification: {
      state: VERIFICATION_STATE[verificationState(verification, now)],
      method:
        method === undefined ? DomainVerificationMethod.UNSPECIFIED : VERIFICATION_METHOD[method],
      token: verification.token,
      dnsRecordName: locations.dnsRecordName,
      httpsUrl: locations.httpsUrl,
      ...(verifiedAt !== undefined && { verifyTime: timestampFromMs(verifiedAt) }),
      ...(expiresAt !== undefined && { expireTime: timestampFromMs(expiresAt) }),
    },
    ...(operator.publicKeyHex !== undefined && {
      publicKey: Buffer.from(operator.publicKeyHex, "hex"),
    }),
  });
}

/**
 * A policy from the wire, checked against the server's bounds. List shapes are already
 * enforced by the contract's field rules; here only what needs server config.
 */
export function policyFromMessage(
  policy: Policy | undefined,
  field: string,
  maxTokenTtlSeconds: number,
): PolicyRecord {
  const ttl = policy?.maxTokenTtl;
  const seconds = ttl ? Number(ttl.seconds) + (ttl.nanos > 0 ? 1 : 0) : 0;
  if (ttl && (ttl.seconds < 0n || ttl.nanos < 0)) {
    throw invalidArgument(`${field}.max_token_ttl`, "must not be negative");
  }
  if (seconds > maxTokenTtlSeconds) {
    throw invalidArgument(`${field}.max_token_ttl`, `must be at most ${maxTokenTtlSeconds}s`);
  }
  const envelope = envelopeFromMessage(policy?.envelope, `${field}.envelope`);
  const autonomy = policy?.autonomy;
  const minOperation = autonomy?.minContinuousOperation;
  if (minOperation && (minOperation.seconds < 0n || minOperation.nanos < 0)) {
    throw invalidArgument(`${field}.autonomy.min_continuous_operation`, "must not be negative");
  }
  return {
    scopes: [...(policy?.scopes ?? [])],
    audiences: [...(policy?.audiences ?? [])],
    maxTokenTtlSeconds: seconds,
    delegates: [...(policy?.delegates ?? [])],
    capabilities: capabilitiesFromMessage(policy?.capabilities ?? [], `${field}.capabilities`),
    autonomy: {
      requireAttestation: autonomy?.requireAttestation ?? false,
      minOperationSeconds: Number(minOperation?.seconds ?? 0n),
      minAutonomousActions: Number(autonomy?.minAutonomousActions ?? 0n),
      requirePlatformAttestation: autonomy?.requirePlatformAttestation ?? false,
    },
    ...(envelope && { envelope }),
  };
}

/** The longest window, period or freeze an envelope may name. */
const MAX_ENVELOPE_DURATION_MS = 366 * 24 * 3600 * 1000;

function toEnvelopeMessage(envelope: EnvelopeRecord) {
  const money = (value: MoneyRecord | undefined) =>
    value && { currency: value.currency, minorUnits: BigInt(value.minorUnits) };
  return {
    maxRequests: envelope.maxRequests,
    requestWindow: durationFromMs(envelope.requestWindowMs),
    allowedTimes: envelope.allowedTimes.map((window) => ({
      days: [...window.days],
      startMinute: window.startMinute,
      endMinute: window.endMinute,
    })),
    ...(envelope.maxTransaction && { maxTransaction: money(envelope.maxTransaction) }),
    ...(envelope.budget && { budget: money(envelope.budget) }),
    budgetPeriod: durationFromMs(envelope.budgetPeriodMs),
    freezeAfterFailures: envelope.freezeAfterFailures,
    freezeWindow: durationFromMs(envelope.freezeWindowMs),
    freezeDuration: durationFromMs(envelope.freezeDurationMs),
  };
}

/**
 * An envelope from the wire. Zero means "no limit" for each bound, so a bound that is set
 * needs its duration; an envelope setting no bound at all is not stored.
 */
function envelopeFromMessage(
  envelope: Envelope | undefined,
  field: string,
): EnvelopeRecord | undefined {
  if (!envelope) return undefined;
  const requestWindowMs = durationMs(envelope.requestWindow, `${field}.request_window`);
  const budgetPeriodMs = durationMs(envelope.budgetPeriod, `${field}.budget_period`);
  const freezeWindowMs = durationMs(envelope.freezeWindow, `${field}.freeze_window`);
  const freezeDurationMs = durationMs(envelope.freezeDuration, `${field}.freeze_duration`);
  const maxTransaction = moneyFromMessage(envelope.maxTransaction, `${field}.max_transaction`);
  const budget = moneyFromMessage(envelope.budget, `${field}.budget`);
  const allowedTimes = envelope.allowedTimes.map((window, i) => {
    const path = `${field}.allowed_times[${i}]`;
    window.days.forEach((day, j) => {
      if (!Number.isInteger(day) || day < 1 || day > 7) {
        throw invalidArgument(`${path}.days[${j}]`, "must be a weekday");
      }
    });
    if (window.endMinute <= window.startMinute) {
      throw invalidArgument(`${path}.end_minute`, "must be greater than start_minute");
    }
    return { days: [...window.days], startMinute: window.startMinute, endMinute: window.endMinute };
  });
  if (envelope.maxRequests > 0 && requestWindowMs === 0) {
    throw invalidArgument(`${field}.request_window`, "must be positive when max_requests is set");
  }
  if (budget && budgetPeriodMs === 0) {
    throw invalidArgument(`${field}.budget_period`, "must be positive when budget is set");
  }
  if (maxTransaction && budget && maxTransaction.currency !== budget.currency) {
    throw invalidArgument(`${field}.budget.currency`, "must be max_transaction's currency");
  }
  if (envelope.freezeAfterFailures > 0) {
    if (freezeWindowMs === 0) {
      throw invalidArgument(`${field}.freeze_window`, "must be positive when freezing is on");
    }
    if (freezeDurationMs === 0) {
      throw invalidArgument(`${field}.freeze_duration`, "must be positive when freezing is on");
    }
  }
  const record: EnvelopeRecord = {
    maxRequests: envelope.maxRequests,
    requestWindowMs,
    allowedTimes,
    ...(maxTransaction && { maxTransaction }),
    ...(budget && { budget }),
    budgetPeriodMs,
    freezeAfterFailures: envelope.freezeAfterFailures,
    freezeWindowMs,
    freezeDurationMs,
  };
  const bounded =
    record.maxRequests > 0 ||
    allowedTimes.length > 0 ||
    maxTransaction !== undefined ||
    budget !== undefined ||
    record.freezeAfterFailures > 0;
  return bounded ? record : undefined;
}

/** Whole milliseconds (rounded up); 0 when unset. */
function durationMs(duration: Duration | undefined, field: string): number {
  if (!duration) return 0;
  if (duration.seconds < 0n || duration.nanos < 0) {
    throw invalidArgument(field, "must not be negative");
  }
  const ms = Number(duration.seconds) * 1000 + Math.ceil(duration.nanos / 1_000_000);
  if (ms > MAX_ENVELOPE_DURATION_MS) throw invalidArgument(field, "must be at most 366 days");
  return ms;
}

/** A money bound; undefined when zero (no limit). */
function moneyFromMessage(money: Money | undefined, field: string): MoneyRecord | undefined {
  if (!money) return undefined;
  if (money.minorUnits < 0n) throw invalidArgument(`${field}.minor_units`, "must not be negative");
  if (money.minorUnits > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument(`${field}.minor_units`, `must be at most ${Number.MAX_SAFE_INTEGER}`);
  }
  if (money.minorUnits === 0n) return undefined;
  if (!/^[A-Z]{3}$/.test(money.currency)) {
    throw invalidArgument(`${field}.currency`, "must be an ISO 4217 code");
  }
  return { currency: money.currency, minorUnits: Number(money.minorUnits) };
}
