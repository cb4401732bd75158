import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { exportJWK, type JWK } from "jose";
import type { Clock } from "../clock.js";
import type { SigningAlg, SigningKeyRecord, SigningKeyStore } from "../store/ports.js";
import { jwkThumbprint } from "./jose/thumbprint.js";
import { isSealed } from "./sealed-key-store.js";

/** A key that signs tokens now. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: KeyObject;
}

/** A key a token may name in its `kid` header. */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly publicKey: KeyObject;
  readonly jwk: JWK;
}

export interface KeyRing {
  /** The key to sign with now; runs due maintenance first (lazily, on the ring's clock). */
  signingKey(): Promise<SigningKey>;
  /**
   * The key by kid, from memory (the Verify hot path); undefined when unknown or retired
   * (every token it signed has expired).
   */
  lookup(kid: string): VerificationKey | undefined;
  /**
   * Reloads keys from the store (another replica may have added one). Rate-limited so a
   * flood of unknown kids cannot turn into a flood of store reads.
   */
  refresh(): Promise<void>;
  /**
   * Reloads keys from the store now: another replica announced that it added one (the
   * invalidation bus). Concurrent calls share one load.
   */
  reload(): Promise<void>;
  /** Every published key (pending, signing, or still verifying old tokens), for the JWKS. */
  published(): Promise<readonly VerificationKey[]>;
  /**
   * Forced rotation: a new key, published now, signing from `activateAt` on, and never
   * sooner than the publication delay (so verifiers that cache the JWKS learn it before
   * the first token it signs). The key it supersedes stays published until every token it
   * signed has expired, as with a scheduled rotation.
   */
  rotate(alg: SigningAlg, activateAt: number): Promise<SigningKeyRecord>;
  /**
   * One maintenance step: reloads the keys; adds the first key when none signs; schedules a
   * successor when the newest key has signed for the rotation interval.
   */
  maintain(): Promise<void>;
  /**
   * Start-up: maintenance (failing when the keys cannot be read, e.g. a wrong encryption
   * key), a successor of the configured alg when the newest key has another one, and
   * maintenance on an unref'd timer until `stop()`.
   */
  start(): Promise<void>;
  stop(): void;
  /**
   * Every key, retired ones included, in signing order, with its state now (no key
   * material); runs due maintenance first, as `published()` does, so both agree.
   */
  schedule(): Promise<readonly KeyStatus[]>;
}

/**
 * Where a key is in its life: published but not signing yet, signing, superseded but still
 * published for the tokens it signed, or out of the JWKS.
 */
export type KeyState = "pending" | "signing" | "retiring" | "retired";

export interface KeyStatus {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly createdAt: number;
  readonly activateAt: number;
  /** When it leaves the JWKS; undefined while nothing supersedes it. */
  readonly retireAt?: number;
  /** Its state when the status was taken. */
  readonly state: KeyState;
}

/** Why a key was added (for logs). */
export type KeyAddedReason = "first" | "scheduled" | "forced" | "alg-changed";

export interface KeyRingEvents {
  keyAdded?(key: KeyStatus, reason: KeyAddedReason): void;
  /** Background or lazy maintenance failed; the current keys stay in use. */
  maintenanceFailed?(error: unknown): void;
}

export interface KeyRingOptions {
  readonly store: SigningKeyStore;
  readonly clock: Clock;
  /** The alg of the first key, of scheduled successors, and of rotations naming none. */
  readonly alg: SigningAlg;
  /** Minimum interval between store reloads triggered by unknown kids. */
  readonly refreshIntervalMs?: number;
  /** A successor is scheduled once the newest key has signed this long; 0 (default) = never. */
  readonly rotationIntervalMs?: number;
  /** How long a new key is published before it signs (≥ the JWKS cache lifetime). */
  readonly publicationDelayMs?: number;
  /**
   * How long a superseded key stays published after it stops signing: the longest token
   * lifetime plus the clock skew Verify tolerates. Unset: superseded keys are never retired.
   */
  readonly retentionMs?: number;
  /** Maintenance period (timer and lazy); default min(60 s, publication delay / 4), ≥ 1 s. */
  readonly maintenanceIntervalMs?: number;
  /**
   * Tells the other replicas that a key was added (they `reload`), awaited before the
   * addition is reported; when it fails, their periodic maintenance finds the key.
   */
  readonly announce?: () => Promise<void>;
  readonly events?: KeyRingEvents;
}

