/**
 * Redis growth under a flood of denied Verifies: bad tokens, as anyone who can reach Verify
 * (or an Envoy relaying junk to Check) can send them. Each denial used to append its own
 * audit entry, for good; now denials fold per key and window (src/audit/denials.ts). The
 * figure is Redis's memory after the flood minus before, per denial, both read with no
 * server connected (each server stopped gracefully, so every folded window is written).
 */
import { randomBytes } from "node:crypto";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import type { DevPki } from "../../src/pki/dev-pki.js";
import { connectRedis, type RedisLike } from "../../src/store/redis/index.js";
import { startRedisServer } from "../../test/support/redis-server.js";
import { toClientTls } from "../enroll.js";
import { round } from "../report.js";
import type { Settings } from "../settings.js";
import { spawnServer } from "../spawn-server.js";

/** The bench server's Redis key prefix is the default one (bench/config.ts). */
const AUDIT_LOG = "gh:{audit}:log";
const IN_FLIGHT = 64;

export interface DenialGrowth {
  readonly denied: number;
  /** Denied Verifies answered per second during the flood. */
  readonly rps: number;
  /** INFO memory used_memory, bytes. */
  readonly usedMemoryBefore: number;
  readonly usedMemoryAfter: number;
  readonly usedMemoryPerDenial: number;
  /** Audit entries appended by the flood, and the audit list's MEMORY USAGE growth per denial. */
  readonly auditEntriesAdded: number;
  readonly auditBytesPerDenial: number;
  /** MEMORY USAGE of the audit list ÷ its length after the flood: what one entry costs. */
  readonly bytesPerEntry: number;
}

interface Snapshot {
  readonly usedMemory: number;
  readonly auditBytes: number;
  readonly auditEntries: number;
}

export async function measureDenialGrowth(
  settings: Settings,
  pki: DevPki,
  dataDir: string,
): Promise<DenialGrowth> {
  const redis = await startRedisServer();
  const client = connectRedis(redis.url);
  try {
    // A first server writes what any start writes (keys, audit key) and one denial; stopped.
    await flood(dataDir, redis.url, settings, pki, 1);
    const before = await snapshot(client);
    const started = performance.now();
    await flood(dataDir, redis.url, settings, pki, settings.denials);
    const seconds = (performance.now() - started) / 1000;
    const after = await snapshot(client);
    const denied = settings.denials;
    return {
      denied,
      rps: round(denied / seconds, 0),
      usedMemoryBefore: before.usedMemory,
      usedMemoryAfter: after.usedMemory,
      usedMemoryPerDenial: round((after.usedMemory - before.usedMemory) / denied, 2),
      auditEntriesAdded: after.auditEntries - before.auditEntries,
      auditBytesPerDenial: round((after.auditBytes - before.auditBytes) / denied, 2),
      bytesPerEntry: round(after.auditBytes / Math.max(1, after.auditEntries), 0),
    };
  } finally {
    await client.quit();
    await redis.stop();
  }
}

/** Starts a server on the Redis, sends `count` Verifies of junk tokens, stops it gracefully. */
async function flood(
  dataDir: string,
  redisUrl: string,
  settings: Settings,
  pki: DevPki,
  count: number,
): Promise<void> {
  const server = await spawnServer(dataDir, { redisUrl, workers: settings.workers });
  const verify = createGrpcClient(VerifyService, {
    address: `127.0.0.1:${server.grpcPort}`,
    tls: toClientTls(pki, pki.verifier),
  });
  try {
    let next = 0;
    const lane = async () => {
      while (next < count) {
        next += 1;
        const token = `junk.${randomBytes(24).toString("base64url")}.${randomBytes(64).toString("base64url")}`;
        const answer = await verify.verify({ token, audience: "https://api.example.com" });
        if (answer.allowed) throw new Error("a junk token was allowed");
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  } finally {
    verify.close();
    await server.stop();
  }
}

async function snapshot(redis: RedisLike): Promise<Snapshot> {
  const info = await redis.info("memory");
  const usedMemory = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
  const auditBytes = Number(await redis.call("MEMORY", "USAGE", AUDIT_LOG, "SAMPLES", "0"));
  const auditEntries = await redis.llen(AUDIT_LOG);
  return { usedMemory, auditBytes, auditEntries };
}
