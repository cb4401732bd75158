import { withFaultMapping } from "../faults.js";
import type { Store } from "../ports.js";
import { createRedisApproverStore } from "./approvers.js";
import { createRedisAuditLog } from "./audit.js";
import type { RedisLike } from "./connect.js";
import { createRedisEnvelopeStore } from "./envelopes.js";
import { createRedisInvalidationBus } from "./events.js";
import { isRedisFault } from "./faults.js";
import { createRedisGrantStore } from "./grants.js";
import { createRedisIssuedTokenStore } from "./issued-tokens.js";
import { redisKeys } from "./keys.js";
import { createRedisNonceStore } from "./nonces.js";
import { createRedisOneTimeStore } from "./one-time.js";
import { createRedisRateLimiter } from "./rate-limits.js";
import { createRedisRegistry } from "./registry.js";
import { createRedisRevocationStore } from "./revocations.js";
import { defineScripts } from "./scripts.js";
import { createRedisSessionStore } from "./sessions.js";
import { createRedisSigningKeyStore } from "./signing-keys.js";

export { type ConnectRedisOptions, connectRedis, type RedisLike } from "./connect.js";

/**
 * Readiness must answer even when the client holds commands back (a Cluster client
 * queues them while it has no slot map), so ping gives up after this long.
 */
const PING_TIMEOUT_MS = 1_000;

export interface RedisStoreOptions {
  readonly redis: RedisLike;
  /** Namespaces every key, so deployments (or tests) can share one Redis. Default "gh". */
  readonly prefix?: string;
  /** Whether `close()` quits `redis`: true only when the store opened the connection. */
  readonly ownsConnection?: boolean;
}

/**
 * The shared store for several replicas: every single-use and compare-and-set rule is
 * enforced inside Redis (SET NX or a Lua script), so it holds across processes.
 * TTLs run on Redis's clock, so this adapter needs no Clock. A lost or stalled connection
 * surfaces as StoreUnavailableError (faults.ts), fast (connect.ts).
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const { redis, ownsConnection = false } = options;
  const prefix = options.prefix ?? "gh";
  const keys = redisKeys(prefix);
  const scripts = defineScripts(redis);
  const events = createRedisInvalidationBus(redis, keys.invalidations);

  return withFaultMapping(
    {
      challenges: createRedisOneTimeStore(redis, scripts, keys, "challenge"),
      passes: createRedisOneTimeStore(redis, scripts, keys, "pass"),
      nonces: createRedisNonceStore(redis, keys),
      rateLimits: createRedisRateLimiter(redis, prefix),
      envelopes: createRedisEnvelopeStore(redis, prefix),
      registry: createRedisRegistry(redis, scripts, keys),
      revocations: createRedisRevocationStore(redis, scripts, keys),
      issuedTokens: createRedisIssuedTokenStore(redis, keys),
      signingKeys: createRedisSigningKeyStore(redis, keys),
      audit: createRedisAuditLog(redis, scripts, keys),
      grants: createRedisGrantStore(redis, scripts, keys),
      approvers: createRedisApproverStore(redis, scripts, keys),
      approvalTickets: createRedisOneTimeStore(redis, scripts, keys, "ticket"),
      sessions: createRedisSessionStore(redis, keys),
      events,
      ping: () => pingWithin(redis, PING_TIMEOUT_MS),
      async close() {
        // The subscriber connection is always the store's own, whoever owns `redis`.
        await events.close();
        if (ownsConnection) await redis.quit();
      },
    },
    isRedisFault,
  );
}

async function pingWithin(redis: RedisLike, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`redis did not answer PING within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
