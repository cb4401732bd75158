import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { AuditEventType } from "../../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { decodeEvent, verifyAuditChain } from "../../../src/audit/chain.js";
import { type AuditKey, loadAuditKey } from "../../../src/audit/key.js";
import {
  type Audit,
  type AuditEventInput,
  createAuditWriter,
  MAX_BATCH_BYTES,
  MAX_BATCH_ENTRIES,
} from "../../../src/audit/writer.js";
import { systemClock } from "../../../src/clock.js";
import { createLogger } from "../../../src/observability/logger.js";
import { MemoryAuditLog } from "../../../src/store/memory/audit.js";
import type { AuditLogStore } from "../../../src/store/ports.js";
import { connectRedis, createRedisStore } from "../../../src/store/redis/index.js";
import { STORE_KINDS, useRedis } from "../../support/stores.js";

const logger = createLogger("silent");

function event(n: number): AuditEventInput {
  return { type: AuditEventType.TOKEN_ISSUED, actorRole: "agent", tokenId: `t${n}` };
}

/** Counts each append (its batch's size), each conflict and each head read, around a real store. */
function counting(log: AuditLogStore) {
  const batches: number[] = [];
  let conflicts = 0;
  let headReads = 0;
  const store: AuditLogStore = {
    head: () => {
      headReads += 1;
      return log.head();
    },
    read: (offset, limit) => log.read(offset, limit),
    base: () => log.base(),
    prune: (through) => log.prune(through),
    key: (candidate) => log.key(candidate),
    append: async (batch) => {
      batches.push(batch.length);
      // Each batch is one chained run signed once, on its last entry.
      expect(batch.map((record) => record.signature === "")).toEqual(
        batch.map((_, i) => i < batch.length - 1),
      );
      const outcome = await log.append(batch);
      if (outcome.status === "conflict") conflicts += 1;
      return outcome;
    },
  };
  return {
    store,
    batches,
    get conflicts() {
      return conflicts;
    },
    get headReads() {
      return headReads;
    },
  };
}

async function storedEvents(log: AuditLogStore) {
  return (await log.read(0, 10_000)).map((record) => decodeEvent(record));
}

