import { LruCache } from "../cache/lru-cache.js";
import type { Clock } from "../clock.js";

/** A value now, or once a store look-up answers. */
export type Pending<T> = T | Promise<T>;

interface Timed<V> {
  /** The look-up's answer. */
  readonly value: V;
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
 *
 * `read` answers a usable hit synchronously (the value itself, no promise): a cached Verify
 * then runs without a microtask. Hits and misses are counted in two plain numbers, which
 * the metrics read when scraped (src/observability/verify-metrics.ts).
 */
export class LookupCache<V> {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #epoch: () => number;
  readonly #entries: LruCache<Timed<V>>;
  /** Loads in flight by key (misses and refreshes alike). */
  readonly #loading = new Map<string, Promise<V>>();
  #hits = 0;
  #misses = 0;

  constructor(options: LookupCacheOptions) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#epoch = options.epoch;
    this.#entries = new LruCache(options.maxEntries);
  }

  /** Look-ups that found a usable answer, and those that did not, since start. */
  get hits(): number {
    return this.#hits;
  }

  get misses(): number {
    return this.#misses;
  }

  /** The usable cached answer at `nowMs`, without loading or counting anything. */
  peek(key: string, nowMs: number): { readonly value: V } | undefined {
    const hit = this.#entries.get(key);
    return hit !== undefined && hit.expiresAtMs > nowMs ? hit : undefined;
  }

  /**
   * The answer for `key` at `nowMs`: the cached value itself when usable (past half the TTL
   * it also starts one refresh), else a promise of the load (shared by concurrent misses).
   */
  read(key: string, load: () => Promise<V>, nowMs: number): Pending<V> {
    const hit = this.peek(key, nowMs);
    if (hit === undefined) {
      this.#misses++;
      return this.#loading.get(key) ?? this.#load(key, load, nowMs);
    }
    this.#hits++;
    if ((hit as Timed<V>).refreshAtMs <= nowMs && !this.#loading.has(key)) {
      this.#load(key, load, nowMs).catch(noop);
    }
    return hit.value;
  }

  /** `read` on the cache's clock, always as a promise (for callers off the hot path). */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const answer = this.read(key, load, this.#clock.now());
    return answer instanceof Promise ? answer : Promise.resolve(answer);
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
            value,
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
