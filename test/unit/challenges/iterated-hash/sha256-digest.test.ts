import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sha256DigestSource } from "../../../../scripts/sha256-digest-source.js";
import { sha256Digest } from "../../../../src/challenges/iterated-hash/sha256-digest.generated.js";

const GENERATED = new URL(
  "../../../../src/challenges/iterated-hash/sha256-digest.generated.ts",
  import.meta.url,
);

/** SHA-256 of a 32-byte message through the generated function. */
function viaGenerated(message: Buffer): Buffer {
  const words = new Int32Array(8);
  for (let i = 0; i < 8; i++) words[i] = message.readInt32BE(i * 4);
  sha256Digest(words);
  const out = Buffer.alloc(32);
  for (const [i, word] of words.entries()) out.writeInt32BE(word, i * 4);
  return out;
}

describe("sha256Digest (generated)", () => {
  it("is what its generator writes (run `npm run generate:sha256` after changing it)", () => {
    expect(readFileSync(GENERATED, "utf8")).toBe(sha256DigestSource());
  });

  it("is SHA-256 of the 32-byte message, against node:crypto", () => {
    // Words at the edges of 32-bit arithmetic, then random ones.
    const edges = [0x00, 0xff, 0x80, 0x7f].map((byte) => Buffer.alloc(32, byte));
    for (const message of [...edges, ...Array.from({ length: 2_000 }, () => randomBytes(32))]) {
      expect(viaGenerated(message)).toEqual(createHash("sha256").update(message).digest());
    }
  });

  it('matches the published double SHA-256 of "abc" (FIPS 180-2 B.1, hashed again)', () => {
    const abc = Buffer.from(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "hex",
    );
    expect(viaGenerated(abc).toString("hex")).toBe(
      "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358",
    );
  });
});
