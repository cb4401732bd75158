import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Agent,
  AgentSchema,
  AgentStatus,
  type Operator,
  OperatorSchema,
  OperatorStatus,
  type Policy,
} from "../../../gen/gatehouse/v1/resources_pb.js";
import { invalidArgument } from "../../errors/index.js";
import type {
  AgentRecord,
  AutonomyRecord,
  OperatorRecord,
  PolicyRecord,
  AgentStatus as StoredAgentStatus,
} from "../../store/ports.js";

const AGENT_STATUS: Record<StoredAgentStatus, AgentStatus> = {
  active: AgentStatus.ACTIVE,
  suspended: AgentStatus.SUSPENDED,
  revoked: AgentStatus.REVOKED,
};

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
    },
    policyVersion: BigInt(agent.policyVersion),
    displayName: agent.displayName,
    createTime: timestampFromMs(agent.createdAt),
    updateTime: timestampFromMs(agent.updatedAt),
  };
  return create(AgentSchema, init);
}

function toAutonomyMessage(autonomy: AutonomyRecord | undefined) {
  return {
    requireAttestation: autonomy?.requireAttestation ?? false,
    minContinuousOperation: durationFromMs((autonomy?.minOperationSeconds ?? 0) * 1000),
    minAutonomousActions: BigInt(autonomy?.minAutonomousActions ?? 0),
    requirePlatformAttestation: autonomy?.requirePlatformAttestation ?? false,
  };
}

export function toOperatorMessage(operator: OperatorRecord): Operator {
  return create(OperatorSchema, {
    domain: operator.domain,
    displayName: operator.displayName,
    status: operator.status === "active" ? OperatorStatus.ACTIVE : OperatorStatus.SUSPENDED,
    createTime: timestampFromMs(operator.createdAt),
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
    autonomy: {
      requireAttestation: autonomy?.requireAttestation ?? false,
      minOperationSeconds: Number(minOperation?.seconds ?? 0n),
      minAutonomousActions: Number(autonomy?.minAutonomousActions ?? 0n),
      requirePlatformAttestation: autonomy?.requirePlatformAttestation ?? false,
    },
  };
}
