import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { RegistryService } from "../../../gen/gatehouse/v1/registry_pb.js";
import { AuditEventType as Audited, agentEvent, operatorEvent } from "../../audit/events.js";
import type { Audit } from "../../audit/writer.js";
import type { Clock } from "../../clock.js";
import { ed25519ThumbprintOfHex } from "../../crypto/jose/thumbprint.js";
import type { KeyRing } from "../../crypto/key-ring.js";
import type { DomainVerifier } from "../../domains/index.js";
import { GatehouseError } from "../../errors/index.js";
import type { Caller } from "../../identity/caller.js";
import type {
  AgentRecord,
  InvalidationEvent,
  RegistryStore,
  SigningAlg,
  Store,
} from "../../store/ports.js";
import { bindService, type ServiceBinding } from "../types.js";
import { registerAgent } from "./agents.js";
import { agentStatusFromProto, policyFromMessage, toAgentMessage } from "./convert.js";
import { didDocument, isDeactivated } from "./did-document.js";
import { operatorHandlers } from "./operators.js";
import { getOwnedAgent, requireOperatorStanding, updateOwnedAgent } from "./ownership.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import { rotateAgentKey } from "./rotation.js";
import { signingKeyHandlers } from "./signing-keys.js";
import { revokeToken } from "./token-revocation.js";

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
  /** Every change is audited, awaited: the RPC fails when the audit write fails. */
  readonly audit: Audit;
  /** Checks operators' proofs of domain ownership (src/domains). */
  readonly domainVerifier: DomainVerifier;
  /** A DNS or HTTPS proof holds this long, then must be checked again. */
  readonly domainVerificationTtlSeconds: number;
}

const DEFAULT_PAGE_SIZE = 50;

