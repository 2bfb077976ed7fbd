// SPDX-License-Identifier: MIT
//
// The A64 decoded-instruction cache: the hottest encodings, with their
// fields taken apart once (registers, the scaled offset, the logical
// immediate's mask, the branch displacement), so that the run loop executes
// them from one entry instead of decoding the word every time. It shares the
// x86-64 cache's memory, tags and generation (x86/cpu/code.ts; a machine has
// one architecture), direct-mapped by the instruction's physical address.
//
// An entry is made only from a page the run loop holds in its fetch window,
// which is a page whose bytes are RAM's as the fetch sees them (execute.ts
// fetch()); the page is marked PAGE_CODE (phys/pages.ts), and anything that
// writes RAM in such a page makes the entries of the words it writes stale
// (a64CodeWritten): a CPU's store (mem.ts quickHost, access.ts), a line the
// data caches write back to RAM, a walker's Access-flag write-back; the host
// makes every entry stale (code.ts flushDecoded). So a decoded instruction
// is always the word RAM holds, which is what the fetch would read: the
// architecture's rules for modifying code (DDI0487 B2.4.4) are met as they
// were without the cache. A64 instructions are aligned words, so a store
// reaches exactly the entries of the words it overlaps, and data that shares
// a page with code costs a store no more than a look at those entries.
//
// Entry (DECODE_ENTRY_SIZE = 32 bytes):
//    0 tag u64    PA | generation << 52 (code.ts decodedTag)
//    8 insn u32   the word
//   12 form u8    F_*: how the run loop executes it (F_WORD: from the word)
//   13 rd u8      Rd or Rt      14 rn u8      15 rm u8 (or cond, or bit)
//   16 imm u64    immediate, scaled offset, mask or displacement
//   24 size u32   access size in bytes, shift amount, or sf

import { decodeCache, DECODE_ENTRIES, CNT_SMC_FLUSH } from "../../layout";
import { count } from "../../cpu";
import { decodedTag } from "../../x86/cpu/code";
import { decodeBitMasks, wmask, sext } from "./alu";

export const D_TAG: u32 = 0;
export const D_INSN: u32 = 8;
export const D_FORM: u32 = 12;
export const D_RD: u32 = 13;
export const D_RN: u32 = 14;
export const D_RM: u32 = 15;
export const D_IMM: u32 = 16;
export const D_SIZE: u32 = 24;

/** Not taken apart: the run loop decodes the word as it always did. */
export const F_WORD: u8 = 0;
/** ADD / SUB (immediate), 64-bit, no flags: Xd|SP = Xn|SP ± imm (imm negated for SUB). */
export const F_ADD_IMM: u8 = 1;
/** SUBS (immediate), 64-bit (CMP): Xd = Xn|SP - imm, NZCV. */
export const F_SUBS_IMM: u8 = 2;
/** ADDS (immediate), 64-bit (CMN). */
export const F_ADDS_IMM: u8 = 3;
/** AND / ORR / EOR (immediate), 64-bit: Xd|SP = Xn op mask. */
export const F_AND_IMM: u8 = 4;
export const F_ORR_IMM: u8 = 5;
export const F_EOR_IMM: u8 = 6;
/** ADD / SUB (shifted register, LSL), 64-bit, no flags. */
export const F_ADD_REG: u8 = 7;
export const F_SUB_REG: u8 = 8;
/** SUBS (shifted register, LSL), 64-bit (CMP). */
export const F_SUBS_REG: u8 = 9;
/** AND / ORR / EOR (shifted register, LSL, not inverted), 64-bit (ORR with XZR is MOV). */
export const F_AND_REG: u8 = 10;
export const F_ORR_REG: u8 = 11;
export const F_EOR_REG: u8 = 12;
/** LDR / LDRB / LDRH, LDR (W), STR…: unsigned offset (imm = the scaled offset). */
export const F_LOAD_IMM: u8 = 13;
export const F_STORE_IMM: u8 = 14;
/** The same with a register offset, LSL (option UXTX) by 0 or the size: imm = the shift. */
export const F_LOAD_REG: u8 = 15;
export const F_STORE_REG: u8 = 16;
/** B, BL, B.cond (rm = cond), CBZ / CBNZ (size = sf), TBZ / TBNZ (rm = bit): imm = the displacement. */
export const F_B: u8 = 17;
export const F_BL: u8 = 18;
export const F_B_COND: u8 = 19;
export const F_CBZ: u8 = 20;
export const F_CBNZ: u8 = 21;
export const F_TBZ: u8 = 22;
export const F_TBNZ: u8 = 23;

/** The entry of the instruction at pa. */
@inline export function a64Entry(pa: u64): usize {
  return decodeCache + ((<usize>(pa >> 2) & (DECODE_ENTRIES - 1)) << 5);
}

/**
 * A store of `size` bytes at pa (within one page) reached a page that holds
 * decoded code: the entries of the words it overlaps are stale. Counted
 * (codeWriteFlushes) when it made one stale.
 */
export function a64CodeWritten(pa: u64, size: u32): void {
  let hit = false;
  for (let w = pa & ~<u64>3; w < pa + size; w += 4) {
    const e = a64Entry(w);
    if (load<u64>(e, D_TAG) == decodedTag(w)) {
      store<u64>(e, 0, D_TAG);
      hit = true;
    }
  }
  if (hit) count(CNT_SMC_FLUSH);
}

