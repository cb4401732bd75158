import type { Rng } from "../prng.js";
import { count, distinct, name, word } from "../words.js";
import type { Family } from "./types.js";

/**
 * The guess bound of one story (see Instance.guessBits): the answer is never a number the
 * story writes (families/index.ts), and the likeliest remaining one is right about 1 time in
 * 90 at every level (≥ 6.5 bits measured over 60,000 instances): 6 bits.
 */
const PART_GUESS_BITS = 6;

// Instance space: 2–4 generated names and a generated item noun (≈ 10^8 each), starting
// amounts given directly or relative to another person (5 relations), then 4–8 events drawn
// from 7 kinds × 2–4 phrasings with random amounts, and 4 question shapes: > 10^30 per level.

type Holdings = Map<string, number>;

/** One sentence of the story and what it does to the holdings (undefined: not possible now). */
type Event = (rng: Rng, h: Holdings, people: readonly string[], item: string) => string | undefined;

const CONTAINERS = ["boxes", "crates", "bags", "packs"];

function two(rng: Rng, people: readonly string[]): [string, string] {
  return rng.shuffle(people).slice(0, 2) as [string, string];
}

const get = (h: Holdings, who: string) => h.get(who) ?? 0;

const EVENTS: readonly Event[] = [
  (rng, h, people, item) => {
    const [x, y] = two(rng, people);
    if (get(h, x) < 1) return undefined;
    const n = rng.int(1, Math.min(get(h, x), 20));
    h.set(x, get(h, x) - n).set(y, get(h, y) + n);
    const k = count(rng, n);
    return rng.pick([
      `${x} gives ${k} ${item} to ${y}.`,
      `${x} hands ${y} ${k} of them.`,
      `${y} receives ${k} ${item} from ${x}.`,
    ]);
  },
  (rng, h, people, item) => {
    const x = rng.pick(people);
    const [packs, size] = [rng.int(2, 6), rng.int(2, 12)];
    h.set(x, get(h, x) + packs * size);
    const [p, s, c] = [count(rng, packs), count(rng, size), rng.pick(CONTAINERS)];
    return rng.pick([
      `${x} buys ${p} ${c} of ${s} ${item} each.`,
      `${x} picks up ${p} ${c}, each holding ${s} ${item}.`,
    ]);
  },
  (rng, h, people, item) => {
    const x = rng.pick(people);
    const n = rng.int(1, 30);
    h.set(x, get(h, x) + n);
    return rng.pick([
      `${x} finds ${count(rng, n)} more.`,
      `${x} is given ${count(rng, n)} ${item} by a neighbour.`,
    ]);
  },
  (rng, h, people, item) => {
    const x = rng.pick(people);
    if (get(h, x) < 2) return undefined;
    const n = rng.int(1, get(h, x) - 1);
    h.set(x, get(h, x) - n);
    return rng.pick([
      `${x} loses ${count(rng, n)} ${item}.`,
      `${x} throws away ${count(rng, n)} of them.`,
    ]);
  },
  (rng, h, people, item) => {
    const x = rng.pick(people);
    if (get(h, x) > 500) return undefined;
    h.set(x, get(h, x) * 2);
    return rng.pick([`${x} doubles their ${item}.`, `The number of ${item} ${x} owns doubles.`]);
  },
  (rng, h, people, item) => {
    const [x, y] = two(rng, people);
    const half = get(h, x) / 2;
    if (half < 1 || !Number.isInteger(half)) return undefined;
    h.set(x, half).set(y, get(h, y) + half);
    return rng.pick([
      `${x} gives half of their ${item} to ${y}.`,
      `${x} hands ${y} exactly half of what they have.`,
    ]);
  },
  (rng, h, people, item) => {
    const [x, y] = two(rng, people);
    const diff = get(h, x) - get(h, y);
    if (diff <= 0 || diff % 2 !== 0) return undefined;
    h.set(x, get(h, x) - diff / 2).set(y, get(h, y) + diff / 2);
    return rng.pick([
      `${x} gives ${y} just enough ${item} that the two have the same number.`,
      `${x} shares with ${y} so that both end up with equal amounts.`,
    ]);
  },
];

/** How a person's starting amount is given: outright, or relative to someone before them. */
function start(
  rng: Rng,
  h: Holdings,
  who: string,
  before: readonly string[],
  item: string,
): string {
  const ref = before.length > 0 && rng.chance(2, 3) ? rng.pick(before) : undefined;
  const base = ref === undefined ? 0 : get(h, ref);
  const relations: [number, string][] = [];
  if (ref !== undefined) {
    const k = rng.int(1, 9);
    relations.push([base + k, `${who} has ${count(rng, k)} more ${item} than ${ref}.`]);
    if (base > k)
      relations.push([base - k, `${who} has ${count(rng, k)} fewer ${item} than ${ref}.`]);
    if (base > 0) relations.push([base * 2, `${who} has twice as many ${item} as ${ref}.`]);
    if (base > 1 && base % 2 === 0)
      relations.push([base / 2, `${who} has half as many ${item} as ${ref}.`]);
  }
  const n = rng.int(2, 40);
  const outright: [number, string][] = [
    [n, `${who} has ${count(rng, n)} ${item}.`],
    [n, `At first, ${who} owns ${count(rng, n)} ${item}.`],
  ];
  const [amount, text] = rng.pick(relations.length > 0 ? relations : outright);
  h.set(who, amount);
  return text;
}

function question(
  rng: Rng,
  h: Holdings,
  people: readonly string[],
  item: string,
): [string, number] {
  const [x, y] = two(rng, people);
  const options: [string, number][] = [
    [
      rng.pick([`How many ${item} does ${x} have now?`, `How many ${item} does ${x} end up with?`]),
      get(h, x),
    ],
    [`How many ${item} do ${x} and ${y} have together at the end?`, get(h, x) + get(h, y)],
    [`How many ${item} are there in total now?`, [...h.values()].reduce((a, b) => a + b, 0)],
  ];
  const [more, less] = get(h, x) > get(h, y) ? [x, y] : [y, x];
  if (get(h, more) !== get(h, less)) {
    options.push([
      `How many more ${item} does ${more} have than ${less}?`,
      get(h, more) - get(h, less),
    ]);
  }
  return rng.pick(options);
}

export const wordProblem: Family = {
  generate(rng, difficulty) {
    const people = distinct(rng, 2 + Math.floor(difficulty / 2), name);
    const item = `${word(rng)}s`;
    const holdings: Holdings = new Map();
    const lines = people.map((who, i) => start(rng, holdings, who, people.slice(0, i), item));
    while (lines.length < people.length + 3 + difficulty) {
      const line = rng.pick(EVENTS)(rng, holdings, people, item);
      if (line !== undefined) lines.push(line);
    }
    const [text, answer] = question(rng, holdings, people, item);
    return {
      prompt: `${lines.join(" ")}\n${text}`,
      kind: "integer",
      answer: String(answer),
      guessBits: PART_GUESS_BITS,
    };
  },
};
