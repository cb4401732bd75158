import { createHash, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { siblingModule } from "../../../../src/challenges/compute/start-worker.js";
import { createWorkerPool } from "../../../../src/challenges/compute/worker-pool.js";
import { iteratedSha256 } from "../../../../src/challenges/iterated-hash/iterate.js";
import type { IteratedHashJob } from "../../../../src/challenges/iterated-hash/worker.js";
import { solveIteratedHash } from "../../../support/compute-solvers.js";

const ZERO_SEED = Buffer.alloc(32);
/** FIPS 180-2 vector: SHA-256("abc"); as a seed, h_1 is the published double SHA-256 of "abc". */
const ABC_DIGEST = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const ABC_DOUBLE = "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358";
/** FIPS 180-2 / NIST CSRC example: SHA-256 of the empty message. */
const EMPTY_DIGEST = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** h_N by node:crypto (OpenSSL): the reference every chain below is checked against. */
function createHashChain(seed: Buffer, iterations: number): Buffer {
  let h = seed;
  for (let i = 0; i < iterations; i++) h = createHash("sha256").update(h).digest();
  return h;
}

describe("iteratedSha256", () => {
  it("matches published SHA-256 vectors at small N", () => {
    expect(iteratedSha256(Buffer.from(ABC_DIGEST, "hex"), 1).toString("hex")).toBe(ABC_DOUBLE);
    // SHA-256 of 32 zero bytes, then of that digest, then again (sha256sum over raw bytes).
    expect(iteratedSha256(ZERO_SEED, 1).toString("hex")).toBe(
      "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925",
    );
    expect(iteratedSha256(ZERO_SEED, 2).toString("hex")).toBe(
      "2b32db6c2c0a6235fb1397e8225ea85e0f0e6e8c7b126d0016ccbde0e667151e",
    );
    expect(iteratedSha256(ZERO_SEED, 3).toString("hex")).toBe(
      "12771355e46cd47c71ed1721fd5319b383cca3a1f9fce3aa1c8cd3bd37af20d7",
    );
  });

  it("hashes the raw digest, not its hex, and N = 0 is the seed", () => {
    const seed = createHash("sha256").update("seed").digest();
    const once = createHash("sha256").update(seed).digest();
    expect(iteratedSha256(seed, 1)).toEqual(once);
    expect(iteratedSha256(seed, 0)).toEqual(seed);
  });

  it("agrees with node:crypto for random seeds at every N up to 64", () => {
    for (let trial = 0; trial < 8; trial++) {
      const seed = randomBytes(32);
      let expected = seed;
      for (let n = 0; n <= 64; n++) {
        expect(iteratedSha256(seed, n)).toEqual(expected);
        expected = createHash("sha256").update(expected).digest();
      }
    }
  });

  it("hashes a seed of another length as SHA-256 would on the first round", () => {
    expect(iteratedSha256(Buffer.from("abc"), 1).toString("hex")).toBe(ABC_DIGEST);
    expect(iteratedSha256(Buffer.from("abc"), 2).toString("hex")).toBe(ABC_DOUBLE);
    expect(iteratedSha256(Buffer.alloc(64, 1), 3)).toEqual(
      iteratedSha256(createHash("sha256").update(Buffer.alloc(64, 1)).digest(), 2),
    );
  });

  it("agrees with createHash chains at N = 1, 2, 1,000 and 100,000", () => {
    for (const seed of [ZERO_SEED, Buffer.alloc(32, 0xff), randomBytes(32)]) {
      for (const n of [1, 2, 1_000]) {
        expect(iteratedSha256(seed, n)).toEqual(createHashChain(seed, n));
      }
    }
    const seed = randomBytes(32);
    expect(iteratedSha256(seed, 100_000)).toEqual(createHashChain(seed, 100_000));
  });

  it("agrees with createHash chains for seeds of other lengths (padding edges included)", () => {
    expect(iteratedSha256(Buffer.alloc(0), 1).toString("hex")).toBe(EMPTY_DIGEST);
    // 55 and 56 bytes straddle one block's room for the length (FIPS 180-4 §5.1.1); 64 is a
    // whole block; 31 and 33 are one off the fast path's 32.
    for (const length of [0, 1, 31, 33, 55, 56, 63, 64, 65, 1_000]) {
      const seed = randomBytes(length);
      for (const n of [1, 2, 1_000]) {
        expect(iteratedSha256(seed, n)).toEqual(createHashChain(seed, n));
      }
    }
  });

  it("agrees with the independent test solver at larger N", () => {
    const seed = createHash("sha256").update("larger").digest();
    expect(iteratedSha256(seed, 5_000).toString("hex")).toBe(
      solveIteratedHash(seed.toString("hex"), 5_000),
    );
  });
});

describe("the iterated-hash worker (from source, through the pool)", () => {
  const pool = createWorkerPool<IteratedHashJob, string>({
    script: siblingModule(
      "worker",
      new URL("../../../../src/challenges/iterated-hash/index.ts", import.meta.url).href,
    ),
    size: 1,
    maxQueue: 4,
  });
  afterAll(() => pool.close());

  it("answers h_N in lowercase hex", async () => {
    await expect(pool.run({ seed: ABC_DIGEST, iterations: 1 })).resolves.toBe(ABC_DOUBLE);
    const seed = "ab".repeat(32);
    await expect(pool.run({ seed, iterations: 1_000 })).resolves.toBe(
      solveIteratedHash(seed, 1_000),
    );
  });
});
