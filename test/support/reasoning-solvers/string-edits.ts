import { capture, dispatch, group, readOrdinal } from "./text.js";

const POS = "(the last letter|the (\\w+) letter|the letter at position (\\d+))";

/** Reads a position phrase, 1-based, for the current string length. */
function position(match: RegExpExecArray, at: number, length: number): number {
  if (group(match, at) === "the last letter") return length;
  const digits = match[at + 2];
  return digits !== undefined ? Number(digits) : readOrdinal(group(match, at + 1));
}

export function solveStringEdits(prompt: string): string {
  const lines = prompt.split("\n");
  let s = capture(/"([a-z]+)"/, lines[0] ?? "");
  // Numbered steps come one a line; prose steps share one line as sentences.
  const steps = lines
    .slice(1, -1)
    .flatMap((line) => (/^(\d+\.|Step|\()/.test(line) ? [line] : line.split(/(?<=\.)\s+/)))
    .map((step) =>
      step
        .replace(/^(\d+\.|Step \d+:|\(\d+\))\s*/, "")
        .replace(/^(First,|Then|Next,|After that,|Now|Finally,)\s+/, "")
        .replace(/\.$/, "")
        .replace(/^./, (c) => c.toLowerCase()),
    );
  for (const step of steps) {
    const len = s.length;
    dispatch(step, [
      [
        /^(reverse it|write it backwards|reverse the order of its letters)$/,
        () => {
          s = [...s].reverse().join("");
        },
      ],
      [
        new RegExp(`^(?:delete|remove|drop) ${POS}$`),
        (m) => {
          const k = position(m, 1, len);
          s = s.slice(0, k - 1) + s.slice(k);
        },
      ],
      [
        new RegExp(`^(?:insert|put) "(\\w)" (?:right )?after ${POS}$`),
        (m) => {
          const k = position(m, 2, len);
          s = s.slice(0, k) + group(m, 1) + s.slice(k);
        },
      ],
      [
        /^(?:append "(\w)"|add "(\w)" to the end)$/,
        (m) => {
          s += m[1] ?? m[2];
        },
      ],
      [
        /^(?:prepend "(\w)"|put "(\w)" at the front)$/,
        (m) => {
          s = (m[1] ?? m[2]) + s;
        },
      ],
      [
        /^(?:replace every|change each|turn all) "(\w)"(?: letters)? (?:with|into) "(\w)"$/,
        (m) => {
          s = s.replaceAll(group(m, 1), group(m, 2));
        },
      ],
      [
        /^(?:remove every|delete all occurrences of) "(\w)"$/,
        (m) => {
          s = s.replaceAll(group(m, 1), "");
        },
      ],
      [
        /^(?:swap the (\d+)\w\w and (\d+)\w\w letters|exchange the letters at positions (\d+) and (\d+))$/,
        (m) => {
          const [i, j] = [Number(m[1] ?? m[3]) - 1, Number(m[2] ?? m[4]) - 1];
          const chars = [...s];
          [chars[i], chars[j]] = [chars[j] ?? "", chars[i] ?? ""];
          s = chars.join("");
        },
      ],
      [
        /^(?:move the first (\d+) letters to the end|rotate it left by (\d+))$/,
        (m) => {
          const k = Number(m[1] ?? m[2]);
          s = s.slice(k) + s.slice(0, k);
        },
      ],
      [
        /^(?:move the last (\d+) letters to the front|rotate it right by (\d+))$/,
        (m) => {
          const k = Number(m[1] ?? m[2]);
          s = s.slice(len - k) + s.slice(0, len - k);
        },
      ],
      [
        /^(?:keep only|cut it down to) (?:the|its) (first|last) (\d+) letters$/,
        (m) => {
          const k = Number(m[2]);
          s = m[1] === "first" ? s.slice(0, k) : s.slice(len - k);
        },
      ],
      [
        new RegExp(`^(?:double ${POS}|write ${POS} twice)$`),
        (m) => {
          const k = m[1] !== undefined ? position(m, 1, len) : position(m, 4, len);
          s = s.slice(0, k) + s.slice(k - 1);
        },
      ],
    ]);
  }
  return s;
}
