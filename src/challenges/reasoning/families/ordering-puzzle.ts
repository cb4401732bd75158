import type { Rng } from "../prng.js";
import { distinct, joinWords, name, ordinalWord } from "../words.js";
import type { Family } from "./types.js";

// Instance space: 4–6 generated names (≈ 10^8 each) in a random hidden order, 4 settings, and a
// minimal set of clues drawn from 5 relations × 2–4 phrasings, shuffled: > 10^40 per level.

type Clue =
  | { readonly kind: "before" | "adjacent"; readonly a: string; readonly b: string }
  | { readonly kind: "at" | "not-at"; readonly a: string; readonly pos: number }
  | { readonly kind: "gap"; readonly a: string; readonly b: string; readonly between: number };

/** Whether a clue holds for an order (names first to last). */
function holds(clue: Clue, order: readonly string[]): boolean {
  const a = order.indexOf(clue.a);
  switch (clue.kind) {
    case "at":
      return a === clue.pos - 1;
    case "not-at":
      return a !== clue.pos - 1;
    case "before":
      return a < order.indexOf(clue.b);
    case "adjacent":
      return order.indexOf(clue.b) === a + 1;
    case "gap":
      return Math.abs(a - order.indexOf(clue.b)) === clue.between + 1;
  }
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/** A random clue that is true of `order`; position clues are rarer (they give too much away). */
function trueClue(rng: Rng, order: readonly string[]): Clue {
  const [a, b] = rng.shuffle(order) as [string, string];
  const [first, second] = order.indexOf(a) < order.indexOf(b) ? [a, b] : [b, a];
  const gap = Math.abs(order.indexOf(a) - order.indexOf(b)) - 1;
  const kind = rng.pick(["before", "before", "adjacent", "gap", "not-at", "not-at", "at"] as const);
  if (kind === "at") return { kind, a, pos: order.indexOf(a) + 1 };
  if (kind === "not-at") {
    const pos = rng.pick([...order.keys()].filter((i) => order[i] !== a)) + 1;
    return { kind, a, pos };
  }
  if (kind === "gap") return { kind, a, b, between: gap };
  return { kind: gap === 0 ? "adjacent" : "before", a: first, b: second };
}

/** Drops every clue the others already imply, so each one must be used. */
function minimal(rng: Rng, clues: readonly Clue[], all: readonly string[][]): Clue[] {
  const truth = new Map(clues.map((clue) => [clue, all.map((order) => holds(clue, order))]));
  let kept = [...clues];
  for (const clue of rng.shuffle(clues)) {
    const rest = kept.filter((c) => c !== clue);
    const solutions = all.filter((_, i) => rest.every((c) => truth.get(c)?.[i]));
    if (solutions.length === 1) kept = rest;
  }
  return kept;
}

interface Setting {
  intro(list: string, rng: Rng): string;
  /** Past tense ("finished"), and the infinitive after "to" ("finish"). */
  readonly verb: string;
  readonly base: string;
}

const SETTINGS: readonly Setting[] = [
  { intro: (l) => `${l} ran a race, and nobody tied.`, verb: "finished", base: "finish" },
  {
    intro: (l, r) => `${l} each arrived at ${name(r)} Hall at a different time.`,
    verb: "arrived",
    base: "arrive",
  },
  {
    intro: (l) => `${l} queued at a counter and were served one at a time.`,
    verb: "was served",
    base: "be served",
  },
  {
    intro: (l) => `${l} handed in their reports one after another.`,
    verb: "handed theirs in",
    base: "hand theirs in",
  },
];

const COUNT_WORDS = ["zero", "one", "two", "three", "four", "five"];

function clueText(rng: Rng, clue: Clue, s: Setting, size: number): string {
  const ord = (pos: number) => (pos === size && rng.chance(1, 2) ? "last" : ordinalWord(pos));
  switch (clue.kind) {
    case "before":
      return rng.pick([
        `${clue.a} ${s.verb} before ${clue.b}.`,
        `${clue.a} ${s.verb} earlier than ${clue.b}.`,
        `${clue.b} ${s.verb} after ${clue.a}.`,
        `${clue.b} ${s.verb} later than ${clue.a}.`,
      ]);
    case "adjacent":
      return rng.pick([
        `${clue.a} ${s.verb} directly before ${clue.b}.`,
        `${clue.b} ${s.verb} right after ${clue.a}.`,
        `${clue.b} ${s.verb} immediately after ${clue.a}.`,
      ]);
    case "at":
      return rng.pick([
        `${clue.a} ${s.verb} ${ord(clue.pos)}.`,
        `${clue.a} was the ${ord(clue.pos)} to ${s.base}.`,
      ]);
    case "not-at":
      return rng.pick([
        `${clue.a} was not the ${ord(clue.pos)} to ${s.base}.`,
        `It was not ${clue.a} who ${s.verb} ${ord(clue.pos)}.`,
      ]);
    case "gap": {
      if (clue.between === 0) {
        return rng.pick([
          `Nobody ${s.verb} between ${clue.a} and ${clue.b}.`,
          `${clue.a} and ${clue.b} were next to each other in the order.`,
        ]);
      }
      const people = `${COUNT_WORDS[clue.between]} ${clue.between === 1 ? "person" : "people"}`;
      return rng.pick([
        `Exactly ${people} ${s.verb} between ${clue.a} and ${clue.b}.`,
        `${clue.a} and ${clue.b} were ${COUNT_WORDS[clue.between + 1]} places apart.`,
      ]);
    }
  }
}

/**
 * Always the full order: the hidden order is a uniform shuffle, so a guess that does not solve
 * the clues is right with probability exactly 1/n!. (Asking for one place was right one time
 * in n.)
 */
function question(rng: Rng, order: readonly string[]) {
  const text = rng.pick([
    "List everyone in order, first to last.",
    "Give the full order, first to last.",
  ]);
  return { text, answer: order.join(",").toLowerCase() };
}

/** log2(n!): the bits of a uniform order of n names. */
function orderBits(n: number): number {
  let bits = 0;
  for (let k = 2; k <= n; k++) bits += Math.log2(k);
  return bits;
}

export const orderingPuzzle: Family = {
  generate(rng, difficulty) {
    const names = distinct(rng, 4 + Math.floor(difficulty / 2), name);
    const order = rng.shuffle(names);
    const all = permutations(names);
    let clues: Clue[] = [];
    for (let left = all; left.length > 1; ) {
      const clue = trueClue(rng, order);
      const narrowed = left.filter((candidate) => holds(clue, candidate));
      const secondAt = clue.kind === "at" && clues.some((c) => c.kind === "at");
      if (narrowed.length < left.length && !secondAt) [clues, left] = [[...clues, clue], narrowed];
    }
    clues = minimal(rng, clues, all);
    const setting = rng.pick(SETTINGS);
    const lines = rng.shuffle(clues).map((clue) => clueText(rng, clue, setting, names.length));
    const { text, answer } = question(rng, order);
    const prompt = `${setting.intro(joinWords(rng.shuffle(names)), rng)}\n${lines.join("\n")}\n${text}`;
    return { prompt, kind: "list", answer, guessBits: orderBits(names.length) };
  },
};
