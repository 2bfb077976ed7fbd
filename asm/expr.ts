// SPDX-License-Identifier: MIT
//
// GNU as expressions: the syntax, GNU as's operator precedences (which are
// not C's), and 64-bit two's-complement arithmetic.
//
// Precedence, highest first (GNU as manual, "Infix Operators"):
//   unary  - ~ ! +
//   * / % << >>
//   | & ^ !          (binary ! is "or not")
//   + - == != <> < > <= >=
//   && ||
// Comparisons give -1 when true and 0 when false; && and || give 1 or 0.

import { AsmError } from "./backend.ts";

export type BinaryOp =
  | "*" | "/" | "%" | "<<" | ">>"
  | "|" | "&" | "^" | "!"
  | "+" | "-" | "==" | "!=" | "<" | ">" | "<=" | ">="
  | "&&" | "||";

export type Expr =
  | { kind: "num"; value: bigint }
  | { kind: "sym"; name: string }
  | { kind: "unary"; op: "-" | "~" | "!" | "+"; arg: Expr }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr };

const PRECEDENCE: Record<BinaryOp, number> = {
  "*": 4, "/": 4, "%": 4, "<<": 4, ">>": 4,
  "|": 3, "&": 3, "^": 3, "!": 3,
  "+": 2, "-": 2, "==": 2, "!=": 2, "<": 2, ">": 2, "<=": 2, ">=": 2,
  "&&": 1, "||": 1,
};

/** Operators by their spelling, longest first so that "<<" wins over "<". */
const OPERATORS: [string, BinaryOp][] = [
  ["<<", "<<"], [">>", ">>"], ["==", "=="], ["!=", "!="], ["<>", "!="], ["<=", "<="], [">=", ">="],
  ["&&", "&&"], ["||", "||"],
  ["*", "*"], ["/", "/"], ["%", "%"], ["|", "|"], ["&", "&"], ["^", "^"], ["!", "!"],
  ["+", "+"], ["-", "-"], ["<", "<"], [">", ">"],
];

export const SYMBOL_START = /[A-Za-z_.$]/;
export const SYMBOL_CHAR = /[A-Za-z0-9_.$]/;

/** Resolves numeric local label references ("1b", "2f") to symbol names. */
export type LocalLabelResolver = (digits: string, direction: "b" | "f") => string;

/**
 * The deepest tree an expression may leave after folding. GNU as parses
 * recursively and has no limit short of its C stack; here constant
 * subtrees fold as they are parsed (so 3,000 nested parentheses or 20,000
 * unary minus signs around a number are one number, as GNU as assembles
 * them) and what remains is walked recursively by the symbol table, so a
 * deeper tree is refused on its line.
 */
export const MAX_EXPR_DEPTH = 1000;

type UnaryOp = "-" | "~" | "!" | "+";

/** The parser's operator stack: binary operators, prefix operators and open parentheses. */
type Pending = { kind: "binary"; op: BinaryOp } | { kind: "unary"; op: UnaryOp } | { kind: "paren" };

/** A node and the depth of the tree under it. */
interface Sized {
  e: Expr;
  depth: number;
}

const num = (value: bigint): Sized => ({ e: { kind: "num", value }, depth: 1 });

/** A unary node, folded when its operand is a number; `--x`, `~~x` and `+x` are x. */
function makeUnary(op: UnaryOp, arg: Sized): Sized {
  const a = arg.e;
  if (a.kind === "num") return num(applyUnary(op, a.value));
  if (op === "+") return arg;
  if ((op === "-" || op === "~") && a.kind === "unary" && a.op === op) return { e: a.arg, depth: arg.depth - 1 };
  return { e: { kind: "unary", op, arg: a }, depth: arg.depth + 1 };
}

/** `e ± number` as [e, number], or undefined. */
function offsetForm(e: Expr): [Expr, bigint] | undefined {
  if (e.kind !== "binary" || e.right.kind !== "num") return undefined;
  if (e.op === "+") return [e.left, e.right.value];
  if (e.op === "-") return [e.left, -e.right.value];
  return undefined;
}

/**
 * A binary node, folded when both operands are numbers (division by zero
 * is left for evaluation to report); `(x + a) + b` becomes `x + (a + b)`,
 * which is the same value in 64-bit arithmetic, so long sums stay shallow.
 */
function makeBinary(op: BinaryOp, left: Sized, right: Sized): Sized {
  const l = left.e;
  const r = right.e;
  if (l.kind === "num" && r.kind === "num" && !((op === "/" || op === "%") && r.value === 0n)) return num(applyBinary(op, l.value, r.value));
  if ((op === "+" || op === "-") && r.kind === "num") {
    const inner = offsetForm(l);
    if (inner) {
      const offset = BigInt.asIntN(64, inner[1] + (op === "+" ? r.value : -r.value));
      return { e: { kind: "binary", op: "+", left: inner[0], right: { kind: "num", value: offset } }, depth: left.depth };
    }
  }
  return { e: { kind: "binary", op, left: l, right: r }, depth: Math.max(left.depth, right.depth) + 1 };
}

