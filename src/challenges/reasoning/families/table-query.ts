import type { Rng } from "../prng.js";
import { distinct, name, word } from "../words.js";
import type { Family } from "./types.js";

/**
 * The guess bound of a numeric answer (see Instance.guessBits): a sum or a gap of values
 * 1–99 that is never a number the table writes (families/index.ts); the likeliest is right
 * about 1 time in 95 (≥ 6.5 bits, measured by guessing.test.ts): 6 bits. A name answer is
 * one of the table's rows, so its bound is exactly log2(rows).
 */
const NUMBER_GUESS_BITS = 6;

// Instance space: 6–14 rows of generated names, 2–3 generated category values and random
// numbers (> 10^20 tables alone), 4 table formats with shuffled columns, 5 aggregates × 2
// phrasings, 0–2 filters from 4 comparisons × 3 scope phrasings: > 10^25 per level.

type Row = Record<string, string | number>;
type Cmp = "is" | "is greater than" | "is less than" | "is at least";

interface Condition {
  readonly column: string;
  readonly cmp: Cmp;
  readonly value: string | number;
}

interface Table {
  readonly key: string;
  readonly category: string;
  readonly numbers: readonly string[];
  readonly rows: readonly Row[];
}

const TEST: Record<Cmp, (a: string | number, b: string | number) => boolean> = {
  is: (a, b) => a === b,
  "is greater than": (a, b) => a > b,
  "is less than": (a, b) => a < b,
  "is at least": (a, b) => a >= b,
};

function makeTable(rng: Rng, difficulty: number): Table {
  const key = rng.pick(["name", "item", "code"]);
  const category = rng.pick(["category", "color", "region", "team", "zone"]);
  const numbers = rng
    .shuffle(["price", "quantity", "weight", "score", "stock", "rating"])
    .slice(0, 2);
  const values = distinct(rng, rng.int(2, 3), word);
  const rows = distinct(rng, 4 + 2 * difficulty, name).map((id) => ({
    [key]: id,
    [category]: rng.pick(values),
    ...Object.fromEntries(numbers.map((n) => [n, rng.int(1, 99)])),
  }));
  return { key, category, numbers, rows };
}

function formatTable(rng: Rng, table: Table): string {
  const columns = rng.shuffle([table.key, table.category, ...table.numbers]);
  const cells = (row: Row) => columns.map((c) => String(row[c]));
  const style = rng.int(0, 3);
  if (style === 0) {
    const line = (items: readonly string[]) => `| ${items.join(" | ")} |`;
    return [
      line(columns),
      line(columns.map(() => "---")),
      ...table.rows.map((r) => line(cells(r))),
    ].join("\n");
  }
  if (style === 1)
    return [columns.join(","), ...table.rows.map((r) => cells(r).join(","))].join("\n");
  if (style === 2) {
    const json = table.rows.map(
      (r) => `  ${JSON.stringify(Object.fromEntries(columns.map((c) => [c, r[c]])))}`,
    );
    return `[\n${json.join(",\n")}\n]`;
  }
  return table.rows.map((r) => columns.map((c) => `${c}=${r[c]}`).join("; ")).join("\n");
}

function condition(rng: Rng, table: Table): Condition {
  const row = rng.pick(table.rows);
  if (rng.chance(1, 2))
    return { column: table.category, cmp: "is", value: row[table.category] ?? "" };
  const column = rng.pick(table.numbers);
  return {
    column,
    cmp: rng.pick(["is greater than", "is less than", "is at least"]),
    value: row[column] ?? 0,
  };
}

/** An aggregate over the selected rows: its wording and its value (undefined: ill-posed). */
function aggregate(rng: Rng, table: Table, rows: readonly Row[]): [string, string | undefined] {
  const column = rng.pick(table.numbers);
  const values = rows.map((r) => Number(r[column]));
  const extreme = (pick: number) => {
    const hits = rows.filter((r) => r[column] === pick);
    return hits.length === 1 ? String(hits[0]?.[table.key]).toLowerCase() : undefined;
  };
  const options: [string, string | undefined][] = [
    [
      rng.pick([`What is the total ${column}`, `What is the sum of the ${column} values`]),
      String(values.reduce((a, b) => a + b, 0)),
    ],
    [`Which ${table.key} has the highest ${column}`, extreme(Math.max(...values))],
    [`Which ${table.key} has the lowest ${column}`, extreme(Math.min(...values))],
    [
      `What is the gap between the largest and smallest ${column}`,
      String(Math.max(...values) - Math.min(...values)),
    ],
  ];
  return rng.pick(options);
}

export const tableQuery: Family = {
  generate(rng, difficulty) {
    const table = makeTable(rng, difficulty);
    for (;;) {
      const conditions = Array.from({ length: rng.int(difficulty > 2 ? 1 : 0, 2) }, () =>
        condition(rng, table),
      );
      const rows = table.rows.filter((r) =>
        conditions.every((c) => TEST[c.cmp](r[c.column] ?? "", c.value)),
      );
      if (rows.length < 2 || new Set(conditions.map((c) => c.column)).size < conditions.length)
        continue;
      const [ask, answer] = aggregate(rng, table, rows);
      if (answer === undefined) continue;
      const scope = rng.pick([
        "among the rows where",
        "for the rows where",
        "counting only rows where",
      ]);
      const filter = conditions.map((c) => `${c.column} ${c.cmp} ${c.value}`).join(" and ");
      const question =
        conditions.length === 0 ? `${ask} in the whole table?` : `${ask} ${scope} ${filter}?`;
      const intro = rng.pick([
        "Here is a small table.",
        "Read the data below.",
        "Consider these records.",
      ]);
      const prompt = `${intro}\n\n${formatTable(rng, table)}\n\n${question}`;
      return /^\d+$/.test(answer)
        ? { prompt, kind: "integer", answer, guessBits: NUMBER_GUESS_BITS }
        : { prompt, kind: "name", answer, guessBits: Math.log2(table.rows.length) };
    }
  },
};
