import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { RegistryService } from "../../../gen/gatehouse/v1/registry_pb.js";
import type { Clock } from "../../clock.js";
import type { KeyRing } from "../../crypto/key-ring.js";
import { GatehouseError } from "../../errors/index.js";
import type { SigningAlg, Store } from "../../store/ports.js";
import { bindService, type ServiceBinding } from "../types.js";
import { registerAgent } from "./agents.js";
import {
  agentStatusFromProto,
  policyFromMessage,
  toAgentMessage,
  toOperatorMessage,
} from "./convert.js";
import { getOwnedAgent, updateOwnedAgent } from "./ownership.js";
import { decodePageToken, encodePageToken } from "./page-token.js";

export interface RegistryDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly maxTokenTtlSeconds: number;
  readonly clockSkewSeconds: number;
  readonly keys: KeyRing;
  /** The configured signing algorithm, for rotations that name none. */
  readonly signingAlg: SigningAlg;
  /** A rotated key is published this long before it signs (≥ the JWKS cache lifetime). */
  readonly keyPublicationDelaySeconds: number;
}

const DEFAULT_PAGE_SIZE = 50;

export function createRegistryService(deps: RegistryDeps): ServiceBinding {
  const { store, clock, maxTokenTtlSeconds } = deps;
  // A revoked token id is remembered as long as any token could still verify: the longest
  // lifetime plus the skew Verify tolerates. Then the entry expires with the token.
  const revocationTtlMs = (maxTokenTtlSeconds + deps.clockSkewSeconds) * 1000;
  const registry = store.registry;

  return bindService(RegistryService, {
    async createOperator(request) {
      const operator = {
        domain: request.domain,
        displayName: request.displayName,
        status: "active" as const,
        createdAt: clock.now(),
      };
      if ((await registry.createOperator(operator)) === "exists") {
        throw new GatehouseError(Reason.OPERATOR_ALREADY_EXISTS);
      }
      return { operator: toOperatorMessage(operator) };
    },

    async registerAgent(request, { caller }) {
      const deps = { registry, now: clock.now(), maxTokenTtlSeconds };
      return { agent: toAgentMessage(await registerAgent(deps, caller, request)) };
    },

    async getAgent(request, { caller }) {
      return { agent: toAgentMessage(await getOwnedAgent(registry, caller, request.did, "read")) };
    },

    async listAgents(request, { caller }) {
      let operatorDomain = request.operatorDomain || undefined;
      if (caller.role === "operator") {
        if (operatorDomain !== undefined && operatorDomain !== caller.operatorDomain) {
          throw new GatehouseError(Reason.OPERATOR_MISMATCH, { field: "operator_domain" });
        }
        operatorDomain = caller.operatorDomain;
      }
      const status = agentStatusFromProto(request.status);
      const afterDid = decodePageToken(request.pageToken);
      const page = await registry.listAgents({
        limit: request.pageSize || DEFAULT_PAGE_SIZE,
        ...(operatorDomain !== undefined && { operatorDomain }),
        ...(status !== undefined && { status }),
        ...(afterDid !== undefined && { afterDid }),
      });
      return {
        agents: page.agents.map(toAgentMessage),
        nextPageToken: encodePageToken(page.nextAfterDid),
      };
    },

    async updateAgentPolicy(request, { caller }) {
      const policy = policyFromMessage(request.policy, "policy", maxTokenTtlSeconds);
      const agent = await updateOwnedAgent(registry, caller, request.did, clock.now(), (a) => {
        if (a.status === "revoked") throw new GatehouseError(Reason.AGENT_REVOKED);
        if (request.expectedVersion !== 0n && BigInt(a.policyVersion) !== request.expectedVersion) {
          throw new GatehouseError(Reason.POLICY_VERSION_CONFLICT);
        }
        return { policy, policyVersion: a.policyVersion + 1 };
      });
      return { agent: toAgentMessage(agent) };
    },

    async suspendAgent(request, { caller }) {
      const agent = await updateOwnedAgent(registry, caller, request.did, clock.now(), (a) => {
        if (a.status === "revoked") throw new GatehouseError(Reason.AGENT_REVOKED);
        return { status: "suspended" };
      });
      return { agent: toAgentMessage(agent) };
    },

    async reactivateAgent(request, { caller }) {
      const agent = await updateOwnedAgent(registry, caller, request.did, clock.now(), (a) => {
        if (a.status === "revoked") throw new GatehouseError(Reason.AGENT_REVOKED);
        return { status: "active" };
      });
      return { agent: toAgentMessage(agent) };
    },

    async rotateSigningKey(request) {
      const alg = (request.alg || deps.signingAlg) as SigningAlg;
      const activateAt = clock.now() + deps.keyPublicationDelaySeconds * 1000;
      const key = await deps.keys.rotate(alg, activateAt);
      return { kid: key.kid, alg: key.alg, activateTime: timestampFromMs(key.activateAt) };
    },

    async revoke(request, { caller }) {
      const target = request.target;
      switch (target.case) {
        case "tokenId":
          await store.revocations.revoke("token", target.value, revocationTtlMs);
          return {};
        case "agentDid":
          await updateOwnedAgent(registry, caller, target.value, clock.now(), () => ({
            status: "revoked",
          }));
          return {};
        default:
          // Fail closed: a target this server cannot revoke is an error, never a silent no-op.
          throw new GatehouseError(Reason.INVALID_ARGUMENT, {
            field: "target",
            description: "revocation target not supported by this server",
          });
      }
    },
  });
}
