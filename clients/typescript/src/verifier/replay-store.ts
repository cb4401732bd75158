import { type Clock, systemClock } from "../../../../src/clock.js";
import { GatehouseClientError, Reason } from "../errors.js";

/**
 * Remembers DPoP proof `jti`s (RFC 9449 §11.1): `useOnce` is true the first time an id is
 * seen within its TTL, false for every replay. Several replicas of a service must share one
 * (e.g. Redis `SET key 1 NX PX ttl`); this is the server's `NonceStore` port.
 */
export interface ReplayStore {
  useOnce(namespace: string, id: string, ttlMs: number): Promise<boolean>;
}

export interface MemoryReplayStoreOptions {
  readonly clock?: Clock;
  /** Most ids remembered at once (default 100,000); when full, proofs are refused. */
  readonly maxEntries?: number;
}

/** A replay store for one process: bounded, expired ids swept when it fills up. */
export function createMemoryReplayStore(options: MemoryReplayStoreOptions = {}): ReplayStore {
  const clock = options.clock ?? systemClock;
  const maxEntries = options.maxEntries ?? 100_000;
  const expiries = new Map<string, number>();
  const sweep = (now: number) => {
    for (const [key, expiresAt] of expiries) if (expiresAt <= now) expiries.delete(key);
  };
  return {
    async useOnce(namespace, id, ttlMs) {
      const now = clock.now();
      const key = `${namespace}\0${id}`;
      const seen = expiries.get(key);
      if (seen !== undefined && seen > now) return false;
      if (expiries.size >= maxEntries) sweep(now);
      // Full of live ids: forgetting one would allow its replay, so refuse (fail closed).
      if (expiries.size >= maxEntries) {
        throw new GatehouseClientError("replay store full", 0, Reason.UNAVAILABLE);
      }
      expiries.set(key, now + ttlMs);
      return true;
    },
  };
}
