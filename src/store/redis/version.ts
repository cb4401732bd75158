import { StorePreconditionError } from "../common.js";
import type { RedisLike } from "./connect.js";

/**
 * The oldest Redis the adapter's scripts run on: the rate limits' script extends a log's
 * expiry with `PEXPIRE … GT` (rate-limits.ts), which Redis 7.0 added.
 */
export const MIN_REDIS_MAJOR = 7;

/** `redis_version` from `INFO server` text; undefined when it is not there. */
export function redisVersionOf(info: string): string | undefined {
  return /^redis_version:(\S+)/m.exec(info)?.[1];
}

/**
 * Refuses a server older than MIN_REDIS_MAJOR at start-up, with what it found, rather than
 * failing every login at its first rate limit. A server that does not say (INFO refused by an
 * ACL, or unreachable now) is let through: the scripts still fail closed if it is too old.
 */
export async function requireRedisVersion(redis: RedisLike): Promise<void> {
  let info: string;
  try {
    info = await redis.info("server");
  } catch {
    return;
  }
  const version = redisVersionOf(info);
  const major = Number.parseInt(version ?? "", 10);
  if (Number.isInteger(major) && major < MIN_REDIS_MAJOR) {
    throw new StorePreconditionError(
      `Redis ${MIN_REDIS_MAJOR}.0 or later is required (the rate limits use PEXPIRE … GT); ` +
        `the server reports ${version}`,
    );
  }
}
