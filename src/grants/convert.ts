import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Capability,
  CapabilityAction,
  CapabilitySchema,
  type Grant,
  GrantSchema,
  GrantState,
} from "../../gen/gatehouse/v1/resources_pb.js";
import { invalidArgument } from "../errors/index.js";
import type { CapabilityActionRecord, CapabilityRecord, GrantRecord } from "../store/ports.js";
import { grantState } from "./lifecycle.js";
import { BUILT_IN_VERBS, capabilityScopes } from "./model.js";

const ACTIONS: Readonly<Record<number, CapabilityActionRecord>> = {
  [CapabilityAction.READ]: "read",
  [CapabilityAction.WRITE]: "write",
  [CapabilityAction.TRANSACT]: "transact",
  [CapabilityAction.DELETE]: "delete",
  [CapabilityAction.CUSTOM]: "custom",
};

const ACTION_VALUES: Readonly<Record<CapabilityActionRecord, CapabilityAction>> = {
  read: CapabilityAction.READ,
  write: CapabilityAction.WRITE,
  transact: CapabilityAction.TRANSACT,
  delete: CapabilityAction.DELETE,
  custom: CapabilityAction.CUSTOM,
};

/**
 * Capabilities from the wire. The field rules already bound their shape; here the rule that
 * spans fields: a custom capability needs a name that is not a built-in verb, and only a
 * custom capability has one.
 */
export function capabilitiesFromMessage(
  capabilities: readonly Capability[],
  field: string,
): CapabilityRecord[] {
  return capabilities.map((capability, index) => {
    const action = ACTIONS[capability.action];
    if (action === undefined) throw invalidArgument(`${field}[${index}].action`, "is required");
    if (action === "custom" && (!capability.name || BUILT_IN_VERBS.has(capability.name))) {
      throw invalidArgument(`${field}[${index}].name`, "custom capabilities need a custom verb");
    }
    if (action !== "custom" && capability.name) {
      throw invalidArgument(`${field}[${index}].name`, "only custom capabilities have a name");
    }
    return {
      action,
      ...(capability.name && { name: capability.name }),
      ...(capability.resource && { resource: capability.resource }),
    };
  });
}

export function toCapabilityMessage(capability: CapabilityRecord): Capability {
  return create(CapabilitySchema, {
    action: ACTION_VALUES[capability.action],
    name: capability.name ?? "",
    resource: capability.resource ?? "",
  });
}

const STATES = {
  pending: GrantState.PENDING,
  approved: GrantState.APPROVED,
  denied: GrantState.DENIED,
  expired: GrantState.EXPIRED,
  revoked: GrantState.REVOKED,
} as const;

/** A stored grant as the wire shows it at `nowMs` (EXPIRED as soon as it applies). */
export function toGrantMessage(grant: GrantRecord, nowMs: number): Grant {
  return create(GrantSchema, {
    id: grant.id,
    agentDid: grant.agentDid,
    operatorDomain: grant.operatorDomain,
    audience: grant.audience,
    capabilities: grant.capabilities.map(toCapabilityMessage),
    reason: grant.reason,
    duration: durationFromMs(grant.durationMs),
    state: STATES[grantState(grant, nowMs)],
    createTime: timestampFromMs(grant.createdAt),
    expireTime: timestampFromMs(grant.expiresAt),
    ...(grant.decidedAt !== undefined && { decideTime: timestampFromMs(grant.decidedAt) }),
    decidedBy: grant.decidedBy ?? "",
    ...(grant.revokedAt !== undefined && { revokeTime: timestampFromMs(grant.revokedAt) }),
    scopes: capabilityScopes(grant.capabilities),
  });
}

/** The stored-state filter for a wire state; EXPIRED is derived, so it filters afterwards. */
export function grantStateFromProto(state: GrantState): keyof typeof STATES | undefined {
  const entry = Object.entries(STATES).find(([, value]) => value === state);
  return entry?.[0] as keyof typeof STATES | undefined;
}
