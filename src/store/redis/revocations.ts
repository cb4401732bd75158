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
      if (ttlMs !== undefined) assertPositiveInteger("ttlMs", ttlMs);
      // 0 asks the script for a mark without expiry.
      await scripts.ghRevoke(keys.revocation(kind, id), ttlMs ?? 0);
    },

    async isRevoked(kind, id) {
      return (await redis.exists(keys.revocation(kind, id))) === 1;
    },

    async revokeIssuedUntil(did, atMs, ttlMs) {
      assertPositiveInteger("atMs", atMs);
      assertPositiveInteger("ttlMs", ttlMs);
      await scripts.ghRevokeIssuedUntil(keys.issuedUntil(did), String(atMs), ttlMs);
    },

    async issuedUntil(did) {
      const value = await redis.get(keys.issuedUntil(did));
      return value === null ? undefined : Number(value);
    },
  };
}
