import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AuditChainProblem, AuditEventType } from "../../../gen/gatehouse/v1/audit_pb.js";
import {
  type ChainEntry,
  ChainWalk,
  chainEvent,
  GENESIS_HASH,
  signRecord,
} from "../../../src/audit/chain.js";

const KID = "audit-key-1";
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const KEYS = new Map([[KID, publicKey]]);

/**
 * A chain of `count` entries, sealed as the writer seals them: in batches of `batch`
 * entries (the last one signed; a chain from before batches has batches of one).
 */
function chain(count: number, tokenPrefix = "t", batch = 1): ChainEntry[] {
  const entries: ChainEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let sequence = 1; sequence <= count; sequence++) {
    const chained = chainEvent(
      {
        type: AuditEventType.TOKEN_ISSUED,
        actorRole: "agent",
        tokenId: `${tokenPrefix}${sequence}`,
      },
      { sequence, prevHash: Buffer.from(prevHash, "hex"), timeMs: 1_000, auditKeyId: KID },
    );
    const ends = sequence % batch === 0 || sequence === count;
    const record = ends ? signRecord(chained, privateKey) : chained;
    entries.push({
      eventBytes: Buffer.from(record.event, "base64"),
      hash: record.hash,
      signature: Buffer.from(record.signature, "base64"),
    });
    prevHash = record.hash;
  }
  return entries;
}

/** Walks `entries`: the first problem and where, or the head. */
function walk(entries: readonly ChainEntry[], walker = new ChainWalk(KEYS)) {
  for (const entry of entries) {
    const problem = walker.next(entry);
    if (problem !== undefined) return { problem, at: walker.position + 1 };
  }
  return {
    head: walker.headHash,
    entries: walker.position,
    unreached: walker.unreachedAnchor(),
    unsigned: walker.unsignedTail(),
  };
}

