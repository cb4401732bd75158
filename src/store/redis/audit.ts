import type { AuditHead, AuditKeyRecord, AuditLogStore, AuditRecord } from "../ports.js";
import type { RedisLike } from "./connect.js";
import type { RedisKeys } from "./keys.js";
import type { GatehouseScripts } from "./scripts.js";

/**
 * The shared audit log: a list of entry JSON plus a head key, both under the `{audit}` hash
 * tag so the compare-and-append script (AUDIT_APPEND, one call per batch) touches one slot.
 * The head is kept apart from the list so that entries removed from the end are detected
 * (HEAD_MISMATCH).
 */
export function createRedisAuditLog(
  redis: RedisLike,
  scripts: GatehouseScripts,
  keys: RedisKeys,
): AuditLogStore {
  return {
    async head() {
      return parseHead(await redis.get(keys.auditHead));
    },

    async append(batch) {
      const first = batch[0];
      const last = batch.at(-1);
      if (!first || !last) throw new Error("an audit batch holds at least one entry");
      const expected = first.seq === 1 ? "" : `${first.seq - 1}:${first.prevHash}`;
      const [appended, found] = await scripts.ghAuditAppend(
        keys.auditLog,
        keys.auditHead,
        expected,
        `${last.seq}:${last.hash}`,
        ...batch.map((record) => JSON.stringify(record)),
      );
      return appended === 1
        ? { status: "appended" }
        : { status: "conflict", head: parseHead(found || null) };
    },

    async read(offset, limit) {
      if (limit <= 0) return [];
      // One script: the base and the list read together, so a prune cannot slip between.
      const [start, values] = await scripts.ghAuditRead(
        keys.auditLog,
        keys.auditBase,
        offset,
        limit,
      );
      return values.map((json, i) => parseRecord(json, start + i + 1));
    },

    async base() {
      return parseHead(await redis.get(keys.auditBase));
    },

    async prune(through) {
      const pruned = await scripts.ghAuditPrune(
        keys.auditLog,
        keys.auditBase,
        through.seq,
        through.hash,
      );
      return pruned === 1 ? "pruned" : "conflict";
    },

    async key(candidate) {
      await redis.set(keys.auditKey, JSON.stringify(candidate), "NX");
      const stored = await redis.get(keys.auditKey);
      if (stored === null) throw new Error("audit key vanished from redis");
      return JSON.parse(stored) as AuditKeyRecord;
    },
  };
}

function parseHead(value: string | null): AuditHead | undefined {
  if (value === null) return undefined;
  const [seq, hash] = value.split(":");
  return { seq: Number(seq), hash: hash ?? "" };
}

/** An undecodable entry stays in the listing, so VerifyAuditChain reports it where it is. */
function parseRecord(json: string, position: number): AuditRecord {
  try {
    return JSON.parse(json) as AuditRecord;
  } catch {
    return { seq: position, prevHash: "", hash: "", event: "!", signature: "" };
  }
}