async function expectValidChain(log: AuditLogStore, key: AuditKey, entries: number) {
  const verdict = await verifyAuditChain(log, new Map([[key.kid, key.publicKey]]));
  expect(verdict).toMatchObject({ ok: true, entries });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

const tokenIds = (count: number, from = 1) =>
  Array.from({ length: count }, (_, i) => `t${i + from}`);

describe.each(STORE_KINDS)("audit writer (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  /** One store, seen by `replicas` writers' connections (Redis: one connection each). */
  async function setup(replicas = 1): Promise<{ logs: AuditLogStore[]; key: AuditKey }> {
    let logs: AuditLogStore[];
    if (storeKind === "memory") {
      const log = await MemoryAuditLog.open();
      logs = Array.from({ length: replicas }, () => log);
    } else {
      const prefix = `t-${randomUUID()}`;
      const stores = Array.from({ length: replicas }, () =>
        createRedisStore({ redis: connectRedis(redisUrl()), prefix, ownsConnection: true }),
      );
      opened.push(...stores);
      logs = stores.map((store) => store.audit);
    }
    return { logs, key: await loadAuditKey(logs[0] as AuditLogStore, systemClock) };
  }

  it("appends concurrent records in call order, one chain, each batch in one call signed once", async () => {
    const { logs, key } = await setup();
    const log = counting(logs[0] as AuditLogStore);
    const audit = createAuditWriter({ log: log.store, key, clock: systemClock, logger });
    const recorded: Promise<void>[] = [];
    for (let n = 1; n <= 200; n++) {
      // Some not awaited by anyone: flush still waits for them.
      if (n % 3 === 0) void audit.record(event(n));
      else recorded.push(audit.record(event(n)));
    }
    await Promise.all(recorded);
    await audit.flush();
    // Recorded while the head was being read: all in the first batch.
    expect(log.batches).toEqual([200]);
    const events = await storedEvents(log.store);
    expect(events.map((e) => e?.tokenId)).toEqual(tokenIds(200));
    await expectValidChain(log.store, key, 200);

    // Recorded while a batch is written: together in the next one.
    const first = audit.record(event(201));
    await Promise.resolve();
    const next = [audit.record(event(202)), audit.record(event(203))];
    await Promise.all([first, ...next]);
    expect(log.batches.slice(1)).toEqual([1, 2]);
    await expectValidChain(log.store, key, 203);
  });

  it("bounds each batch by entries and by bytes", async () => {
    const { logs, key } = await setup();
    const log = counting(logs[0] as AuditLogStore);
    const audit = createAuditWriter({ log: log.store, key, clock: systemClock, logger });
    await Promise.all(Array.from({ length: 600 }, (_, i) => audit.record(event(i + 1))));
    expect(log.batches).toEqual([
      MAX_BATCH_ENTRIES,
      MAX_BATCH_ENTRIES,
      600 - 2 * MAX_BATCH_ENTRIES,
    ]);
    const big = (n: number, size: number) => ({ ...event(n), comment: "x".repeat(size) });
    // Two fit under MAX_BATCH_BYTES (base64: 4/3 of each), three do not; a larger one goes alone.
    const third = Math.floor(MAX_BATCH_BYTES / 3);
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => audit.record(big(601 + i, third))),
      audit.record(big(606, MAX_BATCH_BYTES)),
    ]);
    // The first goes at once, alone (the writer was idle); the rest wait for it.
    expect(log.batches.slice(3)).toEqual([1, 2, 2, 1]);
    await expectValidChain(log.store, key, 606);
  });

  it("two writers on two replicas keep one chain: a refused batch is rebuilt on the head the refusal names", async () => {
    const { logs, key } = await setup(2);
    const replicas = logs.map((log) => counting(log));
    const [a, b] = replicas.map((replica) =>
      createAuditWriter({ log: replica.store, key, clock: systemClock, logger }),
    ) as [Audit, Audit];
    const writes: Promise<void>[] = [];
    for (let round = 0; round < 5; round++) {
      // Both writers build on the same head, then race to append.
      for (let n = 1; n <= 40; n++) {
        const id = round * 40 + n;
        writes.push((id % 2 === 0 ? a : b).record(event(id)));
      }
      await Promise.all(writes);
    }
    expect(replicas.reduce((sum, replica) => sum + replica.conflicts, 0)).toBeGreaterThan(0);
    // The head is read once, at each writer's start: a refusal carries the head it found.
    expect(replicas.map((replica) => replica.headReads)).toEqual([1, 1]);
    const ids = (await storedEvents(logs[0] as AuditLogStore)).map((e) => e?.tokenId);
    expect([...ids].sort()).toEqual(tokenIds(200).sort());
    // Each writer keeps its own call order.
    const order = (parity: number) =>
      ids.filter((id) => Number(id?.slice(1)) % 2 === parity).map((id) => Number(id?.slice(1)));
    expect(order(0)).toEqual([...order(0)].sort((x, y) => x - y));
    expect(order(1)).toEqual([...order(1)].sort((x, y) => x - y));
    await expectValidChain(logs[1] as AuditLogStore, key, 200);
  });

  it("refuses every record of a batch whose append failed, and the next batch lands", async () => {
    const { logs, key } = await setup();
    const log = logs[0] as AuditLogStore;
    let calls = 0;
    const flaky: AuditLogStore = {
      ...counting(log).store,
      append: (batch) => {
        calls += 1;
        return calls === 2 ? Promise.reject(new Error("store down")) : log.append(batch);
      },
    };
    const audit = createAuditWriter({ log: flaky, key, clock: systemClock, logger });
    await audit.record(event(1));
    const failed = await Promise.allSettled([2, 3, 4].map((n) => audit.record(event(n))));
    expect(failed.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(audit.failed).toBe(3);
    await audit.record(event(5));
    expect((await storedEvents(log)).map((e) => e?.tokenId)).toEqual(["t1", "t5"]);
    expect(audit.queued).toBe(0);
    await expectValidChain(log, key, 2);
  });

  it("refuses the records of an append whose answer was lost, though stored: the next batch reads the head", async () => {
    const { logs, key } = await setup();
    const log = logs[0] as AuditLogStore;
    let calls = 0;
    const lossy: AuditLogStore = {
      ...counting(log).store,
      append: async (batch) => {
        calls += 1;
        const outcome = await log.append(batch);
        if (calls === 2) throw new Error("connection lost before the answer");
        return outcome;
      },
    };
    const audit = createAuditWriter({ log: lossy, key, clock: systemClock, logger });
    await audit.record(event(1));
    // Fail closed: the callers hear of a failure, though the entries may be in the chain.
    await expect(audit.record(event(2))).rejects.toThrow("connection lost");
    await audit.record(event(3));
    expect((await storedEvents(log)).map((e) => e?.tokenId)).toEqual(["t1", "t2", "t3"]);
    await expectValidChain(log, key, 3);
  });

  it("a crash between building a batch and appending it stores none of it; a restarted writer continues the chain", async () => {
    const { logs, key } = await setup();
    const log = logs[0] as AuditLogStore;
    const before = createAuditWriter({ log, key, clock: systemClock, logger });
    await before.record(event(1));
    // The process dies after the batch was built and signed, before the store call.
    let built = 0;
    const dying: AuditLogStore = {
      ...counting(log).store,
      append: (batch) => {
        built = batch.length;
        return new Promise(() => undefined);
      },
    };
    const crashed = createAuditWriter({ log: dying, key, clock: systemClock, logger });
    const lost = [2, 3, 4].map((n) => crashed.record(event(n)));
    await until(() => built === 3);
    expect(crashed.queued).toBe(3);
    const restarted = createAuditWriter({ log, key, clock: systemClock, logger });
    await restarted.record(event(5));
    expect((await storedEvents(log)).map((e) => e?.tokenId)).toEqual(["t1", "t5"]);
    await expectValidChain(log, key, 2);
    // Never acknowledged: the callers (dead with the process) heard nothing.
    const settled = await Promise.race([Promise.allSettled(lost), Promise.resolve("pending")]);
    expect(settled).toBe("pending");
  });
});

