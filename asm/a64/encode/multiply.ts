// SPDX-License-Identifier: MIT
//
// Multiply and divide, conditional select and the one-source operations
// (DDI0487 C4.1.90 "Data-processing (3 source)", "Data-processing (2
// source)", "Conditional select", "Data-processing (1 source)"), with the
// aliases MUL, MNEG, SMULL, UMULL, SMNEGL, UMNEGL, CSET, CSETM, CINC, CINV
// and CNEG.

import type { Instruction } from "../../backend.ts";
import { invertCondition, parseCondition } from "../conditions.ts";
import { word } from "../fixups.ts";
import { OperandError, type Operands } from "../operands.ts";
import { rm, rn, sameWidth, sfOf, type HandlerTable } from "./common.ts";

/** Data-processing (3 source): sf 00 11011 op31 Rm o0 Ra Rn Rd. */
const DP3 = 0x1b000000;
/** Data-processing (2 source): sf 0 0 11010110 Rm opcode Rn Rd. */
const DP2 = 0x1ac00000;
/** Data-processing (1 source): sf 1 0 11010110 00000 opcode Rn Rd. */
const DP1 = 0x5ac00000;
/** Conditional select: sf op 0 11010100 Rm cond op2 Rn Rd. */
const CSEL = 0x1a800000;

/** MADD/MSUB (op31 = 000) and MUL/MNEG (Ra = ZR); `widening` ops (SMADDL ...) take W sources and X destination and accumulator. */
function multiplyAdd(op31: number, o0: number, hasRa: boolean) {
  const widening = op31 !== 0;
  return (ops: Operands): Instruction => {
    ops.allow(hasRa ? 4 : 3);
    const d = ops.reg(0), n = ops.reg(1), m = ops.reg(2);
    const a = hasRa ? ops.reg(3) : { num: 31, width: d.width, kind: "zr" as const };
    if (widening) {
      if (d.width !== 64 || n.width !== 32 || m.width !== 32 || a.width !== 64) throw new OperandError("operand mismatch");
    } else sameWidth(d, n, m, a);
    return word((sfOf(d) << 31) | DP3 | (op31 << 21) | rm(m) | (o0 << 15) | (a.num << 10) | rn(n) | d.num);
  };
}

/** SMULH/UMULH Xd, Xn, Xm (Ra = 11111). */
function multiplyHigh(op31: number) {
  return (ops: Operands): Instruction => {
    ops.allow(3);
    const d = ops.reg(0), n = ops.reg(1), m = ops.reg(2);
    if (d.width !== 64 || n.width !== 64 || m.width !== 64) throw new OperandError("operand mismatch");
    return word((1 << 31) | DP3 | (op31 << 21) | rm(m) | (31 << 10) | rn(n) | d.num);
  };
}

function divide(opcode: number) {
  return (ops: Operands): Instruction => {
    ops.allow(3);
    const d = ops.reg(0), n = ops.reg(1), m = ops.reg(2);
    sameWidth(d, n, m);
    return word((sfOf(d) << 31) | DP2 | rm(m) | (opcode << 10) | rn(n) | d.num);
  };
}

/** A condition operand; CSET and the other aliases refuse AL and NV, whose inverse would not be the opposite condition. */
function condition(ops: Operands, i: number, standard: boolean): number {
  const cond = parseCondition(ops.text(i));
  if (cond === undefined) throw new OperandError("invalid condition", i + 1);
  if (standard && cond >= 14) throw new OperandError(`operand ${i + 1} must be one of the standard conditions, excluding AL and NV.`);
  return cond;
}

function encodeCsel(sf: number, op: number, op2: number, d: number, n: number, m: number, cond: number): Instruction {
  return word((sf << 31) | (op << 30) | CSEL | rm(m) | (cond << 12) | (op2 << 10) | rn(n) | d);
}

/** CSEL/CSINC/CSINV/CSNEG Rd, Rn, Rm, cond. */
function condSelect(op: number, op2: number) {
  return (ops: Operands): Instruction => {
    ops.allow(4);
    const d = ops.reg(0), n = ops.reg(1), m = ops.reg(2);
    sameWidth(d, n, m);
    return encodeCsel(sfOf(d), op, op2, d.num, n.num, m.num, condition(ops, 3, false));
  };
}

/** CSET/CSETM Rd, cond = CSINC/CSINV Rd, ZR, ZR, invert(cond). */
function condSet(op: number) {
  return (ops: Operands): Instruction => {
    ops.allow(2);
    const d = ops.reg(0);
    return encodeCsel(sfOf(d), op, 1 - op, d.num, 31, 31, invertCondition(condition(ops, 1, true)));
  };
}

/** CINC/CINV/CNEG Rd, Rn, cond = CSINC/CSINV/CSNEG Rd, Rn, Rn, invert(cond). */
function condOne(op: number, op2: number) {
  return (ops: Operands): Instruction => {
    ops.allow(3);
    const d = ops.reg(0), n = ops.reg(1);
    sameWidth(d, n);
    return encodeCsel(sfOf(d), op, op2, d.num, n.num, n.num, invertCondition(condition(ops, 2, true)));
  };
}

/** RBIT, REV16, REV32, REV, CLZ, CLS. `only64` for REV32; REV is opcode 000010 in 32-bit and 000011 in 64-bit. */
function oneSource(opcode: number | ((sf: number) => number), only64 = false) {
  return (ops: Operands): Instruction => {
    ops.allow(2);
    const d = ops.reg(0), n = ops.reg(1);
    sameWidth(d, n);
    const sf = sfOf(d);
    if (only64 && !sf) throw new OperandError("operand mismatch");
    const code = typeof opcode === "number" ? opcode : opcode(sf);
    return word((sf << 31) | DP1 | (code << 10) | rn(n) | d.num);
  };
}

export const MULTIPLY: HandlerTable = {
  madd: multiplyAdd(0b000, 0, true),
  msub: multiplyAdd(0b000, 1, true),
  mul: multiplyAdd(0b000, 0, false),
  mneg: multiplyAdd(0b000, 1, false),
  smaddl: multiplyAdd(0b001, 0, true),
  smsubl: multiplyAdd(0b001, 1, true),
  smull: multiplyAdd(0b001, 0, false),
  smnegl: multiplyAdd(0b001, 1, false),
  umaddl: multiplyAdd(0b101, 0, true),
  umsubl: multiplyAdd(0b101, 1, true),
  umull: multiplyAdd(0b101, 0, false),
  umnegl: multiplyAdd(0b101, 1, false),
  smulh: multiplyHigh(0b010),
  umulh: multiplyHigh(0b110),
  udiv: divide(0b000010),
  sdiv: divide(0b000011),
  csel: condSelect(0, 0),
  csinc: condSelect(0, 1),
  csinv: condSelect(1, 0),
  csneg: condSelect(1, 1),
  cset: condSet(0),
  csetm: condSet(1),
  cinc: condOne(0, 1),
  cinv: condOne(1, 0),
  cneg: condOne(1, 1),
  rbit: oneSource(0b000000),
  rev16: oneSource(0b000001),
  rev32: oneSource(0b000010, true),
  rev: oneSource((sf) => (sf ? 0b000011 : 0b000010)),
  clz: oneSource(0b000100),
  cls: oneSource(0b000101),
};
