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

/** A recursive-descent parser over one expression's text. */
class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly local: LocalLabelResolver,
  ) {}

  parseAll(): Expr {
    const e = this.binary(0);
    this.skipSpace();
    if (this.pos < this.text.length) throw new AsmError(`junk at end of expression: '${this.text.slice(this.pos)}'`);
    return e;
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

  private binary(minPrecedence: number): Expr {
    let left = this.unary();
    for (;;) {
      const op = this.peekOperator();
      if (!op || PRECEDENCE[op] < minPrecedence) return left;
      this.pos += this.operatorLength(op);
      // Left-associative: the right side binds only tighter operators.
      const right = this.binary(PRECEDENCE[op] + 1);
      left = { kind: "binary", op, left, right };
    }
  }

  private unary(): Expr {
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === "-" || ch === "~" || ch === "!" || ch === "+") {
      this.pos++;
      return { kind: "unary", op: ch, arg: this.unary() };
    }
    return this.primary();
  }

  private primary(): Expr {
    this.skipSpace();
    const rest = this.text.slice(this.pos);
    if (rest.length === 0) throw new AsmError("missing expression");
    if (rest[0] === "(") {
      this.pos++;
      const e = this.binary(0);
      this.skipSpace();
      if (this.text[this.pos] !== ")") throw new AsmError("missing ')'");
      this.pos++;
      return e;
    }
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
