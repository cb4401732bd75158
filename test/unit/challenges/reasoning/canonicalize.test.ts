import { describe, expect, it } from "vitest";
import { canonicalize } from "../../../../src/challenges/reasoning/canonicalize.js";
import { createRng } from "../../../../src/challenges/reasoning/prng.js";
import { testSeed } from "./seeds.js";

describe("canonicalize", () => {
  it.each([
    ["1234", "1234"],
    ["1,234", "1234"],
    ["+1,234", "1234"],
    ["1 234", "1234"],
    ["1234.0", "1234"],
    [" -0042 ", "-42"],
    ["-0", "0"],
    ['"17".', "17"],
  ])("reads the integer %j as %j", (raw, canonical) => {
    expect(canonicalize("integer", raw)).toBe(canonical);
  });

  it.each(["1,2", "12.5", "1,2345", "twelve", "1e3", "0x10"])(
    "does not read %j as a number",
    (raw) => {
      expect(canonicalize("integer", raw)).not.toMatch(/^-?\d+$/);
    },
  );

  it("folds case, quotes and whitespace of names and letter strings", () => {
    expect(canonicalize("name", "  'Kovalin'. ")).toBe("kovalin");
    expect(canonicalize("letters", '"AB cd"')).toBe("abcd");
  });

  it("accepts the usual list separators, in order", () => {
    for (const raw of [
      "A, B and C",
      "a;b;c",
      "[A, B, C]",
      "A -> B -> C",
      "a b c",
      "A, B, then C",
    ]) {
      expect(canonicalize("list", raw)).toBe("a,b,c");
    }
    expect(canonicalize("list", "C, B, A")).not.toBe("a,b,c");
  });

  it("is idempotent on arbitrary input", () => {
    const rng = createRng(testSeed("canonicalize", 0));
    const alphabet = "aZ09 ,;.-+_'\"[]()>→\t";
    for (let i = 0; i < 5_000; i++) {
      const raw = Array.from({ length: rng.int(0, 12) }, () =>
        alphabet.charAt(rng.int(0, alphabet.length - 1)),
      ).join("");
      for (const kind of ["integer", "name", "letters", "list"] as const) {
        const once = canonicalize(kind, raw);
        expect(canonicalize(kind, once), `${kind} ${JSON.stringify(raw)}`).toBe(once);
      }
    }
  });
});
