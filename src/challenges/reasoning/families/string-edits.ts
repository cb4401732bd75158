import type { Rng } from "../prng.js";
import { ordinalNumber, ordinalWord, phrase } from "../words.js";
import type { Family } from "./types.js";

/**
 * The guess bound of one edit run (see Instance.guessBits): the result is 4–24 letters drawn
 * from a random start of ≥ 7 letters (> 32 bits) that every edit changes; no result repeated
 * more than twice in 60,000 instances (≥ 14.8 bits measured): 10 bits keeps a wide margin.
 */
const PART_GUESS_BITS = 10;

// Instance space: a start string of 8–16 random letters (26^8 ≈ 2 × 10^11 at the least) times
// 4–8 steps drawn from 11 edit kinds with 2–4 phrasings and random operands (≥ 10^3 per step)
// and two layouts: well over 10^20 per difficulty level.

const ALPHABET = "abcdefghijklmnopqrstuvwxyz";

/** One edit: what it says, and what it does to the current string. */
interface Edit {
  readonly text: string;
  readonly apply: (s: string) => string;
}

const q = (letter: string) => `"${letter}"`;
const letter = (rng: Rng) => ALPHABET.charAt(rng.int(0, 25));

/** "the 3rd letter", "the third letter", "the letter at position 3", "the last letter". */
function at(rng: Rng, k: number, length: number): string {
  if (k === length && rng.chance(1, 2)) return "the last letter";
  const forms = [`the ${ordinalNumber(k)} letter`, `the letter at position ${k}`];
  if (k <= 10) forms.push(`the ${ordinalWord(k)} letter`);
  return rng.pick(forms);
}

/** Builds one valid edit for the current string `s`, or undefined to draw again. */
const EDITS: readonly ((rng: Rng, s: string) => Edit | undefined)[] = [
  (rng) => ({
    text: rng.pick(["reverse it", "write it backwards", "reverse the order of its letters"]),
    apply: (s) => [...s].reverse().join(""),
  }),
  (rng, s) => {
    const k = rng.int(1, s.length);
    const where = at(rng, k, s.length);
    return {
      text: rng.pick([`delete ${where}`, `remove ${where}`, `drop ${where}`]),
      apply: (t) => t.slice(0, k - 1) + t.slice(k),
    };
  },
  (rng, s) => {
    const k = rng.int(1, s.length - 1);
    const c = letter(rng);
    const where = at(rng, k, s.length);
    return {
      text: phrase(rng, [
        () => `insert ${q(c)} after ${where}`,
        () => `put ${q(c)} right after ${where}`,
      ]),
      apply: (t) => t.slice(0, k) + c + t.slice(k),
    };
  },
  (rng) => {
    const c = letter(rng);
    return rng.chance(1, 2)
      ? { text: rng.pick([`append ${q(c)}`, `add ${q(c)} to the end`]), apply: (t) => t + c }
      : { text: rng.pick([`prepend ${q(c)}`, `put ${q(c)} at the front`]), apply: (t) => c + t };
  },
  (rng, s) => {
    const from = rng.pick([...s]);
    const to = rng.pick([...ALPHABET.replace(from, "")]);
    return {
      text: rng.pick([
        `replace every ${q(from)} with ${q(to)}`,
        `change each ${q(from)} into ${q(to)}`,
        `turn all ${q(from)} letters into ${q(to)}`,
      ]),
      apply: (t) => t.replaceAll(from, to),
    };
  },
  (rng, s) => {
    const c = rng.pick([...s]);
    if (s.length - s.split(c).length + 1 < 4) return undefined;
    return {
      text: rng.pick([`remove every ${q(c)}`, `delete all occurrences of ${q(c)}`]),
      apply: (t) => t.replaceAll(c, ""),
    };
  },
  (rng, s) => {
    const [i, j] = rng.shuffle([...Array(s.length).keys()].map((n) => n + 1)) as [number, number];
    const [lo, hi] = i < j ? [i, j] : [j, i];
    return {
      text: rng.pick([
        `swap the ${ordinalNumber(lo)} and ${ordinalNumber(hi)} letters`,
        `exchange the letters at positions ${lo} and ${hi}`,
      ]),
      apply: (t) =>
        [...t].map((ch, n) => (n === lo - 1 ? t[hi - 1] : n === hi - 1 ? t[lo - 1] : ch)).join(""),
    };
  },
  (rng, s) => {
    const k = rng.int(1, s.length - 1);
    return rng.chance(1, 2)
      ? {
          text: rng.pick([`move the first ${k} letters to the end`, `rotate it left by ${k}`]),
          apply: (t) => t.slice(k) + t.slice(0, k),
        }
      : {
          text: rng.pick([`move the last ${k} letters to the front`, `rotate it right by ${k}`]),
          apply: (t) => t.slice(t.length - k) + t.slice(0, t.length - k),
        };
  },
  (rng, s) => {
    if (s.length < 7) return undefined;
    const k = rng.int(4, s.length - 1);
    return rng.chance(1, 2)
      ? {
          text: rng.pick([
            `keep only the first ${k} letters`,
            `cut it down to its first ${k} letters`,
          ]),
          apply: (t) => t.slice(0, k),
        }
      : {
          text: rng.pick([
            `keep only the last ${k} letters`,
            `cut it down to its last ${k} letters`,
          ]),
          apply: (t) => t.slice(t.length - k),
        };
  },
  (rng, s) => {
    const k = rng.int(1, s.length);
    const where = at(rng, k, s.length);
    return {
      text: rng.pick([`double ${where}`, `write ${where} twice`]),
      apply: (t) => t.slice(0, k) + t.slice(k - 1),
    };
  },
];

const LIST_STYLES: readonly ((n: number, text: string) => string)[] = [
  (n, text) => `${n}. ${capitalize(text)}.`,
  (n, text) => `Step ${n}: ${text}.`,
  (n, text) => `(${n}) ${capitalize(text)}.`,
];
const CONNECTORS = ["Then", "Next,", "After that,", "Now"];

function connector(rng: Rng, index: number, count: number): string {
  if (index === 0) return "First,";
  return index === count - 1 ? "Finally," : rng.pick(CONNECTORS);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const stringEdits: Family = {
  generate(rng, difficulty) {
    let s = Array.from({ length: rng.int(6, 10) + difficulty * 1 }, () => letter(rng)).join("");
    const start = s;
    const edits: Edit[] = [];
    while (edits.length < 3 + difficulty) {
      const edit = rng.pick(EDITS)(rng, s);
      if (edit === undefined) continue;
      const next = edit.apply(s);
      if (next.length < 4 || next.length > 24 || next === s) continue;
      edits.push(edit);
      s = next;
    }
    const opening = rng.pick([
      `Start with the string "${start}".`,
      `Take the text "${start}".`,
      `Begin from the letters "${start}".`,
    ]);
    const question = rng.pick([
      "What is the result?",
      "What string do you end up with?",
      "Give the final string.",
    ]);
    // A numbered list in one of three styles, or running prose with connectors.
    const style = LIST_STYLES[rng.int(0, LIST_STYLES.length)];
    const steps = style
      ? edits.map((e, i) => style(i + 1, e.text)).join("\n")
      : edits.map((e, i) => `${connector(rng, i, edits.length)} ${e.text}.`).join(" ");
    const intro = rng.pick(["Apply these edits in order.", "Perform each edit in turn."]);
    return {
      prompt: `${opening} ${intro}\n${steps}\n${question}`,
      kind: "letters",
      answer: s,
      guessBits: PART_GUESS_BITS,
    };
  },
};
