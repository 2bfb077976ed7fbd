// SPDX-License-Identifier: MIT
//
// AT&T operands as GNU as reads them (GNU as manual, "i386-Syntax" and
// "i386-Memory"): %reg, $imm, [%seg:]disp(base,index,scale), sym(%rip), and
// * before the operand of an indirect jmp or call. Operands come in AT&T
// order, source first.

import { AsmError, type AsmContext } from "../backend.ts";
import type { Expr } from "../expr.ts";
import { lookupRegister, type Register } from "./registers.ts";

export type SegmentRegister = Extract<Register, { kind: "seg" }>;

export interface MemoryOperand {
  kind: "mem";
  indirect: boolean;
  seg?: SegmentRegister;
  /** What was written before the parentheses; absent for "(%rax)". */
  disp?: Expr;
  /** A general register, %rip or %eip; %dx only for in/out's port operand. */
  base?: Register;
  index?: Register;
  scale: 1 | 2 | 4 | 8;
  /** The "(base,index,scale)" text, for GNU as's messages. */
  baseIndexText: string;
}

export type Operand =
  | { kind: "reg"; reg: Register; indirect: boolean }
  | { kind: "imm"; expr: Expr }
  | MemoryOperand;

/** Splits an operand list at the commas outside parentheses and character constants. */
export function splitOperands(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") i++; // 'c: the next character is the constant, even a comma
    else if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === "," && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (depth > 0) throw new AsmError(`unbalanced parenthesis in operand ${out.length + 1}.`);
  const last = text.slice(start).trim();
  if (last !== "" || out.length > 0) out.push(last);
  return out;
}

function register(text: string): Register {
  const reg = lookupRegister(text.slice(1).trim());
  if (!reg) throw new AsmError(`bad register name \`${text}'`);
  return reg;
}

/** Parses one AT&T operand. */
export function parseOperand(text: string, ctx: AsmContext): Operand {
  let rest = text.trim();
  if (rest === "") throw new AsmError("missing operand");
  let indirect = false;
  if (rest.startsWith("*")) {
    indirect = true;
    rest = rest.slice(1).trim();
  }
  if (rest.startsWith("$")) {
    if (indirect) throw new AsmError(`immediate operand illegal with absolute jump`);
    return { kind: "imm", expr: ctx.parseExpr(rest.slice(1)) };
  }
  let seg: SegmentRegister | undefined;
  const segMatch = /^%([a-z]s)\s*:/i.exec(rest);
  if (segMatch) {
    const reg = register(`%${segMatch[1]}`);
    if (reg.kind !== "seg") throw new AsmError(`\`%${segMatch[1]}' is not a valid segment register`);
    seg = reg;
    rest = rest.slice(segMatch[0].length).trim();
  }
  if (!seg && /^%[A-Za-z0-9]+$/.test(rest)) return { kind: "reg", reg: register(rest), indirect };
  return { ...parseMemory(rest, ctx), indirect, ...(seg ? { seg } : {}) };
}

/** disp(base,index,scale), any part optional, or a plain expression (an absolute address). */
function parseMemory(text: string, ctx: AsmContext): Omit<MemoryOperand, "indirect" | "seg"> {
  if (text.endsWith(")")) {
    let depth = 0;
    let open = -1;
    for (let i = text.length - 1; i >= 0; i--) {
      if (text[i] === ")") depth++;
      else if (text[i] === "(" && --depth === 0) {
        open = i;
        break;
      }
    }
    if (open < 0) throw new AsmError(`unbalanced parenthesis in operand 1.`);
    const inner = text.slice(open + 1, -1).trim();
    if (inner.startsWith("%") || inner.startsWith(",")) {
      const dispText = text.slice(0, open).trim();
      const baseIndexText = text.slice(open);
      const parts = inner.split(",").map((p) => p.trim());
      if (parts.length > 3) throw new AsmError(`\`${baseIndexText}' is not a valid base/index expression`);
      const base = parts[0] ? register(parts[0]) : undefined;
      const index = parts[1] ? register(parts[1]) : undefined;
      let scale: 1 | 2 | 4 | 8 = 1;
      if (parts[2]) {
        if (!index) throw new AsmError(`\`${baseIndexText}' is not a valid base/index expression`);
        const value = ctx.knownValue(ctx.parseExpr(parts[2]));
        if (value !== 1n && value !== 2n && value !== 4n && value !== 8n) {
          throw new AsmError(`expecting scale factor of 1, 2, 4, or 8: got \`${parts[2]}'`);
        }
        scale = Number(value) as 1 | 2 | 4 | 8;
      }
      return {
        kind: "mem",
        ...(dispText !== "" ? { disp: ctx.parseExpr(dispText) } : {}),
        ...(base ? { base } : {}),
        ...(index ? { index } : {}),
        scale,
        baseIndexText,
      };
    }
  }
  if (text.includes("%")) throw new AsmError(`bad memory operand \`${text}'`);
  return { kind: "mem", disp: ctx.parseExpr(text), scale: 1, baseIndexText: "" };
}
