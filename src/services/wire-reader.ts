/**
 * The protobuf wire format (protobuf.dev "Encoding"), read for the hand-decoded requests of
 * the hot path (Check's, authz/wire.ts; Verify's, verify/request.ts): what protobuf-es's
 * BinaryReader reads, with the same checks, but a tag is one number (field number × 8 + wire
 * type) rather than a new array, and a reader is one small object rather than one with a
 * DataView.
 */
export const WIRE = {
  varint: 0,
  bit64: 1,
  lengthDelimited: 2,
  startGroup: 3,
  endGroup: 4,
  bit32: 5,
} as const;

/** Groups nested deeper than this are refused (protobuf-es's recursion limit). */
const MAX_GROUP_DEPTH = 100;

/** Proto3 strings must be UTF-8: invalid input throws (protobuf.dev "Language Guide", string). */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export const fieldOf = (tag: number): number => tag >>> 3;
export const wireTypeOf = (tag: number): number => tag & 7;

export class WireReader {
  pos = 0;
  readonly len: number;

  constructor(readonly buf: Uint8Array) {
    this.len = buf.length;
  }

  /** A field's tag; a field number of 0 or a wire type above 5 is illegal. */
  tag(): number {
    const tag = this.uint32();
    if (fieldOf(tag) === 0 || wireTypeOf(tag) > WIRE.bit32) throw new Error("illegal tag");
    return tag;
  }

  /** A varint that fits 32 bits unsigned (tags, lengths): at most 5 bytes. */
  uint32(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.buf[this.pos++];
      if (byte === undefined) throw new Error("truncated varint");
      if (shift === 28 && byte > 0x0f) throw new Error("varint overflows uint32");
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
    }
  }

  /** Where the length-delimited value starting here ends; past the input is truncated. */
  lengthDelimitedEnd(tag: number): number {
    if (wireTypeOf(tag) !== WIRE.lengthDelimited) throw new Error("unexpected wire type");
    const end = this.uint32() + this.pos;
    if (end > this.len) throw new Error("truncated field");
    return end;
  }

  /**
   * A string field: UTF-8, checked. The native decoder at every length: it is faster than a
   * byte loop even for a short ASCII string, and makes one string rather than one per byte.
   */
  string(tag: number): string {
    const end = this.lengthDelimitedEnd(tag);
    const start = this.pos;
    this.pos = end;
    return utf8.decode(this.buf.subarray(start, end));
  }

  /** Steps over a field's value, whatever its wire type (a group up to its end tag). */
  stepOver(tag: number, depth = 0): void {
    switch (wireTypeOf(tag)) {
      case WIRE.varint:
        this.stepOverVarint();
        break;
      case WIRE.bit64:
        this.pos += 8;
        break;
      case WIRE.lengthDelimited:
        this.pos = this.lengthDelimitedEnd(tag);
        break;
      case WIRE.startGroup:
        this.stepOverGroup(fieldOf(tag), depth);
        break;
      case WIRE.bit32:
        this.pos += 4;
        break;
      default:
        throw new Error("unexpected end of group");
    }
    if (this.pos > this.len) throw new Error("truncated field");
  }

  private stepOverVarint(): void {
    for (let read = 1; ; read++) {
      const byte = this.buf[this.pos++];
      if (byte === undefined || read > 10) throw new Error("malformed varint");
      if (byte < 0x80) return;
    }
  }

  private stepOverGroup(field: number, depth: number): void {
    if (depth >= MAX_GROUP_DEPTH) throw new Error("groups nested too deep");
    for (;;) {
      const tag = this.tag();
      if (wireTypeOf(tag) === WIRE.endGroup) {
        if (fieldOf(tag) !== field) throw new Error("mismatched end of group");
        return;
      }
      this.stepOver(tag, depth + 1);
    }
  }
}
