import { capture, group } from "./text.js";

type Row = Record<string, string | number>;

/** Markdown, CSV, a JSON array, or `key=value; …` lines. */
function readTable(block: string): Row[] {
  const lines = block.split("\n");
  const typed = (value: string) => (/^-?\d+$/.test(value) ? Number(value) : value);
  if (block.startsWith("[")) return JSON.parse(block) as Row[];
  if (block.includes("=")) {
    return lines.map((line) =>
      Object.fromEntries(
        line
          .split("; ")
          .map((pair) => pair.split("=") as [string, string])
          .map(([k, v]) => [k, typed(v)]),
      ),
    );
  }
  const markdown = block.startsWith("|");
  const cells = (line: string) =>
    markdown
      ? line
          .slice(1, -1)
          .split("|")
          .map((c) => c.trim())
      : line.split(",");
  const [header = "", ...rows] = markdown ? lines.filter((_, i) => i !== 1) : lines;
  const columns = cells(header);
  return rows.map((line) => Object.fromEntries(cells(line).map((c, i) => [columns[i], typed(c)])));
}

const CMP: Record<string, (a: string | number, b: string | number) => boolean> = {
  is: (a, b) => a === b,
  "is greater than": (a, b) => a > b,
  "is less than": (a, b) => a < b,
  "is at least": (a, b) => a >= b,
};

export function solveTableQuery(prompt: string): string {
  const [, block = "", question = ""] = prompt.split("\n\n");
  const [ask = "", filter = ""] = question
    .replace(/\?$/, "")
    .split(
      / in the whole table| among the rows where | for the rows where | counting only rows where /,
    );
  const rows = readTable(block).filter((row) =>
    filter === ""
      ? true
      : filter.split(" and ").every((condition) => {
          const m = /^(\w+) (is greater than|is less than|is at least|is) (\S+)$/.exec(condition);
          if (!m) throw new Error(`unreadable condition: ${condition}`);
          const value = /^-?\d+$/.test(group(m, 3)) ? Number(m[3]) : group(m, 3);
          return (CMP[group(m, 2)] ?? (() => false))(row[group(m, 1)] ?? "", value);
        }),
  );
  if (/^How many (rows|entries)/.test(ask)) return String(rows.length);
  const column = capture(/(\w+)(?: values)?$/, ask);
  const values = rows.map((row) => Number(row[column]));
  if (/total|sum/.test(ask)) return String(values.reduce((a, b) => a + b, 0));
  if (/gap between/.test(ask)) return String(Math.max(...values) - Math.min(...values));
  const key = capture(/^Which (\w+) has/, ask);
  const target = /highest/.test(ask) ? Math.max(...values) : Math.min(...values);
  return String(rows.find((row) => row[column] === target)?.[key]);
}
