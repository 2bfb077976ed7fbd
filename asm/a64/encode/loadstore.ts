// SPDX-License-Identifier: MIT
//
// Loads and stores of one register (unsigned offset, unscaled, pre- and
// post-index, register offset, literal) and of a pair (DDI0487 C4.1.88
// "Loads and Stores": "Load/store register (unsigned immediate)", "(unscaled
// immediate)", "(immediate pre-indexed)", "(immediate post-indexed)",
// "(register offset)", "Load register (literal)", "Load/store register
// pair"). Like GNU as, LDR/STR with an offset the unsigned form cannot hold
// become LDUR/STUR when it fits in nine signed bits.

import type { Instruction } from "../../backend.ts";
import { PCREL, lateImmediate, lo12Fixup, pcRelFixup, word } from "../fixups.ts";
import { OperandError, lateError, type Imm, type Mem, type Operands } from "../operands.ts";
import type { GReg } from "../registers.ts";
import { sfOf, type HandlerTable } from "./common.ts";

/** size 111 V 01 opc imm12 Rn Rt. */
const LDST_UNSIGNED = 0x39000000;
/** size 111 V 00 opc 0 imm9 xx Rn Rt; xx = 00 unscaled, 01 post-index, 11 pre-index. */
const LDST_IMM9 = 0x38000000;
const POST_INDEX = 0x400, PRE_INDEX = 0xc00;
/** size 111 V 00 opc 1 Rm option S 10 Rn Rt. */
const LDST_REGISTER = 0x38200800;
/** opc 011 V 00 imm19 Rt. */
const LDR_LITERAL = 0x18000000;
/** opc 101 V 0 mode L imm7 Rt2 Rn Rt; mode 001 post-index, 010 offset, 011 pre-index. */
const LDST_PAIR = 0x28000000;

/** One load/store mnemonic: the size field (log2 of bytes) and opc, from the register width where they depend on it. */
interface SingleForm {
  size: (rt: GReg) => number;
  opc: (rt: GReg) => number;
  /** Which views of Rt the mnemonic takes. */
  rt: 32 | 64 | "both";
  /** LDUR and friends: unscaled offsets only. */
  unscaled?: boolean;
  /** opc of LDR (literal) for this mnemonic, if it has a literal form. */
  literal?: (rt: GReg) => number;
}

const bySize = (size: number) => () => size;
const fromWidth = (rt: GReg) => (rt.width === 64 ? 3 : 2);
const fixed = (opc: number) => () => opc;
/** LDRSB/LDRSH: opc 10 sign-extends to 64 bits, 11 to 32. */
const signed = (rt: GReg) => (rt.width === 64 ? 2 : 3);

const STR: SingleForm = { size: fromWidth, opc: fixed(0), rt: "both" };
const LDR: SingleForm = { size: fromWidth, opc: fixed(1), rt: "both", literal: (rt) => sfOf(rt) };
const STRB: SingleForm = { size: bySize(0), opc: fixed(0), rt: 32 };
const LDRB: SingleForm = { size: bySize(0), opc: fixed(1), rt: 32 };
const STRH: SingleForm = { size: bySize(1), opc: fixed(0), rt: 32 };
const LDRH: SingleForm = { size: bySize(1), opc: fixed(1), rt: 32 };
const LDRSB: SingleForm = { size: bySize(0), opc: signed, rt: "both" };
const LDRSH: SingleForm = { size: bySize(1), opc: signed, rt: "both" };
const LDRSW: SingleForm = { size: bySize(2), opc: fixed(2), rt: 64, literal: () => 2 };

const unscaled = (f: SingleForm): SingleForm => ({ size: f.size, opc: f.opc, rt: f.rt, unscaled: true });

function imm9Fits(v: bigint): boolean {
  return v >= -256n && v <= 255n;
}

function encodeImm9(base: number, v: bigint): number {
  return (base | (Number(BigInt.asUintN(9, v)) << 12)) >>> 0;
}

