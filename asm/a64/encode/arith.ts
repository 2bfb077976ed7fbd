// SPDX-License-Identifier: MIT
//
// ADD, SUB, ADDS, SUBS in their immediate, shifted-register and
// extended-register forms, with the aliases CMP, CMN, NEG, NEGS and MOV
// to/from SP; ADC/SBC/NGC; CCMP/CCMN (DDI0487 C4.1.86 "Add/subtract
// (immediate)", C4.1.90 "Add/subtract (shifted register)", "(extended
// register)", "Add/subtract (with carry)", "Conditional compare").

import type { Instruction } from "../../backend.ts";
import { parseCondition } from "../conditions.ts";
import { lateImmediate, lo12Fixup, word } from "../fixups.ts";
import { EXTENDS, OperandError, lateError, type ExtendOp, type Modifier, type Operands } from "../operands.ts";
import type { GReg } from "../registers.ts";
import { constantIn, rm, rn, sameWidth, sfOf, type HandlerTable } from "./common.ts";

/** ADD/SUB (immediate): sf op S 100010 sh imm12 Rn Rd. */
const ADDSUB_IMM = 0x11000000;
/** ADD/SUB (shifted register): sf op S 01011 shift 0 Rm imm6 Rn Rd. */
const ADDSUB_SHIFTED = 0x0b000000;
/** ADD/SUB (extended register): sf op S 01011 00 1 Rm option imm3 Rn Rd. */
const ADDSUB_EXTENDED = 0x0b200000;

const opBits = (sf: number, op: number, S: number) => ((sf << 31) | (op << 30) | (S << 29)) >>> 0;

/**
 * The immediate form for a value GNU as may know only late: a negative value
 * turns ADD into SUB and back, and without an explicit shift a multiple of
 * 4096 below 2^24 takes LSL #12 (GNU as md_apply_fix, AARCH64_OPND_AIMM).
 */
export function encodeAddSubImm(value: bigint, sf: number, op: number, S: number, d: number, n: number, explicitShift?: number): number {
  let v = BigInt.asIntN(64, value);
  let o = op;
  if (v < 0n) {
    o ^= 1;
    v = -v;
  }
  let sh = explicitShift === 12 ? 1 : 0;
  if (explicitShift === undefined && v > 0xfffn && (v & 0xfffn) === 0n && v <= 0xfff000n) {
    v >>= 12n;
    sh = 1;
  }
  if (v > 0xfffn) lateError("immediate out of range");
  return (opBits(sf, o, S) | ADDSUB_IMM | (sh << 22) | (Number(v) << 10) | (n << 5) | d) >>> 0;
}

/** Any general-purpose register for now; each form checks SP and ZR. */
function anyReg(ops: Operands, i: number): GReg {
  return ops.reg(i, "any");
}

function checkKind(r: GReg, i: number, allowSp: boolean): void {
  if (r.kind === "sp" && !allowSp) throw new OperandError(`operand ${i + 1} must be an integer register`);
  if (r.kind === "zr" && allowSp) throw new OperandError(`operand ${i + 1} must be an integer or stack pointer register`);
}

/**
 * The operands after Rd and Rn: "#imm{, lsl #0|#12}", "Rm{, shift #n}" or
 * "Rm, extend {#n}". `first` is the index of the third operand (1 for CMP).
 */
function addSubOperands(ops: Operands, op: number, S: number, d: GReg, n: GReg, first: number, dIsZr: boolean): Instruction {
  const sf = sfOf(n);
  const mIdx = first;
  const mod = ops.modifier(mIdx + 1);
  if (ops.isReg(mIdx)) {
    const m = ops.reg(mIdx);
    const usesSp = d.kind === "sp" || n.kind === "sp";
    const extend = mod && EXTENDS.includes(mod.op as ExtendOp);
    if (extend || usesSp || (sf && m.width === 32)) {
      if (sf && m.width === 32 && !mod) throw new OperandError("missing extend operator", mIdx + 1);
      return word(extendedForm(sf, op, S, d, n, m, mod, mIdx));
    }
    sameWidth(n, m);
    if (!dIsZr) checkKind(d, 0, false);
    checkKind(n, first - 1, false);
    const shift = mod?.op ?? "lsl";
    const amount = mod?.amount ?? 0;
    if (shift === "ror") throw new OperandError("'ROR' operator not allowed", mIdx + 1);
    if (amount >= (sf ? 64 : 32)) throw new OperandError(`shift amount out of range 0 to ${sf ? 63 : 31}`, mIdx + 1);
    const shiftBits = ["lsl", "lsr", "asr"].indexOf(shift);
    return word(opBits(sf, op, S) | ADDSUB_SHIFTED | (shiftBits << 22) | rm(m) | (amount << 10) | rn(n) | d.num);
  }
  // Immediate: Rd is SP for ADD/SUB and the zero register for ADDS/SUBS.
  if (!dIsZr) checkKind(d, 0, S === 0);
  if (n.kind === "zr") throw new OperandError(`operand ${first} must be an integer or stack pointer register`);
  let explicitShift: number | undefined;
  if (mod) {
    if (mod.op !== "lsl") throw new OperandError("only 'LSL' shift is permitted", mIdx + 1);
    if (mod.amount !== 0 && mod.amount !== 12) throw new OperandError("shift amount must be 0 or 12", mIdx + 1);
    explicitShift = mod.amount;
  }
  // Of these, only ADD takes a relocation operator (GNU as parse_operands, AIMM for OP_ADD).
  const imm = ops.imm(mIdx, op === 0 && S === 0);
  if (imm.reloc === "lo12") {
    const base = opBits(sf, op, S) | ADDSUB_IMM | rn(n) | d.num;
    if (imm.value !== undefined) return word(base | (Number(imm.value & 0xfffn) << 10));
    return word(base, [lo12Fixup(imm.expr, 0)]);
  }
  return lateImmediate(imm, (v) => encodeAddSubImm(v, sf, op, S, d.num, n.num, explicitShift));
}

