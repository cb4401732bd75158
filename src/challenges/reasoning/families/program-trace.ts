import type { Rng } from "../prng.js";
import { type Cmp, type Expr, OutOfRange, run, type Stmt } from "../program/ast.js";
import { DIALECTS, render } from "../program/dialects.js";
import type { Family } from "./types.js";

/**
 * The guess bound of one trace (see Instance.guessBits). The final value spreads over
 * thousands of integers; 0, which programs collapse to most often (a counter from 0 multiplied
 * in), is never the answer, and the answer is never a number written in the program
 * (families/index.ts). The likeliest remaining value is right < 1% of the time at every level
 * (≥ 7 bits measured over 60,000 instances): 6 bits keeps a margin.
 */
const PART_GUESS_BITS = 6;

// Instance space: 3 dialects × 3–7 random statements (assignments over 6 operand shapes,
// ifs with 6 comparisons and optional else, counted or plain loops, nested to depth 2) with
// random constants and variable names: > 10^15 at difficulty 1, > 10^30 at difficulty 5.

const VARIABLES = ["a", "b", "c", "x", "y", "z", "m", "n", "p", "q", "acc", "total", "count"];
const COUNTERS = ["i", "j", "k"];
const CMPS: readonly Cmp[] = [">", "<", ">=", "<=", "==", "!="];

interface Scope {
  readonly vars: readonly string[];
  /** Loop counters visible here (readable, never assigned). */
  readonly counters: readonly string[];
  readonly depth: number;
}

const num = (value: number): Expr => ({ kind: "num", value });
const ref = (name: string): Expr => ({ kind: "var", name });

/** A constant or a readable variable other than `not` (so no `x < x`). */
function operand(rng: Rng, scope: Scope, not?: string): Expr {
  const readable = [...scope.vars, ...scope.counters].filter((v) => v !== not);
  return rng.chance(1, 2) ? num(rng.int(1, 9)) : ref(rng.pick(readable));
}

function expression(rng: Rng, scope: Scope, target: string): Expr {
  const op = rng.pick(["+", "+", "-", "*"] as const);
  const right = op === "*" && rng.chance(2, 3) ? num(rng.int(2, 3)) : operand(rng, scope);
  // At least one side reads a variable: `6 * 2` would be a constant, not a trace.
  const left = rng.chance(2, 3) || right.kind === "num" ? ref(target) : operand(rng, scope);
  const simple: Expr = { kind: "bin", op, left, right };
  if (rng.chance(2, 3)) return simple;
  const outer = rng.pick(["+", "-", "*"] as const);
  return rng.chance(1, 2)
    ? { kind: "bin", op: outer, left: simple, right: operand(rng, scope) }
    : { kind: "bin", op: outer, left: operand(rng, scope), right: simple };
}

function statements(rng: Rng, scope: Scope, count: number): Stmt[] {
  return Array.from({ length: count }, () => statement(rng, scope));
}

function statement(rng: Rng, scope: Scope): Stmt {
  const roll = scope.depth >= 2 ? 0 : rng.int(0, 3);
  const inner = { ...scope, depth: scope.depth + 1 };
  if (roll === 2) {
    const left = rng.pick(scope.vars);
    const cond = { left, cmp: rng.pick(CMPS), right: operand(rng, scope, left) };
    const body = statements(rng, inner, rng.int(1, 2));
    const orElse = rng.chance(1, 2) ? statements(rng, inner, rng.int(1, 2)) : [];
    return { kind: "if", cond, body, orElse };
  }
  if (roll === 3) {
    const counter = rng.chance(1, 2) ? COUNTERS[scope.depth] : undefined;
    const from = counter === undefined ? 1 : rng.int(0, 2);
    const body = statements(
      rng,
      { ...inner, counters: counter === undefined ? scope.counters : [...scope.counters, counter] },
      rng.int(1, 2),
    );
    return { kind: "loop", counter, from, to: from + rng.int(1, 3), body };
  }
  const target = rng.pick(scope.vars);
  return { kind: "assign", target, expr: expression(rng, scope, target) };
}

export const programTrace: Family = {
  generate(rng, difficulty) {
    for (;;) {
      const vars = rng.shuffle(VARIABLES).slice(0, 2 + Math.floor(difficulty / 2));
      const init: Stmt[] = vars.map((v) => ({
        kind: "assign",
        target: v,
        expr: num(rng.int(-20, 60)),
      }));
      const body = statements(rng, { vars, counters: [], depth: 0 }, 2 + difficulty);
      const env = new Map<string, number>();
      const asked = rng.pick(vars);
      const printed = rng.chance(1, 2);
      try {
        run([...init, ...body], env);
      } catch (error) {
        if (error instanceof OutOfRange) continue;
        throw error;
      }
      // The one value a guesser would pick: never the answer (see PART_GUESS_BITS).
      if ((env.get(asked) ?? 0) === 0) continue;
      const dialect = rng.pick(DIALECTS);
      const lines = render(dialect, [...init, ...body], rng, new Set());
      if (printed) lines.push(dialect.output(ref(asked)));
      const intro = rng.pick([
        "Trace this program.",
        "Consider the following code.",
        "Run this code in your head.",
      ]);
      const question = printed
        ? rng.pick(["What does it print?", "What number is output?", "What is printed at the end?"])
        : rng.pick([
            `What is the value of ${asked} at the end?`,
            `When it finishes, what does ${asked} hold?`,
          ]);
      return {
        prompt: `${intro}\n\n${lines.join("\n")}\n\n${question}`,
        kind: "integer",
        answer: String(env.get(asked) ?? 0),
        guessBits: PART_GUESS_BITS,
      };
    }
  },
};
