/** The program-trace family's little language: integers, three operators, if, counted loops. */
export type Op = "+" | "-" | "*";
export type Cmp = ">" | "<" | ">=" | "<=" | "==" | "!=";

export type Expr =
  | { readonly kind: "num"; readonly value: number }
  | { readonly kind: "var"; readonly name: string }
  | { readonly kind: "bin"; readonly op: Op; readonly left: Expr; readonly right: Expr };

export interface Cond {
  readonly left: string;
  readonly cmp: Cmp;
  readonly right: Expr;
}

export type Stmt =
  | { readonly kind: "assign"; readonly target: string; readonly expr: Expr }
  | { readonly kind: "if"; readonly cond: Cond; readonly body: Stmt[]; readonly orElse: Stmt[] }
  | {
      readonly kind: "loop";
      /** Undefined: "repeat N times", the counter is not visible to the body. */
      readonly counter: string | undefined;
      readonly from: number;
      readonly to: number;
      readonly body: Stmt[];
    };

/** Values are kept small so a careful reader (or model) can trace them exactly. */
export const VALUE_LIMIT = 100_000;

export class OutOfRange extends Error {}

const COMPARE: Record<Cmp, (a: number, b: number) => boolean> = {
  ">": (a, b) => a > b,
  "<": (a, b) => a < b,
  ">=": (a, b) => a >= b,
  "<=": (a, b) => a <= b,
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
};

export function evaluate(expr: Expr, env: ReadonlyMap<string, number>): number {
  if (expr.kind === "num") return expr.value;
  if (expr.kind === "var") return env.get(expr.name) ?? 0;
  const a = evaluate(expr.left, env);
  const b = evaluate(expr.right, env);
  const value = expr.op === "+" ? a + b : expr.op === "-" ? a - b : a * b;
  if (Math.abs(value) > VALUE_LIMIT) throw new OutOfRange();
  return value;
}

/** Runs the statements, mutating `env`; throws OutOfRange when a value grows too large. */
export function run(stmts: readonly Stmt[], env: Map<string, number>): void {
  for (const stmt of stmts) {
    if (stmt.kind === "assign") env.set(stmt.target, evaluate(stmt.expr, env));
    else if (stmt.kind === "if") {
      const { left, cmp, right } = stmt.cond;
      const holds = COMPARE[cmp](env.get(left) ?? 0, evaluate(right, env));
      run(holds ? stmt.body : stmt.orElse, env);
    } else {
      for (let i = stmt.from; i <= stmt.to; i++) {
        if (stmt.counter !== undefined) env.set(stmt.counter, i);
        run(stmt.body, env);
      }
    }
  }
}