function extendedForm(sf: number, op: number, S: number, d: GReg, n: GReg, m: GReg, mod: Modifier | undefined, mIdx: number): number {
  if (d.kind === "zr" && S === 0) throw new OperandError("operand 1 must be an integer or stack pointer register");
  if (d.kind === "sp" && S === 1) throw new OperandError("operand 1 must be an integer register");
  if (n.kind === "zr") throw new OperandError(`operand ${mIdx} must be an integer or stack pointer register`);
  if (d.width !== n.width) throw new OperandError("operand mismatch");
  let ext = mod?.op ?? "lsl";
  if (ext === "lsl") {
    if (d.kind !== "sp" && n.kind !== "sp") throw new OperandError("operand mismatch");
    ext = sf ? "uxtx" : "uxtw";
  }
  const option = EXTENDS.indexOf(ext as ExtendOp);
  if (option < 0) throw new OperandError(`'${ext.toUpperCase()}' operator not allowed`, mIdx + 1);
  // With a 64-bit operation, UXTX/SXTX take an X register and the others a W register.
  const wantWidth = sf && (option & 3) === 3 ? 64 : 32;
  if (m.width !== wantWidth) throw new OperandError("operand mismatch");
  const amount = mod?.amount ?? 0;
  if (amount > 4) throw new OperandError("shift amount out of range 0 to 4", mIdx + 1);
  return (opBits(sf, op, S) | ADDSUB_EXTENDED | rm(m) | (option << 13) | (amount << 10) | rn(n) | d.num) >>> 0;
}

function addSub(op: number, S: number) {
  return (ops: Operands): Instruction => {
    ops.allow(4, 3);
    const d = anyReg(ops, 0);
    const n = anyReg(ops, 1);
    if (d.width !== n.width) throw new OperandError("operand mismatch");
    return addSubOperands(ops, op, S, d, n, 2, false);
  };
}

/** CMP/CMN Rn, op2 = SUBS/ADDS XZR, Rn, op2. */
function compare(op: number) {
  return (ops: Operands): Instruction => {
    ops.allow(3, 2);
    const n = anyReg(ops, 0);
    const zr: GReg = { num: 31, width: n.width, kind: "zr" };
    return addSubOperands(ops, op, 1, zr, n, 1, true);
  };
}

/** NEG/NEGS Rd, Rm{, shift} = SUB/SUBS Rd, ZR, Rm{, shift}. */
function negate(S: number) {
  return (ops: Operands): Instruction => {
    ops.allow(3, 2);
    const d = ops.reg(0);
    const m = ops.reg(1, "zr", "integer or zero register expected");
    sameWidth(d, m);
    const sf = sfOf(d);
    const mod = ops.modifier(2);
    const shift = mod?.op ?? "lsl";
    const amount = mod?.amount ?? 0;
    const shiftBits = ["lsl", "lsr", "asr"].indexOf(shift);
    if (shiftBits < 0) throw new OperandError(`'${shift.toUpperCase()}' operator not allowed`, 2);
    if (amount >= (sf ? 64 : 32)) throw new OperandError(`shift amount out of range 0 to ${sf ? 63 : 31}`, 2);
    return word(opBits(sf, 1, S) | ADDSUB_SHIFTED | (shiftBits << 22) | rm(m) | (amount << 10) | rn(31) | d.num);
  };
}

/** ADC/ADCS/SBC/SBCS: sf op S 11010000 Rm 000000 Rn Rd; NGC/NGCS Rd, Rm = SBC/SBCS Rd, ZR, Rm. */
function withCarry(op: number, S: number, negated = false) {
  return (ops: Operands): Instruction => {
    ops.allow(negated ? 2 : 3);
    const d = ops.reg(0);
    const n = negated ? { num: 31, width: d.width, kind: "zr" as const } : ops.reg(1);
    const m = ops.reg(negated ? 1 : 2);
    sameWidth(d, n, m);
    return word(opBits(sfOf(d), op, S) | 0x1a000000 | rm(m) | rn(n) | d.num);
  };
}

/** CCMP/CCMN Rn, Rm|#imm5, #nzcv, cond: sf op 1 11010010 Rm|imm5 cond 0|1 0 Rn 0 nzcv. */
function condCompare(op: number) {
  return (ops: Operands): Instruction => {
    ops.allow(4);
    const n = ops.reg(0);
    const nzcv = constantIn(ops, 2, 0, 15);
    const cond = parseCondition(ops.text(3));
    if (cond === undefined) throw new OperandError("invalid condition", 4);
    const base = opBits(sfOf(n), op, 1) | 0x1a400000 | (cond << 12) | rn(n) | nzcv;
    if (ops.isReg(1)) {
      const m = ops.reg(1);
      sameWidth(n, m);
      return word(base | rm(m));
    }
    return word(base | (1 << 11) | (constantIn(ops, 1, 0, 31) << 16));
  };
}

export const ARITH: HandlerTable = {
  add: addSub(0, 0),
  adds: addSub(0, 1),
  sub: addSub(1, 0),
  subs: addSub(1, 1),
  cmn: compare(0),
  cmp: compare(1),
  neg: negate(0),
  negs: negate(1),
  adc: withCarry(0, 0),
  adcs: withCarry(0, 1),
  sbc: withCarry(1, 0),
  sbcs: withCarry(1, 1),
  ngc: withCarry(1, 0, true),
  ngcs: withCarry(1, 1, true),
  ccmn: condCompare(0),
  ccmp: condCompare(1),
};
