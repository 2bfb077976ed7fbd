// SPDX-License-Identifier: MIT
//
// Data processing -- immediate (DDI0487 C4.1.86), with the aliases objdump
// prefers: MOV for MOVZ/MOVN/ORR and for ADD #0 with SP, CMP/CMN, TST,
// the shift, extend and bitfield-move aliases of SBFM/BFM/UBFM, and ROR
// for EXTR. The preference rules are those of DDI0487 C6.2 (each alias's
// "preferred disassembly" condition) as binutils implements them.

import { decodeBitmask, encodeBitmask, wideShift } from "../bitmask.ts";
import { immDec, immHex, instSource, type Insn } from "../format.ts";
import { xOrW } from "../registers.ts";
import { bit, bits, rdOf, rnOf, signExtend, type DecodeContext, type DecodeResult } from "./fields.ts";

/** ADR/ADRP: op immlo 10000 immhi Rd. ADRP counts 4KB pages from the instruction's page. */
function pcRelAddressing(w: number, ctx: DecodeContext): Insn {
  const imm = signExtend((bits(w, 23, 5) << 2) | bits(w, 30, 29), 21);
  const page = bit(w, 31);
  const target = page ? BigInt.asUintN(64, (ctx.address & ~0xfffn) + (imm << 12n)) : BigInt.asUintN(64, ctx.address + imm);
  return { mnemonic: page ? "adrp" : "adr", operands: [xOrW(rdOf(w), 1), { target }] };
}

/** ADD/ADDS/SUB/SUBS (immediate): sf op S 100010 sh imm12 Rn Rd. */
function addSubImmediate(w: number): DecodeResult {
  const sf = bit(w, 31), op = bit(w, 30), S = bit(w, 29), sh = bit(w, 22);
  const imm12 = bits(w, 21, 10), n = rnOf(w), d = rdOf(w);
  const shift = sh ? ["lsl #12"] : [];
  // MOV (to/from SP) = ADD Rd, Rn, #0 with Rd or Rn SP.
  if (!op && !S && !sh && imm12 === 0 && (d === 31 || n === 31)) {
    return { mnemonic: "mov", operands: [xOrW(d, sf, true), xOrW(n, sf, true)] };
  }
  if (S && d === 31) {
    return { mnemonic: op ? "cmp" : "cmn", operands: [xOrW(n, sf, true), immHex(imm12), ...shift] };
  }
  return { mnemonic: (op ? "sub" : "add") + (S ? "s" : ""), operands: [xOrW(d, sf, !S), xOrW(n, sf, true), immHex(imm12), ...shift] };
}

/** MOV's immediate as objdump prints it: "#0x%-20x" and a decimal comment, signed at the register's width. */
function movImmediate(mnemonic: string, d: string, value: bigint, width: 32 | 64): Insn {
  const v = BigInt.asUintN(width, value);
  return {
    mnemonic,
    operands: [d, ("#0x" + v.toString(16)).padEnd(23)],
    comment: `\t// #${BigInt.asIntN(width, v)}`,
  };
}

const LOGICAL = ["and", "orr", "eor", "ands"];

/** AND/ORR/EOR/ANDS (immediate): sf opc 100100 N immr imms Rn Rd. */
function logicalImmediate(w: number): DecodeResult {
  const sf = bit(w, 31), opc = bits(w, 30, 29);
  const width = sf ? 64 : 32;
  const fields = { N: bit(w, 22), immr: bits(w, 21, 16), imms: bits(w, 15, 10) };
  const value = decodeBitmask(fields, width);
  if (value === undefined) return undefined;
  const insn = logicalImmediateAlias(sf, opc, rnOf(w), rdOf(w), value, width);
  // An element smaller than the register ignores the upper immr bits; GNU as writes them as zeros.
  const canonical = encodeBitmask(value, width);
  if (canonical?.immr !== fields.immr || canonical.imms !== fields.imms || canonical.N !== fields.N) insn.source = instSource(w);
  return insn;
}

function logicalImmediateAlias(sf: number, opc: number, n: number, d: number, value: bigint, width: 32 | 64): Insn {
  // MOV (bitmask immediate) unless MOVZ or MOVN could make the value (binutils convert_movebitmask_to_mov).
  if (opc === 1 && n === 31 && (d === 31 || (wideShift(value, width) === undefined && wideShift(~value, width) === undefined))) {
    return movImmediate("mov", xOrW(d, sf, true), value, width);
  }
  if (opc === 3 && d === 31) return { mnemonic: "tst", operands: [xOrW(n, sf), immHex(value)] };
  return { mnemonic: LOGICAL[opc]!, operands: [xOrW(d, sf, opc !== 3), xOrW(n, sf), immHex(value)] };
}

