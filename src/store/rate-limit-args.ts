import { assertPositiveInteger, StorePreconditionError } from "./common.js";

/**
 * Printable ASCII without braces: a brace would become (or break) the Redis hash tag the
 * key is wrapped in, and control characters have no business in a key.
 */
const RATE_LIMIT_KEY = /^[\x21-\x7a|~]{1,256}$/;

/** Checks `RateLimiter.hit`'s arguments alike in every adapter; returns the cost. */
export function rateLimitCost(
  key: string,
  limit: number,
  windowMs: number,
  cost: number | undefined,
): number {
  if (!RATE_LIMIT_KEY.test(key)) {
    throw new StorePreconditionError("rate limit key must be 1-256 printable ASCII, no braces");
  }
  assertPositiveInteger("limit", limit);
  assertPositiveInteger("windowMs", windowMs);
  const hits = cost ?? 1;
  assertPositiveInteger("cost", hits);
  // More than `limit` could never fit: refusing it forever would only hide the bug.
  if (hits > limit) throw new StorePreconditionError("cost must not exceed limit");
  return hits;
}