describe("the audit chain walk", () => {
  const entries = chain(5);

  it("passes an intact chain and ends at its last hash", () => {
    expect(walk(entries)).toEqual({
      head: entries[4]?.hash,
      entries: 5,
      unreached: undefined,
      unsigned: undefined,
    });
    expect(walk([])).toEqual({
      head: GENESIS_HASH,
      entries: 0,
      unreached: undefined,
      unsigned: undefined,
    });
  });

  it("names the first broken entry and why", () => {
    const [a, b, c] = entries as [ChainEntry, ChainEntry, ChainEntry];
    const flipped = Buffer.from(b.eventBytes);
    flipped[flipped.length - 1] = (flipped.at(-1) ?? 0) ^ 1;
    const signature = Buffer.from(b.signature);
    signature[0] = (signature[0] ?? 0) ^ 1;
    const cases: [ChainEntry[], AuditChainProblem][] = [
      [[a, c], AuditChainProblem.SEQUENCE_GAP],
      [[a, { ...b, eventBytes: flipped }], AuditChainProblem.HASH_MISMATCH],
      [[a, { ...b, signature }], AuditChainProblem.SIGNATURE_INVALID],
      [[a, { ...b, eventBytes: Buffer.from([0xff]) }], AuditChainProblem.MALFORMED],
    ];
    for (const [broken, problem] of cases) expect(walk(broken)).toEqual({ problem, at: 2 });
    expect(walk(entries, new ChainWalk(new Map()))).toEqual({
      problem: AuditChainProblem.KEY_UNKNOWN,
      at: 1,
    });
    // Another chain's entry 2 has the right sequence but links to another entry 1.
    const other = chain(2, "other")[1] as ChainEntry;
    expect(walk([a, other])).toEqual({ problem: AuditChainProblem.PREV_HASH_MISMATCH, at: 2 });
  });

  it("holds the chain to its anchors, and reports the first one it never reached", () => {
    const at = (sequence: number) => ({ sequence, hash: entries[sequence - 1]?.hash ?? "" });
    expect(walk(entries, new ChainWalk(KEYS, [at(1), at(3), at(5)]))).toMatchObject({
      entries: 5,
      unreached: undefined,
    });
    const wrong = { sequence: 3, hash: entries[1]?.hash ?? "" };
    expect(walk(entries, new ChainWalk(KEYS, [at(1), wrong]))).toEqual({
      problem: AuditChainProblem.ANCHOR_MISMATCH,
      at: 3,
    });
    const beyond = [
      at(2),
      { sequence: 9, hash: GENESIS_HASH },
      { sequence: 7, hash: GENESIS_HASH },
    ];
    expect(walk(entries, new ChainWalk(KEYS, beyond))).toMatchObject({ entries: 5, unreached: 7 });
  });

  describe("in batches, each signed once on its last entry", () => {
    // Batches 1–3, 4–6, 7: entries 3, 6 and 7 carry the signatures.
    const batched = chain(7, "b", 3);
    const [e1, e2, e3, e4, e5, e6, e7] = batched as [
      ChainEntry,
      ChainEntry,
      ChainEntry,
      ChainEntry,
      ChainEntry,
      ChainEntry,
      ChainEntry,
    ];
    const unsigned = (entry: ChainEntry): ChainEntry => ({ ...entry, signature: new Uint8Array() });

    it("passes, and only the signed ones carry a signature", () => {
      expect(batched.map((entry) => entry.signature.length)).toEqual([0, 0, 64, 0, 0, 64, 64]);
      expect(walk(batched)).toEqual({
        head: e7.hash,
        entries: 7,
        unreached: undefined,
        unsigned: undefined,
      });
    });

    it("refuses a range that ends inside a batch, naming its first uncovered entry", () => {
      expect(walk([e1, e2, e3, e4, e5])).toMatchObject({ entries: 5, unsigned: 4 });
      expect(walk([e1])).toMatchObject({ entries: 1, unsigned: 1 });
      // A signature stripped from the head leaves its whole batch uncovered.
      expect(walk([e1, e2, e3, e4, e5, unsigned(e6)])).toMatchObject({ unsigned: 4 });
      // Pages cut anywhere: the walk carries over them, only its end must be signed.
      const walker = new ChainWalk(KEYS);
      walk([e1, e2], walker);
      expect(walk([e3, e4, e5, e6, e7], walker)).toMatchObject({ entries: 7, unsigned: undefined });
    });

    it("refuses an entry appended, dropped, inserted or moved, and a bad batch signature", () => {
      // Appended after the head by someone without the key: no signature covers it.
      const forged = unsigned(chain(8, "b", 3)[7] as ChainEntry);
      expect(walk([...batched, forged])).toMatchObject({ entries: 8, unsigned: 8 });
      // The signed end of a batch dropped: the next entry does not follow.
      expect(walk([e1, e2, e4])).toEqual({ problem: AuditChainProblem.SEQUENCE_GAP, at: 3 });
      // Moved inside a batch.
      expect(walk([e1, e3, e2])).toEqual({ problem: AuditChainProblem.SEQUENCE_GAP, at: 2 });
      // Anyone can hash: a forged unsigned entry 2, linked to entry 1, in place of this one's
      // or inserted after entry 1, is caught by the entry after it.
      const record = chainEvent(
        { type: AuditEventType.TOKEN_ISSUED, actorRole: "agent", tokenId: "forged" },
        { sequence: 2, prevHash: Buffer.from(e1.hash, "hex"), timeMs: 1_000, auditKeyId: KID },
      );
      const forged2 = {
        eventBytes: Buffer.from(record.event, "base64"),
        hash: record.hash,
        signature: new Uint8Array(),
      };
      expect(walk([e1, forged2, e3])).toEqual({
        problem: AuditChainProblem.PREV_HASH_MISMATCH,
        at: 3,
      });
      expect(walk([e1, forged2, e2, e3])).toEqual({
        problem: AuditChainProblem.SEQUENCE_GAP,
        at: 3,
      });
      const signature = Buffer.from(e3.signature);
      signature[0] = (signature[0] ?? 0) ^ 1;
      expect(walk([e1, e2, { ...e3, signature }])).toEqual({
        problem: AuditChainProblem.SIGNATURE_INVALID,
        at: 3,
      });
      // An unsigned entry still names a key the walk trusts.
      expect(walk(batched, new ChainWalk(new Map()))).toEqual({
        problem: AuditChainProblem.KEY_UNKNOWN,
        at: 1,
      });
    });
  });
});
