import { describe, expect, it } from "vitest";
import {
  type AnswerKind,
  canonicalize,
  PART_SEPARATOR,
} from "../../../../src/challenges/reasoning/canonicalize.js";
import { generate } from "../../../../src/challenges/reasoning/families/index.js";
import { REASONING_FAMILIES } from "../../../../src/challenges/reasoning/family-names.js";
import { SOLVERS } from "../../../support/reasoning-solvers/index.js";
import { testDifficulty, testSeed } from "./seeds.js";

/** Seeds per family; every instance is solved from its prompt alone. */
const SEEDS = 2_000;

/** Other ways an agent might write the same answer. */
function equivalents(kind: AnswerKind, answer: string): string[] {
  const upper = answer.toUpperCase();
  switch (kind) {
    case "integer": {
      const n = Number(answer);
      const grouped = n.toLocaleString("en-US");
      return [
        ` ${answer} `,
        `${answer}.0`,
        grouped,
        n >= 0 ? `+${answer}` : answer,
        `"${grouped}"`,
      ];
    }
    case "name":
      return [upper, ` ${answer}. `, `'${answer}'`, `\t${answer}\n`];
    case "letters":
      return [upper, `"${answer}"`, ` ${answer} `];
    case "list": {
      const items = answer.split(",");
      const last = items.pop();
      return [
        `${items.join(", ")} and ${last}`,
        [...items, last].join("; ").toUpperCase(),
        `[${[...items, last].join(", ")}]`,
        [...items, last].join(" -> "),
      ];
    }
  }
}

/** Answers that are wrong, however they are spelled. */
function wrongs(kind: AnswerKind, answer: string): string[] {
  switch (kind) {
    case "integer":
      return [String(Number(answer) + 1), String(Number(answer) * 10 + 3), ""];
    case "name":
    case "letters":
      return [`${answer}a`, answer.slice(1), ""];
    case "list":
      return [answer.split(",").reverse().join(","), answer.split(",").slice(1).join(","), ""];
  }
}

/** The answer with part `index` spelled as `spelling`, the other parts as they are. */
function withPart(answer: string, index: number, spelling: string): string {
  return answer
    .split(PART_SEPARATOR)
    .map((part, i) => (i === index ? spelling : part))
    .join(" | ");
}

describe.each(REASONING_FAMILIES)("reasoning family %s", (family) => {
  it(`is solved from the prompt alone, and only the right answer is accepted (${SEEDS} seeds)`, () => {
    for (let i = 0; i < SEEDS; i++) {
      const task = generate(family, testSeed(family, i), testDifficulty(i));
      const check = (raw: string) => canonicalize(task.answerKind, raw);
      const context = `${family} seed #${i}:\n${task.prompt}`;
      expect(check(SOLVERS[family](task.prompt)), context).toBe(task.answer);
      expect(check(task.answer), context).toBe(task.answer);
      const kinds = task.answerKind.split(PART_SEPARATOR) as AnswerKind[];
      const answers = task.answer.split(PART_SEPARATOR);
      expect(answers).toHaveLength(task.parts);
      kinds.forEach((kind, part) => {
        const answer = answers[part] ?? "";
        for (const spelling of equivalents(kind, answer)) {
          const whole = withPart(task.answer, part, spelling);
          expect(check(whole), `${context}\n${whole}`).toBe(task.answer);
          expect(check(check(whole))).toBe(check(whole));
        }
        for (const wrong of wrongs(kind, answer)) {
          const whole = withPart(task.answer, part, wrong);
          expect(check(whole), `${context}\n${whole}`).not.toBe(task.answer);
          expect(check(check(whole))).toBe(check(whole));
        }
      });
      // One part missing, or one too many, is wrong however the rest is written.
      expect(check(answers.slice(1).join(" | "))).not.toBe(task.answer);
      expect(check(`${answers.join(" | ")} | 1`)).not.toBe(task.answer);
    }
  });

  it("is deterministic from the seed", () => {
    const seed = testSeed(family, 7);
    expect(generate(family, seed, 3)).toEqual(generate(family, seed, 3));
  });
});
