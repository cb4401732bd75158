import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  AuditChainProblem,
  type AuditEntry,
  AuditEntrySchema,
  AuditEventSchema,
  AuditEventType,
} from "../../../gen/gatehouse/v1/audit_pb.js";
import { chainEvent, GENESIS_HASH, signRecord } from "../../../src/audit/chain.js";
import { rawPublicKey } from "../../../src/audit/key.js";
import { archiveChain, verifyOffline } from "../../../src/cli/manage/audit-offline.js";
import { CliFailure } from "../../../src/cli/output.js";
import { ed25519Thumbprint } from "../../../src/crypto/jose/thumbprint.js";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const KEY = {
  keyId: ed25519Thumbprint(rawPublicKey(publicKey)),
  publicKey: rawPublicKey(publicKey),
};

/**
 * A chain of `count` entries as ListAuditEvents returns them, written in batches of `batch`
 * (each signed on its last entry; batches of one: a log from before batches).
 */
function entries(count: number, batch = 1): AuditEntry[] {
  const listed: AuditEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let sequence = 1; sequence <= count; sequence++) {
    const chained = chainEvent(
      { type: AuditEventType.AGENT_SUSPENDED, actorRole: "operator", comment: `c${sequence}` },
      { sequence, prevHash: Buffer.from(prevHash, "hex"), timeMs: 1_000, auditKeyId: KEY.keyId },
    );
    const ends = sequence % batch === 0 || sequence === count;
    const record = ends ? signRecord(chained, privateKey) : chained;
    const eventBytes = Buffer.from(record.event, "base64");
    listed.push(
      create(AuditEntrySchema, {
        event: fromBinary(AuditEventSchema, eventBytes),
        hash: Buffer.from(record.hash, "hex"),
        signature: Buffer.from(record.signature, "base64"),
        eventBytes,
      }),
    );
    prevHash = record.hash;
  }
  return listed;
}

/**
 * A stand-in for the server's AuditService, answering with what it is given: the point is
 * a server that lies, which the real one cannot be made to do.
 */
function server(listed: AuditEntry[], keys = [KEY]) {
  return {
    getAuditKeys: async () => ({ keys }),
    listAuditEvents: async ({ afterSequence }: { afterSequence: bigint }) => {
      const page = listed.filter((entry) => (entry.event?.sequence ?? 0n) > afterSequence);
      return {
        entries: page.slice(0, 2),
        nextAfterSequence: page.length > 2 ? (page[1]?.event?.sequence ?? 0n) : 0n,
      };
    },
  } as unknown as Parameters<typeof verifyOffline>[0];
}

const CHAIN = { anchors: [], pinned: [], entriesOnly: false };
const EACH = { anchors: [], pinned: [], entriesOnly: true };

