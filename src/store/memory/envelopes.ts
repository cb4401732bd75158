import type { Clock } from "../../clock.js";
import { assertPositiveInteger } from "../common.js";
import { assertEnvelopeKey, assertSpendArgs } from "../envelope-args.js";
import type { EnvelopeStore } from "../ports.js";
import { ExpiringMap } from "./expiring-map.js";

/**
 * In-memory budgets and freezes. Every check-and-set is one synchronous step, so of
 * concurrent spends exactly as many as fit are allowed.
 */
export function createMemoryEnvelopeStore(clock: Clock): EnvelopeStore {
  const totals = new ExpiringMap<number>(clock);
  const freezes = new ExpiringMap<true>(clock);

  return {
    async spend(key, amount, limit, ttlMs) {
      assertSpendArgs(key, amount, limit, ttlMs);
      const current = totals.get(key);
      const spent = current?.value ?? 0;
      if (spent + amount > limit) return { allowed: false, spent };
      // The period's end is fixed by the first spend; later spends keep it.
      totals.set(key, spent + amount, current?.expiresAt ?? clock.now() + ttlMs);
      return { allowed: true, spent: spent + amount };
    },
    async freeze(key, ttlMs) {
      assertEnvelopeKey(key);
      assertPositiveInteger("ttlMs", ttlMs);
      const until = clock.now() + ttlMs;
      const current = freezes.get(key);
      if (current !== undefined && current.expiresAt >= until) return;
      freezes.set(key, true, until);
    },
    async isFrozen(key) {
      assertEnvelopeKey(key);
      return freezes.get(key) !== undefined;
    },
  };
}
