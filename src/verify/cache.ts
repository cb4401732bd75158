import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { Clock } from "../clock.js";
import type { VerificationKey } from "../crypto/key-ring.js";
import type {
  AgentRecord,
  GrantRecord,
  GrantStore,
  InvalidationEvent,
  OperatorRecord,
  RegistryStore,
  RevocationKind,
  RevocationStore,
} from "../store/ports.js";
import type { VerifiedClaims, VerifyDeps, VerifyInput, VerifyState, VerifyStep } from "./types.js";

/**
 * In-process caches of the Verify hot path, all bounded in entries:
 *
 * - the verified-token cache: the outcome of the stateless, expensive steps (parse, header,
 *   signature, claim shapes, issuer, audience), keyed by the whole token, the audience and
 *   the sorted required scopes (`tokenKey`), so a tampered token or another audience or
 *   scope set can never hit an entry. A hit still runs every step from the time step on
 *   (time, revocation, agent and operator status, DPoP, scopes, …), so the decision is the
 *   one the full pipeline would reach; an entry dies with the token's `exp` (plus skew), when
 *   its signing key leaves the key ring, or on a key-set or "all" invalidation.
 * - agent, operator and revocation look-ups: dropped on every invalidation event that names
 *   them (the bus reaches every replica) and, in case a pub/sub message is lost, after
 *   `ttlMs` at most. That bound is how long a revocation can go unseen by a replica that
 *   missed its event.
 */

/** A Map-based LRU bounded by entry count (a Map iterates in insertion order). */
export class LruCache<V> {
  readonly #max: number;
  readonly #entries = new Map<string, V>();

