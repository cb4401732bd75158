import { compareSigningKeys, DuplicateIdError } from "../common.js";
import type { SigningKeyRecord, SigningKeyStore } from "../ports.js";
import type { RedisLike } from "./connect.js";
import type { RedisKeys } from "./keys.js";

/**
 * Signing keys in one hash (kid → JSON). They include private keys, so the Redis
 * deployment must be access-controlled and encrypted in transit (rediss://).
 */
export function createRedisSigningKeyStore(redis: RedisLike, keys: RedisKeys): SigningKeyStore {
  return {
    async list() {
      const values = await redis.hvals(keys.signingKeys);
      return values.map((json) => JSON.parse(json) as SigningKeyRecord).sort(compareSigningKeys);
    },

    async add(key) {
      const added = await redis.hsetnx(keys.signingKeys, key.kid, JSON.stringify(key));
      if (added === 0) throw new DuplicateIdError("signing key kid");
    },
  };
}
