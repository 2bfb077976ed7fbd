// SPDX-License-Identifier: MIT
//
// Operand syntax of GNU as for A64: splitting a statement's operands,
// registers, immediates with their relocation operators, shifts, extends
// and addressing modes. Encoders ask for what each operand must be; a wrong
// kind raises OperandError, which assemble() turns into GNU as's message
// with the statement appended ("... at operand 2 -- `ldr x0,[w1]'").

import { AsmError, type AsmContext } from "../backend.ts";
import type { Expr } from "../expr.ts";
import { parseGReg, type GReg } from "./registers.ts";

/** A mismatch GNU as reports as "<detail> at operand N -- `statement'". */
export class OperandError extends Error {
  constructor(
    readonly detail: string,
    /** 1-based operand number, or undefined for messages without "at operand N". */
    readonly operand?: number,
  ) {
    super(detail);
  }
}

/** Splits operand text at commas outside brackets, parentheses and character constants. */
export function splitOperands(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'") {
      i += text[i + 1] === "\\" ? 2 : 1;
    } else if (ch === "[" || ch === "(") depth++;
    else if (ch === "]" || ch === ")") depth--;
    else if (ch === "," && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== "" || out.length) out.push(last);
  return out;
}

const WORD_CHAR = /[A-Za-z0-9_.$]/;

/**
 * The statement as GNU as quotes it in messages: its input scrubber keeps one
 * space after the mnemonic and between two word characters, and drops the rest.
 */
export function scrubStatement(mnemonic: string, operands: string): string {
  const t = operands.trim();
  let out = "";
  for (let i = 0; i < t.length; i++) {
    const ch = t[i]!;
    if (/\s/.test(ch)) {
      let j = i;
      while (j < t.length && /\s/.test(t[j]!)) j++;
      if (WORD_CHAR.test(out[out.length - 1] ?? "") && WORD_CHAR.test(t[j] ?? "")) out += " ";
      i = j - 1;
    } else out += ch;
  }
  return out ? `${mnemonic} ${out}` : mnemonic;
}

/** An immediate or address expression, with its value if GNU as knows it on this line. */
export interface Imm {
  expr: Expr;
  value?: bigint;
  /** A relocation operator written before the expression (":lo12:"). */
  reloc?: "lo12";
}

export type ShiftOp = "lsl" | "lsr" | "asr" | "ror";
export type ExtendOp = "uxtb" | "uxth" | "uxtw" | "uxtx" | "sxtb" | "sxth" | "sxtw" | "sxtx";

/** Extend encodings, option<2:0> (DDI0487 C6.2 "ADD (extended register)"). */
export const EXTENDS: readonly ExtendOp[] = ["uxtb", "uxth", "uxtw", "uxtx", "sxtb", "sxth", "sxtw", "sxtx"];
export const SHIFTS: readonly ShiftOp[] = ["lsl", "lsr", "asr", "ror"];

/** A shift or extend operator with its amount (undefined when no amount was written). */
export interface Modifier {
  op: ShiftOp | ExtendOp;
  amount?: number;
}

export type Mem =
  /** [Xn], [Xn, #imm] */
  | { mode: "offset"; base: GReg; offset?: Imm }
  /** [Xn, #imm]! */
  | { mode: "pre"; base: GReg; offset: Imm }
  /** [Xn, Rm{, extend {#amount}}] */
  | { mode: "reg"; base: GReg; index: GReg; modifier?: Modifier };

/** The parsed operands of one statement and the context to evaluate their expressions. */
export class Operands {
  readonly items: string[];
  /** How many items the instruction takes, and which operand GNU as blames for more (a shift belongs to the operand before it). */
  private max = Infinity;
  private blame = 0;

  constructor(
    text: string,
    readonly ctx: AsmContext,
  ) {
    this.items = splitOperands(text);
  }

  get length(): number {
    return this.items.length;
  }

  /** Operand i's text; a missing one is reported as GNU as does when it looks for it, after the ones before it. */
  text(i: number, missing = "comma expected between operands"): string {
    const t = this.items[i];
    if (t === undefined || t === "") throw new OperandError(missing, i + 1);
    return t;
  }

  /**
   * Sets how many items the instruction takes. Anything more is reported by
   * finish(), once the operands before it parsed, as GNU as does; GNU as
   * blames the last operand it took.
   */
  allow(max: number, blame = max): void {
    this.max = max;
    this.blame = blame;
  }

  finish(): void {
    if (this.items.length > this.max) throw new OperandError("unexpected characters following instruction", this.blame || undefined);
  }

  isReg(i: number): boolean {
    return this.items[i] !== undefined && parseGReg(this.items[i]!) !== undefined;
  }

  /**
   * A general-purpose register. `accept` says what number 31 may be written
   * as here: the zero register ("zr"), SP ("sp"), or either, for forms that
   * check it themselves ("any").
   */
  reg(i: number, accept: "zr" | "sp" | "any" = "zr", spMessage?: string): GReg {
    const plain = `operand ${i + 1} must be an integer register`;
    const withSp = `operand ${i + 1} must be an integer or stack pointer register`;
    // A missing first operand is simply not a register to GNU as.
    const r = parseGReg(i === 0 ? this.items[0] ?? "" : this.text(i));
    if (!r) throw new OperandError(accept === "zr" ? plain : withSp);
    if (r.kind === "sp" && accept === "zr") throw spMessage ? new OperandError(spMessage, i + 1) : new OperandError(plain);
    if (r.kind === "zr" && accept === "sp") throw new OperandError(withSp);
    return r;
  }

