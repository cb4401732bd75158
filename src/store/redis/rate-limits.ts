import type { RateLimiter } from "../ports.js";
import { rateLimitCost } from "../rate-limit-args.js";
import type { RedisLike } from "./connect.js";

/**
 * KEYS[1] the log: a sorted set of hits, score = hit time (ms); KEYS[2] a counter that
 * makes each member unique. ARGV[1] limit, ARGV[2] window (ms), ARGV[3] cost.
 * Returns {allowed (1|0), remaining, retryAfterMs}.
 *
 * Time is Redis's own (TIME), not the caller's: replicas with skewed clocks still share
 * one window. (Redis 5+ replicates a script's effects, so reading TIME before a write is
 * allowed.) Members come from the counter, not the time, so two hits in one millisecond,
 * or a clock stepping back, can never overwrite each other. Both keys expire one window
 * after the newest hit, together, so the counter only restarts on an empty log.
 */
const HIT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local excess = count + cost - limit
if excess > 0 then
  local blocking = redis.call('ZRANGE', KEYS[1], excess - 1, excess - 1, 'WITHSCORES')
  return {0, math.max(0, limit - count), tonumber(blocking[2]) + window - now}
end
local last = redis.call('INCRBY', KEYS[2], cost)
for member = last - cost + 1, last do
  redis.call('ZADD', KEYS[1], now, member)
end
local newest = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
local ttl = newest + window - now
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {1, limit - count - cost, 0}
`;

interface RateLimitScript {
  ghRateLimitHit(
    logKey: string,
    counterKey: string,
    limit: number,
    windowMs: number,
    cost: number,
  ): Promise<[0 | 1, number, number]>;
}

/**
 * Sliding-window log on Redis, one atomic script per hit. Both keys of a limit share the
 * hash tag `{rl:<key>}`, so on Redis Cluster they sit in one slot (as a two-key script
 * requires) while different limits spread over the cluster. The script lives here rather
 * than in scripts.ts because nothing else uses it.
 */
export function createRedisRateLimiter(redis: RedisLike, prefix: string): RateLimiter {
  redis.defineCommand("ghRateLimitHit", { numberOfKeys: 2, lua: HIT });
  // defineCommand adds the method at run time, which TypeScript cannot see.
  const script = redis as unknown as RateLimitScript;

  return {
    async hit(key, limit, windowMs, cost) {
      const hits = rateLimitCost(key, limit, windowMs, cost);
      const tagged = `${prefix}:{rl:${key}}`;
      const [allowed, remaining, retryAfterMs] = await script.ghRateLimitHit(
        `${tagged}:log`,
        `${tagged}:seq`,
        limit,
        windowMs,
        hits,
      );
      return { allowed: allowed === 1, remaining, retryAfterMs };
    },
  };
}
