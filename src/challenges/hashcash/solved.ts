import { createHash } from "node:crypto";

/** Leading zero bits of `bytes`, most significant bit of the first byte first. */
export function leadingZeroBits(bytes: Uint8Array): number {
  let bits = 0;
  for (const byte of bytes) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

/**
 * Whether `nonce` solves a hashcash challenge: SHA-256 over the UTF-8 bytes of
 * `prefix:nonce` has at least `bits` leading zero bits. One hash: cheap enough for the event
 * loop, so it doubles as an admission ticket check. `bits` below 1 would accept anything,
 * so it is refused as a programming error rather than treated as solved.
 */
export function hashcashSolved(prefix: string, nonce: string, bits: number): boolean {
  if (!Number.isInteger(bits) || bits < 1 || bits > 256) {
    throw new RangeError("hashcash difficulty must be an integer 1..256");
  }
  const digest = createHash("sha256").update(`${prefix}:${nonce}`, "utf8").digest();
  return leadingZeroBits(digest) >= bits;
}
