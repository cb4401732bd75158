import { assertPositiveInteger } from "../common.js";
import { assertEnvelopeKey, assertSpendArgs } from "../envelope-args.js";
import type { EnvelopeStore } from "../ports.js";
import type { RedisLike } from "./connect.js";
import { luaScript } from "./lua-script.js";

/**
 * KEYS[1] the period total; ARGV[1] amount, ARGV[2] limit, ARGV[3] TTL (ms) for a new
 * total. Adds the amount only when the total stays within the limit. Returns
 * {allowed (1|0), spent}. Amounts and limits are safe integers, so the doubles Lua
 * computes with are exact wherever the comparison can go either way.
 */
const SPEND = `
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if spent + amount > tonumber(ARGV[2]) then return {0, spent} end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], amount)
else
  redis.call('SET', KEYS[1], amount, 'PX', ARGV[3])
end
return {1, spent + amount}
`;

/** KEYS[1] the freeze marker; ARGV[1] TTL (ms). Never shortens a longer freeze. */
const FREEZE = `
local remaining = redis.call('PTTL', KEYS[1])
if remaining == -1 or remaining >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1
`;

/**
 * Budgets and freezes on Redis, one atomic script each. Keys carry the hash tag of their
 * own key (`{budget:<key>}`, `{freeze:<key>}`), so they spread over a Cluster and any later
 * companion key of the same budget lands in the same slot. TTLs run on Redis's clock.
 */
export function createRedisEnvelopeStore(redis: RedisLike, prefix: string): EnvelopeStore {
  const spendScript = luaScript(redis, SPEND);
  const freezeScript = luaScript(redis, FREEZE);
  const freezeKey = (key: string) => `${prefix}:{freeze:${key}}`;

  return {
    async spend(key, amount, limit, ttlMs) {
      assertSpendArgs(key, amount, limit, ttlMs);
      const [allowed, spent] = (await spendScript.run(
        1,
        `${prefix}:{budget:${key}}`,
        amount,
        limit,
        ttlMs,
      )) as [0 | 1, number];
      return { allowed: allowed === 1, spent: Number(spent) };
    },
    async freeze(key, ttlMs) {
      assertEnvelopeKey(key);
      assertPositiveInteger("ttlMs", ttlMs);
      await freezeScript.run(1, freezeKey(key), ttlMs);
    },
    async isFrozen(key) {
      assertEnvelopeKey(key);
      return (await redis.exists(freezeKey(key))) === 1;
    },
  };
}
