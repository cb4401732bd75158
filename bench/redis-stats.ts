/**
 * What a run costs the Redis store, read from Redis itself: commands processed (INFO stats,
 * the reading connection's own INFO/MEMORY calls subtracted), used_memory, keys, and the audit
 * log's length and MEMORY USAGE. Two snapshots around a measured run, divided by its count.
 */

import { connectRedis, type RedisLike } from "../src/store/redis/index.js";
import { redisKeys } from "../src/store/redis/keys.js";
import { round } from "./report.js";

/** Commands one snapshot itself sends (INFO ×4, DBSIZE, MEMORY USAGE, LLEN). */
const SNAPSHOT_COMMANDS = 7;
const OWN_COMMANDS = new Set(["info", "dbsize", "memory|usage", "memory", "llen"]);

export interface RedisSnapshot {
  readonly commands: number;
  /** INFO stats total_reads_processed: the socket reads Redis made, one per batch it received. */
  readonly reads: number;
  /** INFO commandstats: calls by command (a script's own commands counted apart). */
  readonly byCommand: Readonly<Record<string, number>>;
  readonly usedMemory: number;
  readonly keys: number;
  readonly auditEntries: number;
  readonly auditBytes: number;
  /** INFO cpu used_cpu_user + used_cpu_sys, in µs: Redis shares this machine's cores. */
  readonly cpuUs: number;
}

/** Per counted operation (a login, a denial) between two snapshots. */
export interface RedisCost {
  readonly count: number;
  readonly commandsPer: number;
  /**
   * Socket reads Redis made per operation: the batches (writes) the server sent it, however
   * many commands each held (auto-pipelining); the probe's own reads subtracted.
   */
  readonly readsPer: number;
  readonly usedMemoryBytesPer: number;
  readonly keysPer: number;
  readonly auditEntriesPer: number;
  readonly auditBytesPer: number;
  /** Redis's own CPU per operation, µs (its main thread and I/O, the probe's few calls included). */
  readonly cpuUsPer: number;
  /** Calls per operation by command, largest first (EVALSHA is one round trip each). */
  readonly byCommandPer: Readonly<Record<string, number>>;
}

export interface RedisProbe {
  snapshot(): Promise<RedisSnapshot>;
  close(): Promise<void>;
}

/**
 * Snapshots of the Redis at `url`; the audit log counted is the one under `prefix` (the bench
 * server's is the default, bench/config.ts; the rules floor's its own).
 */
export function redisProbe(url: string, prefix = "gh"): RedisProbe {
  const redis: RedisLike = connectRedis(url);
  const auditLog = redisKeys(prefix).auditLog;
  return {
    async snapshot() {
      const stats = await redis.info("stats");
      const commandStats = await redis.info("commandstats");
      const memory = await redis.info("memory");
      const cpu = await redis.info("cpu");
      const keys = await redis.dbsize();
      const audit = await redis.call("MEMORY", "USAGE", auditLog, "SAMPLES", "0");
      return {
        commands: infoNumber(stats, "total_commands_processed"),
        reads: infoNumber(stats, "total_reads_processed"),
        byCommand: Object.fromEntries(
          [...commandStats.matchAll(/^cmdstat_(\S+):calls=(\d+)/gm)].map(([, name, calls]) => [
            name,
            Number(calls),
          ]),
        ),
        usedMemory: infoNumber(memory, "used_memory"),
        keys,
        auditEntries: await redis.llen(auditLog),
        auditBytes: Number(audit ?? 0),
        cpuUs: Math.round(
          (infoDecimal(cpu, "used_cpu_user") + infoDecimal(cpu, "used_cpu_sys")) * 1e6,
        ),
      };
    },
    close: () => redis.quit().then(() => {}),
  };
}

export function redisCost(before: RedisSnapshot, after: RedisSnapshot, count: number): RedisCost {
  const per = (pick: (s: RedisSnapshot) => number, less = 0) =>
    round((pick(after) - pick(before) - less) / Math.max(1, count), 2);
  return {
    count,
    commandsPer: per((s) => s.commands, SNAPSHOT_COMMANDS),
    // The probe sends its commands one at a time: one read each.
    readsPer: per((s) => s.reads, SNAPSHOT_COMMANDS),
    usedMemoryBytesPer: per((s) => s.usedMemory),
    keysPer: per((s) => s.keys),
    auditEntriesPer: per((s) => s.auditEntries),
    auditBytesPer: per((s) => s.auditBytes),
    cpuUsPer: per((s) => s.cpuUs),
    byCommandPer: Object.fromEntries(
      Object.entries(after.byCommand)
        .filter(([name]) => !OWN_COMMANDS.has(name))
        .map(([name, calls]) => [name, round((calls - (before.byCommand[name] ?? 0)) / count, 2)])
        .filter(([, calls]) => (calls as number) > 0)
        .sort(([, a], [, b]) => (b as number) - (a as number)),
    ),
  };
}

function infoNumber(info: string, field: string): number {
  return Number(infoField(info, field, "\\d+"));
}

/** A decimal field, such as INFO cpu's seconds (`used_cpu_user:1.234567`). */
function infoDecimal(info: string, field: string): number {
  return Number(infoField(info, field, "[\\d.]+"));
}

function infoField(info: string, field: string, pattern: string): string {
  const value = new RegExp(`^${field}:(${pattern})`, "m").exec(info)?.[1];
  if (value === undefined) throw new Error(`Redis INFO has no ${field}`);
  return value;
}
