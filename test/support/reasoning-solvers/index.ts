import type { ReasoningFamily } from "../../../src/challenges/reasoning/family-names.js";
import { solveOrderingPuzzle } from "./ordering-puzzle.js";
import { solveProgramTrace } from "./program-trace.js";
import { solveScoringSpec } from "./scoring-spec.js";
import { solveStringEdits } from "./string-edits.js";
import { solveTableQuery } from "./table-query.js";
import { solveWordProblem } from "./word-problem.js";

/**
 * Reference solvers, one per family. Each reads only the prompt text (never the generator's
 * structures), so agreeing with the server's answer shows the prose says what was computed.
 */
export const SOLVERS: Record<ReasoningFamily, (prompt: string) => string> = {
  "program-trace": solveProgramTrace,
  "ordering-puzzle": solveOrderingPuzzle,
  "word-problem": solveWordProblem,
  "string-edits": solveStringEdits,
  "table-query": solveTableQuery,
  "scoring-spec": solveScoringSpec,
};
