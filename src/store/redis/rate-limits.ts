import type { RateLimiter, RateLimitHit, RateLimitResult } from "../ports.js";
import { rateLimitCost } from "../rate-limit-args.js";
import type { RedisLike } from "./connect.js";
import { luaScript } from "./lua-script.js";

/**
 * One or more hits, each on its own log. For hit i: KEYS[i] the log, a sorted set of hits,
 * score = hit time (ms); ARGV[3i-2] limit, ARGV[3i-1] window (ms), ARGV[3i] cost. Returns,
 * flat, {allowed (1|0), remaining, retryAfterMs} per hit, in order.
 *
 * Time is Redis's own (TIME, read once for every hit of the call), not the caller's:
 * replicas with skewed clocks still share one window. (Redis 5+ replicates a script's
 * effects, so reading TIME before a write is allowed.) A member is `<time>:<n>`, added with
 * NX and a higher `n` while one exists, so two hits in one millisecond, or a clock stepping
 * back, can never overwrite each other (n starts past the count, so it rarely retries). The
 * log expires one window after its newest hit: a log emptied by the trim was deleted, so the
 * first hit sets its expiry; later hits only extend it (PEXPIRE GT, Redis 7), which keeps an
 * older hit's later expiry when the clock stepped back, without reading the newest score.
 */
const HIT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local results = {}
for i = 1, #KEYS do
  local log = KEYS[i]
  local limit = tonumber(ARGV[3 * i - 2])
  local window = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  local count = redis.call('ZCARD', log)
  local excess = count + cost - limit
  if excess > 0 then
    local blocking = redis.call('ZRANGE', log, excess - 1, excess - 1, 'WITHSCORES')
    table.insert(results, 0)
    table.insert(results, math.max(0, limit - count))
    table.insert(results, tonumber(blocking[2]) + window - now)
  else
    local n = count
    for _ = 1, cost do
      repeat n = n + 1 until redis.call('ZADD', log, 'NX', now, now .. ':' .. n) == 1
    end
    if count == 0 then
      redis.call('PEXPIRE', log, window)
    else
      redis.call('PEXPIRE', log, window, 'GT')
    end
    table.insert(results, 1)
    table.insert(results, limit - count - cost)
    table.insert(results, 0)
  end
end
return results
`;

/**
 * Sliding-window log on Redis, one atomic script per call, whatever the number of limits it
 * hits. A limit's one key carries the hash tag `{rl:<key>}`, so different limits spread
 * over a Redis Cluster; there the limits of one `hitEach` lie in different slots, so each runs
 * its own script (in parallel: still one round trip). The script lives here rather than in
 * scripts.ts because nothing else uses it.
 */
export function createRedisRateLimiter(redis: RedisLike, prefix: string): RateLimiter {
  const script = luaScript(redis, HIT);

  /** One script over `hits`, whose arguments were checked (`costs` in the same order). */
  const run = async (hits: readonly RateLimitHit[], costs: readonly number[]) => {
    const keys = hits.map(({ key }) => `${prefix}:{rl:${key}}:log`);
    const args = hits.flatMap(({ limit, windowMs }, i) => [limit, windowMs, costs[i] ?? 1]);
    // Three numbers per limit, in the order of `hits`.
    const reply = (await script.run(keys.length, ...keys, ...args)) as number[];
    return hits.map(
      (_, i): RateLimitResult => ({
        allowed: reply[3 * i] === 1,
        remaining: Number(reply[3 * i + 1]),
        retryAfterMs: Number(reply[3 * i + 2]),
      }),
    );
  };

  return {
    async hit(key, limit, windowMs, cost) {
      const [result] = await run(
        [{ key, limit, windowMs }],
        [rateLimitCost(key, limit, windowMs, cost)],
      );
      return result as RateLimitResult;
    },
    async hitEach(hits) {
      // Every argument checked first, so a bad one leaves nothing counted.
      const costs = hits.map((hit) => rateLimitCost(hit.key, hit.limit, hit.windowMs, hit.cost));
      if (hits.length === 0) return [];
      if (!redis.isCluster) return run(hits, costs);
      const each = await Promise.all(hits.map((hit, i) => run([hit], [costs[i] ?? 1])));
      return each.flat();
    },
  };
}
