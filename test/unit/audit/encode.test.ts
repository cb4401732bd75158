import { create, fromBinary, ScalarType, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { AuditEventSchema, AuditEventType } from "../../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind } from "../../../gen/gatehouse/v1/gate_pb.js";
import { type ChainFields, encodeAuditEvent } from "../../../src/audit/encode.js";
import type { AuditEventInput } from "../../../src/audit/writer.js";

/** What protobuf-es writes for the same event: the reference the hand encoder must match. */
function reference(event: AuditEventInput, chain: ChainFields): Uint8Array {
  const { sequence, prevHash, timeMs, auditKeyId } = chain;
  return toBinary(
    AuditEventSchema,
    create(AuditEventSchema, {
      ...event,
      sequence: BigInt(sequence),
      prevHash,
      time: timestampFromMs(timeMs),
      auditKeyId,
    }),
  );
}

/** A non-default value for every field of the schema, whatever fields it has today. */
function everyField(): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of AuditEventSchema.fields) {
    const n = field.number;
    if (field.fieldKind === "enum") values[field.localName] = 1;
    else if (field.fieldKind === "list" && field.listKind === "scalar") {
      values[field.localName] = [`${field.localName}-a`, "", "ünïcødé ☃"];
    } else if (field.fieldKind === "scalar" && field.scalar === ScalarType.STRING) {
      values[field.localName] = `${field.localName}-${n}`;
    } else if (field.fieldKind === "scalar" && field.scalar === ScalarType.UINT64) {
      values[field.localName] = BigInt(n) * 1_000_000_007n;
    } else if (field.fieldKind === "scalar" && field.scalar === ScalarType.BYTES) {
      values[field.localName] = new Uint8Array(32).fill(n);
    } else if (field.fieldKind === "message" && field.localName === "denials") {
      values[field.localName] = {
        denied: AuditEventType.CHECK_DENIED,
        count: 2n ** 40n + 1n,
        windowStart: timestampFromMs(1_700_000_000_123),
        windowEnd: timestampFromMs(1_700_000_060_000),
        overflow: true,
      };
    } else if (field.fieldKind === "message" && field.localName === "prunedThrough") {
      values[field.localName] = { sequence: 2n ** 40n + 7n, hash: new Uint8Array(32).fill(n) };
    } else if (field.localName !== "time") {
      throw new Error(`field ${field.name}: teach encodeAuditEvent (and this test) its kind`);
    }
  }
  return values;
}

const CHAIN: ChainFields = {
  sequence: 2 ** 40 + 3,
  prevHash: new Uint8Array(32).fill(0xab),
  timeMs: 1_700_000_000_123,
  auditKeyId: "kid-0123456789",
};

describe("encodeAuditEvent", () => {
  it("writes what protobuf-es writes for an event with every schema field set", () => {
    const { sequence, prevHash, time, auditKeyId, ...event } = everyField();
    const input = event as unknown as AuditEventInput;
    const bytes = encodeAuditEvent(input, CHAIN);
    expect(Buffer.from(bytes).equals(Buffer.from(reference(input, CHAIN)))).toBe(true);
    expect(fromBinary(AuditEventSchema, bytes)).toMatchObject({
      ...event,
      sequence: BigInt(CHAIN.sequence),
      auditKeyId: CHAIN.auditKeyId,
    });
  });

  it("omits proto3 defaults exactly as protobuf-es does", () => {
    const events: AuditEventInput[] = [
      { type: AuditEventType.EVENTS_DROPPED, actorRole: "system", droppedCount: 0n },
      {
        type: AuditEventType.CHALLENGE_FAILED,
        actor: "",
        reason: Reason.ANSWER_INVALID,
        scopes: [],
        challengeKind: ChallengeKind.SIGNATURE,
      },
      // A present message with every field at its default is still written (empty).
      { type: AuditEventType.DENIALS_FOLDED, denials: {} },
      { type: AuditEventType.DENIALS_FOLDED, denials: { count: 1n, windowStart: {} } },
    ];
    const chains: ChainFields[] = [
      CHAIN,
      { sequence: 1, prevHash: new Uint8Array(32), timeMs: 1_700_000_000_000, auditKeyId: "" },
      { sequence: 0, prevHash: new Uint8Array(0), timeMs: 0, auditKeyId: "k" },
      { sequence: 7, prevHash: new Uint8Array(32), timeMs: 999, auditKeyId: "k" },
    ];
    for (const event of events) {
      for (const chain of chains) {
        const bytes = Buffer.from(encodeAuditEvent(event, chain));
        expect(bytes.equals(Buffer.from(reference(event, chain)))).toBe(true);
      }
    }
  });
});
