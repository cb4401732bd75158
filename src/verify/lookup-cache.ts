import type { Clock } from "../clock.js";
import { LruCache } from "./lru-cache.js";
import { resolvedWith } from "./settled.js";

interface Timed<V> {
  /**
   * The look-up's answer, settled: every hit hands out this one promise, whose value the
   * steps read without waiting (settled.ts).
   */
  readonly answer: Promise<V>;
  /** From then on a hit starts one refresh in the background and still answers at once. */
  readonly refreshAtMs: number;
  /** From then on the answer is not used: the next call waits for a fresh one. */
  readonly expiresAtMs: number;
}

export interface LookupCacheOptions {
  readonly clock: Clock;
  /** The longest an answer is used (the bound on a missed invalidation). */
  readonly ttlMs: number;
  readonly maxEntries: number;
  /**
   * Bumped by every invalidation: a load started before one must not store its (maybe
   * stale) answer after it.
   */
  readonly epoch: () => number;
  /** Told whether each look-up found a usable answer (hit ratios, src/observability). */
  readonly onLookup?: (hit: boolean) => void;
}

/**
 * One kind of store look-up, cached for Verify (cache.ts). Three rules keep a cached
 * decision from ever waiting on the store while its answer is usable:
 *
 * - an answer is fresh for half of `ttlMs`; in the second half a hit still answers at once
 *   and starts one refresh (stale-while-revalidate), so with a store that answers within
 *   `ttlMs / 2` no caller waits for a hot key;
 * - single flight: concurrent misses for one key share one load, and at most one refresh
 *   per key is in flight;
 * - the answer is never older than `ttlMs` (a failed refresh keeps it until then, not
 *   after), and `delete` drops both the answer and the load in flight, so an invalidated
 *   key is always read afresh: revocation still propagates by the bus at once, and within
 *   `ttlMs` when a bus message was lost.
 */
export class LookupCache<V> {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #epoch: () => number;
  readonly #onLookup: ((hit: boolean) => void) | undefined;
  readonly #entries: LruCache<Timed<V>>;
  /** Loads in flight by key (misses and refreshes alike). */
  readonly #loading = new Map<string, Promise<V>>();

  constructor(options: LookupCacheOptions) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#epoch = options.epoch;
    this.#onLookup = options.onLookup;
    this.#entries = new LruCache(options.maxEntries);
  }

  /** Not async: a fresh hit allocates nothing (Verify reads four of these per request). */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.#clock.now();
    const hit = this.#entries.get(key);
    const usable = hit !== undefined && hit.expiresAtMs > now;
    this.#onLookup?.(usable);
    if (hit !== undefined && hit.refreshAtMs > now) return hit.answer;
    if (hit !== undefined && hit.expiresAtMs > now) {
      if (!this.#loading.has(key)) this.#load(key, load, now).catch(noop);
      return hit.answer;
    }
    return this.#loading.get(key) ?? this.#load(key, load, now);
  }

  delete(key: string): void {
    this.#entries.delete(key);
    this.#loading.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#loading.clear();
  }

  #load(key: string, load: () => Promise<V>, now: number): Promise<V> {
    const epoch = this.#epoch();
    const loading = load().then(
      (value) => {
        if (this.#loading.get(key) === loading) this.#loading.delete(key);
        if (epoch === this.#epoch()) {
          this.#entries.set(key, {
            answer: resolvedWith(value),
            refreshAtMs: now + this.#ttlMs / 2,
            expiresAtMs: now + this.#ttlMs,
          });
        }
        return value;
      },
      (error: unknown) => {
        if (this.#loading.get(key) === loading) this.#loading.delete(key);
        throw error;
      },
    );
    this.#loading.set(key, loading);
    return loading;
  }
}

function noop(): void {}
