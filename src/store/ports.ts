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

/** "revoked" is final: an operator is never set back from it. */
export type OperatorStatus = "active" | "suspended" | "revoked";
/** `deleted` is a tombstone: refused like `revoked`; its DID and keys are never reused. */
export type AgentStatus = "active" | "suspended" | "revoked" | "deleted";

export interface OperatorRecord {
  readonly domain: string;
  readonly displayName: string;
  readonly status: OperatorStatus;
  /** Unix ms. */
  readonly createdAt: number;
  /** Domain ownership proof. Absent in records written before verification existed. */
  readonly verification?: DomainVerificationRecord;
  /** Raw 32-byte Ed25519 request-signing key, lowercase hex. Absent = none. */
  readonly publicKeyHex?: string;
}

export type DomainVerificationMethod = "dns_txt" | "https_well_known" | "admin_attested";

export interface DomainVerificationRecord {
  /** The server-issued token the operator publishes (not a credential: it proves nothing alone). */
  readonly token: string;
  /** How it was last verified; absent = never. */
  readonly method?: DomainVerificationMethod;
  /** Unix ms of the last successful check. */
  readonly verifiedAt?: number;
  /** Unix ms when the proof lapses; absent with `verifiedAt` = never (admin attestation). */
  readonly expiresAt?: number;
}

/** The operator fields that change after creation; absent fields are left as stored. */
export interface OperatorPatch {
  readonly verification?: DomainVerificationRecord;
  readonly publicKeyHex?: string;
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
  /** Behavioural envelope and budgets enforced by Verify. Absent = no bounds. */
  readonly envelope?: EnvelopeRecord;
  /** Standing typed capabilities; each is also an allowed scope. Absent = none. */
  readonly capabilities?: readonly CapabilityRecord[];
}

/** An amount in minor units of an ISO 4217 currency (a safe integer, not negative). */
export interface MoneyRecord {
  readonly currency: string;
  readonly minorUnits: number;
}

/** A recurring UTC span `[startMinute, endMinute)` on some ISO weekdays (1 = Monday). */
export interface TimeWindowRecord {
  /** Empty = every day. */
  readonly days: readonly number[];
  readonly startMinute: number;
  readonly endMinute: number;
}

/** The stored Envelope: 0 (or absent) means "no limit" for each bound. */
export interface EnvelopeRecord {
  readonly maxRequests: number;
  readonly requestWindowMs: number;
  /** Empty = always. */
  readonly allowedTimes: readonly TimeWindowRecord[];
  readonly maxTransaction?: MoneyRecord;
  readonly budget?: MoneyRecord;
  readonly budgetPeriodMs: number;
  readonly freezeAfterFailures: number;
  readonly freezeWindowMs: number;
  readonly freezeDurationMs: number;
}

export interface AgentRecord {
  readonly did: string;
  readonly operatorDomain: string;
  /** The current raw 32-byte Ed25519 public key, lowercase hex. */
  readonly publicKeyHex: string;
  /** When the current key became the agent's (Unix ms). Absent = `createdAt`. */
  readonly keyCreatedAt?: number;
  /** Keys retired by rotation, oldest first. Reserved forever. Absent = none. */
  readonly retiredKeys?: readonly RetiredAgentKey[];
  readonly status: AgentStatus;
  readonly policy: PolicyRecord;
  readonly policyVersion: number;
  readonly displayName: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Bumped by every write; used for compare-and-set. */
  readonly revision: number;
}

/** A key an agent no longer uses: it never signs for the agent again, and is never reused. */
export interface RetiredAgentKey {
  /** Raw 32-byte Ed25519 public key, lowercase hex. */
  readonly publicKeyHex: string;
  /** Unix ms: when it became the agent's key. */
  readonly createdAt: number;
  /** Unix ms: when it was retired. */
  readonly retiredAt: number;
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
   *
   * Key rotation: when `next.publicKeyHex` differs from the stored key, the stored key must
   * be in `next.retiredKeys` (else StorePreconditionError), and the new key is reserved in
   * the public-key index in the same atomic step; when that key was ever registered, nothing
   * is written and PublicKeyInUseError is thrown. Retired keys stay reserved forever.
   */
  updateAgent(next: AgentRecord, expectedRevision: number): Promise<boolean>;
  /** Agents in ascending DID order, filtered; at most `limit`. */
  listAgents(query: AgentListQuery): Promise<AgentPage>;
  /**
   * Sets an operator's status atomically. "revoked" is final: once revoked, the stored
   * status never changes again. Returns the stored record, undefined for an unknown domain.
   */
  setOperatorStatus(domain: string, status: OperatorStatus): Promise<OperatorRecord | undefined>;
  /**
   * Applies `patch` atomically (status and other fields are untouched). Returns the stored
   * record, undefined for an unknown domain.
   */
  patchOperator(domain: string, patch: OperatorPatch): Promise<OperatorRecord | undefined>;
}