/** [Xn, #imm] with LDR/STR: the scaled unsigned offset if it fits, else the unscaled one (GNU as md_apply_fix, ldst_lo12 and ldur fallback). */
function encodeOffset(value: bigint, size: number, sizeOpcRnRt: number): number {
  const scale = 1n << BigInt(size);
  if (value >= 0n && value % scale === 0n && value / scale <= 0xfffn) {
    return (LDST_UNSIGNED | sizeOpcRnRt | (Number(value / scale) << 10)) >>> 0;
  }
  if (imm9Fits(value)) return encodeImm9(LDST_IMM9 | sizeOpcRnRt, value);
  return lateError("immediate offset out of range");
}

/** A pre/post-index or unscaled offset: refused on the line if known, late otherwise. */
function imm9(imm: Imm, base: number, operand: number): Instruction {
  if (imm.reloc) throw new OperandError("relocation not allowed", operand);
  if (imm.value !== undefined && !imm9Fits(imm.value)) throw new OperandError("immediate offset out of range -256 to 255", operand);
  return lateImmediate(imm, (v) => (imm9Fits(v) ? encodeImm9(base, v) : lateError("immediate offset out of range")));
}

/** [Xn, Rm{, extend|lsl #amount}]: option and S for an access of 2^size bytes. */
function registerOffset(mem: Extract<Mem, { mode: "reg" }>, size: number, operand: number): number {
  const op = mem.modifier?.op ?? "lsl";
  const options: Record<string, number> = { uxtw: 0b010, lsl: 0b011, sxtw: 0b110, sxtx: 0b111 };
  const option = options[op];
  if (option === undefined) throw new OperandError("invalid shift for the register offset addressing mode", operand);
  const wantsW = op === "uxtw" || op === "sxtw";
  if (wantsW && mem.index.width !== 32) throw new OperandError("invalid use of 64-bit register offset", operand);
  if (!wantsW && mem.index.width !== 64) throw new OperandError("invalid use of 32-bit register offset", operand);
  const amount = mem.modifier?.amount;
  if (amount !== undefined && amount !== 0 && amount !== size) throw new OperandError("invalid shift amount", operand);
  // S says the index is scaled by the access size; for bytes an explicit "#0" sets it.
  const S = amount === undefined ? 0 : size === 0 ? 1 : amount === size && amount !== 0 ? 1 : 0;
  return (option << 13) | (S << 12) | (mem.index.num << 16);
}

function single(form: SingleForm) {
  return (ops: Operands): Instruction => {
    ops.allow(3, 2);
    const rt = ops.reg(0);
    if (form.rt !== "both" && rt.width !== form.rt) throw new OperandError("operand mismatch");
    const size = form.size(rt);
    const opc = form.opc(rt);
    const addrText = ops.text(1);
    if (!addrText.startsWith("[")) {
      if (!form.literal) throw new OperandError("invalid addressing mode", 2);
      if (addrText.startsWith("=")) throw new OperandError("literal pools are not supported", 2);
      ops.allow(2);
      const target = ops.imm(1);
      return word((form.literal(rt) << 30) | LDR_LITERAL | rt.num, [pcRelFixup(target.expr, PCREL.literal19)]);
    }
    const mem = ops.mem(1);
    const sizeOpcRnRt = (size << 30) | (opc << 22) | (mem.base.num << 5) | rt.num;
    if (ops.length === 3) {
      if (mem.mode !== "offset" || mem.offset) throw new OperandError("unexpected characters following instruction", 2);
      if (form.unscaled) throw new OperandError("invalid addressing mode", 2);
      return imm9(ops.imm(2, true), LDST_IMM9 | POST_INDEX | sizeOpcRnRt, 2);
    }
    if (mem.mode === "pre") {
      if (form.unscaled) throw new OperandError("invalid addressing mode", 2);
      return imm9(mem.offset, LDST_IMM9 | PRE_INDEX | sizeOpcRnRt, 2);
    }
    if (mem.mode === "reg") {
      if (form.unscaled) throw new OperandError("invalid addressing mode", 2);
      return word(LDST_REGISTER | sizeOpcRnRt | registerOffset(mem, size, 2));
    }
    const offset = mem.offset;
    if (form.unscaled) {
      if (!offset) return word(LDST_IMM9 | sizeOpcRnRt);
      return imm9(offset, LDST_IMM9 | sizeOpcRnRt, 2);
    }
    if (!offset) return word(LDST_UNSIGNED | sizeOpcRnRt);
    if (offset.reloc === "lo12") {
      const bytes = (1 << size) as 1 | 2 | 4 | 8;
      if (offset.value !== undefined) {
        const lo = offset.value & 0xfffn;
        if (lo % BigInt(bytes)) lateError(`relocation truncated to fit: R_AARCH64_LDST${bytes * 8}_ABS_LO12_NC`);
        return word(LDST_UNSIGNED | sizeOpcRnRt | (Number(lo / BigInt(bytes)) << 10));
      }
      return word(LDST_UNSIGNED | sizeOpcRnRt, [lo12Fixup(offset.expr, bytes)]);
    }
    return lateImmediate(offset, (v) => encodeOffset(v, size, sizeOpcRnRt));
  };
}

