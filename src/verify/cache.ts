import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { LruCache } from "../cache/lru-cache.js";
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
import { LookupCache } from "./lookup-cache.js";
import type {
  VerifiedClaims,
  VerifyDeps,
  VerifyGrantReads,
  VerifyInput,
  VerifyRegistryReads,
  VerifyRevocationReads,
  VerifyState,
  VerifyStep,
} from "./types.js";

/**
 * In-process caches of the Verify hot path, all bounded in entries:
 *
 * - the verified-token cache: the outcome of the stateless, expensive steps (parse, header,
 *   signature, claim shapes, issuer, audience), used only for the very token and audience it
 *   was established for (compared in full, `getToken`), so a tampered token or another
 *   audience can never hit an entry. A hit still runs every step from the time step on
 *   (time, revocation, agent and operator status, DPoP, scopes, …), so the decision is the
 *   one the full pipeline would reach; an entry dies with the token's `exp` (plus skew), when
 *   its signing key leaves the key ring, or on a key-set or "all" invalidation.
 * - agent, operator and revocation look-ups: dropped on every invalidation event that names
 *   them (the bus reaches every replica) and, in case a pub/sub message is lost, after
 *   `ttlMs` at most. That bound is how long a revocation can go unseen by a replica that
 *   missed its event.
 */

export { LruCache } from "../cache/lru-cache.js";

/** What the stateless steps established about a token. */
export interface VerifiedTokenEntry {
  /** The request it was established for: an entry serves exactly this token and audience. */
  readonly token: string;
  readonly audience: string;
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

/** Hits and misses of one cache since start (plain numbers: counting costs a call nothing). */
export interface LookupCounts {
  readonly hits: number;
  readonly misses: number;
}

/** The caches, as `lookupCounts` and the metrics name them. */
export type VerifyCacheName =
  | "token"
  | "agent"
  | "operator"
  | "revoked_token"
  | "revoked_agent_key"
  | "issued_until"
  | "grant";

/**
 * The caches of one replica. `registry` and `revocations` wrap the store's ports for the
 * Verify pipeline only (writes go straight to the store); `onEvent` is the bus listener.
 */
export class VerifyCache {
  readonly #clock: Clock;
  readonly #tokens: LruCache<VerifiedTokenEntry>;
  readonly #agents: LookupCache<AgentRecord | undefined>;
  readonly #operators: LookupCache<OperatorRecord | undefined>;
  /** By kind: the id alone is the key, so a look-up builds no key string. */
  readonly #revoked: Readonly<Record<RevocationKind, LookupCache<boolean>>>;
  readonly #issuedUntil: LookupCache<number | undefined>;
  readonly #grants: LookupCache<GrantRecord | undefined>;
  /**
   * Bumped by every invalidation. A look-up started before one must not store its (maybe
   * stale) answer after it: it compares the epoch it started in.
   */
  #epoch = 0;
  #tokenHits = 0;
  #tokenMisses = 0;

