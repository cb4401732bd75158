/**
 * The narrow ports every state adapter implements. Services depend only on these;
 * `memory/` (embedded, zero setup) and `redis/` implement them and share one
 * contract suite (test/contract/store.contract.ts).
 *
 * Security contract for every adapter:
 * - `consume` and `useOnce` are atomic across every replica sharing the store:
 *   of N concurrent calls for one id, exactly one wins.
 * - Records are plain JSON-serialisable values; adapters never log them.
 */

/** The outcome of consuming a single-use record. */
export type ConsumeResult<T> =
  | { readonly status: "ok"; readonly value: T }
  | { readonly status: "not_found" }
  | { readonly status: "already_used" };

/**
 * Single-use records (challenges, passes): stored with a TTL, consumed once.
 * After consumption the id stays marked as used until the TTL ends, so a replay is
 * told apart from an unknown id.
 */
export interface OneTimeStore<T> {
  /** Stores `value` under `id` for `ttlMs`. Fails if `id` already exists. */
  put(id: string, value: T, ttlMs: number): Promise<void>;
  /** Atomically returns the value and marks it used, on the first call only. */
  consume(id: string): Promise<ConsumeResult<T>>;
}

/** Single-use identifiers (DPoP proof `jti`, assertion `jti`, signed-request nonces). */
export interface NonceStore {
  /**
   * Records `id` in `namespace` for `ttlMs`. Returns true the first time an id is
   * seen within its TTL, false on every later call (a replay).
   */
  useOnce(namespace: string, id: string, ttlMs: number): Promise<boolean>;
}

export type OperatorStatus = "active" | "suspended";
export type AgentStatus = "active" | "suspended" | "revoked";

export interface OperatorRecord {
  readonly domain: string;
  readonly displayName: string;
  readonly status: OperatorStatus;
  /** Unix ms. */
  readonly createdAt: number;
}

export interface AutonomyRecord {
  readonly requireAttestation: boolean;
  readonly minOperationSeconds: number;
  readonly minAutonomousActions: number;
  readonly requirePlatformAttestation: boolean;
}

export interface PolicyRecord {
  readonly scopes: readonly string[];
  readonly audiences: readonly string[];
  /** 0 = server default. */
  readonly maxTokenTtlSeconds: number;
  /** Absent in records written before autonomy policies existed: nothing required. */
  readonly autonomy?: AutonomyRecord;
  /** RFC 8693 delegation targets: DIDs or `did:agent:<domain>:*`. Absent = none. */
  readonly delegates?: readonly string[];
}

export interface AgentRecord {
  readonly did: string;
  readonly operatorDomain: string;
  /** Raw 32-byte Ed25519 public key, lowercase hex. */
  readonly publicKeyHex: string;
  readonly status: AgentStatus;
  readonly policy: PolicyRecord;
  readonly policyVersion: number;
  readonly displayName: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Bumped by every write; used for compare-and-set. */
  readonly revision: number;
}

export type CreateResult = "created" | "exists";

export interface AgentListQuery {
  readonly operatorDomain?: string;
  readonly status?: AgentStatus;
  /** Return agents whose DID sorts strictly after this one. */
  readonly afterDid?: string;
  readonly limit: number;
}

export interface AgentPage {
  readonly agents: readonly AgentRecord[];
  /** The last DID examined when more may follow; undefined on the last page. */
  readonly nextAfterDid?: string;
}

export interface RegistryStore {
  createOperator(operator: OperatorRecord): Promise<CreateResult>;
  getOperator(domain: string): Promise<OperatorRecord | undefined>;
  /**
   * Creates the agent atomically. Returns "exists" when the DID or the public key
   * was ever registered (deleted or revoked agents stay as tombstones: never reused).
   */
  createAgent(agent: AgentRecord): Promise<CreateResult>;
  getAgent(did: string): Promise<AgentRecord | undefined>;
  /**
   * Compare-and-set: writes `next` only when the stored revision equals
   * `expectedRevision`; `next.revision` must be `expectedRevision + 1`.
   * Returns false when the agent changed meanwhile (or does not exist).
   */
  updateAgent(next: AgentRecord, expectedRevision: number): Promise<boolean>;
  /** Agents in ascending DID order, filtered; at most `limit`. */
  listAgents(query: AgentListQuery): Promise<AgentPage>;
}

export type RevocationKind = "token";

export interface RevocationStore {
  /** Marks `id` revoked for `ttlMs` (the longest any credential it covers can live). */
  revoke(kind: RevocationKind, id: string, ttlMs: number): Promise<void>;
  isRevoked(kind: RevocationKind, id: string): Promise<boolean>;
}

export type SigningAlg = "EdDSA" | "ES256";

export interface SigningKeyRecord {
  readonly kid: string;
  readonly alg: SigningAlg;
  /** PKCS#8 PEM of the private key. */
  readonly privateKeyPem: string;
  /** Unix ms. */
  readonly createdAt: number;
  /** Unix ms from which the key signs; it is published before that. */
  readonly activateAt: number;
  /** Unix ms after which the key is no longer published; undefined = current. */
  readonly retireAt?: number;
}

export interface SigningKeyStore {
  list(): Promise<readonly SigningKeyRecord[]>;
  /** Adds a key; fails if the kid exists. */
  add(key: SigningKeyRecord): Promise<void>;
}

/** The verdict on one rate-limited action. */
export interface RateLimitResult {
  readonly allowed: boolean;
  /** Hits that still fit in the window after this call (counting this one when allowed). */
  readonly remaining: number;
  /** When refused: ms until `cost` hits fit again (always > 0). 0 when allowed. */
  readonly retryAfterMs: number;
}

/**
 * Sliding-window rate limits shared by every replica using the store: a hit is allowed
 * when at most `limit` hits (weighted by cost) fall in the last `windowMs`, this one included.
 *
 * Why a sliding-window log rather than GCRA or a windowed counter: the limits it serves
 * are modest (calls per caller or address per minute), so a log of at most `limit`
 * timestamps per key is cheap, and it is exact: never more than `limit` in *any* window, with no burst at window edges
 * (fixed counters) and no refill within the window (GCRA lets `limit` through at once,
 * then one per `windowMs / limit`). Its `retryAfterMs` is exact too: when the oldest
 * counted hits leave the window. Refused hits are not recorded, so waiting
 * `retryAfterMs` is enough, and memory stays at most `limit` entries per key.
 */
export interface RateLimiter {
  /**
   * Counts `cost` hits (default 1) on `key` when they fit, atomically across replicas:
   * of N concurrent calls, exactly as many as fit are allowed. `key` is printable ASCII
   * without braces, at most 256 characters; `cost` is at most `limit`.
   */
  hit(key: string, limit: number, windowMs: number, cost?: number): Promise<RateLimitResult>;
}

/** Everything the services need from state. */
export interface Store {
  readonly challenges: OneTimeStore<unknown>;
  readonly passes: OneTimeStore<unknown>;
  readonly nonces: NonceStore;
  readonly registry: RegistryStore;
  readonly revocations: RevocationStore;
  readonly signingKeys: SigningKeyStore;
  readonly rateLimits: RateLimiter;
  /** Resolves when the backing store answers; rejects otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