/** LDP/STP/LDPSW: opc 00 (W), 10 (X), 01 (LDPSW); the offset is imm7 scaled by the register size. */
function pair(L: number, signedWord = false) {
  return (ops: Operands): Instruction => {
    ops.allow(4, 3);
    const t1 = ops.reg(0), t2 = ops.reg(1);
    if (t1.width !== t2.width || (signedWord && t1.width !== 64)) throw new OperandError("operand mismatch");
    const opc = signedWord ? 1 : t1.width === 64 ? 2 : 0;
    const scale = signedWord || t1.width === 32 ? 4 : 8;
    const mem = ops.mem(2);
    if (mem.mode === "reg") throw new OperandError("invalid addressing mode", 3);
    let mode = 0b010;
    let offset: Imm | undefined = mem.offset;
    if (ops.length === 4) {
      if (mem.mode !== "offset" || mem.offset) throw new OperandError("unexpected characters following instruction", 3);
      mode = 0b001;
      offset = ops.imm(3, true);
    } else if (mem.mode === "pre") mode = 0b011;
    const base = ((opc << 30) | LDST_PAIR | (mode << 23) | (L << 22) | (t2.num << 10) | (mem.base.num << 5) | t1.num) >>> 0;
    if (!offset) return word(base);
    if (offset.reloc) throw new OperandError("relocation not allowed", 3);
    const s = BigInt(scale);
    const fits = (v: bigint) => v % s === 0n && v / s >= -64n && v / s <= 63n;
    if (offset.value !== undefined) {
      if (offset.value % s) throw new OperandError(`immediate value must be a multiple of ${scale}`, 3);
      if (!fits(offset.value)) throw new OperandError(`immediate offset out of range ${-64 * scale} to ${63 * scale}`, 3);
    }
    return lateImmediate(offset, (v) =>
      fits(v) ? (base | (Number(BigInt.asUintN(7, v / s)) << 15)) >>> 0 : lateError("immediate offset out of range"),
    );
  };
}

export const LOADSTORE: HandlerTable = {
  str: single(STR),
  ldr: single(LDR),
  strb: single(STRB),
  ldrb: single(LDRB),
  strh: single(STRH),
  ldrh: single(LDRH),
  ldrsb: single(LDRSB),
  ldrsh: single(LDRSH),
  ldrsw: single(LDRSW),
  stur: single(unscaled(STR)),
  ldur: single(unscaled(LDR)),
  sturb: single(unscaled(STRB)),
  ldurb: single(unscaled(LDRB)),
  sturh: single(unscaled(STRH)),
  ldurh: single(unscaled(LDRH)),
  ldursb: single(unscaled(LDRSB)),
  ldursh: single(unscaled(LDRSH)),
  ldursw: single(unscaled(LDRSW)),
  stp: pair(0),
  ldp: pair(1),
  ldpsw: pair(1, true),
};
