import type { Clock } from "../../clock.js";
import { assertPositiveInteger } from "../common.js";
import type { RevocationKind, RevocationStore } from "../ports.js";
import { ExpiringMap } from "./expiring-map.js";
import { isObject, type Persist } from "./snapshot.js";

interface Revocation {
  readonly kind: RevocationKind;
  readonly id: string;
  /** Unix ms on the store's clock. */
  readonly expiresAt: number;
}

/** The revocations file's content: only entries still live when it was written. */
export interface RevocationsSnapshot {
  readonly version: 1;
  readonly revoked: readonly Revocation[];
}

export function parseRevocationsSnapshot(data: unknown, source: string): RevocationsSnapshot {
  const valid =
    isObject(data) &&
    data.version === 1 &&
    Array.isArray(data.revoked) &&
    data.revoked.every(
      (r) =>
        isObject(r) &&
        r.kind === "token" &&
        typeof r.id === "string" &&
        typeof r.expiresAt === "number",
    );
  if (!valid) throw new Error(`${source} is not a Gatehouse revocations file (version 1)`);
  return data as unknown as RevocationsSnapshot;
}

/**
 * In-memory revocation list. Revoking again never shortens a revocation: the later of
 * the two expiries wins, so a short TTL cannot un-revoke a long-lived credential.
 */
export class MemoryRevocations implements RevocationStore {
  readonly #clock: Clock;
  readonly #revoked: ExpiringMap<Revocation>;
  readonly #persist: Persist;

  constructor(clock: Clock, persist: Persist, initial?: RevocationsSnapshot) {
    this.#clock = clock;
    this.#persist = persist;
    this.#revoked = new ExpiringMap(clock);
    const now = clock.now();
    for (const revocation of initial?.revoked ?? []) {
      if (revocation.expiresAt > now) this.#set(revocation);
    }
  }

  snapshot(): RevocationsSnapshot {
    return { version: 1, revoked: [...this.#revoked.live()].map((entry) => entry.value) };
  }

  async revoke(kind: RevocationKind, id: string, ttlMs: number): Promise<void> {
    assertPositiveInteger("ttlMs", ttlMs);
    const expiresAt = this.#clock.now() + ttlMs;
    const current = this.#revoked.get(key(kind, id));
    if (current !== undefined && current.expiresAt >= expiresAt) return;
    this.#set({ kind, id, expiresAt });
    await this.#persist();
  }

  async isRevoked(kind: RevocationKind, id: string): Promise<boolean> {
    return this.#revoked.get(key(kind, id)) !== undefined;
  }

  #set(revocation: Revocation): void {
    this.#revoked.set(key(revocation.kind, revocation.id), revocation, revocation.expiresAt);
  }
}

function key(kind: RevocationKind, id: string): string {
  return `${kind}:${id}`;
}
