// SPDX-License-Identifier: MIT
//
// SBFM, BFM, UBFM and their aliases (ASR, LSL, LSR by immediate; SBFX,
// UBFX, BFXIL; SBFIZ, UBFIZ, BFI, BFC; SXTB, SXTH, SXTW, UXTB, UXTH), EXTR
// and ROR (immediate), and the variable shifts LSLV/LSRV/ASRV/RORV
// (DDI0487 C4.1.86 "Bitfield", "Extract", C4.1.90 "Data-processing
// (2 source)"; the aliases in C6.2).

import type { Instruction } from "../../backend.ts";
import { word } from "../fixups.ts";
import { OperandError, type Operands } from "../operands.ts";
import type { GReg } from "../registers.ts";
import { constantIn, rm, rn, sameWidth, sfOf, type HandlerTable } from "./common.ts";

/** Bitfield: sf opc 100110 N immr imms Rn Rd; opc 00 SBFM, 01 BFM, 10 UBFM; N = sf. */
const BITFIELD = 0x13000000;
export const SBFM = 0, BFM = 1, UBFM = 2;
/** Extract: sf 00 100111 N 0 Rm imms Rn Rd. */
const EXTRACT = 0x13800000;
/** Data-processing (2 source): sf 0 0 11010110 Rm opcode Rn Rd. */
const DP2 = 0x1ac00000;
/** DP2 opcodes of the variable shifts, in the order LSL, LSR, ASR, ROR. */
const SHIFTV = [0b001000, 0b001001, 0b001010, 0b001011];

function encodeBitfield(sf: number, opc: number, immr: number, imms: number, n: number, d: number): Instruction {
  return word((sf << 31) | (opc << 29) | BITFIELD | (sf << 22) | (immr << 16) | (imms << 10) | (n << 5) | d);
}

function twoRegs(ops: Operands): [GReg, GReg] {
  const d = ops.reg(0);
  const n = ops.reg(1);
  sameWidth(d, n);
  return [d, n];
}

/** SBFM/BFM/UBFM Rd, Rn, #immr, #imms. */
function bitfield(opc: number) {
  return (ops: Operands): Instruction => {
    ops.allow(4);
    const [d, n] = twoRegs(ops);
    const top = d.width - 1;
    return encodeBitfield(sfOf(d), opc, constantIn(ops, 2, 0, top), constantIn(ops, 3, 0, top), n.num, d.num);
  };
}

/** The <width> operand after <lsb>: 1 to (datasize - lsb), with GNU as's wording when only 1 fits. */
function fieldWidth(ops: Operands, i: number, lsb: number, datasize: number): number {
  const max = datasize - lsb;
  if (max === 1) {
    const v = ops.constant(i);
    if (v !== 1n) throw new OperandError("immediate value must be 1", i + 1);
    return 1;
  }
  return constantIn(ops, i, 1, max);
}

/** SBFX/UBFX/BFXIL Rd, Rn, #lsb, #width = xBFM Rd, Rn, #lsb, #(lsb + width - 1). */
function extractField(opc: number) {
  return (ops: Operands): Instruction => {
    ops.allow(4);
    const [d, n] = twoRegs(ops);
    const lsb = constantIn(ops, 2, 0, d.width - 1);
    const width = fieldWidth(ops, 3, lsb, d.width);
    return encodeBitfield(sfOf(d), opc, lsb, lsb + width - 1, n.num, d.num);
  };
}

/** SBFIZ/UBFIZ/BFI Rd, Rn, #lsb, #width = xBFM Rd, Rn, #(-lsb MOD datasize), #(width - 1); BFC Rd, #lsb, #width has Rn = ZR. */
function insertField(opc: number, clear = false) {
  return (ops: Operands): Instruction => {
    ops.allow(clear ? 3 : 4);
    const d = ops.reg(0);
    const n = clear ? 31 : ops.reg(1);
    if (typeof n !== "number") sameWidth(d, n);
    const first = clear ? 1 : 2;
    const lsb = constantIn(ops, first, 0, d.width - 1);
    const width = fieldWidth(ops, first + 1, lsb, d.width);
    return encodeBitfield(sfOf(d), opc, (d.width - lsb) % d.width, width - 1, typeof n === "number" ? n : n.num, d.num);
  };
}

