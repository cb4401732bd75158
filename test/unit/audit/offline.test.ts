import { generateKeyPairSync } from "node:crypto";
import { create, fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  AuditChainProblem,
  type AuditEntry,
  AuditEntrySchema,
  AuditEventSchema,
  AuditEventType,
} from "../../../gen/gatehouse/v1/audit_pb.js";
import { GENESIS_HASH, sealEvent } from "../../../src/audit/chain.js";
import { rawPublicKey } from "../../../src/audit/key.js";
import { verifyOffline } from "../../../src/cli/manage/audit-offline.js";
import { CliFailure } from "../../../src/cli/output.js";
import { ed25519Thumbprint } from "../../../src/crypto/jose/thumbprint.js";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const KEY = {
  keyId: ed25519Thumbprint(rawPublicKey(publicKey)),
  publicKey: rawPublicKey(publicKey),
};

/** A chain of `count` entries as ListAuditEvents returns them. */
function entries(count: number): AuditEntry[] {
  const listed: AuditEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let sequence = 1; sequence <= count; sequence++) {
    const record = sealEvent(
      { type: AuditEventType.AGENT_SUSPENDED, actorRole: "operator", comment: `c${sequence}` },
      { sequence, prevHash: Buffer.from(prevHash, "hex"), timeMs: 1_000, auditKeyId: KEY.keyId },
      privateKey,
    );
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