  constructor(options: VerifyCacheOptions) {
    this.#clock = options.clock;
    this.#tokens = new LruCache(options.maxEntries);
    const { clock, ttlMs, maxEntries } = options;
    const lookups = { clock, ttlMs, maxEntries, epoch: () => this.#epoch };
    this.#agents = new LookupCache(lookups);
    this.#operators = new LookupCache(lookups);
    this.#revoked = { token: new LookupCache(lookups), agent_key: new LookupCache(lookups) };
    this.#issuedUntil = new LookupCache(lookups);
    this.#grants = new LookupCache(lookups);
  }

  /** Every cache's hits and misses since start, by name: the metrics read them when scraped. */
  lookupCounts(): Record<VerifyCacheName, LookupCounts> {
    const counts = ({ hits, misses }: LookupCounts) => ({ hits, misses });
    return {
      token: { hits: this.#tokenHits, misses: this.#tokenMisses },
      agent: counts(this.#agents),
      operator: counts(this.#operators),
      revoked_token: counts(this.#revoked.token),
      revoked_agent_key: counts(this.#revoked.agent_key),
      issued_until: counts(this.#issuedUntil),
      grant: counts(this.#grants),
    };
  }

  /**
   * Where a token's entry is kept: its signature segment (86 characters for EdDSA and ES256),
   * so a look-up hashes that rather than the whole token (hashing the token cost more than the
   * rest of a cache hit). The key only finds an entry: `getToken` uses it only for the very
   * token and audience it was stored for, compared in full, so a tampered token or another
   * audience never hits. The stateless steps read nothing else of the request (the required
   * scopes are checked after the cache, on every request). Gatehouse issues a token for one
   * audience, so one entry per token is enough.
   */
  tokenKey(input: VerifyInput): string {
    const { token } = input;
    return token.slice(token.lastIndexOf(".") + 1);
  }

  /** `nowMs`: the instant the pipeline run reads (one clock read per run), else the clock. */
  getToken(
    key: string,
    input: VerifyInput,
    nowMs = this.#clock.now(),
  ): VerifiedTokenEntry | undefined {
    const entry = this.#tokens.get(key);
    if (entry === undefined || entry.token !== input.token || entry.audience !== input.audience) {
      this.#tokenMisses++;
      return undefined;
    }
    if (entry.expiresAtMs <= nowMs) {
      this.#tokens.delete(key);
      this.#tokenMisses++;
      return undefined;
    }
    this.#tokenHits++;
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
        this.#revoked.token.delete(event.id);
        return;
      case "agent":
        this.#agents.delete(event.did);
        this.#issuedUntil.delete(event.did);
        return;
      case "operator":
        this.#operators.delete(event.domain);
        return;
      case "agent_key":
        this.#revoked.agent_key.delete(event.thumbprint);
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
    this.#revoked.token.clear();
    this.#revoked.agent_key.clear();
    this.#issuedUntil.clear();
    this.#grants.clear();
  }

  /**
   * The registry as Verify reads it: agents and operators cached. A usable answer comes back
   * synchronously (lookup-cache.ts `read`), at the pipeline run's own instant `nowMs`.
   */
  registry(store: Pick<RegistryStore, "getAgent" | "getOperator">): VerifyRegistryReads {
    return {
      getOperator: (domain, nowMs) =>
        this.#operators.read(domain, () => store.getOperator(domain), nowMs),
      getAgent: (did, nowMs) => this.#agents.read(did, () => store.getAgent(did), nowMs),
    };
  }

  /** Grants as Verify reads them: cached like agents, dropped by a "grant" event. */
  grants(store: Pick<GrantStore, "get">): VerifyGrantReads {
    return { get: (id, nowMs) => this.#grants.read(id, () => store.get(id), nowMs) };
  }

  /** Revocations as Verify reads them: look-ups cached. */
  revocations(store: Pick<RevocationStore, "isRevoked" | "issuedUntil">): VerifyRevocationReads {
    return {
      isRevoked: (kind, id, nowMs) =>
        this.#revoked[kind].read(id, () => store.isRevoked(kind, id), nowMs),
      issuedUntil: (did, nowMs) => this.#issuedUntil.read(did, () => store.issuedUntil(did), nowMs),
    };
  }
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

/**
 * The step lists of a pipeline that uses the verified-token cache, made once (pipeline.ts):
 * `all` on a run without the cache, `hit` (the steps from the time step on) when the stateless
 * steps' outcome was restored from an entry, `miss` (every step, with `markStatelessPassed`
 * just before the time step) otherwise.
 */
export interface MemoSteps {
  readonly all: readonly VerifyStep[];
  readonly hit: readonly VerifyStep[];
  readonly miss: readonly VerifyStep[];
}

/** The steps before `freshFrom` passed: what they established may be cached. */
const markStatelessPassed: VerifyStep = (state) => {
  state.statelessPassed = true;
  return undefined;
};

/** The hit and miss lists for `all`, split before `freshFrom` (which must be in it). */
export function memoSteps(all: readonly VerifyStep[], freshFrom: VerifyStep): MemoSteps {
  const split = all.indexOf(freshFrom);
  if (split < 0) throw new Error("the cache's first fresh step is not in the pipeline");
  return Object.freeze({
    all,
    hit: Object.freeze(all.slice(split)),
    miss: Object.freeze([...all.slice(0, split), markStatelessPassed, ...all.slice(split)]),
  });
}

export function openVerifyMemo(
  cache: VerifyCache,
  state: VerifyState,
  deps: VerifyDeps,
  steps: MemoSteps,
): VerifyMemo {
  const key = cache.tokenKey(state.input);
  // The run's own instant: `now < exp + skew` here is exactly the time step's bound.
  const entry = cache.getToken(key, state.input, state.nowMs);
  // The header step's kid check, kept: the ring must still hold the key that verified it.
  if (entry !== undefined && deps.keys.lookup(entry.key.kid) === entry.key) {
    state.header = entry.header;
    state.payload = entry.payload;
    state.claims = entry.claims;
    state.key = entry.key;
    return new CacheHit(steps.hit, cache, key, entry);
  }
  if (entry !== undefined) cache.deleteToken(key);
  return new CacheMiss(steps.miss, cache, key, deps.settings.clockSkewSeconds);
}

/**
 * A run that restored the stateless steps' outcome from `entry`. (The memos are small
 * classes, not closures: one object per Verify rather than an object, a function and its
 * context.)
 */
class CacheHit implements VerifyMemo {
  constructor(
    readonly steps: readonly VerifyStep[],
    private readonly cache: VerifyCache,
    private readonly key: string,
    private readonly entry: VerifiedTokenEntry,
  ) {}

  settle(settled: VerifyState, reason?: Reason): void {
    const policyChanged =
      settled.agent !== undefined && settled.agent.policyVersion !== this.entry.policyVersion;
    if (reason === Reason.TOKEN_EXPIRED || policyChanged) this.cache.deleteToken(this.key);
  }
}

/** A run of every step: what the stateless steps established is cached once they passed. */
class CacheMiss implements VerifyMemo {
  constructor(
    readonly steps: readonly VerifyStep[],
    private readonly cache: VerifyCache,
    private readonly key: string,
    private readonly clockSkewSeconds: number,
  ) {}

  settle(settled: VerifyState, reason?: Reason): void {
    const { claims, key: verificationKey } = settled;
    if (
      settled.statelessPassed !== true ||
      !claims ||
      !verificationKey ||
      reason === Reason.TOKEN_EXPIRED
    ) {
      return;
    }
    this.cache.setToken(this.key, {
      token: settled.input.token,
      audience: settled.input.audience,
      header: settled.header,
      payload: settled.payload,
      claims,
      key: verificationKey,
      policyVersion: settled.agent?.policyVersion ?? -1,
      expiresAtMs: (claims.exp + this.clockSkewSeconds) * 1000,
    });
  }
}
