/** Shared reading helpers for the reference solvers (which see only the prompt text). */

const ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth".split(" ");
const SMALL = "zero one two three four five six seven eight nine ten eleven twelve".split(" ");

/** "3", "three" → 3. */
export function readCount(text: string): number {
  const index = SMALL.indexOf(text.toLowerCase());
  const value = index >= 0 ? index : Number(text);
  if (!Number.isInteger(value)) throw new Error(`not a count: ${text}`);
  return value;
}

/** "third", "3rd" → 3. */
export function readOrdinal(text: string): number {
  const index = ORDINALS.indexOf(text.toLowerCase());
  if (index >= 0) return index + 1;
  const match = /^(\d+)(?:st|nd|rd|th)$/.exec(text);
  if (!match) throw new Error(`not an ordinal: ${text}`);
  return Number(match[1]);
}

export const COUNT = "(\\d+|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)";

/** Splits prose into sentences (none of the generated tokens contains a period). */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.?!:])\s+(?=[A-Z0-9(-])|\n/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Matches `text` against `[pattern, handler]` pairs; the first hit's result is returned. */
export function dispatch<T>(
  text: string,
  rules: readonly (readonly [RegExp, (match: RegExpExecArray) => T])[],
): T {
  for (const [pattern, handle] of rules) {
    const match = pattern.exec(text);
    if (match) return handle(match);
  }
  throw new Error(`unreadable: ${text}`);
}

/** The nth capture group, which must exist. */
export function group(match: RegExpExecArray, n: number): string {
  const value = match[n];
  if (value === undefined) throw new Error(`missing group ${n}`);
  return value;
}

/** The nth capture of `pattern` in `text`, which must match. */
export function capture(pattern: RegExp, text: string, n = 1): string {
  const match = pattern.exec(text);
  if (!match) throw new Error(`no ${pattern} in: ${text}`);
  return group(match, n);
}