/** "token": a `jti`; "agent_key": an agent key by RFC 7638 thumbprint (Ed25519 as OKP JWK). */
export type RevocationKind = "token" | "agent_key";

export interface RevocationStore {
  /**
   * Marks `id` revoked for `ttlMs` (the longest any credential it covers can live), or for
   * good when `ttlMs` is omitted. Revoking again never shortens a revocation.
   */
  revoke(kind: RevocationKind, id: string, ttlMs?: number): Promise<void>;
  isRevoked(kind: RevocationKind, id: string): Promise<boolean>;
  /**
   * Revokes every token of `did` issued at or before `atMs` (Unix ms; compared with `iat`)
   * for `ttlMs`. Never lowers the watermark nor shortens its life.
   */
  revokeIssuedUntil(did: string, atMs: number, ttlMs: number): Promise<void>;
  /** The live watermark of `did` (Unix ms), undefined when none. */
  issuedUntil(did: string): Promise<number | undefined>;
}

/** Whom a token was issued to: what Revoke needs to let only its owner revoke it. */
export interface IssuedTokenRecord {
  /** The token's `sub`. */
  readonly sub: string;
  /** The token's `operator` claim: the domain whose agent it was issued to. */
  readonly operatorDomain: string;
  /** The token's `exp` (Unix seconds). */
  readonly exp: number;
}

/**
 * Issued token ids (`jti`), each kept as long as its token can still verify. The embedded
 * store keeps them in memory only (a login must not rewrite a file): after its restart,
 * tokens issued before it are revoked through their agent, its key or an admin.
 */
export interface IssuedTokenStore {
  /** Records `jti` for `ttlMs`. Recording an id again replaces the record. */
  record(jti: string, token: IssuedTokenRecord, ttlMs: number): Promise<void>;
  /** The live record of `jti`, undefined when unknown or expired. */
  get(jti: string): Promise<IssuedTokenRecord | undefined>;
}

/**
 * Tells replicas that state Verify may have cached changed. The store stays the source of
 * truth; an event only says "re-read this". Delivery to other replicas is best effort
 * (Redis pub/sub), so in-process caches also bound their lifetime.
 */
export type InvalidationEvent =
  | { readonly kind: "token"; readonly id: string }
  | { readonly kind: "agent"; readonly did: string }
  | { readonly kind: "operator"; readonly domain: string }
  | { readonly kind: "agent_key"; readonly thumbprint: string; readonly did?: string }
  | { readonly kind: "signing_keys" }
  | { readonly kind: "grant"; readonly id: string }
  /** Forget everything: sent locally when events may have been lost (a reconnect). */
  | { readonly kind: "all" };

export type InvalidationListener = (event: InvalidationEvent) => void;

