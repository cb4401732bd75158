import type { Clock } from "../../clock.js";
import { assertNamespace, assertPositiveInteger } from "../common.js";
import type { NonceStore } from "../ports.js";
import { ExpiringMap } from "./expiring-map.js";

/**
 * In-memory replay cache. The lookup and the insert happen in one synchronous step, so
 * of concurrent callers with one id exactly one sees `true`.
 */
export function createMemoryNonceStore(clock: Clock): NonceStore {
  const seen = new ExpiringMap<true>(clock);

  return {
    async useOnce(namespace, id, ttlMs) {
      assertNamespace(namespace);
      assertPositiveInteger("ttlMs", ttlMs);
      const key = `${namespace}:${id}`;
      if (seen.get(key) !== undefined) return false;
      seen.set(key, true, clock.now() + ttlMs);
      return true;
    },
  };
}