describe("audit writer", () => {
  async function setup(): Promise<{ log: MemoryAuditLog; key: AuditKey }> {
    const log = await MemoryAuditLog.open();
    return { log, key: await loadAuditKey(log, systemClock) };
  }

  it("folds denials between records into one chained entry per key at flush", async () => {
    const { log, key } = await setup();
    const audit = createAuditWriter({ log, key, clock: systemClock, logger });
    await audit.record(event(1));
    for (let n = 0; n < 1_000; n++) {
      audit.deny({
        denied: AuditEventType.VERIFY_DENIED,
        reason: n % 2 === 0 ? Reason.TOKEN_MALFORMED : Reason.TOKEN_BAD_SIGNATURE,
        actorRole: "verifier",
        actor: "v",
        actorFingerprint: "f",
        subjectDid: "",
        operatorDomain: "",
      });
    }
    await audit.record(event(2));
    await audit.flush();
    const events = await storedEvents(log);
    expect(events.map((e) => [e?.type, e?.tokenId || Number(e?.denials?.count)])).toEqual([
      [AuditEventType.TOKEN_ISSUED, "t1"],
      [AuditEventType.TOKEN_ISSUED, "t2"],
      [AuditEventType.DENIALS_FOLDED, 500],
      [AuditEventType.DENIALS_FOLDED, 500],
    ]);
    await expectValidChain(log, key, 4);
  });
});
