/**
 * The kinds of answer (with the answer format shown to the agent), and how equivalent
 * spellings of each are folded into one canonical form before the constant-time comparison.
 * Every canonicalizer is idempotent, and input it cannot read is only normalized (so it still
 * compares unequal to a well-formed answer).
 */
export const ANSWER_KINDS = {
  integer: "an integer, e.g. 42 or -7",
  name: "a single name or word",
  letters: "a string of letters, without quotes",
  list: "a comma-separated list of names, in order",
} as const;

export type AnswerKind = keyof typeof ANSWER_KINDS;

/** Separates the answers of a task's parts; no kind's canonical form contains it. */
export const PART_SEPARATOR = "|";

/** A task's answer kind: its parts' kinds joined by PART_SEPARATOR (one part: the kind). */
export function isAnswerKind(value: string): boolean {
  return value.split(PART_SEPARATOR).every((kind) => Object.hasOwn(ANSWER_KINDS, kind));
}

/** Drops wrapping quotes or brackets and a final period, repeatedly. */
function unwrap(text: string): string {
  let out = text;
  for (let previous = ""; previous !== out; ) {
    previous = out;
    out = out
      .replace(/^["'`[(]+|["'`\])]+$/g, "")
      .replace(/\.$/, "")
      .trim();
  }
  return out;
}

/** Trims, folds case and whitespace, unwraps. */
function tidy(raw: string): string {
  return unwrap(raw.normalize("NFKC").trim().toLowerCase().replace(/\s+/g, " "));
}

/** "+1,234", "1234.0", " 1 234 " → "1234"; "-0" → "0". */
function integer(raw: string): string {
  const text = tidy(raw);
  const match = /^([+-]?)(\d{1,3}(?:([, _])\d{3})(?:\3\d{3})*|\d+)(?:\.0*)?$/.exec(text);
  if (!match) return text;
  const digits = (match[2] ?? "").replace(/[, _]/g, "").replace(/^0+(?=\d)/, "");
  return match[1] === "-" && digits !== "0" ? `-${digits}` : digits;
}

/** Separators: commas, semicolons, whitespace, "and", "then", arrows. */
function list(raw: string): string {
  return tidy(raw)
    .split(/\s*(?:[,;>]|->|→|\s)\s*/)
    .map(unwrap)
    .filter((item) => item !== "" && item !== "and" && item !== "then")
    .join(",");
}

const CANONICALIZERS: Record<AnswerKind, (raw: string) => string> = {
  integer,
  name: tidy,
  letters: (raw) => tidy(raw).replace(/\s/g, ""),
  list,
};

/**
 * Each part's answer by its own kind. Parts are separated by PART_SEPARATOR or line breaks;
 * an answer with another number of parts is only tidied, so it still compares unequal (it
 * holds a different number of separators than any well-formed answer).
 */
export function canonicalize(kind: string, raw: string): string {
  const kinds = kind.split(PART_SEPARATOR) as AnswerKind[];
  if (kinds.length === 1) return CANONICALIZERS[kind as AnswerKind](raw);
  const parts = raw.trim().split(/\s*(?:\||\r?\n)\s*/);
  if (parts.length !== kinds.length) return tidy(raw);
  return kinds.map((k, i) => CANONICALIZERS[k](parts[i] ?? "")).join(PART_SEPARATOR);
}