/**
 * SXTB/SXTH/SXTW Rd, Wn = SBFM Rd, Rn, #0, #7|15|31 (SXTW only to X);
 * UXTB/UXTH Wd, Wn = UBFM Wd, Wn, #0, #7|15. GNU as also takes an X
 * destination for UXTB/UXTH and encodes the 32-bit form.
 */
function extend(opc: number, imms: number) {
  return (ops: Operands): Instruction => {
    ops.allow(2);
    const d = ops.reg(0);
    const n = ops.reg(1);
    if (n.width !== 32) throw new OperandError("operand mismatch");
    if (opc === UBFM) return encodeBitfield(0, opc, 0, imms, n.num, d.num);
    if (imms === 31 && d.width !== 64) throw new OperandError("operand mismatch");
    return encodeBitfield(sfOf(d), opc, 0, imms, n.num, d.num);
  };
}

/** EXTR Rd, Rn, Rm, #lsb. */
function extr(ops: Operands): Instruction {
  ops.allow(4);
  const d = ops.reg(0), n = ops.reg(1), m = ops.reg(2);
  sameWidth(d, n, m);
  const sf = sfOf(d);
  const lsb = constantIn(ops, 3, 0, d.width - 1);
  return word((sf << 31) | EXTRACT | (sf << 22) | rm(m) | (lsb << 10) | rn(n) | d.num);
}

/**
 * LSL/LSR/ASR/ROR Rd, Rn, #shift (bitfield or extract aliases) or Rd, Rn, Rm
 * (the variable shifts). `kind` indexes SHIFTV.
 */
function shift(kind: number) {
  return (ops: Operands): Instruction => {
    ops.allow(3);
    const [d, n] = twoRegs(ops);
    const sf = sfOf(d);
    if (ops.isReg(2)) {
      const m = ops.reg(2);
      sameWidth(d, m);
      return word((sf << 31) | DP2 | rm(m) | (SHIFTV[kind]! << 10) | rn(n) | d.num);
    }
    const top = d.width - 1;
    const s = constantIn(ops, 2, 0, top);
    switch (kind) {
      case 0: return encodeBitfield(sf, UBFM, (d.width - s) % d.width, top - s, n.num, d.num);
      case 1: return encodeBitfield(sf, UBFM, s, top, n.num, d.num);
      case 2: return encodeBitfield(sf, SBFM, s, top, n.num, d.num);
      default: return word((sf << 31) | EXTRACT | (sf << 22) | rm(n) | (s << 10) | rn(n) | d.num);
    }
  };
}

/** LSLV/LSRV/ASRV/RORV Rd, Rn, Rm. */
function shiftVariable(kind: number) {
  return (ops: Operands): Instruction => {
    ops.allow(3);
    const [d, n] = twoRegs(ops);
    const m = ops.reg(2);
    sameWidth(d, m);
    return word((sfOf(d) << 31) | DP2 | rm(m) | (SHIFTV[kind]! << 10) | rn(n) | d.num);
  };
}

export const BITFIELD_OPS: HandlerTable = {
  sbfm: bitfield(SBFM),
  bfm: bitfield(BFM),
  ubfm: bitfield(UBFM),
  sbfx: extractField(SBFM),
  bfxil: extractField(BFM),
  ubfx: extractField(UBFM),
  sbfiz: insertField(SBFM),
  bfi: insertField(BFM),
  ubfiz: insertField(UBFM),
  bfc: insertField(BFM, true),
  sxtb: extend(SBFM, 7),
  sxth: extend(SBFM, 15),
  sxtw: extend(SBFM, 31),
  uxtb: extend(UBFM, 7),
  uxth: extend(UBFM, 15),
  extr,
  lsl: shift(0),
  lsr: shift(1),
  asr: shift(2),
  ror: shift(3),
  lslv: shiftVariable(0),
  lsrv: shiftVariable(1),
  asrv: shiftVariable(2),
  rorv: shiftVariable(3),
};