/** Fills entry d with insn taken apart (its tag is the caller's). */
export function a64Decode(d: usize, insn: u32): void {
  store<u32>(d, insn, D_INSN);
  store<u64>(d, 0, D_IMM);
  store<u32>(d, 0, D_SIZE);
  store<u8>(d, <u8>(insn & 31), D_RD);
  store<u8>(d, <u8>((insn >> 5) & 31), D_RN);
  store<u8>(d, <u8>((insn >> 16) & 31), D_RM);
  store<u8>(d, formOf(d, insn), D_FORM);
}

/** The form of insn, with its immediate and size written into d; F_WORD for anything else. */
function formOf(d: usize, insn: u32): u8 {
  const sf = (insn >> 31) != 0;
  // ADD/ADDS/SUB/SUBS (immediate), C6.2.4: sf op S 100010 sh imm12 Rn Rd.
  if ((insn & 0x1F80_0000) == 0x1100_0000 && sf) {
    let imm = <u64>((insn >> 10) & 0xFFF);
    if (insn & (1 << 22)) imm <<= 12;
    const sub = (insn >> 30) & 1;
    const s = (insn >> 29) & 1;
    store<u64>(d, imm, D_IMM);
    if (!s) {
      if (sub) store<u64>(d, 0 - imm, D_IMM);
      return F_ADD_IMM;
    }
    return sub ? F_SUBS_IMM : F_ADDS_IMM;
  }
  // Logical (immediate), C6.2.12: sf opc 100100 N immr imms Rn Rd; not ANDS.
  if ((insn & 0x1F80_0000) == 0x1200_0000 && sf) {
    const opc = (insn >> 29) & 3;
    if (opc == 3 || !decodeBitMasks((insn >> 22) & 1, (insn >> 10) & 63, (insn >> 16) & 63, true, true)) return F_WORD;
    store<u64>(d, wmask, D_IMM);
    return opc == 0 ? F_AND_IMM : opc == 1 ? F_ORR_IMM : F_EOR_IMM;
  }
  // ADD/ADDS/SUB/SUBS (shifted register), C6.2.5, LSL only: sf op S 01011 00 0 Rm imm6 Rn Rd.
  if ((insn & 0x1FE0_0000) == 0x0B00_0000 && sf) {
    store<u32>(d, (insn >> 10) & 63, D_SIZE);
    const sub = (insn >> 30) & 1;
    const s = (insn >> 29) & 1;
    if (!s) return sub ? F_SUB_REG : F_ADD_REG;
    return sub ? F_SUBS_REG : F_WORD;
  }
  // Logical (shifted register), C6.2.13, LSL, N = 0: sf opc 01010 00 0 Rm imm6 Rn Rd; not ANDS.
  if ((insn & 0x1FE0_0000) == 0x0A00_0000 && sf) {
    const opc = (insn >> 29) & 3;
    if (opc == 3) return F_WORD;
    store<u32>(d, (insn >> 10) & 63, D_SIZE);
    return opc == 0 ? F_AND_REG : opc == 1 ? F_ORR_REG : F_EOR_REG;
  }
  // LDR/STR/LDRB/STRB/LDRH/STRH (unsigned offset, or register offset with
  // option UXTX/LSL), C6.2.x: size 111 0 01 opc imm12 Rn Rt, or size 111 0 00
  // opc 1 Rm option S 10 Rn Rt; opc 0 (store) or 1 (zero-extending load).
  const opc = (insn >> 22) & 3;
  if ((insn & 0x3F00_0000) == 0x3900_0000 && opc <= 1) {
    const size = insn >> 30;
    store<u64>(d, <u64>((insn >> 10) & 0xFFF) << size, D_IMM);
    store<u32>(d, 1 << size, D_SIZE);
    return opc ? F_LOAD_IMM : F_STORE_IMM;
  }
  if ((insn & 0x3F20_EC00) == 0x3820_6800 && opc <= 1) {
    const size = insn >> 30;
    store<u64>(d, (insn >> 12) & 1 ? size : 0, D_IMM);
    store<u32>(d, 1 << size, D_SIZE);
    return opc ? F_LOAD_REG : F_STORE_REG;
  }
  // Branches, C4.1.87.
  if ((insn & 0x7C00_0000) == 0x1400_0000) {
    store<u64>(d, sext(<u64>(insn & 0x3FF_FFFF) << 2, 28), D_IMM);
    return insn >> 31 ? F_BL : F_B;
  }
  if ((insn & 0xFF00_0010) == 0x5400_0000) {
    store<u64>(d, sext(<u64>((insn >> 5) & 0x7FFFF) << 2, 21), D_IMM);
    store<u8>(d, <u8>(insn & 15), D_RM);
    return F_B_COND;
  }
  if ((insn & 0x7E00_0000) == 0x3400_0000) {
    store<u64>(d, sext(<u64>((insn >> 5) & 0x7FFFF) << 2, 21), D_IMM);
    store<u32>(d, insn >> 31, D_SIZE);
    return (insn >> 24) & 1 ? F_CBNZ : F_CBZ;
  }
  if ((insn & 0x7E00_0000) == 0x3600_0000) {
    store<u64>(d, sext(<u64>((insn >> 5) & 0x3FFF) << 2, 16), D_IMM);
    store<u8>(d, <u8>(((insn >> 26) & 32) | ((insn >> 19) & 31)), D_RM);
    return (insn >> 24) & 1 ? F_TBNZ : F_TBZ;
  }
  return F_WORD;
}
