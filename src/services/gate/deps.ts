import type { ChallengeKinds } from "../../challenges/index.js";
import type { Clock } from "../../clock.js";
import type { KeyRing } from "../../crypto/key-ring.js";
import type { Store } from "../../store/ports.js";

export interface GateSettings {
  readonly issuer: string;
  readonly challengeTtlSeconds: number;
  readonly passTtlSeconds: number;
  readonly defaultTokenTtlSeconds: number;
  readonly maxTokenTtlSeconds: number;
}

export interface GateDeps {
  readonly settings: GateSettings;
  readonly store: Store;
  readonly clock: Clock;
  readonly keys: KeyRing;
  readonly kinds: ChallengeKinds;
}

/** A pass as stored (by the hash of its value). */
export interface PassRecord {
  readonly did: string;
  readonly caller: string;
  readonly scopes: readonly string[];
  readonly audience: string;
  /** Unix ms. */
  readonly expiresAt: number;
}

/**
 * Records outlive their deadline by this much in the store, so a late submission is told
 * "expired" rather than "not found", and a consumed marker keeps refusing replays.
 */
export const EXPIRED_RECORD_GRACE_MS = 5 * 60_000;
