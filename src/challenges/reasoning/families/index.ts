import { ANSWER_KINDS, type AnswerKind } from "../canonicalize.js";
import type { ReasoningFamily } from "../family-names.js";
import { createRng } from "../prng.js";
import { orderingPuzzle } from "./ordering-puzzle.js";
import { programTrace } from "./program-trace.js";
import { scoringSpec } from "./scoring-spec.js";
import { stringEdits } from "./string-edits.js";
import { tableQuery } from "./table-query.js";
import type { Family } from "./types.js";
import { wordProblem } from "./word-problem.js";

const FAMILIES: Record<ReasoningFamily, Family> = {
  "program-trace": programTrace,
  "ordering-puzzle": orderingPuzzle,
  "word-problem": wordProblem,
  "string-edits": stringEdits,
  "table-query": tableQuery,
  "scoring-spec": scoringSpec,
};

export interface GeneratedTask {
  readonly prompt: string;
  /** How the answer must be written, for the agent. */
  readonly answerFormat: string;
  /** Which canonicalizer applies to submitted answers. */
  readonly answerKind: AnswerKind;
  /** The canonical answer: secret, kept server-side only. */
  readonly answer: string;
}

/** Generates one task, deterministically from `seed` (32 bytes); difficulty 1–5. */
export function generate(
  family: ReasoningFamily,
  seed: Uint8Array,
  difficulty: number,
): GeneratedTask {
  if (!Number.isInteger(difficulty) || difficulty < 1 || difficulty > 5) {
    throw new RangeError("difficulty must be an integer 1..5");
  }
  const { prompt, kind, answer } = FAMILIES[family].generate(createRng(seed), difficulty);
  return { prompt, answerFormat: ANSWER_KINDS[kind], answerKind: kind, answer };
}
