import { COUNT, dispatch, group, readCount, sentences } from "./text.js";

const P = "([A-Z][a-z]+)";

export function solveWordProblem(prompt: string): string {
  const [story = "", question = ""] = prompt.split("\n");
  const h = new Map<string, number>();
  const get = (who: string) => h.get(who) ?? 0;
  const add = (who: string, n: number) => h.set(who, get(who) + n);
  const move = (from: string, to: string, n: number) => add(from, -n).set(to, get(to) + n);
  const re = (source: string) => new RegExp(`^${source}\\.$`);
  const n = (m: RegExpExecArray, i: number) => readCount(group(m, i));
  for (const sentence of sentences(story)) {
    dispatch(sentence, [
      [re(`(?:At first, )?${P} (?:has|owns) ${COUNT} \\w+`), (m) => h.set(group(m, 1), n(m, 2))],
      [
        re(`${P} has ${COUNT} (more|fewer) \\w+ than ${P}`),
        (m) => h.set(group(m, 1), get(group(m, 4)) + (m[3] === "more" ? 1 : -1) * n(m, 2)),
      ],
      [
        re(`${P} has (twice|half) as many \\w+ as ${P}`),
        (m) => h.set(group(m, 1), m[2] === "twice" ? get(group(m, 3)) * 2 : get(group(m, 3)) / 2),
      ],
      [re(`${P} gives ${COUNT} \\w+ to ${P}`), (m) => move(group(m, 1), group(m, 3), n(m, 2))],
      [re(`${P} hands ${P} ${COUNT} of them`), (m) => move(group(m, 1), group(m, 2), n(m, 3))],
      [re(`${P} receives ${COUNT} \\w+ from ${P}`), (m) => move(group(m, 3), group(m, 1), n(m, 2))],
      [
        re(`${P} (?:buys|picks up) ${COUNT} \\w+(?: of|, each holding) ${COUNT} \\w+(?: each)?`),
        (m) => add(group(m, 1), n(m, 2) * n(m, 3)),
      ],
      [
        re(`${P} (?:finds ${COUNT} more|is given ${COUNT} \\w+ by a neighbour)`),
        (m) => add(group(m, 1), readCount(m[2] ?? group(m, 3))),
      ],
      [
        re(`${P} (?:loses ${COUNT} \\w+|throws away ${COUNT} of them)`),
        (m) => add(group(m, 1), -readCount(m[2] ?? group(m, 3))),
      ],
      [
        re(`(?:${P} doubles their \\w+|The number of \\w+ ${P} owns doubles)`),
        (m) => {
          const who = m[1] ?? group(m, 2);
          h.set(who, get(who) * 2);
        },
      ],
      [
        re(`${P} (?:gives half of their \\w+ to|hands) ${P}(?: exactly half of what they have)?`),
        (m) => move(group(m, 1), group(m, 2), get(group(m, 1)) / 2),
      ],
      [
        re(`${P} (?:gives|shares with) ${P} (?:just enough|so that both).*`),
        (m) => move(group(m, 1), group(m, 2), (get(group(m, 1)) - get(group(m, 2))) / 2),
      ],
    ]);
  }
  let answer = 0;
  dispatch(question, [
    [
      new RegExp(`does ${P} (?:have now|end up with)\\?$`),
      (m) => {
        answer = get(group(m, 1));
      },
    ],
    [
      new RegExp(`do ${P} and ${P} have together`),
      (m) => {
        answer = get(group(m, 1)) + get(group(m, 2));
      },
    ],
    [
      /in total now\?$/,
      () => {
        answer = [...h.values()].reduce((a, b) => a + b, 0);
      },
    ],
    [
      new RegExp(`How many more \\w+ does ${P} have than ${P}\\?$`),
      (m) => {
        answer = get(group(m, 1)) - get(group(m, 2));
      },
    ],
  ]);
  return String(answer);
}
