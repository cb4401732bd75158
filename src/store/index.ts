import type { Clock } from "../clock.js";
import { createMemoryStore, type MemoryStoreOptions } from "./memory/index.js";
import type { Store } from "./ports.js";
import { connectRedis, createRedisStore } from "./redis/index.js";
import { requireRedisVersion } from "./redis/version.js";

export { DuplicateIdError, StorePreconditionError } from "./common.js";
export { createMemoryStore, type MemoryStoreOptions } from "./memory/index.js";
export type * from "./ports.js";
export {
  type ConnectRedisOptions,
  connectRedis,
  createRedisStore,
  type RedisLike,
  type RedisStoreOptions,
} from "./redis/index.js";

export type StoreOptions =
  | {
      /** In-process state for a single replica; persists to `dataDir` when given. */
      readonly kind: "embedded";
      readonly dataDir?: string;
      readonly clock: Clock;
      /** Told what start-up repaired in `dataDir` (see MemoryStoreOptions.logger). */
      readonly logger?: MemoryStoreOptions["logger"];
    }
  | {
      /** Shared state for several replicas. */
      readonly kind: "redis";
      /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
      readonly url: string;
      /** `url` names one seed node of a Redis Cluster. */
      readonly cluster?: boolean;
      /** Unused by Redis (TTLs run on the server's clock); kept so both kinds look alike. */
      readonly clock: Clock;
      /** Receives connection errors; see ConnectRedisOptions.onError. */
      readonly onError?: (error: Error) => void;
    };

/** Opens the store the configuration names. A Redis store owns (and closes) its connection. */
export async function createStore(options: StoreOptions): Promise<Store> {
  if (options.kind === "embedded") {
    return createMemoryStore({
      clock: options.clock,
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }
  const redis = connectRedis(options.url, {
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  try {
    await requireRedisVersion(redis);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return createRedisStore({ redis, ownsConnection: true });
}
