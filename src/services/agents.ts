import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ed25519ThumbprintOfHex } from "../crypto/jose/thumbprint.js";
import { GatehouseError } from "../errors/index.js";
import type { Caller } from "../identity/caller.js";
import type { AgentRecord, OperatorRecord, RegistryStore, RevocationKind } from "../store/ports.js";
import type { Pending } from "../verify/lookup-cache.js";
import type { VerifyDeps } from "../verify/types.js";

/** Reads an agent by DID: undefined when none is registered. */
export type AgentReader = (did: string) => Promise<AgentRecord | undefined>;

/** What `requireActiveAgent` reads: the store's own ports fit. */
export interface StandingReads {
  readonly registry: {
    getAgent(did: string): Pending<AgentRecord | undefined>;
    getOperator(domain: string): Pending<OperatorRecord | undefined>;
  };
  readonly revocations: { isRevoked(kind: RevocationKind, id: string): Pending<boolean> };
}

/**
 * The same reads through Verify's look-up caches (src/verify/cache.ts) at `nowMs`: dropped on
 * every replica by the bus event of any change, and never used beyond `[verify]
 * cache_ttl_ms`. Registering an agent or an operator sends no event, so a cached "none" is
 * asked of `store` again. For a check that a fresh one follows before any credential is issued.
 */
export function cachedStanding(
  verify: Pick<VerifyDeps, "registry" | "revocations">,
  store: StandingReads,
  nowMs: number,
): StandingReads {
  const { registry, revocations } = verify;
  return {
    registry: {
      getAgent: async (did) =>
        (await registry.getAgent(did, nowMs)) ?? store.registry.getAgent(did),
      getOperator: async (domain) =>
        (await registry.getOperator(domain, nowMs)) ?? store.registry.getOperator(domain),
    },
    revocations: { isRevoked: (kind, id) => revocations.isRevoked(kind, id, nowMs) },
  };
}

/**
 * A reader that has already asked the store for an agent caller's own record (its
 * certificate names its DID), so that read travels with the call's next store command (the
 * Redis client pipelines commands issued together: one round trip for both). Any other DID
 * is read when asked. A read never used costs one GET; its failure surfaces only where it is
 * used, as the same read made then would.
 */
export function prefetchCallerAgent(
  registry: Pick<RegistryStore, "getAgent">,
  caller: Caller,
): AgentReader {
  const { did } = caller;
  const own = caller.role === "agent" && did !== undefined ? registry.getAgent(did) : undefined;
  own?.catch(() => {}); // observed here; awaited (and thrown) where it is used
  return (wanted) => (own !== undefined && wanted === did ? own : registry.getAgent(wanted));
}

/**
 * The agent behind a DID, refused unless it and its operator are active. Used wherever a
 * credential is about to be issued, so a suspension or a key revocation stops issuance at
 * every step.
 */
export async function requireActiveAgent(
  store: StandingReads,
  did: string,
  readAgent: StandingReads["registry"]["getAgent"] = (wanted) => store.registry.getAgent(wanted),
): Promise<AgentRecord> {
  const { registry } = store;
  const agent = await readAgent(did);
  if (!agent) throw new GatehouseError(Reason.AGENT_NOT_FOUND);
  // A deleted agent (a tombstone) is refused like a revoked one.
  if (agent.status === "revoked" || agent.status === "deleted") {
    throw new GatehouseError(Reason.AGENT_REVOKED);
  }
  if (agent.status === "suspended") throw new GatehouseError(Reason.AGENT_SUSPENDED);
  // Both reads at once (one round trip less per issuance); refused in the same order.
  const { operatorDomain, keyThumbprint } = standingKeys(agent);
  const [operator, keyRevoked] = await Promise.all([
    registry.getOperator(operatorDomain),
    store.revocations.isRevoked("agent_key", keyThumbprint),
  ]);
  if (!operator) throw new GatehouseError(Reason.OPERATOR_NOT_FOUND);
  if (operator.status === "revoked") throw new GatehouseError(Reason.OPERATOR_REVOKED);
  if (operator.status !== "active") throw new GatehouseError(Reason.OPERATOR_SUSPENDED);
  // A revoked key can never log in again (Challenge, Token, assertion, exchange).
  if (keyRevoked) throw new GatehouseError(Reason.AGENT_KEY_REVOKED);
  return agent;
}

/** Where an agent's standing is read besides its record: its operator and its key's revocation. */
interface StandingKeys {
  readonly operatorDomain: string;
  /** RFC 7638 thumbprint of the agent's key: the id of its `agent_key` revocation. */
  readonly keyThumbprint: string;
}

function standingKeys(agent: AgentRecord): StandingKeys {
  return {
    operatorDomain: agent.operatorDomain,
    keyThumbprint: ed25519ThumbprintOfHex(agent.publicKeyHex),
  };
}

/**
 * `store`, with the operator and key-revocation reads of the caller's own agent already
 * sent, so that they travel with the call's first store command (the pass's consume) instead
 * of following the agent read one round trip later. Which operator and key to ask for is
 * taken from Verify's look-up cache (`nowMs`: the agent as last seen, used only when the
 * cache answers at once); the reads themselves go to the store, as requireActiveAgent's own
 * would. They answer only the same question: an operator or a key the agent read fresh no
 * longer names is read again, from the store. A read never used costs one GET; its failure
 * surfaces only where it is used.
 */
export function prefetchCallerStanding(
  store: StandingReads,
  verify: Pick<VerifyDeps, "registry">,
  caller: Caller,
  nowMs: number,
): StandingReads {
  const seen =
    caller.role === "agent" && caller.did !== undefined
      ? verify.registry.getAgent(caller.did, nowMs)
      : undefined;
  if (seen instanceof Promise) {
    seen.catch(() => {}); // a miss: its load fills the cache for later calls; nothing waits here
    return store;
  }
  if (seen === undefined) return store;
  const predicted = standingKeys(seen);
  const operator = store.registry.getOperator(predicted.operatorDomain);
  const keyRevoked = store.revocations.isRevoked("agent_key", predicted.keyThumbprint);
  // Observed here; awaited (and thrown) where they are used.
  Promise.resolve(operator).catch(() => {});
  Promise.resolve(keyRevoked).catch(() => {});
  return {
    registry: {
      getAgent: (did) => store.registry.getAgent(did),
      getOperator: (domain) =>
        domain === predicted.operatorDomain ? operator : store.registry.getOperator(domain),
    },
    revocations: {
      isRevoked: (kind, id) =>
        kind === "agent_key" && id === predicted.keyThumbprint
          ? keyRevoked
          : store.revocations.isRevoked(kind, id),
    },
  };
}