export function createRegistryService(deps: RegistryDeps): ServiceBinding {
  const { store, clock, maxTokenTtlSeconds } = deps;
  // A revoked token id is remembered as long as any token could still verify: the longest
  // lifetime plus the skew Verify tolerates. Then the entry expires with the token.
  const revocationTtlMs = (maxTokenTtlSeconds + deps.clockSkewSeconds) * 1000;
  const registry = store.registry;
  const skewMs = deps.clockSkewSeconds * 1000;
  // Verification-relevant writes tell every replica to drop what it cached (best effort:
  // the store already holds the truth, and the caches bound their own lifetime).
  const publish = (event: InvalidationEvent) => store.events.publish(event);
  const audit = (event: Parameters<Audit["record"]>[0]) => deps.audit.record(event);
  const thumbprint = (agent: AgentRecord) => ({ keyId: thumbprintOf(agent.publicKeyHex) });

  return bindService(RegistryService, {
    ...operatorHandlers({
      registry,
      rateLimits: store.rateLimits,
      clock,
      audit,
      domainVerifier: deps.domainVerifier,
      verificationTtlSeconds: deps.domainVerificationTtlSeconds,
    }),
    ...signingKeyHandlers(deps.keys),

    async registerAgent(request, { caller }) {
      const deps = { registry, now: clock.now(), maxTokenTtlSeconds };
      const agent = await registerAgent(deps, caller, request);
      await audit(agentEvent(Audited.AGENT_REGISTERED, caller, agent, thumbprint(agent)));
      return { agent: toAgentMessage(agent) };
    },

    async getAgent(request, { caller }) {
      const agent = await getOwnedAgent(registry, caller, request.did, "read", clock.now());
      return { agent: toAgentMessage(agent) };
    },

    async listAgents(request, { caller }) {
      let operatorDomain = request.operatorDomain || undefined;
      if (caller.role === "operator") {
        if (operatorDomain !== undefined && operatorDomain !== caller.operatorDomain) {
          throw new GatehouseError(Reason.OPERATOR_MISMATCH, { field: "operator_domain" });
        }
        operatorDomain = caller.operatorDomain;
      }
      await requireOperatorStanding(registry, caller, "read", clock.now());
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
        if (isDeactivated(a)) throw new GatehouseError(Reason.AGENT_REVOKED);
        if (request.expectedVersion !== 0n && BigInt(a.policyVersion) !== request.expectedVersion) {
          throw new GatehouseError(Reason.POLICY_VERSION_CONFLICT);
        }
        return { policy, policyVersion: a.policyVersion + 1 };
      });
      await publish({ kind: "agent", did: agent.did });
      await audit(
        agentEvent(Audited.AGENT_POLICY_UPDATED, caller, agent, {
          scopes: [...policy.scopes],
          audiences: [...policy.audiences],
        }),
      );
      return { agent: toAgentMessage(agent) };
    },

    async suspendAgent(request, { caller }) {
      const agent = await updateOwnedAgent(registry, caller, request.did, clock.now(), (a) => {
        if (isDeactivated(a)) throw new GatehouseError(Reason.AGENT_REVOKED);
        return { status: "suspended" };
      });
      await publish({ kind: "agent", did: agent.did });
      await audit(agentEvent(Audited.AGENT_SUSPENDED, caller, agent, { comment: request.reason }));
      return { agent: toAgentMessage(agent) };
    },

    async reactivateAgent(request, { caller }) {
      const agent = await updateOwnedAgent(registry, caller, request.did, clock.now(), (a) => {
        if (isDeactivated(a)) throw new GatehouseError(Reason.AGENT_REVOKED);
        return { status: "active" };
      });
      await publish({ kind: "agent", did: agent.did });
      await audit(agentEvent(Audited.AGENT_REACTIVATED, caller, agent));
      return { agent: toAgentMessage(agent) };
    },

    async resolveDid(request) {
      // A DID document holds public keys only: any role may resolve any registered DID.
      const agent = await registry.getAgent(request.did);
      if (!agent) throw new GatehouseError(Reason.AGENT_NOT_FOUND);
      return { document: didDocument(agent), deactivated: isDeactivated(agent) };
    },

    async rotateAgentKey(request, { caller }) {
      const agent = await rotateAgentKey(store, caller, request, clock.now());
      await publish({ kind: "agent", did: agent.did });
      await audit(agentEvent(Audited.AGENT_KEY_ROTATED, caller, agent, thumbprint(agent)));
      return { agent: toAgentMessage(agent) };
    },

    async deleteAgent(request, { caller }) {
      // A tombstone: the record (DID and every key) stays, so neither is ever reused.
      const agent = await updateOwnedAgent(registry, caller, request.did, clock.now(), () => ({
        status: "deleted",
      }));
      await publish({ kind: "agent", did: agent.did });
      await audit(agentEvent(Audited.AGENT_DELETED, caller, agent, { comment: request.reason }));
      return { agent: toAgentMessage(agent) };
    },

    async rotateSigningKey(request, { caller }) {
      const alg = (request.alg || deps.signingAlg) as SigningAlg;
      const activateAt = clock.now() + deps.keyPublicationDelaySeconds * 1000;
      // The key ring announces the new key to the other replicas (src/app/compose.ts).
      const key = await deps.keys.rotate(alg, activateAt);
      await audit(operatorEvent(Audited.SIGNING_KEY_ROTATED, caller, "", { keyId: key.kid }));
      return { kid: key.kid, alg: key.alg, activateTime: timestampFromMs(key.activateAt) };
    },

    async revoke(request, { caller }) {
      const target = request.target;
      switch (target.case) {
        case "tokenId":
          await revokeToken(
            { store, audit: deps.audit, revocationTtlMs },
            caller,
            target.value,
            clock.now(),
            request.reason,
          );
          return {};
        case "agentDid": {
          const agent = await updateOwnedAgent(registry, caller, target.value, clock.now(), () => ({
            status: "revoked",
          }));
          await publish({ kind: "agent", did: target.value });
          await audit(
            agentEvent(Audited.AGENT_REVOKED, caller, agent, { comment: request.reason }),
          );
          return {};
        }
        case "agentKeyThumbprint": {
          const thumbprint = target.value;
          const found = await findAgentByKey(registry, caller, thumbprint, clock.now());
          // Operators revoke only their own agents' keys; an unknown key answers the same.
          if (!found && caller.role !== "admin") throw new GatehouseError(Reason.AGENT_NOT_FOUND);
          const agent = found?.agent;
          if (found) {
            // Tokens issued while this was the agent's key: every one with iat up to the
            // moment it stopped being current (now, for the current key), plus the skew
            // (covers a Token call in flight and replicas' clock skew). They live until
            // iat + max TTL and verify until exp + skew, hence the TTL from now.
            const now = clock.now();
            const until = Math.min(found.retiredAt ?? now, now) + skewMs;
            await store.revocations.revokeIssuedUntil(
              found.agent.did,
              until,
              revocationTtlMs + skewMs,
            );
          }
          // For good: tokens bound to it (cnf.jkt) and logins with it are refused forever.
          await store.revocations.revoke("agent_key", thumbprint);
          await publish({
            kind: "agent_key",
            thumbprint,
            ...(agent ? { did: agent.did } : {}),
          });
          const owner = agent ?? { did: "", operatorDomain: caller.operatorDomain ?? "" };
          await audit(
            agentEvent(Audited.AGENT_KEY_REVOKED, caller, owner, {
              keyId: thumbprint,
              comment: request.reason,
            }),
          );
          return {};
        }
        case "operatorDomain": {
          if (caller.role !== "admin") throw new GatehouseError(Reason.PERMISSION_DENIED);
          const operator = await registry.setOperatorStatus(target.value, "revoked");
          if (!operator) throw new GatehouseError(Reason.OPERATOR_NOT_FOUND);
          await publish({ kind: "operator", domain: target.value });
          await audit(
            operatorEvent(Audited.OPERATOR_REVOKED, caller, target.value, {
              comment: request.reason,
            }),
          );
          return {};
        }
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

/**
 * The agent whose key (current, or retired with when) has this RFC 7638 thumbprint, among the caller's agents (an
 * operator's) or all agents (an admin's). The registry indexes keys by their raw bytes, not
 * by thumbprint, so this walks the listing: revocation is rare and an operator's agents
 * few. A thumbprint index in the registry would make it one look-up.
 */
async function findAgentByKey(
  registry: RegistryStore,
  caller: Caller,
  thumbprint: string,
  now: number,
): Promise<{ agent: AgentRecord; retiredAt?: number } | undefined> {
  await requireOperatorStanding(registry, caller, "write", now);
  const operatorDomain = caller.role === "operator" ? caller.operatorDomain : undefined;
  if (caller.role === "operator" && !operatorDomain) return undefined;
  let afterDid: string | undefined;
  do {
    const page = await registry.listAgents({
      limit: 500,
      ...(operatorDomain !== undefined && { operatorDomain }),
      ...(afterDid !== undefined && { afterDid }),
    });
    for (const agent of page.agents) {
      if (thumbprintOf(agent.publicKeyHex) === thumbprint) return { agent };
      const retired = agent.retiredKeys?.find(
        (key) => thumbprintOf(key.publicKeyHex) === thumbprint,
      );
      if (retired) return { agent, retiredAt: retired.retiredAt };
    }
    afterDid = page.nextAfterDid;
  } while (afterDid !== undefined);
  return undefined;
}

function thumbprintOf(publicKeyHex: string): string {
  return ed25519ThumbprintOfHex(publicKeyHex);
}