export interface InvalidationBus {
  /**
   * Delivers `event` to this process's listeners before resolving (so the replica that
   * made a change never serves its own stale cache), then to every other replica.
   */
  publish(event: InvalidationEvent): Promise<void>;
  /** Resolves once `listener` receives events; the function it returns unsubscribes. */
  subscribe(listener: InvalidationListener): Promise<() => void>;
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

/**
 * One stored audit entry. `event` is the base64 of the AuditEvent's protobuf binary exactly
 * as hashed (src/audit/chain.ts); `seq`, `prevHash` and `hash` repeat what it chains on, so
 * the adapters can compare-and-append without decoding it.
 */
export interface AuditRecord {
  readonly seq: number;
  /** Lowercase hex SHA-256; 64 zeros for seq 1. */
  readonly prevHash: string;
  readonly hash: string;
  readonly event: string;
  /**
   * Base64 Ed25519 signature of the audit key over the 32 hash bytes, on the last entry of
   * each appended batch; "" on the others (the chain links them to the signed one).
   */
  readonly signature: string;
}

/** The chain's head: the last appended entry's sequence and hash. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/** The audit key (Ed25519), one per store, shared by every replica. */
export interface AuditKeyRecord {
  /** RFC 7638 thumbprint of its public key. */
  readonly kid: string;
  /** PKCS#8 PEM of the private key (possibly sealed, see sealed-key-store.ts). */
  readonly privateKeyPem: string;
  readonly createdAt: number;
}

/**
 * What an audit `append` did: stored the batch, or refused it because the head was not the
 * one it was built on. A refusal carries the head it found (read in the same atomic step),
 * so the writer rebuilds on it without another round trip.
 */
export type AuditAppendOutcome =
  | { readonly status: "appended" }
  | { readonly status: "conflict"; readonly head: AuditHead | undefined };

/**
 * The append-only audit log. `append` is a compare-and-append of a batch, atomic across
 * replicas: it writes every record of the batch (consecutive, chained, the last one signed),
 * or none, and only when the stored head is exactly `{ seq: first.seq - 1, hash:
 * first.prevHash }` (no head at all for seq 1), so two writers can never both extend the
 * same head and the stored order is the chain order.
 */
export interface AuditLogStore {
  head(): Promise<AuditHead | undefined>;
  append(batch: readonly AuditRecord[]): Promise<AuditAppendOutcome>;
  /**
   * Up to `limit` live records in chain order, those with a sequence after `offset`
   * (entries up to the base were pruned: a read from before it starts at the base).
   */
  read(offset: number, limit: number): Promise<readonly AuditRecord[]>;
  /** The last entry pruned (the first live entry links to its hash); undefined: none. */
  base(): Promise<AuditHead | undefined>;
  /**
   * Compare-and-prune, atomic: removes every entry up to and including `through.seq`, and
   * makes `through` the base, only if the live entry at that sequence has `through.hash`.
   * The head is kept (a log pruned through its last entry has its base as head).
   */
  prune(through: AuditHead): Promise<"pruned" | "conflict">;
  /** The stored audit key; stores `candidate` first when there is none (set-if-absent). */
  key(candidate: AuditKeyRecord): Promise<AuditKeyRecord>;
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
  /**
   * `hit` for each of `hits`, in order, each counted on its own exactly as `hit` counts it
   * (a limit that refuses keeps no other from counting), in one store round trip (on Redis
   * one script; on a Redis Cluster one per limit, since their keys lie in different slots).
   * Every hit's arguments are checked before any is counted. Results in the order of `hits`.
   */
  hitEach(hits: readonly RateLimitHit[]): Promise<RateLimitResult[]>;
}

/** The arguments of one `RateLimiter.hit`. */
export interface RateLimitHit {
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly cost?: number;
}

/** The outcome of a budget spend. */
export interface BudgetSpendResult {
  readonly allowed: boolean;
  /** The total spent under the key after this call (unchanged when refused). */
  readonly spent: number;
}

/**
 * Envelope state shared by every replica: period budgets and agent freezes. Keys follow
 * the rate-limit key rule (printable ASCII without braces, at most 256 characters).
 */
export interface EnvelopeStore {
  /**
   * Adds `amount` to the total under `key` only when the total stays at most `limit`,
   * atomically across replicas: of N concurrent spends, exactly as many as fit are allowed.
   * A refused spend changes nothing. The total expires `ttlMs` after it was first written
   * (the end of the budget period). `amount` and `limit` are safe non-negative integers.
   */
  spend(key: string, amount: number, limit: number, ttlMs: number): Promise<BudgetSpendResult>;
  /** Marks `key` frozen for `ttlMs`; freezing again never shortens a freeze. */
  freeze(key: string, ttlMs: number): Promise<void>;
  /** Whether `key` is frozen now. */
  isFrozen(key: string): Promise<boolean>;
}

export type CapabilityActionRecord = "read" | "write" | "transact" | "delete" | "custom";

export interface CapabilityRecord {
  readonly action: CapabilityActionRecord;
  /** The verb of a custom capability. */
  readonly name?: string;
  /** Absent = any resource of the audience. */
  readonly resource?: string;
}

/** Stored grant states; "expired" is derived from `expiresAt`, never stored. */
export type GrantStoredState = "pending" | "approved" | "denied" | "revoked";

export interface GrantRecord {
  /** Opaque, URL-safe, unique. */
  readonly id: string;
  readonly agentDid: string;
  readonly operatorDomain: string;
  readonly audience: string;
  readonly capabilities: readonly CapabilityRecord[];
  /** The agent's words for the approver. */
  readonly reason: string;
  /** How long the grant lasts once approved. */
  readonly durationMs: number;
  readonly state: GrantStoredState;
  /** Unix ms. */
  readonly createdAt: number;
  /** Unix ms: a pending grant lapses then; an approved grant ends then. */
  readonly expiresAt: number;
  readonly decidedAt?: number;
  /** The approver who decided: "<display name> (<approver id>)". */
  readonly decidedBy?: string;
  readonly revokedAt?: number;
  /** Bumped by every write; used for compare-and-set. */
  readonly revision: number;
}

export interface GrantListQuery {
  readonly operatorDomain?: string;
  readonly agentDid?: string;
  /** Stored state filter. */
  readonly state?: GrantStoredState;
  /** Continue after this cursor (a previous page's `nextCursor`). */
  readonly cursor?: string;
  readonly limit: number;
}

export interface GrantPage {
  /** Newest first (by `createdAt`, then id). */
  readonly grants: readonly GrantRecord[];
  /** Opaque; undefined on the last page. */
  readonly nextCursor?: string;
}

/**
 * Capability grants. `create` enforces the pending limit atomically across replicas;
 * `update` is a compare-and-set on `revision`, so two humans deciding at once cannot both win.
 */
export interface GrantStore {
  /**
   * Stores `grant` (state "pending") unless the agent already has `maxPending` grants that
   * are pending and unexpired at `nowMs`: of N concurrent creates, at most as many as fit win.
   */
  create(
    grant: GrantRecord,
    maxPending: number,
    nowMs: number,
  ): Promise<"created" | "pending_limit">;
  get(id: string): Promise<GrantRecord | undefined>;
  /** Writes `next` only when the stored revision equals `expectedRevision` (next.revision = +1). */
  update(next: GrantRecord, expectedRevision: number): Promise<boolean>;
  list(query: GrantListQuery): Promise<GrantPage>;
  /**
   * Counts one more consecutive denial for `agentDid` and returns the Unix ms until which
   * it must not ask again: `nowMs + min(maxMs, baseMs * 2^(denials - 1))`.
   */
  recordDenial(agentDid: string, nowMs: number, baseMs: number, maxMs: number): Promise<number>;
  /** Unix ms until which the agent must wait; undefined when it need not. */
  cooldownUntil(agentDid: string): Promise<number | undefined>;
  /** Forgets the agent's consecutive denials (after an approval). */
  resetDenials(agentDid: string): Promise<void>;
}

/** One WebAuthn credential (passkey) of an approver. */
export interface PasskeyRecord {
  /** base64url credential id. */
  readonly credentialId: string;
  /** base64url COSE public key. */
  readonly publicKey: string;
  /** The authenticator's signature counter last seen. */
  readonly counter: number;
  readonly transports?: readonly string[];
  readonly createdAt: number;
}

/** A human who decides an operator's grants. */
export interface ApproverRecord {
  readonly id: string;
  readonly operatorDomain: string;
  readonly displayName: string;
  /** base64url WebAuthn user handle (random, not personal data). */
  readonly userHandle: string;
  readonly passkeys: readonly PasskeyRecord[];
  readonly createdAt: number;
}

export interface ApproverStore {
  /** Creates atomically; "exists" when the id or any credential id is already registered. */
  create(approver: ApproverRecord): Promise<CreateResult>;
  get(id: string): Promise<ApproverRecord | undefined>;
  findByCredential(credentialId: string): Promise<ApproverRecord | undefined>;
  /** Oldest first. */
  listByDomain(operatorDomain: string): Promise<readonly ApproverRecord[]>;
  /**
   * Removes the approver and its domain-list membership; true when it existed. Its credential
   * ids stay reserved, so a removed passkey can never be registered again.
   */
  remove(id: string): Promise<boolean>;
  /**
   * Compare-and-set of one passkey's signature counter: writes `next` only when the stored
   * counter equals `expected` (so a cloned authenticator racing the real one loses).
   */
  updateCounter(
    approverId: string,
    credentialId: string,
    expected: number,
    next: number,
  ): Promise<boolean>;
}

/** Records that live for a while and can be read many times (approval page sessions). */
export interface ExpiringStore<T> {
  put(id: string, value: T, ttlMs: number): Promise<void>;
  get(id: string): Promise<T | undefined>;
  delete(id: string): Promise<void>;
}

/** Everything the services need from state. */
export interface Store {
  readonly challenges: OneTimeStore<unknown>;
  readonly passes: OneTimeStore<unknown>;
  readonly nonces: NonceStore;
  readonly registry: RegistryStore;
  readonly revocations: RevocationStore;
  /** Who each live token was issued to (Revoke by `jti`). */
  readonly issuedTokens: IssuedTokenStore;
  readonly signingKeys: SigningKeyStore;
  readonly rateLimits: RateLimiter;
  /** Cache invalidation across replicas (see InvalidationBus). */
  readonly events: InvalidationBus;
  readonly envelopes: EnvelopeStore;
  /** The hash-chained audit log (src/audit). */
  readonly audit: AuditLogStore;
  /** Capability grants (src/services/grants). */
  readonly grants: GrantStore;
  /** Human approvers and their passkeys. */
  readonly approvers: ApproverStore;
  /** Single-use approval tickets: approver invitations and WebAuthn ceremony challenges. */
  readonly approvalTickets: OneTimeStore<unknown>;
  /** Approval page sessions. */
  readonly sessions: ExpiringStore<unknown>;
  /** Resolves when the backing store answers; rejects otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
