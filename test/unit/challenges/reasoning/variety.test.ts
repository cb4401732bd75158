import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generate } from "../../../../src/challenges/reasoning/families/index.js";
import { REASONING_FAMILIES } from "../../../../src/challenges/reasoning/family-names.js";
import { testDifficulty, testSeed } from "./seeds.js";

/** Every source file under `dir`, concatenated. */
function readTree(dir: string): string {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), "utf8"))
    .join("\n");
}

const SOURCE = readTree(join(process.cwd(), "src"));
const REASONING_SOURCE = readTree(join(process.cwd(), "src/challenges/reasoning"));
/** Words the generators' own text uses; anything else in a prompt was generated. */
const VOCABULARY = new Set(REASONING_SOURCE.toLowerCase().match(/[a-z]+/g));

/** A prompt's structure: numbers masked, generated words (names, nouns, strings) masked. */
function shape(prompt: string): string {
  return prompt
    .replace(/\d+/g, "#")
    .replace(/[A-Za-z]+/g, (word) => (VOCABULARY.has(word.toLowerCase()) ? word : "X"));
}

const SAMPLES = 200;

describe.each(REASONING_FAMILIES)("reasoning family %s: variety", (family) => {
  const prompts = Array.from(
    { length: SAMPLES },
    (_, i) => generate(family, testSeed(`variety-${family}`, i), testDifficulty(i)).prompt,
  );

  it(`gives a different instance for every one of ${SAMPLES} seeds`, () => {
    expect(new Set(prompts).size).toBe(SAMPLES);
  });

  it("varies in structure and wording, not only in numbers and names", () => {
    const shapes = new Set(prompts.map(shape));
    expect(shapes.size).toBeGreaterThanOrEqual(SAMPLES * 0.9);
  });

  // Long sentences always embed generated content; fixed wording stays short. (Program
  // listings have no line this long, so for program-trace the check passes trivially.)
  it("never prints a sentence or line of 40+ characters that the source contains", () => {
    const fragments = prompts.flatMap((prompt) =>
      prompt.split(/\n|(?<=[.?!])\s+/).filter((fragment) => fragment.trim().length >= 40),
    );
    const verbatim = fragments.filter((fragment) => SOURCE.includes(fragment.trim()));
    expect(new Set(verbatim)).toEqual(new Set());
  });
});
