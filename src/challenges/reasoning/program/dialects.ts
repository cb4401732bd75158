import type { Rng } from "../prng.js";
import type { Cmp, Cond, Expr, Op, Stmt } from "./ast.js";

/** How one surface syntax writes the statements of the little language. */
interface Dialect {
  readonly indent: string;
  assign(target: string, expr: Expr, firstTime: boolean, rng: Rng): string;
  ifOpen(cond: Cond): string;
  readonly elseLine: string;
  /** The line closing a block, or undefined when indentation closes it (Python). */
  close(kind: "if" | "loop"): string | undefined;
  loopOpen(stmt: Extract<Stmt, { kind: "loop" }>): string;
  output(expr: Expr): string;
}

const PRECEDENCE: Record<Op, number> = { "+": 1, "-": 1, "*": 2 };

export function exprText(expr: Expr): string {
  if (expr.kind === "num") return String(expr.value);
  if (expr.kind === "var") return expr.name;
  const wrap = (child: Expr, right: boolean) => {
    if (child.kind !== "bin") return exprText(child);
    const lower = PRECEDENCE[child.op] < PRECEDENCE[expr.op];
    const sameRight = right && PRECEDENCE[child.op] === PRECEDENCE[expr.op] && expr.op !== "*";
    return lower || sameRight ? `(${exprText(child)})` : exprText(child);
  };
  return `${wrap(expr.left, false)} ${expr.op} ${wrap(expr.right, true)}`;
}

/** `x = x + e` with a simple `e`, which compound forms can express. */
function selfUpdate(target: string, expr: Expr): { op: Op; operand: Expr } | undefined {
  if (expr.kind !== "bin" || expr.left.kind !== "var" || expr.left.name !== target)
    return undefined;
  return expr.right.kind === "bin" ? undefined : { op: expr.op, operand: expr.right };
}

const compound = (target: string, expr: Expr, rng: Rng): string | undefined => {
  const update = selfUpdate(target, expr);
  if (update === undefined || rng.chance(1, 3)) return undefined;
  return `${target} ${update.op}= ${exprText(update.operand)}`;
};

const CMP_WORDS: Record<Cmp, string> = {
  ">": "is greater than",
  "<": "is less than",
  ">=": "is at least",
  "<=": "is at most",
  "==": "equals",
  "!=": "is not",
};

const python: Dialect = {
  indent: "    ",
  assign: (target, expr, _first, rng) =>
    compound(target, expr, rng) ?? `${target} = ${exprText(expr)}`,
  ifOpen: (c) => `if ${c.left} ${c.cmp} ${exprText(c.right)}:`,
  elseLine: "else:",
  close: () => undefined,
  loopOpen: (s) =>
    s.counter === undefined
      ? `for _ in range(${s.to - s.from + 1}):`
      : `for ${s.counter} in range(${s.from}, ${s.to + 1}):`,
  output: (e) => `print(${exprText(e)})`,
};

const cLike: Dialect = {
  indent: "  ",
  assign(target, expr, firstTime, rng) {
    if (firstTime) return `let ${target} = ${exprText(expr)};`;
    const update = selfUpdate(target, expr);
    const one = update?.operand.kind === "num" && update.operand.value === 1 && update.op !== "*";
    if (one && rng.chance(1, 2)) return `${target}${update?.op}${update?.op};`;
    return `${compound(target, expr, rng) ?? `${target} = ${exprText(expr)}`};`;
  },
  ifOpen: (c) => `if (${c.left} ${c.cmp} ${exprText(c.right)}) {`,
  elseLine: "} else {",
  close: () => "}",
  loopOpen: (s) => {
    const i = s.counter ?? "t";
    return s.counter === undefined
      ? `for (let ${i} = 0; ${i} < ${s.to - s.from + 1}; ${i}++) {`
      : `for (let ${i} = ${s.from}; ${i} <= ${s.to}; ${i}++) {`;
  },
  output: (e) => `console.log(${exprText(e)});`,
};

const PSEUDO_UPDATES: Record<Op, (target: string, operand: string) => string> = {
  "+": (t, o) => `add ${o} to ${t}`,
  "-": (t, o) => `subtract ${o} from ${t}`,
  "*": (t, o) => `multiply ${t} by ${o}`,
};

const pseudo: Dialect = {
  indent: "  ",
  assign(target, expr, _first, rng) {
    const update = selfUpdate(target, expr);
    if (update === undefined || rng.chance(1, 3)) return `set ${target} to ${exprText(expr)}`;
    return PSEUDO_UPDATES[update.op](target, exprText(update.operand));
  },
  ifOpen: (c) => `if ${c.left} ${CMP_WORDS[c.cmp]} ${exprText(c.right)} then`,
  elseLine: "otherwise",
  close: (kind) => (kind === "if" ? "end if" : "end loop"),
  loopOpen: (s) =>
    s.counter === undefined
      ? `repeat ${s.to - s.from + 1} times`
      : `for ${s.counter} from ${s.from} to ${s.to} do`,
  output: (e) => `output ${exprText(e)}`,
};

export const DIALECTS: readonly Dialect[] = [python, cLike, pseudo];

/** Renders statements as indented lines; `declared` tracks first assignments (for `let`). */
export function render(
  dialect: Dialect,
  stmts: readonly Stmt[],
  rng: Rng,
  declared: Set<string>,
  depth = 0,
): string[] {
  const pad = dialect.indent.repeat(depth);
  const lines: string[] = [];
  const block = (body: readonly Stmt[]) => render(dialect, body, rng, declared, depth + 1);
  for (const stmt of stmts) {
    if (stmt.kind === "assign") {
      const first = !declared.has(stmt.target);
      declared.add(stmt.target);
      lines.push(pad + dialect.assign(stmt.target, stmt.expr, first, rng));
      continue;
    }
    const open = stmt.kind === "if" ? dialect.ifOpen(stmt.cond) : dialect.loopOpen(stmt);
    lines.push(pad + open, ...block(stmt.body));
    if (stmt.kind === "if" && stmt.orElse.length > 0) {
      lines.push(pad + dialect.elseLine, ...block(stmt.orElse));
    }
    const close = dialect.close(stmt.kind);
    if (close !== undefined) lines.push(pad + close);
  }
  return lines;
}
