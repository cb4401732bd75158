/** The reasoning families, by the name agents request and the configuration uses. */
export const REASONING_FAMILIES = [
  "program-trace",
  "ordering-puzzle",
  "word-problem",
  "string-edits",
  "table-query",
  "scoring-spec",
] as const;

export type ReasoningFamily = (typeof REASONING_FAMILIES)[number];

export function isReasoningFamily(value: string): value is ReasoningFamily {
  return (REASONING_FAMILIES as readonly string[]).includes(value);
}
