// SPDX-License-Identifier: MIT
//
// AND, ORR, EOR, ANDS with a bitmask immediate or a shifted register; BIC,
// BICS, ORN, EON; TST and MVN; MOVZ, MOVN, MOVK and the MOV aliases
// (DDI0487 C4.1.86 "Logical (immediate)", "Move wide (immediate)", C4.1.90
// "Logical (shifted register)"; C6.2 "MOV (wide immediate)", "MOV (inverted
// wide immediate)", "MOV (bitmask immediate)", "MOV (register)", "MOV
// (to/from SP)").

import type { Instruction } from "../../backend.ts";
import { encodeBitmask, wideShift } from "../bitmask.ts";
import { lateImmediate, word } from "../fixups.ts";
import { OperandError, SHIFTS, lateError, type Operands, type ShiftOp } from "../operands.ts";
import type { GReg } from "../registers.ts";
import { rm, rn, sameWidth, sfOf, type HandlerTable } from "./common.ts";

/** Logical (immediate): sf opc 100100 N immr imms Rn Rd. */
const LOGICAL_IMM = 0x12000000;
/** Logical (shifted register): sf opc 01010 shift N Rm imm6 Rn Rd. */
const LOGICAL_SHIFTED = 0x0a000000;
/** Move wide (immediate): sf opc 100101 hw imm16 Rd; opc 00 MOVN, 10 MOVZ, 11 MOVK. */
const MOVE_WIDE = 0x12800000;
export const MOVN = 0, MOVZ = 2, MOVK = 3;
/** ADD (immediate), for MOV to/from SP. */
const ADD_IMM = 0x11000000;

/** The logical immediate instruction, or undefined if the value is not a bitmask immediate. */
function encodeLogicalImm(value: bigint, sf: number, opc: number, d: number, n: number): number | undefined {
  const f = encodeBitmask(value, sf ? 64 : 32);
  if (!f) return undefined;
  return ((sf << 31) | (opc << 29) | LOGICAL_IMM | (f.N << 22) | (f.immr << 16) | (f.imms << 10) | (n << 5) | d) >>> 0;
}

function encodeMoveWide(sf: number, opc: number, hw: number, imm16: number, d: number): number {
  return ((sf << 31) | (opc << 29) | MOVE_WIDE | (hw << 21) | (imm16 << 5) | d) >>> 0;
}

/**
 * MOV Rd, #imm as GNU as chooses it (fix_mov_imm_insn): MOVZ if one 16-bit
 * chunk holds every set bit, else MOVN if one holds every clear bit, else
 * ORR with a bitmask immediate. SP can only be written by ORR.
 */
export function encodeMovImm(value: bigint, d: GReg): number {
  const width = d.width;
  const sf = sfOf(d);
  if (d.kind !== "sp") {
    const z = wideShift(value, width);
    if (z !== undefined) return encodeMoveWide(sf, MOVZ, z / 16, Number((BigInt.asUintN(64, value) >> BigInt(z)) & 0xffffn), d.num);
    const inverted = ~value;
    const n = wideShift(inverted, width);
    if (n !== undefined) return encodeMoveWide(sf, MOVN, n / 16, Number((BigInt.asUintN(64, inverted) >> BigInt(n)) & 0xffffn), d.num);
  }
  const orr = encodeLogicalImm(value, sf, 1, d.num, 31);
  if (orr === undefined) lateError("immediate cannot be moved by a single instruction");
  return orr;
}

/** The shifted-register operand "Rm{, shift #amount}" with any of the four shifts. */
function shiftedRegister(ops: Operands, i: number, width: 32 | 64): { m: GReg; shift: number; amount: number } {
  const m = ops.reg(i);
  if (m.width !== width) throw new OperandError("operand mismatch");
  const mod = ops.modifier(i + 1);
  const shift = SHIFTS.indexOf((mod?.op ?? "lsl") as ShiftOp);
  if (shift < 0) throw new OperandError("shift operator expected", i + 1);
  const amount = mod?.amount ?? 0;
  if (amount >= width) throw new OperandError(`shift amount out of range 0 to ${width - 1}`, i + 1);
  return { m, shift, amount };
}

function logicalShifted(sf: number, opc: number, N: number, d: number, n: number, s: { m: GReg; shift: number; amount: number }): number {
  return ((sf << 31) | (opc << 29) | LOGICAL_SHIFTED | (s.shift << 22) | (N << 21) | rm(s.m) | (s.amount << 10) | (n << 5) | d) >>> 0;
}

/** The immediate form with its messages: a known bad value is refused on the line, a late one when it becomes known. */
function logicalImmediate(ops: Operands, i: number, sf: number, opc: number, d: number, n: number, invert: boolean): Instruction {
  const imm = ops.imm(i);
  if (imm.value !== undefined) {
    const w = encodeLogicalImm(invert ? ~imm.value : imm.value, sf, opc, d, n);
    if (w === undefined) throw new OperandError("immediate out of range", i + 1);
    return word(w);
  }
  return lateImmediate(imm, (v) => encodeLogicalImm(invert ? ~v : v, sf, opc, d, n) ?? lateError("invalid immediate"));
}

/**
 * AND/ORR/EOR/ANDS (opc) and their inverted-register forms BIC/ORN/EON/BICS
 * (N = 1). BIC also takes an immediate, as AND with its complement.
 */
