import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { AuditEventInput } from "./writer.js";

/** What the writer adds to an event to chain it (AuditEvent fields 1–3 and 18). */
export interface ChainFields {
  readonly sequence: number;
  /** The previous entry's hash, 32 bytes. */
  readonly prevHash: Uint8Array;
  /** Unix ms. */
  readonly timeMs: number;
  readonly auditKeyId: string;
}

type FieldName = Exclude<keyof AuditEventInput, "$typeName"> | "auditKeyId";
type Encoding = "enum" | "string" | "strings" | "uint64" | "denials" | "anchor";

/**
 * AuditEvent's fields after `time` (3), in field-number order with their encodings, as
 * proto/gatehouse/v1/audit.proto declares them. The unit test compares this encoder with
 * protobuf-es on an event with every schema field set, so a field added to the proto and
 * missing here fails it.
 */
const LATER_FIELDS: readonly (readonly [number, FieldName, Encoding])[] = [
  [4, "type", "enum"],
  [5, "actorRole", "string"],
  [6, "actor", "string"],
  [7, "actorFingerprint", "string"],
  [8, "subjectDid", "string"],
  [9, "operatorDomain", "string"],
  [10, "reason", "enum"],
  [11, "tokenId", "string"],
  [12, "scopes", "strings"],
  [13, "audiences", "strings"],
  [14, "keyId", "string"],
  [15, "challengeKind", "enum"],
  [16, "comment", "string"],
  [17, "droppedCount", "uint64"],
  [18, "auditKeyId", "string"],
  [19, "grantId", "string"],
  [20, "denials", "denials"],
  [21, "prunedThrough", "anchor"],
];

/**
 * The protobuf binary of one AuditEvent, byte for byte what protobuf-es's `toBinary` writes
 * (fields in number order, proto3 defaults omitted, nested messages included), without its reflective create/encode:
 * three events are sealed per login. The chain hashes these bytes and verification only ever
 * decodes them (chain.ts), so any correct encoding verifies; this one is also the same.
 */
export function encodeAuditEvent(event: AuditEventInput, chain: ChainFields): Uint8Array {
  const writer = new BinaryWriter();
  if (chain.sequence !== 0) writer.tag(1, WireType.Varint).uint64(chain.sequence);
  if (chain.prevHash.length > 0) writer.tag(2, WireType.LengthDelimited).bytes(chain.prevHash);
  const seconds = Math.floor(chain.timeMs / 1000);
  writeTimestamp(writer, 3, {
    seconds: BigInt(seconds),
    nanos: (chain.timeMs - seconds * 1000) * 1_000_000,
  });
  for (const [number, name, encoding] of LATER_FIELDS) {
    writeField(writer, number, encoding, name === "auditKeyId" ? chain.auditKeyId : event[name]);
  }
  return writer.finish();
}

function writeField(writer: BinaryWriter, number: number, encoding: Encoding, value: unknown) {
  switch (encoding) {
    case "enum":
      if (value) writer.tag(number, WireType.Varint).int32(value as number);
      return;
    case "string":
      if (value) writer.tag(number, WireType.LengthDelimited).string(value as string);
      return;
    case "strings":
      for (const item of (value ?? []) as readonly string[]) {
        writer.tag(number, WireType.LengthDelimited).string(item);
      }
      return;
    case "uint64":
      if (value) writer.tag(number, WireType.Varint).uint64(value as bigint);
      return;
    case "denials":
      if (value) writeDenials(writer.tag(number, WireType.LengthDelimited), value as Denials);
      return;
    case "anchor":
      if (value) writeAnchor(writer.tag(number, WireType.LengthDelimited), value as Anchor);
      return;
  }
}

type Anchor = NonNullable<AuditEventInput["prunedThrough"]>;

/** An AuditAnchor (sequence = 1, hash = 2), fields in number order. */
function writeAnchor(writer: BinaryWriter, anchor: Anchor): void {
  writer.fork();
  if (anchor.sequence) writer.tag(1, WireType.Varint).uint64(anchor.sequence);
  if (anchor.hash?.length) writer.tag(2, WireType.LengthDelimited).bytes(anchor.hash);
  writer.join();
}

type Denials = NonNullable<AuditEventInput["denials"]>;
type TimestampInit = NonNullable<Denials["windowStart"]>;

/** A DenialAggregate, fields in number order (a present message is written even if empty). */
function writeDenials(writer: BinaryWriter, denials: Denials): void {
  writer.fork();
  if (denials.denied) writer.tag(1, WireType.Varint).int32(denials.denied);
  if (denials.count) writer.tag(2, WireType.Varint).uint64(denials.count);
  if (denials.windowStart) writeTimestamp(writer, 3, denials.windowStart);
  if (denials.windowEnd) writeTimestamp(writer, 4, denials.windowEnd);
  if (denials.overflow) writer.tag(5, WireType.Varint).bool(true);
  writer.join();
}

/** google.protobuf.Timestamp (seconds = 1, nanos = 2), as protobuf-es writes it. */
function writeTimestamp(writer: BinaryWriter, number: number, time: TimestampInit): void {
  writer.tag(number, WireType.LengthDelimited).fork();
  if (time.seconds) writer.tag(1, WireType.Varint).int64(time.seconds);
  if (time.nanos) writer.tag(2, WireType.Varint).int32(time.nanos);
  writer.join();
}