/**
 * An operator-precedence parser over one expression's text, with explicit
 * stacks rather than recursion, so that nesting costs heap, not call stack.
 */
class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly local: LocalLabelResolver,
  ) {}

  parseAll(): Expr {
    const operands: Sized[] = [];
    const pending: Pending[] = [];
    let parens = 0;
    /** Applies the binary operator on top of the stack to the two top operands. */
    const reduce = () => {
      const top = pending.pop() as { kind: "binary"; op: BinaryOp };
      const right = operands.pop()!;
      const left = operands.pop()!;
      operands.push(this.bounded(makeBinary(top.op, left, right)));
    };
    /** An operand is complete: the prefix operators just before it apply now (they bind tightest). */
    const operand = (e: Sized) => {
      let v = e;
      for (let top = pending.at(-1); top?.kind === "unary"; top = pending.at(-1)) {
        pending.pop();
        v = this.bounded(makeUnary(top.op, v));
      }
      operands.push(v);
    };
    for (;;) {
      // An operand: prefix operators and open parentheses, then a primary.
      this.skipSpace();
      const ch = this.text[this.pos];
      if (ch === "-" || ch === "~" || ch === "!" || ch === "+") {
        this.pos++;
        pending.push({ kind: "unary", op: ch });
        continue;
      }
      if (ch === "(") {
        this.pos++;
        parens++;
        pending.push({ kind: "paren" });
        continue;
      }
      operand({ e: this.primary(), depth: 1 });
      // Then closing parentheses and at most one binary operator.
      for (;;) {
        this.skipSpace();
        if (this.text[this.pos] !== ")" || parens === 0) break;
        this.pos++;
        parens--;
        while (pending.at(-1)?.kind === "binary") reduce();
        pending.pop();
        operand(operands.pop()!);
      }
      const op = this.peekOperator();
      if (!op) break;
      for (let top = pending.at(-1); top?.kind === "binary" && PRECEDENCE[top.op] >= PRECEDENCE[op]; top = pending.at(-1)) reduce();
      this.pos += this.operatorLength(op);
      pending.push({ kind: "binary", op });
    }
    if (parens > 0) throw new AsmError("missing ')'");
    while (pending.length) reduce();
    this.skipSpace();
    if (this.pos < this.text.length) throw new AsmError(`junk at end of expression: '${this.text.slice(this.pos)}'`);
    return operands[0]!.e;
  }

  private bounded(s: Sized): Sized {
    if (s.depth > MAX_EXPR_DEPTH) throw new AsmError(`expression too deeply nested (more than ${MAX_EXPR_DEPTH} levels of operators on symbols)`);
    return s;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private peekOperator(): BinaryOp | undefined {
    this.skipSpace();
    for (const [spelling, op] of OPERATORS) {
      if (this.text.startsWith(spelling, this.pos)) return op;
    }
    return undefined;
  }

  private operatorLength(op: BinaryOp): number {
    for (const [spelling, o] of OPERATORS) if (o === op && this.text.startsWith(spelling, this.pos)) return spelling.length;
    return op.length;
  }

  /** A number, a symbol, a local label reference or a character constant. */
  private primary(): Expr {
    this.skipSpace();
    const rest = this.text.slice(this.pos);
    if (rest.length === 0) throw new AsmError("missing expression");
    if (rest[0] === "'") return this.character();
    let m: RegExpExecArray | null;
    // A numeric local label reference: digits then b or f, not followed by a symbol character.
    if ((m = /^([0-9]+)([bf])(?![A-Za-z0-9_.$])/.exec(rest)) && !/^0[bB][01]/.test(rest)) {
      this.pos += m[0].length;
      return { kind: "sym", name: this.local(m[1]!, m[2] as "b" | "f") };
    }
    if ((m = /^0[xX]([0-9a-fA-F]+)/.exec(rest))) return this.number(m[0], BigInt("0x" + m[1]));
    if ((m = /^0[bB]([01]+)/.exec(rest))) return this.number(m[0], BigInt("0b" + m[1]));
    if ((m = /^0([0-7]+)/.exec(rest))) return this.number(m[0], BigInt("0o" + m[1]));
    if ((m = /^[0-9]+/.exec(rest))) return this.number(m[0], BigInt(m[0]));
    if (SYMBOL_START.test(rest[0]!)) {
      let end = 1;
      while (end < rest.length && SYMBOL_CHAR.test(rest[end]!)) end++;
      this.pos += end;
      return { kind: "sym", name: rest.slice(0, end) };
    }
    throw new AsmError(`bad expression: '${rest}'`);
  }

  private number(spelling: string, value: bigint): Expr {
    this.pos += spelling.length;
    if (SYMBOL_CHAR.test(this.text[this.pos] ?? "")) throw new AsmError(`bad number: '${spelling}${this.text[this.pos]}'`);
    return { kind: "num", value: BigInt.asIntN(64, value) };
  }

  /** 'c, with the C escapes GNU as takes (\n, \t, \\, \', \0, octal). */
  private character(): Expr {
    this.pos++;
    let ch = this.text[this.pos];
    if (ch === undefined) throw new AsmError("missing character after '");
    let code: number;
    if (ch === "\\") {
      this.pos++;
      ch = this.text[this.pos];
      const escapes: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, "\\": 92, "'": 39, '"': 34 };
      if (ch !== undefined && /[0-7]/.test(ch)) {
        const m = /^[0-7]{1,3}/.exec(this.text.slice(this.pos))!;
        code = parseInt(m[0], 8) & 0xff;
        this.pos += m[0].length;
      } else if (ch !== undefined && ch in escapes) {
        code = escapes[ch]!;
        this.pos++;
      } else {
        throw new AsmError(`bad escape in character constant: '\\${ch ?? ""}'`);
      }
    } else {
      code = ch.charCodeAt(0);
      this.pos++;
    }
    // GNU as accepts an optional closing quote.
    if (this.text[this.pos] === "'") this.pos++;
    return { kind: "num", value: BigInt(code) };
  }
}

