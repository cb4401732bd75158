import { describe, expect, it } from "vitest";
import { createRng } from "../../../../src/challenges/reasoning/prng.js";
import { testSeed } from "./seeds.js";

describe("createRng", () => {
  it("replays the same stream from the same seed, and another from another seed", () => {
    const draw = (seed: Uint8Array) => {
      const rng = createRng(seed);
      return Array.from({ length: 50 }, () => rng.int(0, 1_000_000));
    };
    expect(draw(testSeed("prng", 1))).toEqual(draw(testSeed("prng", 1)));
    expect(draw(testSeed("prng", 1))).not.toEqual(draw(testSeed("prng", 2)));
  });

  it("refuses a seed that is not 32 bytes", () => {
    expect(() => createRng(new Uint8Array(16))).toThrow(RangeError);
  });

  it("draws every value of a range about equally often", () => {
    const rng = createRng(testSeed("prng", 3));
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) {
      const value = rng.int(1, 6);
      counts[value - 1] = (counts[value - 1] ?? 0) + 1;
    }
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it("shuffles into a permutation of the input", () => {
    const rng = createRng(testSeed("prng", 4));
    const items = ["a", "b", "c", "d", "e"];
    expect(rng.shuffle(items).sort()).toEqual(items);
  });
});
