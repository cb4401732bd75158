import { createPrivateKey } from "node:crypto";
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { chainEvent, GENESIS_HASH, signRecord } from "../../src/audit/chain.js";
import type { AuditEventInput } from "../../src/audit/writer.js";
import type { AuditHead, AuditKeyRecord, AuditRecord } from "../../src/store/ports.js";
import { connectRedis } from "../../src/store/redis/index.js";

/** Where a stopped test server keeps its audit log. */
export type AuditLogLocation =
  | { readonly kind: "memory"; readonly dataDir: string }
  | { readonly kind: "redis"; readonly url: string };

const REDIS_LOG = "gh:{audit}:log";
const REDIS_HEAD = "gh:{audit}:head";
const REDIS_KEY = "gh:audit-key";
const REDIS_BATCH = 1_000;

/**
 * Extends a stopped server's audit chain by `count` entries, sealed by the chain code
 * (src/audit/chain.ts) with the server's own audit key on its own head: the same bytes
 * its writer would append, without an fsync (embedded) or a round trip (Redis) per entry,
 * so a test can build a log of ten thousand entries in about a second. The server, started
 * again, lists and verifies them like any other.
 */
export async function appendSealedEntries(
  where: AuditLogLocation,
  count: number,
  eventOf: (n: number) => AuditEventInput,
  /**
   * How the entries are signed. `batch`: written in batches of this many, each signed on
   * its last entry (default 1: every entry signed, as a log from before batches).
   * `unfinished`: none signed, the lines of a batch whose write stopped before its last,
   * signed, line (a crash mid-append).
   */
  options: { readonly batch?: number; readonly unfinished?: boolean } = {},
): Promise<void> {
  const log = where.kind === "memory" ? fileLog(where.dataDir) : redisLog(where.url);
  try {
    const key = await log.key();
    const privateKey = createPrivateKey(key.privateKeyPem);
    let head = await log.head();
    const records: AuditRecord[] = [];
    const now = Date.now();
    for (let n = 1; n <= count; n++) {
      const sequence = (head?.seq ?? 0) + 1;
      const chained = chainEvent(eventOf(n), {
        sequence,
        prevHash: Buffer.from(head?.hash ?? GENESIS_HASH, "hex"),
        timeMs: now + n,
        auditKeyId: key.kid,
      });
      const ends = n % (options.batch ?? 1) === 0 || n === count;
      const record = ends && !options.unfinished ? signRecord(chained, privateKey) : chained;
      records.push(record);
      head = { seq: sequence, hash: record.hash };
    }
    await log.append(records, head);
  } finally {
    await log.close();
  }
}

interface BulkLog {
  key(): Promise<AuditKeyRecord>;
  head(): Promise<AuditHead | undefined>;
  append(records: readonly AuditRecord[], head: AuditHead | undefined): Promise<void>;
  close(): Promise<void>;
}

/** The embedded store's files: `audit.log` (one JSON line per entry, its own head). */
function fileLog(dataDir: string): BulkLog {
  const path = join(dataDir, "audit.log");
  return {
    key: async () => JSON.parse(await readFile(join(dataDir, "audit-key.json"), "utf8")),
    async head() {
      const lines = (await readFile(path, "utf8")).split("\n").filter((line) => line !== "");
      const last = lines.at(-1);
      if (last === undefined) return undefined;
      const { seq, hash } = JSON.parse(last) as AuditRecord;
      return { seq, hash };
    },
    append: (records) => appendFile(path, records.map((r) => `${JSON.stringify(r)}\n`).join("")),
    close: async () => undefined,
  };
}

/** The Redis store's list and head (default prefix `gh`). */
function redisLog(url: string): BulkLog {
  const redis = connectRedis(url);
  return {
    async key() {
      const stored = await redis.get(REDIS_KEY);
      if (stored === null) throw new Error("no audit key in redis");
      return JSON.parse(stored) as AuditKeyRecord;
    },
    async head() {
      const value = await redis.get(REDIS_HEAD);
      if (value === null) return undefined;
      const [seq, hash = ""] = value.split(":");
      return { seq: Number(seq), hash };
    },
    async append(records, head) {
      for (let i = 0; i < records.length; i += REDIS_BATCH) {
        const batch = records.slice(i, i + REDIS_BATCH).map((r) => JSON.stringify(r));
        await redis.rpush(REDIS_LOG, ...batch);
      }
      if (head) await redis.set(REDIS_HEAD, `${head.seq}:${head.hash}`);
    },
    async close() {
      await redis.quit();
    },
  };
}
