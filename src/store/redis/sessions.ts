import { assertPositiveInteger, toJson } from "../common.js";
import type { ExpiringStore } from "../ports.js";
import type { RedisLike } from "./connect.js";
import type { RedisKeys } from "./keys.js";

/** Approval page sessions: one key each, expiring on Redis's clock (PX). */
export function createRedisSessionStore<T>(redis: RedisLike, keys: RedisKeys): ExpiringStore<T> {
  return {
    async put(id, value, ttlMs) {
      assertPositiveInteger("ttlMs", ttlMs);
      await redis.set(keys.session(id), toJson(value), "PX", ttlMs);
    },
    async get(id) {
      const json = await redis.get(keys.session(id));
      return json === null ? undefined : (JSON.parse(json) as T);
    },
    async delete(id) {
      await redis.del(keys.session(id));
    },
  };
}