/**
 * Keys, in signing order. Why `retireAt` is derived rather than stored: a key stops signing
 * exactly when the next key in this order activates, so its retirement follows from the
 * successor's `activateAt`: no second write per rotation, no read-modify-write racing
 * between replicas, no update method on the store (nor a Lua script, nor re-sealing), and
 * it cannot disagree with the successor when two replicas raced to add one. A stored
 * `retireAt` (an explicit retirement) still wins.
 */
interface Entry {
  readonly record: SigningKeyRecord;
  readonly key: VerificationKey;
  /** Effective: stored, else successor's activateAt + retention, else +Infinity. */
  readonly retireAt: number;
}

/**
 * Signing order: by `activateAt`, then by kid descending, so of two keys activating at the
 * same instant (two replicas raced to add a successor) the smaller kid comes last and wins
 * on every replica.
 */
function signingOrder(a: SigningKeyRecord, b: SigningKeyRecord): number {
  return a.activateAt - b.activateAt || (a.kid < b.kid ? 1 : a.kid > b.kid ? -1 : 0);
}

export function createKeyRing(options: KeyRingOptions): KeyRing {
  const { store, clock, alg, events = {} } = options;
  const refreshIntervalMs = options.refreshIntervalMs ?? 1_000;
  const rotationIntervalMs = options.rotationIntervalMs ?? 0;
  const publicationDelayMs = options.publicationDelayMs ?? 0;
  const retentionMs = options.retentionMs ?? Number.POSITIVE_INFINITY;
  const maintenanceIntervalMs =
    options.maintenanceIntervalMs ?? Math.max(1_000, Math.min(60_000, publicationDelayMs / 4));
  let entries: readonly Entry[] = [];
  let byKid = new Map<string, Entry>();
  const privateKeys = new Map<string, KeyObject>();
  let lastLoad = Number.NEGATIVE_INFINITY;
  let nextMaintenance = Number.NEGATIVE_INFINITY;
  let loading: Promise<void> | undefined;
  let maintaining: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function load(): Promise<void> {
    const records = [...(await store.list())].sort(signingOrder);
    const next: Entry[] = [];
    for (const [i, record] of records.entries()) {
      if (isSealed(record.privateKeyPem)) {
        throw new Error(
          `signing key ${record.kid} is encrypted: set keys.encryptionKey ` +
            "(GATEHOUSE_KEY_ENCRYPTION_KEY) to the key it was sealed with",
        );
      }
      const successor = records[i + 1];
      const derived =
        successor === undefined ? Number.POSITIVE_INFINITY : successor.activateAt + retentionMs;
      const key = byKid.get(record.kid)?.key ?? (await toVerificationKey(record));
      next.push({ record, key, retireAt: record.retireAt ?? derived });
    }
    entries = next;
    byKid = new Map(next.map((entry) => [entry.record.kid, entry]));
    lastLoad = clock.now();
  }

  function loadOnce(): Promise<void> {
    loading ??= load().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  /** The latest key in signing order that has activated and is not retired. */
  function signerAt(now: number): Entry | undefined {
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i];
      if (entry && entry.record.activateAt <= now && entry.retireAt > now) return entry;
    }
    return undefined;
  }

  async function add(record: SigningKeyRecord, reason: KeyAddedReason): Promise<void> {
    await store.add(record);
    await loadOnce();
    await options.announce?.().catch((error: unknown) => events.maintenanceFailed?.(error));
    const now = clock.now();
    const entry = byKid.get(record.kid) ?? { record, retireAt: Infinity };
    events.keyAdded?.(statusOf(entry, signerAt(now), now), reason);
  }

  async function maintainNow(): Promise<void> {
    await loadOnce();
    const now = clock.now();
    if (!signerAt(now)) {
      await add(await generateSigningKey(alg, now), "first");
    } else {
      const newest = entries.at(-1)?.record;
      if (
        newest &&
        rotationIntervalMs > 0 &&
        now >= newest.activateAt + rotationIntervalMs - publicationDelayMs
      ) {
        // On time, every replica computes the same activateAt (ties go to the smaller kid);
        // late (e.g. all replicas were down), the successor still waits the delay out.
        const activateAt = Math.max(
          newest.activateAt + rotationIntervalMs,
          now + publicationDelayMs,
        );
        await add({ ...(await generateSigningKey(alg, now)), activateAt }, "scheduled");
      }
    }
    nextMaintenance = clock.now() + maintenanceIntervalMs;
  }

  function maintainOnce(): Promise<void> {
    maintaining ??= maintainNow().finally(() => {
      maintaining = undefined;
    });
    return maintaining;
  }

  /** Lazy maintenance: when due on the ring's clock; a failure keeps the current keys. */
  async function maybeMaintain(): Promise<void> {
    if (lastLoad === Number.NEGATIVE_INFINITY) await loadOnce();
    if (clock.now() < nextMaintenance && signerAt(clock.now())) return;
    try {
      await maintainOnce();
    } catch (error) {
      if (!signerAt(clock.now())) throw error;
      nextMaintenance = clock.now() + refreshIntervalMs;
      events.maintenanceFailed?.(error);
    }
  }

  return {
    async signingKey() {
      await maybeMaintain();
      const entry = signerAt(clock.now());
      if (!entry) throw new Error("no signing key available");
      const { record } = entry;
      let privateKey = privateKeys.get(record.kid);
      if (!privateKey) {
        privateKey = createPrivateKey(record.privateKeyPem);
        privateKeys.set(record.kid, privateKey);
      }
      return { kid: record.kid, alg: record.alg, privateKey };
    },
    lookup(kid) {
      const entry = byKid.get(kid);
      return entry && entry.retireAt > clock.now() ? entry.key : undefined;
    },
    async refresh() {
      if (clock.now() - lastLoad < refreshIntervalMs) return;
      await loadOnce();
    },
    reload: loadOnce,
    async rotate(nextAlg, activateAt) {
      const now = clock.now();
      const record = {
        ...(await generateSigningKey(nextAlg, now)),
        activateAt: Math.max(activateAt, now + publicationDelayMs),
      };
      await add(record, "forced");
      return record;
    },
    async published() {
      await maybeMaintain();
      const now = clock.now();
      return entries.filter((entry) => entry.retireAt > now).map((entry) => entry.key);
    },
    maintain: maintainOnce,
    async start() {
      await maintainOnce();
      const newest = entries.at(-1)?.record;
      if (newest && newest.alg !== alg) {
        const now = clock.now();
        const record = {
          ...(await generateSigningKey(alg, now)),
          activateAt: now + publicationDelayMs,
        };
        await add(record, "alg-changed");
      }
      clearInterval(timer);
      timer = setInterval(() => {
        maintainOnce().catch((error: unknown) => events.maintenanceFailed?.(error));
      }, maintenanceIntervalMs).unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
    async schedule() {
      await maybeMaintain();
      const now = clock.now();
      const signer = signerAt(now);
      return entries.map((entry) => statusOf(entry, signer, now));
    },
  };
}