describe("offline audit verification", () => {
  it("passes an honest server's chain, page after page", async () => {
    const verdict = await verifyOffline(server(entries(5)), CHAIN);
    expect(verdict).toMatchObject({ ok: true, entriesChecked: 5n });
    expect(Buffer.from(verdict.headHash)).toEqual(Buffer.from(entries(5)[4]?.hash ?? []));
  });

  it("catches an entry whose shown event is not the event it signed", async () => {
    const listed = entries(4);
    const third = listed[2];
    if (!third?.event) throw new Error("no entry");
    third.event = { ...third.event, comment: "rewritten for display" };
    for (const options of [CHAIN, EACH]) {
      await expect(verifyOffline(server(listed), options)).resolves.toMatchObject({
        ok: false,
        brokenSequence: 3n,
        problem: AuditChainProblem.EVENT_MISMATCH,
      });
    }
  });

  it("checks an operator's filtered view entry by entry with --entries-only", async () => {
    const filtered = entries(6).filter((_, i) => i % 2 === 0); // sequences 1, 3, 5
    await expect(verifyOffline(server(filtered), CHAIN)).resolves.toMatchObject({
      ok: false,
      problem: AuditChainProblem.SEQUENCE_GAP,
    });
    await expect(verifyOffline(server(filtered), EACH)).resolves.toMatchObject({
      ok: true,
      entriesChecked: 3n,
      headHash: new Uint8Array(0),
    });
    const forged = filtered.map((entry) => create(AuditEntrySchema, entry));
    const fifth = forged[2] as AuditEntry;
    fifth.signature = new Uint8Array(64);
    await expect(verifyOffline(server(forged), EACH)).resolves.toMatchObject({
      ok: false,
      brokenSequence: 5n,
      problem: AuditChainProblem.SIGNATURE_INVALID,
    });
  });

  it("walks batches across pages (two entries each) and refuses a listing that ends unsigned", async () => {
    // Batches 1–3, 4–6, 7: pages cut them anywhere; the walk carries over.
    const batched = entries(7, 3);
    expect(batched.map((entry) => entry.signature.length)).toEqual([0, 0, 64, 0, 0, 64, 64]);
    await expect(verifyOffline(server(batched), CHAIN)).resolves.toMatchObject({
      ok: true,
      entriesChecked: 7n,
    });
    // A server that stops inside a batch, or strips the last signature: no signature covers
    // the tail, whatever its hashes and links.
    await expect(verifyOffline(server(batched.slice(0, 5)), CHAIN)).resolves.toMatchObject({
      ok: false,
      brokenSequence: 4n,
      problem: AuditChainProblem.UNSIGNED_TAIL,
    });
    const stripped = batched.map((entry) => create(AuditEntrySchema, entry));
    (stripped[6] as AuditEntry).signature = new Uint8Array();
    await expect(verifyOffline(server(stripped), CHAIN)).resolves.toMatchObject({
      ok: false,
      brokenSequence: 7n,
      problem: AuditChainProblem.UNSIGNED_TAIL,
    });
    // Entry by entry, an unsigned entry is checked for its hash and key only: its signature
    // is its batch's, which needs the chain (the limit of an operator's filtered view).
    await expect(verifyOffline(server(batched.slice(0, 2)), EACH)).resolves.toMatchObject({
      ok: true,
      entriesChecked: 2n,
    });
    const edited = batched.map((entry) => create(AuditEntrySchema, entry));
    (edited[0] as AuditEntry).hash = new Uint8Array(32);
    await expect(verifyOffline(server(edited), EACH)).resolves.toMatchObject({
      ok: false,
      brokenSequence: 1n,
      problem: AuditChainProblem.HASH_MISMATCH,
    });
  });

  it("archives through the end of the batch `--through` falls in: a segment ends on a signature", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gatehouse-segment-"));
    try {
      const archive = (out: string, through: number, listed = entries(7, 3)) =>
        archiveChain(server(listed), { out: join(dir, out), through, pinned: [] });
      await expect(archive("a.jsonl", 4)).resolves.toMatchObject({ ok: true, entriesChecked: 6n });
      const lines = (await readFile(join(dir, "a.jsonl"), "utf8")).trim().split("\n");
      expect(JSON.parse(lines[0] ?? "")).toMatchObject({ first: 1, last: 6 });
      // A log that ends unsigned is not archived.
      await expect(archive("b.jsonl", 4, entries(7, 3).slice(0, 5))).resolves.toMatchObject({
        ok: false,
        brokenSequence: 4n,
        problem: AuditChainProblem.UNSIGNED_TAIL,
      });
      await expect(readFile(join(dir, "b.jsonl"))).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("stops when the server's pages do not move forward", async () => {
    // Every page says "more after sequence 5": the second request asks for it again.
    const stuck = {
      getAuditKeys: async () => ({ keys: [KEY] }),
      listAuditEvents: async () => ({ entries: [], nextAfterSequence: 5n }),
    } as unknown as Parameters<typeof verifyOffline>[0];
    for (const options of [CHAIN, EACH]) {
      await expect(verifyOffline(stuck, options)).rejects.toThrow(
        "the server's audit pages do not advance",
      );
    }
  });

  it("trusts only keys that match their id, and only the pinned ones", async () => {
    const mislabelled = [{ ...KEY, keyId: "another-id" }];
    await expect(verifyOffline(server(entries(2), mislabelled), CHAIN)).rejects.toThrow(CliFailure);
    await expect(
      verifyOffline(server(entries(2)), { ...CHAIN, pinned: ["some-other-key"] }),
    ).resolves.toMatchObject({
      ok: false,
      brokenSequence: 1n,
      problem: AuditChainProblem.KEY_UNKNOWN,
    });
  });
});