  constructor(maxEntries: number) {
    this.#max = Math.max(1, maxEntries);
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** What the stateless steps established about a token. */
export interface VerifiedTokenEntry {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  readonly claims: VerifiedClaims;
  /** The key that checked the signature: a hit needs the ring to still hold this very key. */
  readonly key: VerificationKey;
  /** The agent's policy version when cached (-1: unknown); a change evicts the entry. */
  readonly policyVersion: number;
  /** Unix ms after which the entry is useless: exp + skew. */
  readonly expiresAtMs: number;
}

export interface VerifyCacheOptions {
  readonly clock: Clock;
  /** Upper bound on how long an agent, operator or revocation look-up is reused. */
  readonly ttlMs: number;
  readonly maxEntries: number;
}

interface Timed<V> {
  readonly value: V;
  readonly expiresAtMs: number;
}

/**
 * The caches of one replica. `registry` and `revocations` wrap the store's ports for the
 * Verify pipeline only (writes go straight to the store); `onEvent` is the bus listener.
 */
export class VerifyCache {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #tokens: LruCache<VerifiedTokenEntry>;
  readonly #agents: LruCache<Timed<AgentRecord | undefined>>;
  readonly #operators: LruCache<Timed<OperatorRecord | undefined>>;
  readonly #revoked: LruCache<Timed<boolean>>;
  readonly #issuedUntil: LruCache<Timed<number | undefined>>;
  readonly #grants: LruCache<Timed<GrantRecord | undefined>>;
  /**
   * Bumped by every invalidation. A look-up started before one must not store its (maybe
   * stale) answer after it: it compares the epoch it started in.
   */
  #epoch = 0;

  constructor(options: VerifyCacheOptions) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#tokens = new LruCache(options.maxEntries);
    this.#agents = new LruCache(options.maxEntries);
    this.#operators = new LruCache(options.maxEntries);
    this.#revoked = new LruCache(options.maxEntries);
    this.#issuedUntil = new LruCache(options.maxEntries);
    this.#grants = new LruCache(options.maxEntries);
  }

  /**
   * Everything the stateless steps' outcome depends on, as one injective string: each part
   * length-prefixed, so no two (token, audience, scopes) share a key. The Map hashes it; a
   * SHA-256 per call cost more than the rest of a cache hit. Only tokens whose signature
   * verified are stored, so a key is never longer than a token this issuer signed.
   */
  tokenKey(input: VerifyInput): string {
    const { token, audience, requiredScopes } = input;
    let key = `${token.length}:${token}${audience.length}:${audience}${requiredScopes.length}`;
    const scopes = requiredScopes.length > 1 ? [...requiredScopes].sort() : requiredScopes;
    for (const scope of scopes) key += `:${scope.length}:${scope}`;
    return key;
  }

  getToken(key: string): VerifiedTokenEntry | undefined {
    const entry = this.#tokens.get(key);
    if (entry !== undefined && entry.expiresAtMs <= this.#clock.now()) {
      this.#tokens.delete(key);
      return undefined;
    }
    return entry;
  }

  setToken(key: string, entry: VerifiedTokenEntry): void {
    if (entry.expiresAtMs > this.#clock.now()) this.#tokens.set(key, entry);
  }

  deleteToken(key: string): void {
    this.#tokens.delete(key);
  }

  onEvent(event: InvalidationEvent): void {
    this.#epoch++;
    switch (event.kind) {
      case "token":
        this.#revoked.delete(revocationKey("token", event.id));
        return;
      case "agent":
        this.#agents.delete(event.did);
        this.#issuedUntil.delete(event.did);
        return;
      case "operator":
        this.#operators.delete(event.domain);
        return;
      case "agent_key":
        this.#revoked.delete(revocationKey("agent_key", event.thumbprint));
        if (event.did !== undefined) {
          this.#issuedUntil.delete(event.did);
          this.#agents.delete(event.did);
        }
        return;
      case "signing_keys":
        this.#tokens.clear();
        return;
      case "grant":
        this.#grants.delete(event.id);
        return;
      default:
        this.clear();
    }
  }

  clear(): void {
    this.#tokens.clear();
    this.#agents.clear();
    this.#operators.clear();
    this.#revoked.clear();
    this.#issuedUntil.clear();
    this.#grants.clear();
  }

  /** The registry as Verify reads it: agents and operators cached, writes passed through. */
  registry(store: RegistryStore): RegistryStore {
    return {
      createOperator: (operator) => store.createOperator(operator),
      getOperator: (domain) =>
        this.#cached(this.#operators, domain, () => store.getOperator(domain)),
      setOperatorStatus: (domain, status) => store.setOperatorStatus(domain, status),
      patchOperator: (domain, patch) => store.patchOperator(domain, patch),
      createAgent: (agent) => store.createAgent(agent),
      getAgent: (did) => this.#cached(this.#agents, did, () => store.getAgent(did)),
      updateAgent: (next, expected) => store.updateAgent(next, expected),
      listAgents: (query) => store.listAgents(query),
    };
  }

  /** Grants as Verify reads them: cached like agents, dropped by a "grant" event. */
  grants(store: Pick<GrantStore, "get">): Pick<GrantStore, "get"> {
    return { get: (id) => this.#cached(this.#grants, id, () => store.get(id)) };
  }

  /** Revocations as Verify reads them: look-ups cached, writes passed through. */
  revocations(store: RevocationStore): RevocationStore {
    return {
      revoke: (kind, id, ttlMs) => store.revoke(kind, id, ttlMs),
      isRevoked: (kind, id) =>
        this.#cached(this.#revoked, revocationKey(kind, id), () => store.isRevoked(kind, id)),
      revokeIssuedUntil: (did, atMs, ttlMs) => store.revokeIssuedUntil(did, atMs, ttlMs),
      issuedUntil: (did) => this.#cached(this.#issuedUntil, did, () => store.issuedUntil(did)),
    };
  }

  async #cached<V>(cache: LruCache<Timed<V>>, key: string, load: () => Promise<V>): Promise<V> {
    const now = this.#clock.now();
    const hit = cache.get(key);
    if (hit !== undefined && hit.expiresAtMs > now) return hit.value;
    const epoch = this.#epoch;
    const value = await load();
    if (epoch === this.#epoch) cache.set(key, { value, expiresAtMs: now + this.#ttlMs });
    return value;
  }
}

function revocationKey(kind: RevocationKind, id: string): string {
  return `${kind}:${id}`;
}

/**
 * One pipeline run's use of the verified-token cache. `steps` is what the run executes: on
 * a hit, the steps from `freshFrom` on (the state was restored from the entry); on a miss,
 * every step plus a marker just before `freshFrom` recording that the stateless steps
 * passed. `settle` stores, refreshes or evicts the entry once the run has decided.
 */
export interface VerifyMemo {
  readonly steps: readonly VerifyStep[];
  settle(state: VerifyState, reason?: Reason): void;
}

export function openVerifyMemo(
  cache: VerifyCache,
  state: VerifyState,
  deps: VerifyDeps,
  allSteps: readonly VerifyStep[],
  freshFrom: VerifyStep,
): VerifyMemo {
  const split = allSteps.indexOf(freshFrom);
  if (split < 0) return { steps: allSteps, settle: () => {} };
  const key = cache.tokenKey(state.input);
  const entry = cache.getToken(key);
  // The header step's kid check, kept: the ring must still hold the key that verified it.
  if (entry !== undefined && deps.keys.lookup(entry.key.kid) === entry.key) {
    state.header = entry.header;
    state.payload = entry.payload;
    state.claims = entry.claims;
    state.key = entry.key;
    return {
      steps: allSteps.slice(split),
      settle(settled, reason) {
        const policyChanged =
          settled.agent !== undefined && settled.agent.policyVersion !== entry.policyVersion;
        if (reason === Reason.TOKEN_EXPIRED || policyChanged) cache.deleteToken(key);
      },
    };
  }
  if (entry !== undefined) cache.deleteToken(key);
  let statelessPassed = false;
  const marker: VerifyStep = () => {
    statelessPassed = true;
    return undefined;
  };
  return {
    steps: [...allSteps.slice(0, split), marker, ...allSteps.slice(split)],
    settle(settled, reason) {
      const { claims, key: verificationKey } = settled;
      if (!statelessPassed || !claims || !verificationKey || reason === Reason.TOKEN_EXPIRED) {
        return;
      }
      cache.setToken(key, {
        header: settled.header,
        payload: settled.payload,
        claims,
        key: verificationKey,
        policyVersion: settled.agent?.policyVersion ?? -1,
        expiresAtMs: (claims.exp + deps.settings.clockSkewSeconds) * 1000,
      });
    },
  };
}
