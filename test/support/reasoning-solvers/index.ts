import type { ReasoningFamily } from "../../../src/challenges/reasoning/family-names.js";
import { solveOrderingPuzzle } from "./ordering-puzzle.js";
import { solveProgramTrace } from "./program-trace.js";
import { solveScoringSpec } from "./scoring-spec.js";
import { solveStringEdits } from "./string-edits.js";
import { solveTableQuery } from "./table-query.js";
import { solveWordProblem } from "./word-problem.js";

/** Solvers of one part (one instance of the family). */
const PART_SOLVERS: Record<ReasoningFamily, (prompt: string) => string> = {
  "program-trace": solveProgramTrace,
  "ordering-puzzle": solveOrderingPuzzle,
  "word-problem": solveWordProblem,
  "string-edits": solveStringEdits,
  "table-query": solveTableQuery,
  "scoring-spec": solveScoringSpec,
};

/** A task's parts, each as its own prompt ("Part 1:" headings, after the task's intro). */
export function promptParts(prompt: string): string[] {
  return prompt
    .split(/^Part \d+:\n/m)
    .slice(1)
    .map((part) => part.trim());
}

/**
 * Reference solvers, one per family. Each reads only the prompt text (never the generator's
 * structures), so agreeing with the server's answer shows the prose says what was computed.
 * A task is several independent parts: each is solved alone, the answers joined by " | ".
 */
export const SOLVERS = Object.fromEntries(
  Object.entries(PART_SOLVERS).map(([family, solve]) => [
    family,
    (prompt: string) => promptParts(prompt).map(solve).join(" | "),
  ]),
) as Record<ReasoningFamily, (prompt: string) => string>;
