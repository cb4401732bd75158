import { assertPositiveInteger } from "../common.js";
import type { RevocationStore } from "../ports.js";
import type { RedisLike } from "./connect.js";
import type { RedisKeys } from "./keys.js";
import type { GatehouseScripts } from "./scripts.js";

/** Revocation marks that expire on their own once nothing they cover can still live. */
export function createRedisRevocationStore(
  redis: RedisLike,
  scripts: GatehouseScripts,
  keys: RedisKeys,
): RevocationStore {
  return {
    async revoke(kind, id, ttlMs) {
      assertPositiveInteger("ttlMs", ttlMs);
      await scripts.ghRevoke(keys.revocation(kind, id), ttlMs);
    },

    async isRevoked(kind, id) {
      return (await redis.exists(keys.revocation(kind, id))) === 1;
    },
  };
}
