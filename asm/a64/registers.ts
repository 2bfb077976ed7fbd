// SPDX-License-Identifier: MIT
//
// General-purpose register names (DDI0487 C1.2.5 "Register names"). Register
// number 31 is SP or the zero register depending on the operand, so a parsed
// register remembers which spelling was written and each operand checks it.

/** A general-purpose register as written: X/W view of R0-R30, the zero register, or the stack pointer. */
export interface GReg {
  num: number;
  /** 64 for Xn/XZR/SP, 32 for Wn/WZR/WSP. */
  width: 32 | 64;
  kind: "r" | "zr" | "sp";
}

/** GNU as's extra names for X registers. */
const ALIASES: Record<string, number> = { ip0: 16, ip1: 17, fp: 29, lr: 30 };

/**
 * Parses a register name as GNU as spells it: all lower case or all upper
 * case, as its register table holds both.
 */
export function parseGReg(text: string): GReg | undefined {
  const t = text.trim();
  if (t !== t.toLowerCase() && t !== t.toUpperCase()) return undefined;
  const name = t.toLowerCase();
  const m = /^([xw])([0-9]{1,2})$/.exec(name);
  if (m) {
    const num = Number(m[2]);
    if (num > 30 || (m[2]!.length > 1 && m[2]![0] === "0")) return undefined;
    return { num, width: m[1] === "x" ? 64 : 32, kind: "r" };
  }
  switch (name) {
    case "xzr": return { num: 31, width: 64, kind: "zr" };
    case "wzr": return { num: 31, width: 32, kind: "zr" };
    case "sp": return { num: 31, width: 64, kind: "sp" };
    case "wsp": return { num: 31, width: 32, kind: "sp" };
  }
  const alias = ALIASES[name];
  return alias === undefined ? undefined : { num: alias, width: 64, kind: "r" };
}

/** The name objdump prints for register `num`: 31 is SP/WSP where the operand allows SP, else XZR/WZR. */
export function gregName(num: number, width: 32 | 64, spForm = false): string {
  if (num === 31) return spForm ? (width === 64 ? "sp" : "wsp") : (width === 64 ? "xzr" : "wzr");
  return (width === 64 ? "x" : "w") + num;
}

/** Shorthands for decoders: the X or W name by the sf bit. */
export const xOrW = (num: number, sf: number, spForm = false) => gregName(num, sf ? 64 : 32, spForm);
