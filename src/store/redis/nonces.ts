import { assertNamespace, assertPositiveInteger } from "../common.js";
import type { NonceStore } from "../ports.js";
import type { RedisLike } from "./connect.js";
import type { RedisKeys } from "./keys.js";

/** Replay cache on Redis: SET NX is atomic on its own, so no script is needed. */
export function createRedisNonceStore(redis: RedisLike, keys: RedisKeys): NonceStore {
  return {
    async useOnce(namespace, id, ttlMs) {
      assertNamespace(namespace);
      assertPositiveInteger("ttlMs", ttlMs);
      const stored = await redis.set(keys.nonce(namespace, id), "1", "PX", ttlMs, "NX");
      return stored !== null;
    },
  };
}
