import type { Clock } from "../../clock.js";

/** How often a write may trigger a full sweep of expired entries. */
export const SWEEP_INTERVAL_MS = 10_000;

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

/**
 * A map whose entries vanish at `expiresAt` (Unix ms on the injected clock).
 *
 * Expiry is exact because every read checks it. Memory stays bounded without a timer:
 * a write sweeps every expired entry when SWEEP_INTERVAL_MS has passed since the last
 * sweep, so the map never holds more than the entries written within one TTL plus one
 * interval. Being timer-free keeps it deterministic under a manual clock and leaves
 * nothing to stop on close.
 */
export class ExpiringMap<V> {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry<V>>();
  #nextSweepAt: number;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#nextSweepAt = clock.now() + SWEEP_INTERVAL_MS;
  }

  /** The live entry under `key`; an expired one is deleted and reported as absent. */
  get(key: string): Entry<V> | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, value: V, expiresAt: number): void {
    this.#sweepIfDue();
    this.#entries.set(key, { value, expiresAt });
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Every live entry (for persistence). */
  *live(): IterableIterator<Entry<V>> {
    const now = this.#clock.now();
    for (const entry of this.#entries.values()) {
      if (entry.expiresAt > now) yield entry;
    }
  }

  /** Entries still held, expired or not: lets tests see that sweeping frees memory. */
  get heldCount(): number {
    return this.#entries.size;
  }

  #sweepIfDue(): void {
    const now = this.#clock.now();
    if (now < this.#nextSweepAt) return;
    this.#nextSweepAt = now + SWEEP_INTERVAL_MS;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key);
    }
  }
}
