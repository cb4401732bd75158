import type { Clock } from "../../clock.js";
import { assertPositiveInteger, toJson } from "../common.js";
import type { ExpiringStore } from "../ports.js";
import { ExpiringMap } from "./expiring-map.js";

/**
 * In-memory expiring records (approval page sessions), never persisted: a restart signs
 * everyone out. Values are stored as JSON, so they come back exactly as from Redis.
 */
export function createMemorySessionStore<T>(clock: Clock): ExpiringStore<T> {
  const records = new ExpiringMap<string>(clock);

  return {
    async put(id, value, ttlMs) {
      assertPositiveInteger("ttlMs", ttlMs);
      records.set(id, toJson(value), clock.now() + ttlMs);
    },
    async get(id) {
      const json = records.get(id)?.value;
      return json === undefined ? undefined : (JSON.parse(json) as T);
    },
    async delete(id) {
      // Expiring now is deleting: reads treat the entry as gone, the next sweep frees it.
      if (records.get(id) !== undefined) records.set(id, "", clock.now());
    },
  };
}