function logical(opc: number, N: number) {
  return (ops: Operands, mnemonic: string): Instruction => {
    ops.allow(4, 3);
    if (!ops.isReg(2)) {
      if (N && mnemonic !== "bic") throw new OperandError("integer register expected in the extended/shifted operand register", 3);
      noShift(ops, 3);
      // ANDS writes the zero register; the others may write SP.
      const d = ops.reg(0, opc === 3 ? "zr" : "sp");
      const n = ops.reg(1);
      sameWidth(d, n);
      return logicalImmediate(ops, 2, sfOf(d), opc, d.num, n.num, N === 1);
    }
    const d = ops.reg(0);
    const n = ops.reg(1);
    sameWidth(d, n);
    return word(logicalShifted(sfOf(d), opc, N, d.num, n.num, shiftedRegister(ops, 2, d.width)));
  };
}

/** TST Rn, #imm | Rm{, shift} = ANDS ZR, Rn, ... */
function tst(ops: Operands): Instruction {
  ops.allow(3, 2);
  const n = ops.reg(0);
  if (!ops.isReg(1)) {
    noShift(ops, 2);
    return logicalImmediate(ops, 1, sfOf(n), 3, 31, n.num, false);
  }
  return word(logicalShifted(sfOf(n), 3, 0, 31, n.num, shiftedRegister(ops, 1, n.width)));
}

/** MVN Rd, Rm{, shift} = ORN Rd, ZR, Rm{, shift}. */
function mvn(ops: Operands): Instruction {
  ops.allow(3, 2);
  const d = ops.reg(0);
  return word(logicalShifted(sfOf(d), 1, 1, d.num, 31, shiftedRegister(ops, 1, d.width)));
}

function mov(ops: Operands): Instruction {
  ops.allow(2);
  const d = ops.reg(0, "any");
  if (ops.isReg(1)) {
    const m = ops.reg(1, "any");
    if (d.width !== m.width) throw new OperandError("operand mismatch");
    if (ops.length > 2) {
      // GNU as also takes MOV Rd, Rm, shift #n, as ORR Rd, ZR, Rm, shift #n.
      ops.allow(3, 2);
      if (d.kind === "sp") throw new OperandError("operand 1 must be an integer register");
      return word(logicalShifted(sfOf(d), 1, 0, d.num, 31, shiftedRegister(ops, 1, d.width)));
    }
    if (d.kind === "sp" || m.kind === "sp") {
      // MOV (to/from SP) = ADD Rd, Rn, #0.
      if (d.kind === "zr" || m.kind === "zr") throw new OperandError("operand mismatch");
      return word((sfOf(d) << 31) | ADD_IMM | rn(m) | d.num);
    }
    // MOV (register) = ORR Rd, ZR, Rm.
    return word(logicalShifted(sfOf(d), 1, 0, d.num, 31, { m, shift: 0, amount: 0 }));
  }
  const imm = ops.imm(1);
  if (imm.reloc) throw new OperandError("bad expression", 2);
  return lateImmediate(imm, (v) => encodeMovImm(v, d));
}

/** UXTW Rd, Wn: GNU as writes it as MOV Wd, Wn (the upper half is zeroed anyway). */
function uxtw(ops: Operands): Instruction {
  ops.allow(2);
  const d = ops.reg(0), n = ops.reg(1);
  if (n.width !== 32) throw new OperandError("operand mismatch");
  return word(logicalShifted(0, 1, 0, d.num, 31, { m: n, shift: 0, amount: 0 }));
}

/** An immediate operand i - 1 that must not be followed by a shift. */
function noShift(ops: Operands, i: number): void {
  const extra = ops.items[i];
  if (extra !== undefined) {
    const isShift = /^(lsl|lsr|asr|ror)\b/i.test(extra);
    throw new OperandError(isShift ? "unexpected shift operator" : "unexpected characters following instruction", i);
  }
}

/** MOVZ/MOVN/MOVK Rd, #imm16{, LSL #0|16|32|48}. */
function moveWide(opc: number) {
  return (ops: Operands): Instruction => {
    ops.allow(3, 2);
    const d = ops.reg(0);
    const sf = sfOf(d);
    const mod = ops.modifier(2);
    let shift = 0;
    if (mod) {
      if (mod.op !== "lsl") throw new OperandError("only 'LSL' shift is permitted", 2);
      shift = mod.amount ?? 0;
      if (shift % 16) throw new OperandError("shift amount must be a multiple of 16", 2);
      if (shift >= d.width) throw new OperandError(`shift amount out of range 0 to ${d.width - 16}`, 2);
    }
    return lateImmediate(ops.imm(1), (v) => {
      if (v < 0n || v > 0xffffn) lateError("immediate out of range");
      return encodeMoveWide(sf, opc, shift / 16, Number(v), d.num);
    });
  };
}

export const LOGICAL: HandlerTable = {
  and: logical(0, 0),
  bic: logical(0, 1),
  orr: logical(1, 0),
  orn: logical(1, 1),
  eor: logical(2, 0),
  eon: logical(2, 1),
  ands: logical(3, 0),
  bics: logical(3, 1),
  tst,
  mvn,
  mov,
  uxtw,
  movn: moveWide(MOVN),
  movz: moveWide(MOVZ),
  movk: moveWide(MOVK),
};