/** The entry's schedule and its state at `now`, given the key that signs then. */
function statusOf(
  entry: Pick<Entry, "record" | "retireAt">,
  signer: Entry | undefined,
  now: number,
): KeyStatus {
  const { kid, alg, createdAt, activateAt } = entry.record;
  const state = stateAt(entry, signer, now);
  return Number.isFinite(entry.retireAt)
    ? { kid, alg, createdAt, activateAt, retireAt: entry.retireAt, state }
    : { kid, alg, createdAt, activateAt, state };
}

/**
 * Retired once out of the JWKS (as `lookup` and `published` decide); else signing when it is
 * the signer; else pending until it activates, and retiring after (superseded).
 */
function stateAt(
  entry: Pick<Entry, "record" | "retireAt">,
  signer: Entry | undefined,
  now: number,
): KeyState {
  if (entry.retireAt <= now) return "retired";
  if (entry.record.kid === signer?.record.kid) return "signing";
  return entry.record.activateAt > now ? "pending" : "retiring";
}

/** Generates a key whose kid is its RFC 7638 JWK thumbprint. */
export async function generateSigningKey(alg: SigningAlg, now: number): Promise<SigningKeyRecord> {
  const { privateKey } =
    alg === "EdDSA"
      ? generateKeyPairSync("ed25519")
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = jwkThumbprint(await exportJWK(createPublicKey(privateKey)));
  if (kid === undefined) throw new TypeError(`no RFC 7638 thumbprint for a ${alg} key`);
  return {
    kid,
    alg,
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    createdAt: now,
    activateAt: now,
  };
}

async function toVerificationKey(record: SigningKeyRecord): Promise<VerificationKey> {
  const publicKey = createPublicKey(createPrivateKey(record.privateKeyPem));
  const jwk = { ...(await exportJWK(publicKey)), kid: record.kid, alg: record.alg, use: "sig" };
  return { kid: record.kid, alg: record.alg, publicKey, jwk };
}
