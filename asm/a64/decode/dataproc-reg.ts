// SPDX-License-Identifier: MIT
//
// Data processing -- register (DDI0487 C4.1.90), with objdump's aliases:
// MOV, MVN, TST, NEG, NEGS, CMP, CMN, NGC, MUL, MNEG, SMULL, UMULL, CSET,
// CSETM, CINC, CINV, CNEG, and LSL/LSR/ASR/ROR for the variable shifts.

import { conditionComment, conditionName, invertCondition } from "../conditions.ts";
import { immHex, instSource, type Insn } from "../format.ts";
import { EXTENDS, SHIFTS } from "../operands.ts";
import { xOrW } from "../registers.ts";
import { bit, bits, rdOf, rmOf, rnOf, type DecodeResult } from "./fields.ts";

/** "Rm" or "Rm, shift #amount": objdump leaves out only LSL #0. */
function joinShift(m: string, shift: number, amount: number): string {
  return shift === 0 && amount === 0 ? m : `${m}, ${SHIFTS[shift]} #${amount}`;
}

const LOGICAL = [["and", "bic"], ["orr", "orn"], ["eor", "eon"], ["ands", "bics"]];

/** Logical (shifted register): sf opc 01010 shift N Rm imm6 Rn Rd. */
function logicalShifted(w: number): DecodeResult {
  const sf = bit(w, 31), opc = bits(w, 30, 29), shift = bits(w, 23, 22), N = bit(w, 21), imm6 = bits(w, 15, 10);
  if (!sf && imm6 >= 32) return undefined;
  const d = rdOf(w), n = rnOf(w);
  const rm = joinShift(xOrW(rmOf(w), sf), shift, imm6);
  if (opc === 1 && n === 31) {
    if (!N && shift === 0 && imm6 === 0) return { mnemonic: "mov", operands: [xOrW(d, sf), rm] };
    if (N) return { mnemonic: "mvn", operands: [xOrW(d, sf), rm] };
  }
  if (opc === 3 && !N && d === 31) return { mnemonic: "tst", operands: [xOrW(n, sf), rm] };
  return { mnemonic: LOGICAL[opc]![N]!, operands: [xOrW(d, sf), xOrW(n, sf), rm] };
}

/** ADD/ADDS/SUB/SUBS (shifted register): sf op S 01011 shift 0 Rm imm6 Rn Rd. */
function addSubShifted(w: number): DecodeResult {
  const sf = bit(w, 31), op = bit(w, 30), S = bit(w, 29), shift = bits(w, 23, 22), imm6 = bits(w, 15, 10);
  if (shift === 3 || (!sf && imm6 >= 32)) return undefined;
  const d = rdOf(w), n = rnOf(w);
  const rm = joinShift(xOrW(rmOf(w), sf), shift, imm6);
  if (S && d === 31) return { mnemonic: op ? "cmp" : "cmn", operands: [xOrW(n, sf), rm] };
  if (op && n === 31) return { mnemonic: S ? "negs" : "neg", operands: [xOrW(d, sf), rm] };
  return { mnemonic: (op ? "sub" : "add") + (S ? "s" : ""), operands: [xOrW(d, sf), xOrW(n, sf), rm] };
}

/**
 * ADD/ADDS/SUB/SUBS (extended register): sf op S 01011 00 1 Rm option imm3 Rn Rd.
 * With SP as Rd or Rn, UXTX (UXTW for 32 bits) prints as LSL, and an amount
 * of 0 is never printed (binutils aarch64_print_operand, Rm_EXT).
 */
function addSubExtended(w: number): DecodeResult {
  const sf = bit(w, 31), op = bit(w, 30), S = bit(w, 29), option = bits(w, 15, 13), imm3 = bits(w, 12, 10);
  if (bits(w, 23, 22) !== 0 || imm3 > 4) return undefined;
  const d = rdOf(w), n = rnOf(w);
  const isX = sf && (option & 3) === 3;
  const m = xOrW(rmOf(w), isX ? 1 : 0);
  const alias = S && d === 31;
  const spNearby = (!alias && !S && d === 31) || n === 31;
  let ext: string = EXTENDS[option]!;
  if (spNearby && ((sf && option === 3) || (!sf && option === 2))) ext = "lsl";
  const rm = ext === "lsl" && imm3 === 0 ? m : imm3 ? `${m}, ${ext} #${imm3}` : `${m}, ${ext}`;
  if (alias) return { mnemonic: op ? "cmp" : "cmn", operands: [xOrW(n, sf, true), rm] };
  return { mnemonic: (op ? "sub" : "add") + (S ? "s" : ""), operands: [xOrW(d, sf, !S), xOrW(n, sf, true), rm] };
}

/** ADC/ADCS/SBC/SBCS: sf op S 11010000 Rm 000000 Rn Rd; NGC/NGCS when Rn = ZR. */
function withCarry(w: number): DecodeResult {
  if (bits(w, 15, 10) !== 0) return undefined;
  const sf = bit(w, 31), op = bit(w, 30), S = bit(w, 29), n = rnOf(w);
  const suffix = S ? "s" : "";
  if (op && n === 31) return { mnemonic: "ngc" + suffix, operands: [xOrW(rdOf(w), sf), xOrW(rmOf(w), sf)] };
  return { mnemonic: (op ? "sbc" : "adc") + suffix, operands: [xOrW(rdOf(w), sf), xOrW(n, sf), xOrW(rmOf(w), sf)] };
}

/** A condition operand and objdump's comment naming its other spellings. */
function withCondition(insn: Insn, cond: number): Insn {
  const comment = conditionComment(cond);
  insn.operands.push(conditionName(cond));
  if (comment) insn.comment = `\t// ${comment}`;
  return insn;
}

