import type { Rng } from "./prng.js";

// Names and nouns are built from syllables, never taken from a list: 21 onsets × 5 vowels ×
// 5 codas = 525 syllables, so 2–3 syllable words number about 1.4 × 10^8.
const ONSETS = "b c d f g h k l m n p r s t v z br dr kr tr st".split(" ");
const VOWELS = ["a", "e", "i", "o", "u"];
const CODAS = ["", "", "n", "r", "l"];

/** A pronounceable lowercase word of 2–3 syllables. */
export function word(rng: Rng): string {
  const syllables = rng.int(2, 3);
  let out = "";
  for (let i = 0; i < syllables; i++) {
    const coda = i === syllables - 1 ? rng.pick(CODAS) : "";
    out += rng.pick(ONSETS) + rng.pick(VOWELS) + coda;
  }
  return out;
}

/** A capitalized name. */
export function name(rng: Rng): string {
  const w = word(rng);
  return w.charAt(0).toUpperCase() + w.slice(1);
}

/** `count` distinct values of `make`. */
export function distinct(rng: Rng, count: number, make: (rng: Rng) => string): string[] {
  const out = new Set<string>();
  while (out.size < count) out.add(make(rng));
  return [...out];
}

const ORDINAL_WORDS = "first second third fourth fifth sixth seventh eighth ninth tenth".split(" ");

/** 1 → "first" … 10 → "tenth". */
export function ordinalWord(n: number): string {
  const out = ORDINAL_WORDS[n - 1];
  if (out === undefined) throw new RangeError("ordinal out of range");
  return out;
}

/** 1 → "1st", 2 → "2nd", 11 → "11th". */
export function ordinalNumber(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${suffix}`;
}

/** "A", "A and B", "A, B and C" (or with "or"). */
export function joinWords(items: readonly string[], last = "and"): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} ${last} ${items.at(-1)}`;
}

/** Picks a template and fills it. */
export function phrase<A extends unknown[]>(
  rng: Rng,
  templates: readonly ((...args: A) => string)[],
  ...args: A
): string {
  return rng.pick(templates)(...args);
}

const SMALL_NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve".split(
  " ",
);

/** Small counts are sometimes spelled out ("seven"), which a reader must handle too. */
export function count(rng: Rng, n: number): string {
  const word = SMALL_NUMBERS[n];
  return word !== undefined && rng.chance(1, 3) ? word : String(n);
}
