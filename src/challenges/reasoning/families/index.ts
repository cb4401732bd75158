import { ANSWER_KINDS, PART_SEPARATOR } from "../canonicalize.js";
import type { ReasoningFamily } from "../family-names.js";
import { createRng, type Rng } from "../prng.js";
import { orderingPuzzle } from "./ordering-puzzle.js";
import { programTrace } from "./program-trace.js";
import { scoringSpec } from "./scoring-spec.js";
import { stringEdits } from "./string-edits.js";
import { tableQuery } from "./table-query.js";
import type { Family, Instance } from "./types.js";
import { wordProblem } from "./word-problem.js";

const FAMILIES: Record<ReasoningFamily, Family> = {
  "program-trace": programTrace,
  "ordering-puzzle": orderingPuzzle,
  "word-problem": wordProblem,
  "string-edits": stringEdits,
  "table-query": tableQuery,
  "scoring-spec": scoringSpec,
};

/** A blind guess at a whole task is right with probability at most 2^-GUESS_BITS. */
export const GUESS_BITS = 20;

/** Draws per part before giving up: far above what any family needs (a bug guard). */
const MAX_DRAWS = 1_000;

export interface GeneratedTask {
  readonly prompt: string;
  /** How the answer must be written, for the agent. */
  readonly answerFormat: string;
  /** Which canonicalizer applies to submitted answers: one kind per part, joined by "|". */
  readonly answerKind: string;
  /** The canonical answer: secret, kept server-side only. */
  readonly answer: string;
  /** Each part's guess bound (Instance.guessBits), in order. */
  readonly partBits: readonly number[];
  /** The parts' guess bounds added up: at least GUESS_BITS. */
  readonly guessBits: number;
  /** How many independent parts the task has. */
  readonly parts: number;
}

/**
 * Generates one task, deterministically from `seed` (32 bytes); difficulty 1–5. One instance
 * of a family can be guessed far too often (an ordering of five names is one of 120), so a
 * task is as many independent instances as it takes for their guess bounds to add up to
 * GUESS_BITS: the answer is all of theirs, and a blind guess must get every one right.
 */
export function generate(
  family: ReasoningFamily,
  seed: Uint8Array,
  difficulty: number,
): GeneratedTask {
  if (!Number.isInteger(difficulty) || difficulty < 1 || difficulty > 5) {
    throw new RangeError("difficulty must be an integer 1..5");
  }
  const rng = createRng(seed);
  const parts: Instance[] = [];
  let guessBits = 0;
  while (guessBits < GUESS_BITS) {
    const part = unguessable(FAMILIES[family], rng, difficulty);
    parts.push(part);
    guessBits += part.guessBits;
  }
  const n = parts.length;
  const intro =
    `This task has ${n} independent parts. Solve each one, then give the ${n} answers ` +
    `in order, separated by " ${PART_SEPARATOR} ".`;
  const body = parts.map((part, i) => `Part ${i + 1}:\n${part.prompt}`).join("\n\n");
  const formats = parts.map((part, i) => `part ${i + 1}: ${ANSWER_KINDS[part.kind]}`);
  return {
    prompt: `${intro}\n\n${body}`,
    answerFormat: `${n} answers in order, separated by " ${PART_SEPARATOR} " (${formats.join("; ")})`,
    answerKind: parts.map((part) => part.kind).join(PART_SEPARATOR),
    answer: parts.map((part) => part.answer).join(PART_SEPARATOR),
    partBits: parts.map((part) => part.guessBits),
    guessBits,
    parts: n,
  };
}

/**
 * An instance whose integer answer is not written in its prompt: otherwise copying a number
 * from the text (an untouched variable's start value, a count shown in a table) would be a
 * guess far better than the family's bound.
 */
function unguessable(family: Family, rng: Rng, difficulty: number): Instance {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const instance = family.generate(rng, difficulty);
    if (instance.kind !== "integer" || !numbersIn(instance.prompt).has(magnitude(instance))) {
      return instance;
    }
  }
  throw new Error("no instance with an unwritten answer");
}

function numbersIn(text: string): Set<string> {
  return new Set((text.match(/\d+/g) ?? []).map((digits) => digits.replace(/^0+(?=\d)/, "")));
}

function magnitude(instance: Instance): string {
  return instance.answer.replace(/^-/, "");
}