/** CCMN/CCMP: sf op 1 11010010 Rm|imm5 cond i 0 Rn 0 nzcv. */
function condCompare(w: number): DecodeResult {
  if (!bit(w, 29) || bit(w, 10) || bit(w, 4)) return undefined;
  const sf = bit(w, 31), op = bit(w, 30);
  const second = bit(w, 11) ? immHex(rmOf(w)) : xOrW(rmOf(w), sf);
  return withCondition({ mnemonic: op ? "ccmp" : "ccmn", operands: [xOrW(rnOf(w), sf), second, immHex(bits(w, 3, 0))] }, bits(w, 15, 12));
}

/** CSEL/CSINC/CSINV/CSNEG: sf op S 11010100 Rm cond op2 Rn Rd. */
function condSelect(w: number): DecodeResult {
  const sf = bit(w, 31), op = bit(w, 30), op2 = bits(w, 11, 10);
  if (bit(w, 29) || op2 > 1) return undefined;
  const d = xOrW(rdOf(w), sf), n = rnOf(w), m = rmOf(w), cond = bits(w, 15, 12);
  const names = [["csel", "csinc"], ["csinv", "csneg"]][op]![op2]!;
  if (cond < 14) {
    const inverse = invertCondition(cond);
    // CSET/CSETM Rd, cond = CSINC/CSINV Rd, ZR, ZR, invert(cond).
    if (n === 31 && m === 31 && op2 !== op) return withCondition({ mnemonic: op ? "csetm" : "cset", operands: [d] }, inverse);
    // CINC/CINV/CNEG Rd, Rn, cond = CSINC/CSINV/CSNEG Rd, Rn, Rn, invert(cond).
    if (n === m && (op || op2)) return withCondition({ mnemonic: ["cinc", "cinv", "cneg"][op * 2 + op2 - 1]!, operands: [d, xOrW(n, sf)] }, inverse);
  }
  return withCondition({ mnemonic: names, operands: [d, xOrW(n, sf), xOrW(m, sf)] }, cond);
}

/** Data-processing (2 source): UDIV, SDIV and the variable shifts, which objdump prints as LSL/LSR/ASR/ROR. */
const DP2: Readonly<Record<number, string>> = { 0b000010: "udiv", 0b000011: "sdiv", 0b001000: "lsl", 0b001001: "lsr", 0b001010: "asr", 0b001011: "ror" };

function dataProcessing2(w: number): DecodeResult {
  const name = DP2[bits(w, 15, 10)];
  if (!name || bit(w, 29)) return undefined;
  const sf = bit(w, 31);
  return { mnemonic: name, operands: [xOrW(rdOf(w), sf), xOrW(rnOf(w), sf), xOrW(rmOf(w), sf)] };
}

/** Data-processing (1 source): sf 1 S 11010110 opcode2 opcode Rn Rd. */
function dataProcessing1(w: number): DecodeResult {
  const sf = bit(w, 31), opcode = bits(w, 15, 10);
  if (bit(w, 29) || bits(w, 20, 16) !== 0) return undefined;
  const names = sf ? ["rbit", "rev16", "rev32", "rev", "clz", "cls"] : ["rbit", "rev16", "rev", undefined, "clz", "cls"];
  const name = names[opcode];
  if (!name) return undefined;
  return { mnemonic: name, operands: [xOrW(rdOf(w), sf), xOrW(rnOf(w), sf)] };
}

/** Data-processing (3 source): sf op54 11011 op31 Rm o0 Ra Rn Rd; the "Ra = ZR" forms print as MUL, MNEG, SMULL, ... */
const DP3: Readonly<Record<number, [string, string, string, string]>> = {
  0b000: ["madd", "msub", "mul", "mneg"],
  0b001: ["smaddl", "smsubl", "smull", "smnegl"],
  0b101: ["umaddl", "umsubl", "umull", "umnegl"],
};

function dataProcessing3(w: number): DecodeResult {
  const sf = bit(w, 31), op31 = bits(w, 23, 21), o0 = bit(w, 15), a = bits(w, 14, 10);
  if (bits(w, 30, 29) !== 0 || (!sf && op31 !== 0)) return undefined;
  const d = rdOf(w), n = rnOf(w), m = rmOf(w);
  if (op31 === 0b010 || op31 === 0b110) {
    if (o0) return undefined;
    const insn: Insn = { mnemonic: op31 === 0b010 ? "smulh" : "umulh", operands: [xOrW(d, 1), xOrW(n, 1), xOrW(m, 1)] };
    // objdump ignores Ra, which should be 11111.
    if (a !== 31) insn.source = instSource(w);
    return insn;
  }
  const names = DP3[op31];
  if (!names) return undefined;
  const wide = op31 !== 0;
  const src = wide ? 0 : sf;
  const ops = [xOrW(d, sf), xOrW(n, src), xOrW(m, src)];
  if (a === 31) return { mnemonic: names[2 + o0]!, operands: ops };
  return { mnemonic: names[o0]!, operands: [...ops, xOrW(a, sf)] };
}

/** Data processing -- register, by op1<28>, op2<24:21>. */
export function decodeDataProcessingRegister(w: number): DecodeResult {
  if (!bit(w, 28)) {
    if (!bit(w, 24)) return logicalShifted(w);
    return bit(w, 21) ? addSubExtended(w) : addSubShifted(w);
  }
  switch (bits(w, 24, 21)) {
    case 0b0000: return withCarry(w);
    case 0b0010: return condCompare(w);
    case 0b0100: return condSelect(w);
    case 0b0110: return bit(w, 30) ? dataProcessing1(w) : dataProcessing2(w);
    default: return bit(w, 24) ? dataProcessing3(w) : undefined;
  }
}

