import { capture, dispatch, group } from "./text.js";

type Test = (c: string, i: number, word: string) => boolean;
type Act = (score: number, c: string) => number;

function condition(text: string): Test {
  return dispatch<Test>(text, [
    [/^(?:is )?a vowel$/, () => (c) => "aeiou".includes(c)],
    [/^(?:is one of|any of) (.+)$/, (m) => (c) => group(m, 1).split(", ").includes(c)],
    [
      /^(?:comes before (\w) in the alphabet|a letter earlier than (\w))$/,
      (m) => (c) => c < (m[1] ?? group(m, 2)),
    ],
    [
      /^(?:comes after (\w) in the alphabet|a letter later than (\w))$/,
      (m) => (c) => c > (m[1] ?? group(m, 2)),
    ],
    [
      /^(?:repeats the letter before it|a repeat of the previous letter)$/,
      () => (c, i, w) => i > 0 && w[i - 1] === c,
    ],
    [/\b(odd|even) position\b/, (m) => (_c, i) => (i + 1) % 2 === (m[1] === "odd" ? 1 : 0)],
  ]);
}

function action(text: string): Act {
  return dispatch<Act>(text, [
    [/^add the letter's place in the alphabet/, () => (s, c) => s + c.charCodeAt(0) - 96],
    [/^(?:add|increase the score by) (\d+)$/, (m) => (s) => s + Number(m[1])],
    [/^(?:subtract|take away) (\d+)$/, (m) => (s) => s - Number(m[1])],
    [/^multiply (?:the score )?by (\d+)$/, (m) => (s) => s * Number(m[1])],
    [/^double (?:the score|it)$/, () => (s) => s * 2],
    [/^(?:leave the score unchanged|do nothing)$/, () => (s) => s],
  ]);
}

export function solveScoringSpec(prompt: string): string {
  const word = capture(/"([a-z]+)"/, prompt);
  let score = Number(capture(/(?:Start at|The score begins at) (-?\d+)\./, prompt));
  const rules: [Test, Act][] = [];
  let fallback: Act = (s) => s;
  let bonus = 0;
  for (const line of prompt.split("\n")) {
    const rule =
      /^(?:\d+\. If the letter (.+), (.+)|- For (.+): (.+)|Rule \d+: when the letter (.+), (.+))\.$/.exec(
        line,
      );
    if (rule) {
      const [c, a] = rule.slice(1).filter((part) => part !== undefined) as [string, string];
      rules.push([condition(c), action(a)]);
    }
    const other = /^(?:Otherwise, |Any other letter: )(.+)\.$/.exec(line);
    if (other) fallback = action(group(other, 1));
    const odd = /if the score is odd, add (\d+)|an odd score gets (\d+) added/.exec(line);
    if (odd) bonus = Number(odd[1] ?? odd[2]);
  }
  [...word].forEach((c, i) => {
    const rule = rules.find(([test]) => test(c, i, word));
    score = (rule?.[1] ?? fallback)(score, c);
  });
  if (score % 2 !== 0) score += bonus;
  return String(score);
}
