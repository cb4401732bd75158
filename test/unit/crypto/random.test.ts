import { describe, expect, it } from "vitest";
import { randomId, sha256Hex } from "../../../src/crypto/random.js";

describe("sha256Hex", () => {
  // FIPS 180-2, Appendix B.1 and B.2: "abc" and the two-block message.
  it.each([
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
  ])("hashes %j as the standard's vector", (message, digest) => {
    expect(sha256Hex(message)).toBe(digest);
    expect(sha256Hex(Buffer.from(message))).toBe(digest);
  });
});

describe("randomId", () => {
  it("is 256 random bits as 43 base64url characters, never the same twice", () => {
    // Several refills of the pool: no slice is handed out twice, none left zeroed.
    const ids = new Set(Array.from({ length: 1_000 }, randomId));
    expect(ids.size).toBe(1_000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(ids.has("A".repeat(43))).toBe(false);
  });
});
