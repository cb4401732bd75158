import type { Clock } from "../../clock.js";
import type { RateLimiter, RateLimitResult } from "../ports.js";
import { rateLimitCost } from "../rate-limit-args.js";
import { ExpiringMap } from "./expiring-map.js";

/**
 * In-memory sliding-window log (see RateLimiter for why a log): per key, the ascending
 * times of the hits still in the window. Counting and recording happen in one synchronous
 * step, so of concurrent callers exactly as many as fit are allowed. A key's log expires
 * one window after its newest hit, so idle keys free their memory.
 */
export function createMemoryRateLimiter(clock: Clock): RateLimiter {
  const logs = new ExpiringMap<number[]>(clock);

  /** One hit whose arguments were checked (`hits` is its cost). */
  const count = (key: string, limit: number, windowMs: number, hits: number): RateLimitResult => {
    const now = clock.now();
    const log = (logs.get(key)?.value ?? []).filter((at) => at > now - windowMs);
    const excess = log.length + hits - limit;
    if (excess > 0) {
      // This call fits once the `excess` oldest hits have left the window.
      const blocking = log[excess - 1] ?? now;
      return {
        allowed: false,
        remaining: Math.max(0, limit - log.length),
        retryAfterMs: blocking + windowMs - now,
      };
    }
    // Insert in order even if the clock stepped back, so the log stays sorted.
    let at = log.length;
    while (at > 0 && (log[at - 1] ?? 0) > now) at--;
    log.splice(at, 0, ...new Array<number>(hits).fill(now));
    logs.set(key, log, (log.at(-1) ?? now) + windowMs);
    return { allowed: true, remaining: limit - log.length, retryAfterMs: 0 };
  };

  return {
    async hit(key, limit, windowMs, cost) {
      return count(key, limit, windowMs, rateLimitCost(key, limit, windowMs, cost));
    },
    async hitEach(hits) {
      // Every argument checked first, so a bad one leaves nothing counted.
      const costs = hits.map((hit) => rateLimitCost(hit.key, hit.limit, hit.windowMs, hit.cost));
      return hits.map((hit, i) => count(hit.key, hit.limit, hit.windowMs, costs[i] ?? 1));
    },
  };
}
