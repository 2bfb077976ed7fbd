// SPDX-License-Identifier: MIT
//
// Bit operations compiled C reaches through shifts of wide values and the
// __builtin_ctz / clz / popcount / bswap family: SHLD, SHRD, BSF, BSR,
// TZCNT, LZCNT, POPCNT and BSWAP (SDM Vol.2A/2B, each instruction's
// "Operation" and "Flags Affected").
//
// Flags the SDM leaves undefined are given the values current Intel
// processors produce where that is simple (SF, ZF and PF of the result after
// a double shift, the other flags of BSF/BSR cleared as POPCNT clears them);
// the differential test against the host masks them.

import { D_SUB, D_IMM, D_FLAGS, D_RM, D_REG, F_CL, SCAN_BSF, SCAN_BSR, SCAN_TZCNT, SCAN_LZCNT } from "./ops";
import { gpr, readReg, writeReg, sizeMask, signBit, RCX } from "./state";
import { faulted } from "./fault";
import { materialize, setArithFlags, resultFlags, FLAG_CF, FLAG_OF, FLAG_ZF, ARITH_FLAGS } from "./flags";
import { readE, effectiveAddress, isMemOperand } from "./operands";
import { readMem, writeMem, dataKind } from "./mem";

/**
 * SHLD / SHRD Ev, Gv, count (SDM Vol.2B SHLD, SHRD). The count is masked to
 * 5 bits (6 with REX.W); a masked count of 0 changes nothing, flags
 * included. CF is the last bit shifted out of the destination; OF (defined
 * for a count of 1) says whether the sign changed. A 16-bit operand with a
 * count above 16 has an undefined result; this gives what shifting the
 * 32-bit concatenation gives.
 */
export function shiftDouble(d: usize, size: u32, nextRip: u64): void {
  const right = load<u8>(d, D_SUB) != 0;
  const countIn: u32 = load<u8>(d, D_FLAGS) & F_CL ? <u32>gpr(RCX) : <u32>load<u64>(d, D_IMM);
  const count: u32 = countIn & (size == 8 ? 63 : 31);
  const mask = sizeMask(size);
  const inMemory = isMemOperand(d);
  const va = inMemory ? effectiveAddress(d, nextRip) : 0;
  const kind = dataKind(true);
  const rm = <u32>load<u8>(d, D_RM);
  // The destination is read (and translated for a write) even for a count of 0, as a fault would show.
  const dest = inMemory ? readMem(va, size, kind) & mask : readReg(rm, size);
  if (faulted()) return;
  if (count == 0) {
    // The flags stay, but a 32-bit register destination is still written, so its upper half clears
    // (as the host processor does; the differential test checks it).
    if (!inMemory && size == 4) writeReg(rm, 4, dest);
    return;
  }
  const src = readReg(<u32>load<u8>(d, D_REG), size);
  const bits: u32 = size << 3;
  let r: u64;
  let cf: u64;
  if (size == 8) {
    const n = <u64>count;
    if (right) {
      r = (dest >> n) | (src << (64 - n));
      cf = (dest >> (n - 1)) & 1;
    } else {
      r = (dest << n) | (src >> (64 - n));
      cf = (dest >> (64 - n)) & 1;
    }
  } else if (right) {
    // src:dest as one value of up to 64 bits, shifted right; a count past the operand size takes bits of src's copy again.
    const wide = (src << <u64>bits) | dest;
    const n = <u64>count;
    r = ((wide >> n) | (n > <u64>bits ? dest << (<u64>(bits << 1) - n) : 0)) & mask;
    cf = (wide >> (n - 1)) & 1;
  } else {
    const wide = (dest << <u64>bits) | src;
    const n = <u64>count;
    r = ((wide << n) >> <u64>bits) & mask;
    if (n > <u64>bits) r = (r | (dest >> (<u64>(bits << 1) - n))) & mask;
    cf = (wide >> (<u64>(bits << 1) - n)) & 1;
  }
  r &= mask;
  const signChanged = ((r ^ dest) & signBit(size)) != 0;
  const f = materialize();
  setArithFlags((f & ~ARITH_FLAGS) | resultFlags(r, size) | (cf ? FLAG_CF : 0) | (signChanged ? FLAG_OF : 0));
  if (inMemory) writeMem(va, size, r, kind);
  else writeReg(rm, size, r);
}

/**
 * BSF, BSR, TZCNT, LZCNT and POPCNT Gv, Ev. BSF and BSR with a zero source
 * set ZF and leave the destination as it was (every processor does, and AMD
 * documents it); TZCNT and LZCNT give the operand size and set CF; POPCNT
 * clears every flag but ZF.
 */
export function bitScan(d: usize, size: u32, nextRip: u64): void {
  const src = readE(d, size, nextRip) & sizeMask(size);
  if (faulted()) return;
  const sub = load<u8>(d, D_SUB);
  const reg = <u32>load<u8>(d, D_REG);
  const bits = <u64>size << 3;
  const f = materialize() & ~ARITH_FLAGS;
  if (sub == SCAN_BSF || sub == SCAN_BSR) {
    if (src == 0) {
      setArithFlags(f | FLAG_ZF);
      return;
    }
    const r: u64 = sub == SCAN_BSF ? ctz(src) : 63 - clz(src);
    writeReg(reg, size, r);
    setArithFlags(f);
    return;
  }
  if (sub == SCAN_TZCNT || sub == SCAN_LZCNT) {
    const r: u64 = src == 0 ? bits : sub == SCAN_TZCNT ? ctz(src) : clz(src) - (64 - bits);
    writeReg(reg, size, r);
    setArithFlags(f | (src == 0 ? FLAG_CF : 0) | (r == 0 ? FLAG_ZF : 0));
    return;
  }
  writeReg(reg, size, popcnt(src));
  setArithFlags(f | (src == 0 ? FLAG_ZF : 0));
}

/**
 * BSWAP r32 / r64. With a 16-bit operand the result is undefined (SDM
 * Vol.2A BSWAP); Intel processors clear the register's low word, and so
 * does this.
 */
export function byteSwap(d: usize, size: u32): void {
  const r = <u32>load<u8>(d, D_RM);
  const v = gpr(r);
  if (size == 8) writeReg(r, 8, bswap<u64>(v));
  else if (size == 4) writeReg(r, 4, <u64>bswap<u32>(<u32>v));
  else writeReg(r, 2, 0);
}