/** MOVN/MOVZ/MOVK: sf opc 100101 hw imm16 Rd. */
function moveWide(w: number): DecodeResult {
  const sf = bit(w, 31), opc = bits(w, 30, 29), hw = bits(w, 22, 21);
  if (opc === 1 || (!sf && hw >= 2)) return undefined;
  const imm16 = bits(w, 20, 5), d = xOrW(rdOf(w), sf);
  const width = sf ? 64 : 32;
  const shift = hw ? [`lsl #${hw * 16}`] : [];
  const plain: Insn = { mnemonic: ["movn", "", "movz", "movk"][opc]!, operands: [d, immHex(imm16), ...shift] };
  if (opc === 3 || (imm16 === 0 && hw !== 0)) return plain;
  const value = BigInt(imm16) << BigInt(hw * 16);
  if (opc === 2) return movImmediate("mov", d, value, width);
  // MOV (inverted wide immediate) unless MOVZ could make the value.
  if (wideShift(~value, width) !== undefined) return plain;
  return movImmediate("mov", d, ~value, width);
}

/**
 * BFXPreferred(sf, uns, imms, immr) (DDI0487 J1 shared/functions): UBFX and
 * SBFX unless a shift or extend alias fits better.
 */
function bfxPreferred(sf: number, uns: number, imms: number, immr: number): boolean {
  if (imms < immr) return false;
  if (imms === (sf ? 63 : 31)) return false;
  if (immr === 0) {
    if (!sf && (imms === 7 || imms === 15)) return false;
    if (sf && !uns && (imms === 7 || imms === 15 || imms === 31)) return false;
  }
  return true;
}

/** SBFM/BFM/UBFM: sf opc 100110 N immr imms Rn Rd, printed by their aliases. */
function bitfield(w: number): DecodeResult {
  const sf = bit(w, 31), opc = bits(w, 30, 29), N = bit(w, 22);
  const immr = bits(w, 21, 16), imms = bits(w, 15, 10);
  if (opc === 3 || N !== sf || (!sf && (immr >= 32 || imms >= 32))) return undefined;
  const n = rnOf(w), d = rdOf(w);
  const width = sf ? 64 : 32;
  const top = width - 1;
  const rd = xOrW(d, sf), rn = xOrW(n, sf);
  const field = (name: string, lsb: number, len: number): Insn => ({ mnemonic: name, operands: [rd, rn, immDec(lsb), immDec(len)] });
  const insert = (name: string) => field(name, (width - immr) % width, imms + 1);
  const extract = (name: string) => field(name, immr, imms - immr + 1);
  if (opc === 1) {
    if (imms < immr) {
      if (n === 31) {
        const lsb = (width - immr) % width;
        return { mnemonic: "bfc", operands: [rd, immDec(lsb), immDec(imms + 1)], source: `bfi ${rd}, ${rn}, #${lsb}, #${imms + 1}` };
      }
      return insert("bfi");
    }
    return extract("bfxil");
  }
  const unsigned = opc === 2;
  if (imms === top) return { mnemonic: unsigned ? "lsr" : "asr", operands: [rd, rn, immDec(immr)] };
  if (unsigned && imms + 1 === immr) return { mnemonic: "lsl", operands: [rd, rn, immDec(top - imms)] };
  if (imms < immr) return insert(unsigned ? "ubfiz" : "sbfiz");
  if (bfxPreferred(sf, opc >> 1, imms, immr)) return extract(unsigned ? "ubfx" : "sbfx");
  // What is left is an extend: immr = 0 and imms = 7, 15 or 31; the source is always a W register.
  const size = { 7: "b", 15: "h", 31: "w" }[imms];
  return { mnemonic: (unsigned ? "uxt" : "sxt") + size, operands: [rd, xOrW(n, 0)] };
}

/** EXTR: sf 00 100111 N 0 Rm imms Rn Rd; ROR (immediate) when Rn = Rm. */
function extract(w: number): DecodeResult {
  const sf = bit(w, 31), imms = bits(w, 15, 10);
  if (bits(w, 30, 29) !== 0 || bit(w, 21) !== 0 || bit(w, 22) !== sf || (!sf && imms >= 32)) return undefined;
  const n = rnOf(w), m = bits(w, 20, 16);
  if (n === m) return { mnemonic: "ror", operands: [xOrW(rdOf(w), sf), xOrW(n, sf), immDec(imms)] };
  return { mnemonic: "extr", operands: [xOrW(rdOf(w), sf), xOrW(n, sf), xOrW(m, sf), immDec(imms)] };
}

/** Data processing -- immediate, by op0<25:23>. */
export function decodeDataProcessingImmediate(w: number, ctx: DecodeContext): DecodeResult {
  switch (bits(w, 25, 23)) {
    case 0b000:
    case 0b001: return pcRelAddressing(w, ctx);
    case 0b010: return addSubImmediate(w);
    case 0b100: return logicalImmediate(w);
    case 0b101: return moveWide(w);
    case 0b110: return bitfield(w);
    case 0b111: return extract(w);
    default: return undefined;
  }
}
