import { describe, expect, it } from "vitest";
import { AuditEventType } from "../../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { decodeEvent, verifyAuditChain } from "../../../src/audit/chain.js";
import { type AuditKey, loadAuditKey } from "../../../src/audit/key.js";
import { type AuditEventInput, createAuditWriter } from "../../../src/audit/writer.js";
import { systemClock } from "../../../src/clock.js";
import { createLogger } from "../../../src/observability/logger.js";
import { MemoryAuditLog } from "../../../src/store/memory/audit.js";
import type { AuditLogStore } from "../../../src/store/ports.js";

const logger = createLogger("silent");

function event(n: number): AuditEventInput {
  return { type: AuditEventType.TOKEN_ISSUED, actorRole: "agent", tokenId: `t${n}` };
}

async function setup(): Promise<{ log: MemoryAuditLog; key: AuditKey }> {
  const log = await MemoryAuditLog.open();
  return { log, key: await loadAuditKey(log, systemClock) };
}

async function storedEvents(log: AuditLogStore) {
  return (await log.read(0, 10_000)).map((record) => decodeEvent(record));
}

async function expectValidChain(log: AuditLogStore, key: AuditKey, entries: number) {
  const verdict = await verifyAuditChain(log, new Map([[key.kid, key.publicKey]]));
  expect(verdict).toMatchObject({ ok: true, entries });
}

describe("audit writer", () => {
  it("appends concurrent records in call order, one chain", async () => {
    const { log, key } = await setup();
    const audit = createAuditWriter({ log, key, clock: systemClock, logger });
    const recorded: Promise<void>[] = [];
    for (let n = 1; n <= 200; n++) {
      // Some not awaited by anyone: flush still waits for them.
      if (n % 3 === 0) void audit.record(event(n));
      else recorded.push(audit.record(event(n)));
    }
    await Promise.all(recorded);
    await audit.flush();
    const events = await storedEvents(log);
    expect(events.map((e) => e?.tokenId)).toEqual(
      Array.from({ length: 200 }, (_, i) => `t${i + 1}`),
    );
    await expectValidChain(log, key, 200);
  });

  it("rebuilds on the new head when another writer appended first", async () => {
    const { log, key } = await setup();
    let conflicts = 0;
    const counting: AuditLogStore = {
      head: () => log.head(),
      read: (offset, limit) => log.read(offset, limit),
      base: () => log.base(),
      prune: (through) => log.prune(through),
      key: (candidate) => log.key(candidate),
      append: async (record) => {
        const outcome = await log.append(record);
        if (outcome === "conflict") conflicts += 1;
        return outcome;
      },
    };
    const a = createAuditWriter({ log: counting, key, clock: systemClock, logger });
    const b = createAuditWriter({ log: counting, key, clock: systemClock, logger });
    const writes: Promise<void>[] = [];
    for (let n = 1; n <= 100; n++) writes.push((n % 2 === 0 ? a : b).record(event(n)));
    await Promise.all(writes);
    expect(conflicts).toBeGreaterThan(0);
    const ids = (await storedEvents(log)).map((e) => e?.tokenId);
    expect([...ids].sort()).toEqual(Array.from({ length: 100 }, (_, i) => `t${i + 1}`).sort());
    // Each writer keeps its own call order.
    const order = (parity: number) =>
      ids.filter((id) => Number(id?.slice(1)) % 2 === parity).map((id) => Number(id?.slice(1)));
    expect(order(0)).toEqual([...order(0)].sort((x, y) => x - y));
    expect(order(1)).toEqual([...order(1)].sort((x, y) => x - y));
    await expectValidChain(log, key, 100);
  });

  it("fails only the append that failed; the ones after it still land", async () => {
    const { log, key } = await setup();
    let calls = 0;
    const flaky: AuditLogStore = {
      head: () => log.head(),
      read: (offset, limit) => log.read(offset, limit),
      base: () => log.base(),
      prune: (through) => log.prune(through),
      key: (candidate) => log.key(candidate),
      append: (record) => {
        calls += 1;
        return calls === 3 ? Promise.reject(new Error("store down")) : log.append(record);
      },
    };
    const audit = createAuditWriter({ log: flaky, key, clock: systemClock, logger });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => audit.record(event(i + 1))),
    );
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    expect(results[2]?.status).toBe("rejected");
    const ids = (await storedEvents(log)).map((e) => e?.tokenId);
    expect(ids).toEqual(["t1", "t2", "t4", "t5", "t6", "t7", "t8", "t9", "t10"]);
    await expectValidChain(log, key, 9);
  });

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