  /**
   * An immediate: "#expr" or "expr". Only the operands that take a
   * relocation operator ("#:lo12:sym") pass `reloc`; elsewhere GNU as cannot
   * parse one.
   */
  imm(i: number, reloc = false): Imm {
    const imm = parseImm(this.text(i, i === 0 ? "missing immediate expression" : undefined), this.ctx, i);
    if (imm.reloc && !reloc) throw new OperandError("bad expression", i + 1);
    return imm;
  }

  /** An immediate that must be a constant now (shift amounts, bit numbers, field widths). */
  constant(i: number): bigint {
    const imm = this.imm(i);
    if (imm.value === undefined || imm.reloc) throw new OperandError("constant expression required", i + 1);
    return imm.value;
  }

  /**
   * A shift ("lsl #3") or extend ("uxtw #2", "sxtx") operator in item i, or
   * undefined if there is none. GNU as counts it as part of the operand
   * before it, and so do its messages.
   */
  modifier(i: number): Modifier | undefined {
    const t = this.items[i];
    if (t === undefined) return undefined;
    return parseModifier(t, this.ctx, i - 1);
  }

  mem(i: number): Mem {
    return parseMem(this.text(i), this.ctx, i);
  }
}

export function parseImm(text: string, ctx: AsmContext, i: number, registersAreSymbols = false): Imm {
  let t = text.trim();
  if (t.startsWith("#")) t = t.slice(1).trim();
  if (!registersAreSymbols && parseGReg(t)) throw new OperandError("unexpected register in the immediate operand", i + 1);
  let reloc: Imm["reloc"];
  const m = /^:([A-Za-z0-9_]+):/.exec(t);
  if (m) {
    if (m[1]!.toLowerCase() !== "lo12") throw new OperandError(`unknown relocation modifier`, i + 1);
    reloc = "lo12";
    t = t.slice(m[0].length);
  }
  if (t === "") throw new OperandError("immediate operand required", i + 1);
  const expr = ctx.parseExpr(t);
  const value = ctx.knownValue(expr);
  const imm: Imm = { expr };
  if (value !== undefined) imm.value = value;
  if (reloc) imm.reloc = reloc;
  return imm;
}

export function parseModifier(text: string, ctx: AsmContext, i: number): Modifier {
  const m = /^([A-Za-z]+)\s*(.*)$/s.exec(text.trim());
  const op = m?.[1]!.toLowerCase() as ShiftOp | ExtendOp | undefined;
  if (!m || !op || (!SHIFTS.includes(op as ShiftOp) && !EXTENDS.includes(op as ExtendOp))) {
    throw new OperandError(parseGReg(text) ? "unexpected register in the immediate operand" : "shift expression expected", i + 1);
  }
  let rest = m[2]!.trim();
  if (rest === "") {
    if (SHIFTS.includes(op as ShiftOp)) throw new OperandError("missing shift amount", i + 1);
    return { op };
  }
  if (rest.startsWith("#")) rest = rest.slice(1);
  if (parseGReg(rest)) throw new OperandError("unexpected register in the immediate operand", i + 1);
  const value = ctx.knownValue(ctx.parseExpr(rest));
  if (value === undefined) throw new OperandError("constant expression required", i + 1);
  if (value < 0n || value > 63n) throw new OperandError("shift amount out of range 0 to 63", i + 1);
  return { op, amount: Number(value) };
}

/** Parses "[Xn{, #imm}]{!}" or "[Xn, Rm{, extend}]". */
export function parseMem(text: string, ctx: AsmContext, i: number): Mem {
  let t = text.trim();
  if (!t.startsWith("[")) throw new OperandError("invalid addressing mode", i + 1);
  let pre = false;
  if (t.endsWith("!")) {
    pre = true;
    t = t.slice(0, -1).trim();
  }
  if (!t.endsWith("]")) throw new OperandError("missing ']'", i + 1);
  const parts = splitOperands(t.slice(1, -1));
  const base = parseGReg(parts[0] ?? "");
  if (!base || base.width !== 64 || base.kind === "zr") throw new OperandError("64-bit integer or SP register expected", i + 1);
  if (parts.length === 1) {
    if (pre) throw new OperandError("invalid addressing mode", i + 1);
    return { mode: "offset", base };
  }
  const index = parseGReg(parts[1]!);
  if (index) {
    if (pre) throw new OperandError("register offset not allowed in pre-indexed addressing mode", i + 1);
    if (parts.length > 3) throw new OperandError("invalid addressing mode", i + 1);
    if (index.kind === "sp") throw new OperandError("integer or zero register expected", i + 1);
    const mem: Mem = { mode: "reg", base, index };
    if (parts.length === 3) mem.modifier = parseModifier(parts[2]!, ctx, i);
    return mem;
  }
  if (parts.length > 2) throw new OperandError("invalid addressing mode", i + 1);
  const offset = parseImm(parts[1]!, ctx, i);
  return pre ? { mode: "pre", base, offset } : { mode: "offset", base, offset };
}

/** Throws the plain AsmError GNU as gives when it resolves a field late (no statement appended). */
export function lateError(message: string): never {
  throw new AsmError(message);
}
