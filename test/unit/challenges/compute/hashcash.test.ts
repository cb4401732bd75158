import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashcashSolved, leadingZeroBits } from "../../../../src/challenges/hashcash/index.js";
import { solveHashcash } from "../../../support/compute-solvers.js";

const bytes = (...values: number[]) => Uint8Array.from(values);

describe("leadingZeroBits", () => {
  it.each([
    [bytes(), 0],
    [bytes(0x80), 0],
    [bytes(0xff, 0x00), 0],
    [bytes(0x7f), 1],
    [bytes(0x01), 7],
    [bytes(0x00), 8],
    [bytes(0x00, 0xff), 8],
    [bytes(0x00, 0x01), 15],
    [bytes(0x00, 0x00, 0x80), 16],
    [bytes(0x00, 0x00, 0x00, 0x00), 32],
    [new Uint8Array(32), 256],
  ])("%o has %i", (input, expected) => {
    expect(leadingZeroBits(input)).toBe(expected);
  });
});

describe("hashcashSolved", () => {
  const prefix = "Zm9vYmFyYmF6cXV4";

  it("accepts exactly when SHA-256(prefix:nonce) has at least D leading zero bits", () => {
    const nonce = solveHashcash(prefix, 12);
    const digest = createHash("sha256").update(`${prefix}:${nonce}`).digest();
    const zeros = leadingZeroBits(digest);
    expect(zeros).toBeGreaterThanOrEqual(12);
    expect(hashcashSolved(prefix, nonce, 12)).toBe(true);
    expect(hashcashSolved(prefix, nonce, zeros)).toBe(true);
    expect(hashcashSolved(prefix, nonce, zeros + 1)).toBe(false);
  });

  it("binds the prefix and the ':' separator", () => {
    const nonce = solveHashcash(prefix, 12);
    expect(hashcashSolved(prefix, nonce, 12)).toBe(true);
    expect(hashcashSolved(`${prefix}x`, nonce, 12)).toBe(false);
    // The separator moved by one character: a different message.
    expect(hashcashSolved(prefix.slice(0, -1), `${prefix.slice(-1)}${nonce}`, 12)).toBe(false);
  });

  it("refuses a difficulty that would accept anything or cannot be met", () => {
    for (const bits of [0, -1, 1.5, 257, Number.NaN]) {
      expect(() => hashcashSolved(prefix, "1", bits)).toThrow(RangeError);
    }
  });
});
