import { afterAll, beforeAll } from "vitest";
import type { StoreKind } from "./gatehouse.js";
import { type RedisServer, startRedisServer } from "./redis-server.js";

export const STORE_KINDS: readonly StoreKind[] = ["memory", "redis"];

/**
 * Starts one real redis-server for the file (never skipped: CI installs redis-server) and
 * returns a getter for its URL; memory-store suites ignore it.
 */
export function useRedis(): () => string {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  return () => {
    if (!redis) throw new Error("redis-server not started");
    return redis.url;
  };
}