/** Parses `text` as one expression; throws AsmError. */
export function parseExpr(text: string, local: LocalLabelResolver = (d, dir) => `${d}${dir}`): Expr {
  return new Parser(text, local).parseAll();
}

/** 64-bit two's complement, as GNU as computes. */
const wrap = (v: bigint) => BigInt.asIntN(64, v);

/** Applies a binary operator to two constants; throws AsmError on division by zero. */
export function applyBinary(op: BinaryOp, a: bigint, b: bigint): bigint {
  switch (op) {
    case "*": return wrap(a * b);
    case "/":
      if (b === 0n) throw new AsmError("division by zero");
      return wrap(a / b);
    case "%":
      if (b === 0n) throw new AsmError("division by zero");
      return wrap(a % b);
    case "<<": return b >= 64n || b < 0n ? 0n : wrap(a << b);
    // GNU as shifts its unsigned value type right.
    case ">>": return b >= 64n || b < 0n ? 0n : wrap(BigInt.asUintN(64, a) >> b);
    case "|": return wrap(a | b);
    case "&": return wrap(a & b);
    case "^": return wrap(a ^ b);
    case "!": return wrap(a | ~b);
    case "+": return wrap(a + b);
    case "-": return wrap(a - b);
    case "==": return a === b ? -1n : 0n;
    case "!=": return a !== b ? -1n : 0n;
    case "<": return a < b ? -1n : 0n;
    case ">": return a > b ? -1n : 0n;
    case "<=": return a <= b ? -1n : 0n;
    case ">=": return a >= b ? -1n : 0n;
    case "&&": return a !== 0n && b !== 0n ? 1n : 0n;
    case "||": return a !== 0n || b !== 0n ? 1n : 0n;
  }
}

export function applyUnary(op: "-" | "~" | "!" | "+", a: bigint): bigint {
  switch (op) {
    case "-": return wrap(-a);
    case "~": return wrap(~a);
    case "!": return a === 0n ? 1n : 0n;
    case "+": return a;
  }
}

/**
 * Evaluates an expression whose symbols all have plain values; `lookup`
 * returns undefined for a symbol without one, and then so does evaluate.
 */
export function evaluate(e: Expr, lookup: (name: string) => bigint | undefined): bigint | undefined {
  switch (e.kind) {
    case "num": return e.value;
    case "sym": return lookup(e.name);
    case "unary": {
      const a = evaluate(e.arg, lookup);
      return a === undefined ? undefined : applyUnary(e.op, a);
    }
    case "binary": {
      const a = evaluate(e.left, lookup);
      const b = evaluate(e.right, lookup);
      return a === undefined || b === undefined ? undefined : applyBinary(e.op, a, b);
    }
  }
}

/** Every symbol an expression names. */
export function symbolsOf(e: Expr, into: string[] = []): string[] {
  if (e.kind === "sym") into.push(e.name);
  else if (e.kind === "unary") symbolsOf(e.arg, into);
  else if (e.kind === "binary") {
    symbolsOf(e.left, into);
    symbolsOf(e.right, into);
  }
  return into;
}
