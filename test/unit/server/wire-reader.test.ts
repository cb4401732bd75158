import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { fieldOf, WireReader, wireTypeOf } from "../../../src/services/wire-reader.js";

/** Every field of `bytes`, read by both readers: number, wire type and the bytes skipped. */
function fieldsBothWays(bytes: Uint8Array) {
  const ours: [number, number, number[]][] = [];
  const reader = new WireReader(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.tag();
    const start = reader.pos;
    reader.stepOver(tag);
    ours.push([fieldOf(tag), wireTypeOf(tag), [...bytes.subarray(start, reader.pos)]]);
  }
  const theirs: [number, number, number[]][] = [];
  const library = new BinaryReader(bytes);
  while (library.pos < library.len) {
    const [no, wireType] = library.tag();
    theirs.push([no, wireType, [...library.skip(wireType, no)]]);
  }
  return { ours, theirs };
}

describe("the wire reader", () => {
  it("steps over every wire type as protobuf-es does", () => {
    const writer = new BinaryWriter()
      .tag(1, WireType.Varint)
      .uint64(2n ** 63n)
      .tag(2, WireType.Bit64)
      .fixed64(7n)
      .tag(3, WireType.LengthDelimited)
      .string("héllo")
      .tag(4, WireType.Bit32)
      .fixed32(9)
      .tag(5, WireType.StartGroup)
      .tag(1, WireType.Varint)
      .int32(-1)
      .tag(6, WireType.StartGroup)
      .tag(6, WireType.EndGroup)
      .tag(5, WireType.EndGroup)
      .tag(536_870_911, WireType.Varint) // the largest field number
      .uint32(1);
    const { ours, theirs } = fieldsBothWays(writer.finish());
    expect(ours).toEqual(theirs);
    expect(ours.map(([no]) => no)).toEqual([1, 2, 3, 4, 5, 536_870_911]);
  });

  it("reads strings, short and long, ASCII and not, as UTF-8", () => {
    for (const text of ["", "GET", "é", "x".repeat(32), `${"y".repeat(40)}✓`, "z".repeat(2000)]) {
      const reader = new WireReader(new BinaryWriter().tag(1, 2).string(text).finish());
      expect(reader.string(reader.tag())).toBe(text);
      expect(reader.pos).toBe(reader.len);
    }
  });

  it("refuses what protobuf-es refuses", () => {
    const malformed: Record<string, number[]> = {
      "field number 0": [0x00, 0x01],
      "wire type 6": [0x0e],
      "wire type 7": [0x0f],
      "a tag over 32 bits": [0x80, 0x80, 0x80, 0x80, 0x10],
      "a truncated tag": [0x80],
      "a varint of 11 bytes": [0x08, ...new Array(10).fill(0xff), 0x01],
      "a truncated varint": [0x08, 0xff],
      "a length past the end": [0x0a, 0x05, 0x61],
      "a truncated fixed64": [0x09, 1, 2, 3],
      "a truncated fixed32": [0x0d, 1, 2],
      "an end group without a start": [0x0c],
      "a group ended by another field": [0x0b, 0x14],
      "an unterminated group": [0x0b, 0x08, 0x01],
    };
    for (const [name, bytes] of Object.entries(malformed)) {
      const input = new Uint8Array(bytes);
      expect(() => fieldsBothWays(input).ours, name).toThrow();
      expect(() => fieldsBothWays(input).theirs, name).toThrow();
    }
  });

  it("refuses groups nested past the limit, invalid UTF-8 and a string of another wire type", () => {
    const nested = (depth: number) => {
      const reader = new WireReader(
        new Uint8Array([...new Array(depth).fill(0x0b), ...new Array(depth).fill(0x0c)]),
      );
      reader.stepOver(reader.tag());
      return reader.pos === reader.len;
    };
    expect(nested(100)).toBe(true);
    expect(() => nested(101)).toThrow("groups nested too deep");
    for (const bytes of [
      [0x0a, 0x01, 0xff],
      [0x0a, 0x02, 0xc3, 0x28],
      [0x0a, 0x21, ...new Array(32).fill(0x61), 0xff],
    ]) {
      const reader = new WireReader(new Uint8Array(bytes));
      expect(() => reader.string(reader.tag())).toThrow();
    }
    const varint = new WireReader(new Uint8Array([0x08, 0x01]));
    expect(() => varint.string(varint.tag())).toThrow();
  });
});
