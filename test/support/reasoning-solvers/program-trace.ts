import { dispatch, group } from "./text.js";

/** One line of any of the three dialects, read into a common instruction. */
type Instruction =
  | { op: "assign"; target: string; expr: string }
  | { op: "if"; cond: string }
  | { op: "else" }
  | { op: "end" }
  | { op: "loop"; counter: string | undefined; from: number; to: number }
  | { op: "output"; expr: string };

type Node =
  | { op: "assign"; target: string; expr: string }
  | { op: "if"; cond: string; body: Node[]; orElse: Node[] }
  | { op: "loop"; counter: string | undefined; from: number; to: number; body: Node[] }
  | { op: "output"; expr: string };

const CMP_WORDS: [RegExp, string][] = [
  [/ is greater than /, " > "],
  [/ is less than /, " < "],
  [/ is at least /, " >= "],
  [/ is at most /, " <= "],
  [/ equals /, " == "],
  [/ is not /, " != "],
];

function read(line: string): Instruction {
  const update = (target: string, op: string, operand: string): Instruction => ({
    op: "assign",
    target,
    expr: `${target} ${op} (${operand})`,
  });
  return dispatch<Instruction>(line, [
    [
      /^for _ in range\((\d+)\):$/,
      (m) => ({ op: "loop", counter: undefined, from: 1, to: Number(m[1]) }),
    ],
    [
      /^for (\w+) in range\((-?\d+), (-?\d+)\):$/,
      (m) => ({ op: "loop", counter: m[1], from: Number(m[2]), to: Number(m[3]) - 1 }),
    ],
    [
      /^for \(let (\w+) = (-?\d+); \1 (<=?) (-?\d+); \1\+\+\) \{$/,
      (m) => ({
        op: "loop",
        counter: m[1],
        from: Number(m[2]),
        to: Number(m[4]) - (m[3] === "<" ? 1 : 0),
      }),
    ],
    [
      /^repeat (\d+) times$/,
      (m) => ({ op: "loop", counter: undefined, from: 1, to: Number(m[1]) }),
    ],
    [
      /^for (\w+) from (-?\d+) to (-?\d+) do$/,
      (m) => ({ op: "loop", counter: m[1], from: Number(m[2]), to: Number(m[3]) }),
    ],
    [/^if \((.+)\) \{$/, (m) => ({ op: "if", cond: group(m, 1) })],
    [
      /^if (.+) then$/,
      (m) => ({
        op: "if",
        cond: CMP_WORDS.reduce((c, [w, s]) => c.replace(w, s), ` ${group(m, 1)} `),
      }),
    ],
    [/^if (.+):$/, (m) => ({ op: "if", cond: group(m, 1) })],
    [/^(else:|\} else \{|otherwise)$/, () => ({ op: "else" })],
    [/^(\}|end if|end loop)$/, () => ({ op: "end" })],
    [
      /^(?:print\((.+)\)|console\.log\((.+)\);|output (.+))$/,
      (m) => ({ op: "output", expr: m[1] ?? m[2] ?? group(m, 3) }),
    ],
    [/^(\w+)(\+\+|--);$/, (m) => update(group(m, 1), group(m, 2).charAt(0), "1")],
    [/^(\w+) ([-+*])= (.+?);?$/, (m) => update(group(m, 1), group(m, 2), group(m, 3))],
    [
      /^(?:let )?(\w+) = (.+?);?$/,
      (m) => ({ op: "assign", target: group(m, 1), expr: group(m, 2) }),
    ],
    [/^set (\w+) to (.+)$/, (m) => ({ op: "assign", target: group(m, 1), expr: group(m, 2) })],
    [/^add (.+) to (\w+)$/, (m) => update(group(m, 2), "+", group(m, 1))],
    [/^subtract (.+) from (\w+)$/, (m) => update(group(m, 2), "-", group(m, 1))],
    [/^multiply (\w+) by (.+)$/, (m) => update(group(m, 1), "*", group(m, 2))],
  ]);
}

/**
 * Python closes blocks by indentation: each dedent to or past an open header ends its block,
 * except that `else:` at an `if`'s own indent continues that `if`.
 */
function instructions(lines: readonly string[]): Instruction[] {
  const python = lines.some((line) => line.trimEnd().endsWith(":"));
  const out: Instruction[] = [];
  const open: { indent: number; op: string }[] = [];
  for (const line of lines) {
    const indent = line.length - line.trimStart().length;
    const instruction = read(line.trim());
    while (python && open.length > 0 && indent <= (open.at(-1)?.indent ?? 0)) {
      const header = open.pop();
      if (instruction.op === "else" && header?.op === "if" && header.indent === indent) break;
      out.push({ op: "end" });
    }
    if (python && ["if", "loop", "else"].includes(instruction.op))
      open.push({ indent, op: instruction.op });
    out.push(instruction);
  }
  for (const _ of open) out.push({ op: "end" });
  return out;
}

/** Builds the block tree from the instruction stream, up to an `end` or `else`. */
function block(stream: Instruction[]): Node[] {
  const nodes: Node[] = [];
  for (;;) {
    const next = stream[0];
    if (next === undefined || next.op === "end" || next.op === "else") return nodes;
    stream.shift();
    if (next.op === "if") {
      const body = block(stream);
      const hasElse = stream[0]?.op === "else";
      if (hasElse) stream.shift();
      const orElse = hasElse ? block(stream) : [];
      stream.shift();
      nodes.push({ op: "if", cond: next.cond, body, orElse });
    } else if (next.op === "loop") {
      const body = block(stream);
      stream.shift();
      nodes.push({ ...next, body });
    } else nodes.push(next);
  }
}

/** Integer arithmetic with + - * and parentheses, usual precedence. */
function evaluate(expr: string, env: ReadonlyMap<string, number>): number {
  const tokens = expr.match(/\d+|[A-Za-z_]\w*|[-+*()]/g) ?? [];
  let i = 0;
  const factor = (): number => {
    const token = tokens[i++];
    if (token === "(") {
      const value = sum();
      i++;
      return value;
    }
    if (token === "-") return -factor();
    if (token !== undefined && /^\d+$/.test(token)) return Number(token);
    if (token === undefined || !env.has(token)) throw new Error(`unknown name ${token}`);
    return env.get(token) ?? 0;
  };
  const product = (): number => {
    let value = factor();
    while (tokens[i] === "*") {
      i++;
      value *= factor();
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (tokens[i] === "+" || tokens[i] === "-") {
      const op = tokens[i++];
      value = op === "+" ? value + product() : value - product();
    }
    return value;
  };
  return sum();
}

function test(cond: string, env: ReadonlyMap<string, number>): boolean {
  const match = /^\s*(.+?) (>=|<=|==|!=|>|<) (.+?)\s*$/.exec(cond);
  if (!match) throw new Error(`unreadable condition: ${cond}`);
  const [a, b] = [evaluate(group(match, 1), env), evaluate(group(match, 3), env)];
  const cmp = match[2];
  return cmp === ">"
    ? a > b
    : cmp === "<"
      ? a < b
      : cmp === ">="
        ? a >= b
        : cmp === "<="
          ? a <= b
          : cmp === "=="
            ? a === b
            : a !== b;
}

function execute(nodes: readonly Node[], env: Map<string, number>, printed: number[]): void {
  for (const node of nodes) {
    if (node.op === "assign") env.set(node.target, evaluate(node.expr, env));
    else if (node.op === "output") printed.push(evaluate(node.expr, env));
    else if (node.op === "if")
      execute(test(node.cond, env) ? node.body : node.orElse, env, printed);
    else {
      for (let i = node.from; i <= node.to; i++) {
        if (node.counter !== undefined) env.set(node.counter, i);
        execute(node.body, env, printed);
      }
    }
  }
}

export function solveProgramTrace(prompt: string): string {
  const [, code = "", question = ""] = prompt.split("\n\n");
  const env = new Map<string, number>();
  const printed: number[] = [];
  execute(block(instructions(code.split("\n"))), env, printed);
  const asked = /value of (\w+) at the end|what does (\w+) hold/.exec(question);
  const value = asked ? env.get(asked[1] ?? group(asked, 2)) : printed.at(-1);
  if (value === undefined) throw new Error("no answer found");
  return String(value);
}
