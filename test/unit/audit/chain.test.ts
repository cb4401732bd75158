import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AuditChainProblem, AuditEventType } from "../../../gen/gatehouse/v1/audit_pb.js";
import { type ChainEntry, ChainWalk, GENESIS_HASH, sealEvent } from "../../../src/audit/chain.js";

const KID = "audit-key-1";
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const KEYS = new Map([[KID, publicKey]]);

/** A chain of `count` entries, sealed as the writer seals them. */
function chain(count: number, tokenPrefix = "t"): ChainEntry[] {
  const entries: ChainEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let sequence = 1; sequence <= count; sequence++) {
    const record = sealEvent(
      {
        type: AuditEventType.TOKEN_ISSUED,
        actorRole: "agent",
        tokenId: `${tokenPrefix}${sequence}`,
      },
      { sequence, prevHash: Buffer.from(prevHash, "hex"), timeMs: 1_000, auditKeyId: KID },
      privateKey,
    );
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
  return { head: walker.headHash, entries: walker.position, unreached: walker.unreachedAnchor() };
}

describe("the audit chain walk", () => {
  const entries = chain(5);

  it("passes an intact chain and ends at its last hash", () => {
    expect(walk(entries)).toEqual({ head: entries[4]?.hash, entries: 5, unreached: undefined });
    expect(walk([])).toEqual({ head: GENESIS_HASH, entries: 0, unreached: undefined });
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
});
