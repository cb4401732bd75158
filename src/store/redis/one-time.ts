import { assertPositiveInteger, DuplicateIdError, toJson } from "../common.js";
import type { ConsumeResult, OneTimeStore } from "../ports.js";
import type { RedisLike } from "./connect.js";
import type { OneTimeNamespace, RedisKeys } from "./keys.js";
import type { GatehouseScripts } from "./scripts.js";

/** Replaces a consumed value. JSON never starts with "!", so no value can equal it. */
const USED_MARKER = "!used";

/**
 * Single-use records on Redis. The TTL is Redis's own (PX, server time), so every
 * replica agrees on expiry whatever its local clock says.
 */
export function createRedisOneTimeStore<T>(
  redis: RedisLike,
  scripts: GatehouseScripts,
  keys: RedisKeys,
  namespace: OneTimeNamespace,
): OneTimeStore<T> {
  return {
    async put(id, value, ttlMs) {
      assertPositiveInteger("ttlMs", ttlMs);
      const stored = await redis.set(keys.oneTime(namespace, id), toJson(value), "PX", ttlMs, "NX");
      if (stored === null) throw new DuplicateIdError("one-time record id");
    },

    async consume(id): Promise<ConsumeResult<T>> {
      const reply = await scripts.ghConsumeOnce(keys.oneTime(namespace, id), USED_MARKER);
      if (reply[0] !== "ok") return { status: reply[0] };
      return { status: "ok", value: JSON.parse(reply[1]) as T };
    },
  };
}
