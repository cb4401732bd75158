import { describe, expect, it } from "vitest";
import { canonicalize, PART_SEPARATOR } from "../../../../src/challenges/reasoning/canonicalize.js";
import {
  type GeneratedTask,
  GUESS_BITS,
  generate,
} from "../../../../src/challenges/reasoning/families/index.js";
import { REASONING_FAMILIES } from "../../../../src/challenges/reasoning/family-names.js";
import { createRng } from "../../../../src/challenges/reasoning/prng.js";
import { promptParts } from "../../../support/reasoning-solvers/index.js";
import { testSeed } from "./seeds.js";

/** Tasks per family and level whose parts' answers are counted. */
const SAMPLES = 600;
/** Blind guesses per family, each against a fresh task. */
const GUESSES = 3_000;

const LEVELS = [1, 2, 3, 4, 5];

/** The family's own checker: the canonical answer compared whole, as the plugin does. */
const accepts = (task: GeneratedTask, guess: string) =>
  canonicalize(task.answerKind, guess) === task.answer;

/** Every part's answer and declared bound, over SAMPLES tasks at each level. */
function sampleParts(family: (typeof REASONING_FAMILIES)[number]) {
  const parts: { answer: string; bits: number; prompt: string }[] = [];
  for (const level of LEVELS) {
    for (let i = 0; i < SAMPLES; i++) {
      const task = generate(family, testSeed(`guess:${family}`, level * 100_000 + i), level);
      const answers = task.answer.split(PART_SEPARATOR);
      const prompts = promptParts(task.prompt);
      task.partBits.forEach((bits, p) => {
        parts.push({ answer: answers[p] ?? "", bits, prompt: prompts[p] ?? "" });
      });
    }
  }
  return parts;
}

type Part = ReturnType<typeof sampleParts>[number];

/** How often each answer occurs, per stated bound. */
function answerCounts(parts: readonly Part[]): Map<number, Map<string, number>> {
  const byBound = new Map<number, Map<string, number>>();
  for (const { bits, answer } of parts) {
    const counts = byBound.get(bits) ?? new Map<string, number>();
    counts.set(answer, (counts.get(answer) ?? 0) + 1);
    byBound.set(bits, counts);
  }
  return byBound;
}

/** The names an ordering puzzle introduces ("A, B and C ran…"), in the order it names them. */
const namesIn = (prompt: string) =>
  (/^((?:[A-Z][a-z]+, )*[A-Z][a-z]+ and [A-Z][a-z]+) /.exec(prompt)?.[1] ?? "").split(/, | and /);

describe.each(REASONING_FAMILIES)("blind guessing: %s", (family) => {
  const parts = sampleParts(family);

  it(`bounds every task's blind guess by 2^-${GUESS_BITS} (the parts' bounds add up)`, () => {
    for (const level of LEVELS) {
      for (let i = 0; i < 50; i++) {
        const task = generate(family, testSeed(`bits:${family}`, i), level);
        expect(task.partBits).toHaveLength(task.parts);
        expect(task.partBits.reduce((a, b) => a + b, 0)).toBe(task.guessBits);
        expect(task.guessBits).toBeGreaterThanOrEqual(GUESS_BITS);
        // Every part counts: without its last part the task would be under the bound.
        expect(task.guessBits - (task.partBits.at(-1) ?? 0)).toBeLessThan(GUESS_BITS);
      }
    }
  });

  it("holds each part's stated bound: its likeliest answer is no likelier than 2^-bits", () => {
    for (const [bits, counts] of answerCounts(parts)) {
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const top = Math.max(...counts.values());
      expect(top / total, `${family}: ${bits} bits over ${total}`).toBeLessThan(2 ** -bits);
    }
  });

  it("never writes an integer answer in its own part's text", () => {
    for (const part of parts.filter((p) => /^-?\d+$/.test(p.answer))) {
      const written = new Set((part.prompt.match(/\d+/g) ?? []).map((d) => String(Number(d))));
      expect(written.has(part.answer.replace(/^-/, "")), part.prompt).toBe(false);
    }
  });

  it(`is never passed by ${GUESSES} likeliest and ${GUESSES} uniform blind guesses`, () => {
    // The likeliest answer of each bound, and the pool of every answer seen.
    const likeliest = new Map<number, string>();
    for (const [bits, counts] of answerCounts(parts)) {
      const [answer = ""] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
      likeliest.set(bits, answer);
    }
    const pool = parts.map((part) => part.answer);
    const rng = createRng(testSeed(`rng:${family}`, 0));
    let passed = 0;
    for (let i = 0; i < GUESSES; i++) {
      const level = LEVELS[i % LEVELS.length] ?? 2;
      const task = generate(family, testSeed(`target:${family}`, i), level);
      const prompts = promptParts(task.prompt);
      const guess = (pick: (bits: number, prompt: string) => string) =>
        task.partBits.map((bits, p) => pick(bits, prompts[p] ?? "")).join(" | ");
      // The likeliest answer seen; for an order, the names as the prompt introduces them.
      const best = guess((bits, prompt) =>
        family === "ordering-puzzle" ? namesIn(prompt).join(", ") : (likeliest.get(bits) ?? ""),
      );
      const uniform = guess((_, prompt) =>
        family === "ordering-puzzle" ? rng.shuffle(namesIn(prompt)).join(", ") : rng.pick(pool),
      );
      if (accepts(task, best)) passed++;
      if (accepts(task, uniform)) passed++;
    }
    expect(passed).toBe(0);
  });
});
