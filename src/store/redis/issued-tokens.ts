import { assertPositiveInteger, toJson } from "../common.js";
import type { IssuedTokenRecord, IssuedTokenStore } from "../ports.js";
import type { RedisLike } from "./connect.js";
import type { RedisKeys } from "./keys.js";

/** Issued token ids: one key each, expiring on Redis's clock (PX) with the token. */
export function createRedisIssuedTokenStore(redis: RedisLike, keys: RedisKeys): IssuedTokenStore {
  return {
    async record(jti, token, ttlMs) {
      assertPositiveInteger("ttlMs", ttlMs);
      const { sub, operatorDomain, exp } = token;
      await redis.set(keys.issuedToken(jti), toJson({ sub, operatorDomain, exp }), "PX", ttlMs);
    },
    async get(jti) {
      const json = await redis.get(keys.issuedToken(jti));
      return json === null ? undefined : (JSON.parse(json) as IssuedTokenRecord);
    },
  };
}
