import { capture, dispatch, group, readCount, readOrdinal } from "./text.js";

type Check = (order: readonly string[]) => boolean;

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

const N = "([A-Z][a-z]+)";
const ORD = "(first|second|third|fourth|fifth|sixth|seventh|eighth|last)";

/** Reads one clue sentence into a check over candidate orders. */
function clue(line: string, size: number): Check {
  const place = (word: string) => (word === "last" ? size : readOrdinal(word)) - 1;
  const at =
    (name: string, word: string, yes: boolean): Check =>
    (o) =>
      (o.indexOf(name) === place(word)) === yes;
  const order =
    (first: string, second: string, adjacent: boolean): Check =>
    (o) =>
      adjacent ? o.indexOf(second) === o.indexOf(first) + 1 : o.indexOf(first) < o.indexOf(second);
  const gap =
    (a: string, b: string, between: number): Check =>
    (o) =>
      Math.abs(o.indexOf(a) - o.indexOf(b)) === between + 1;
  const re = (source: string) => new RegExp(`^${source}\\.$`);
  return dispatch<Check>(line, [
    [re(`Nobody .+ between ${N} and ${N}`), (m) => gap(group(m, 1), group(m, 2), 0)],
    [
      re(`${N} and ${N} were next to each other in the order`),
      (m) => gap(group(m, 1), group(m, 2), 0),
    ],
    [
      re(`Exactly (\\w+) (?:person|people) .+ between ${N} and ${N}`),
      (m) => gap(group(m, 2), group(m, 3), readCount(group(m, 1))),
    ],
    [
      re(`${N} and ${N} were (\\w+) places apart`),
      (m) => gap(group(m, 1), group(m, 2), readCount(group(m, 3)) - 1),
    ],
    [re(`${N} was not the ${ORD} to .+`), (m) => at(group(m, 1), group(m, 2), false)],
    [re(`It was not ${N} who .+ ${ORD}`), (m) => at(group(m, 1), group(m, 2), false)],
    [re(`${N} was the ${ORD} to .+`), (m) => at(group(m, 1), group(m, 2), true)],
    [
      re(`${N} .+ (?:directly|immediately|right) before ${N}`),
      (m) => order(group(m, 1), group(m, 2), true),
    ],
    [
      re(`${N} .+ (?:directly|immediately|right) after ${N}`),
      (m) => order(group(m, 2), group(m, 1), true),
    ],
    [re(`${N} .+ (?:before|earlier than) ${N}`), (m) => order(group(m, 1), group(m, 2), false)],
    [re(`${N} .+ (?:after|later than) ${N}`), (m) => order(group(m, 2), group(m, 1), false)],
    [re(`${N} .+ ${ORD}`), (m) => at(group(m, 1), group(m, 2), true)],
  ]);
}

export function solveOrderingPuzzle(prompt: string): string {
  const lines = prompt.split("\n");
  const names = capture(/^((?:[A-Z][a-z]+, )*[A-Z][a-z]+ and [A-Z][a-z]+) /, lines[0] ?? "").split(
    /, | and /,
  );
  const checks = lines.slice(1, -1).map((line) => clue(line, names.length));
  const solutions = permutations(names).filter((o) => checks.every((check) => check(o)));
  const [order] = solutions;
  if (solutions.length !== 1 || order === undefined)
    throw new Error(`${solutions.length} solutions`);
  return order.join(", ");
}
