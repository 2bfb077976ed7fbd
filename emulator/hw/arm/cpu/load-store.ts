// SPDX-License-Identifier: MIT
//
// The A64 loads and stores (DDI0487 C4.1.85 "Loads and Stores"): single
// registers in every addressing mode, literals, pairs, exclusives,
// load-acquire/store-release and the LSE atomics, through mem.ts. Only the
// single-register forms may reach a device (an MMIO exit); their base
// register is written back even then, since the access itself completes
// in the host.

import { ARM_SCTLR_EL1, MMIO_SIGNED, MMIO_W, MMIO_WB } from "../../layout";
import { XLATE_FAILED } from "../../tlb/micro";
import { armReg } from "../regs";
import { currentEl, xr, setX, xsp, setXsp } from "./state";
import { pending, raiseSync, raiseUndef, PEND_NONE, PEND_SYNC, PEND_EXIT, EC_SP_ALIGN, exitResumePc, curPc } from "./exception";
import { extendReg, ones, sext } from "./alu";
import {
  readData, writeData, probeWrite, atomicPa, atomicRead, atomicWrite, setMonitor, takeMonitor, NO_MMIO,
} from "./mem";
import { simdFp } from "./sysreg";

// ── Loads and stores, C4.1.85 ────────────────────────────────────────────────

/** The base register Xn|SP of an access; with Rn = SP, SP alignment is checked (SCTLR_EL1.SA / SA0). */
function baseAddress(rn: u32): u64 {
  const base = xsp(rn);
  if (rn == 31 && (base & 15)) {
    const sctlr = armReg(ARM_SCTLR_EL1);
    if (sctlr & (currentEl() == 0 ? 0x10 : 0x8)) raiseSync(EC_SP_ALIGN, 0);
  }
  return base;
}

export function loadStore(insn: u32, pc: u64): void {
  if (insn & (1 << 26)) {
    // SIMD&FP registers.
    simdFp();
    return;
  }
  if ((insn & 0x3B00_0000) == 0x1800_0000) {
    loadLiteral(insn, pc);
    return;
  }
  if ((insn & 0x3F00_0000) == 0x0800_0000) {
    exclusiveOrdered(insn);
    return;
  }
  if ((insn & 0x3A00_0000) == 0x2800_0000) {
    loadStorePair(insn);
    return;
  }
  if ((insn & 0x3B20_0000) == 0x3800_0000) {
    // Unscaled immediate, post-index, unprivileged, pre-index.
    const idx = (insn >> 10) & 3;
    if (idx == 2) {
      raiseUndef();
      return;
    }
    const off = sext(<u64>((insn >> 12) & 0x1FF), 9);
    loadStoreSingle(insn, off, idx == 1 ? 1 : idx == 3 ? 2 : 0);
    return;
  }
  if ((insn & 0x3B20_0000) == 0x3820_0000) {
    const kind = (insn >> 10) & 3;
    if (kind == 2) {
      // Register offset: Xm extended by option, scaled by the size when S.
      const option = (insn >> 13) & 7;
      if (!(option & 2)) {
        raiseUndef();
        return;
      }
      const size = insn >> 30;
      const shift = (insn >> 12) & 1 ? size : 0;
      loadStoreSingle(insn, extendReg(xr((insn >> 16) & 31), option, shift), 0);
      return;
    }
    if (kind == 0) {
      atomicMemory(insn);
      return;
    }
    raiseUndef();
    return;
  }
  if ((insn & 0x3B00_0000) == 0x3900_0000) {
    const size = insn >> 30;
    loadStoreSingle(insn, <u64>((insn >> 10) & 0xFFF) << size, 0);
    return;
  }
  raiseUndef();
}

/**
 * LDR/STR/LDRB/…/LDRSW (immediate and register forms). writeback: 0 none,
 * 1 post-index, 2 pre-index. The only loads and stores that may be MMIO.
 */
function loadStoreSingle(insn: u32, offset: u64, writeback: u32): void {
  const size = insn >> 30;
  const opc = (insn >> 22) & 3;
  const rn = (insn >> 5) & 31;
  const rt = insn & 31;
  const bytes: u32 = 1 << size;
  if (opc == 2 && size == 3) {
    // PRFM / PRFUM: a hint; the pre/post-index forms are unallocated.
    if (writeback) raiseUndef();
    return;
  }
  if (opc == 3 && size >= 2) {
    raiseUndef();
    return;
  }
  if (writeback && rn == rt && rn != 31 && opc != 0) {
    // Load with writeback to its own base: CONSTRAINED UNPREDICTABLE; UNDEFINED here.
    raiseUndef();
    return;
  }
  const base = baseAddress(rn);
  if (pending != PEND_NONE) return;
  const va = writeback == 1 ? base : base + offset;
  const wb: u32 = writeback ? MMIO_WB : 0;
  if (opc == 0) {
    writeData(va, bytes, xr(rt), <i32>(rt | wb), false);
  } else {
    const signed = opc >= 2;
    const w = opc == 3;
    const v = readData(va, bytes, <i32>(rt | wb | (signed ? MMIO_SIGNED : 0) | (w ? MMIO_W : 0)), false);
    if (pending == PEND_SYNC) return;
    if (pending == PEND_NONE) setX(rt, extendLoaded(v, bytes, signed, w));
  }
  // A fault, or a trap to EL2 (a stage-2 abort, retried once the hypervisor
  // has resolved it), leaves the instruction undone, base register included;
  // only an MMIO exit completes it.
  if (pending == PEND_SYNC || (pending == PEND_EXIT && exitResumePc == curPc)) return;
  if (writeback) setXsp(rn, base + offset);
}

/** A loaded value as the destination takes it: zero- or sign-extended to 64 bits, or to 32 for a W register. */
export function extendLoaded(v: u64, bytes: u32, signed: bool, w: bool): u64 {
  if (!signed) return v;
  const s = sext(v, bytes << 3);
  return w ? s & 0xFFFF_FFFF : s;
}

/** LDR (literal) W, X, LDRSW; PRFM (literal). */
function loadLiteral(insn: u32, pc: u64): void {
  const opc = insn >> 30;
  if (opc == 3) return;
  const va = pc + sext(<u64>((insn >> 5) & 0x7FFFF) << 2, 21);
  const rt = insn & 31;
  const bytes: u32 = opc == 0 ? 4 : opc == 1 ? 8 : 4;
  const v = readData(va, bytes, <i32>(rt | (opc == 2 ? MMIO_SIGNED : 0)), false);
  if (pending == PEND_NONE) setX(rt, opc == 2 ? sext(v, 32) : v);
}

/** LDP/STP/LDPSW/LDNP/STNP (offset, pre-index, post-index). */
function loadStorePair(insn: u32): void {
  const opc = insn >> 30;
  const load = (insn >> 22) & 1;
  const type = (insn >> 23) & 3;
  if (opc == 3 || (opc == 1 && !load)) {
    raiseUndef();
    return;
  }
  const bytes: u32 = opc == 2 ? 8 : 4;
  const signed = opc == 1;
  const offset = sext(<u64>((insn >> 15) & 0x7F), 7) << (opc == 2 ? 3 : 2);
  const rt = insn & 31;
  const rt2 = (insn >> 10) & 31;
  const rn = (insn >> 5) & 31;
  const writeback = type == 1 || type == 3;
  if (load && (rt == rt2 || (writeback && rn != 31 && (rn == rt || rn == rt2)))) {
    raiseUndef();
    return;
  }
  const base = baseAddress(rn);
  if (pending != PEND_NONE) return;
  const va = type == 1 ? base : base + offset;
  if (load) {
    const a = readData(va, bytes, NO_MMIO, false);
    if (pending != PEND_NONE) return;
    const b = readData(va + bytes, bytes, NO_MMIO, false);
    if (pending != PEND_NONE) return;
    setX(rt, signed ? sext(a, 32) : a);
    setX(rt2, signed ? sext(b, 32) : b);
  } else {
    // Both halves must be writable before either is written.
    if (!probeWrite(va + bytes * 2 - 1)) return;
    writeData(va, bytes, xr(rt), NO_MMIO, false);
    if (pending != PEND_NONE) return;
    writeData(va + bytes, bytes, xr(rt2), NO_MMIO, false);
    if (pending != PEND_NONE) return;
  }
  if (writeback) setXsp(rn, base + offset);
}

/** LDXR/STXR/LDAXR/STLXR and the pairs, LDAR/STLR (and LDLAR/STLLR), CAS/CASA/CASL/CASAL and CASP. */
function exclusiveOrdered(insn: u32): void {
  const size = insn >> 30;
  const bytes: u32 = 1 << size;
  const o2 = (insn >> 23) & 1;
  const l = (insn >> 22) & 1;
  const o1 = (insn >> 21) & 1;
  const rs = (insn >> 16) & 31;
  const rt2 = (insn >> 10) & 31;
  const rn = (insn >> 5) & 31;
  const rt = insn & 31;
  if (o1 && o2) {
    if (rt2 != 31) {
      raiseUndef();
      return;
    }
    compareAndSwap(bytes, rs, rn, rt);
    return;
  }
  if (o1) {
    // With o2 = 0 and o1 = 1, sizes 32 and 64 are the exclusive pairs and sizes 8 and 16 are CASP (C4.1.85).
    if (size >= 2) exclusivePair(insn, rs, rt2, rn, rt);
    else compareAndSwapPair(size, rs, rt2, rn, rt);
    return;
  }
  const va = baseAddress(rn);
  if (pending != PEND_NONE) return;
  if (o2) {
    // Load-acquire / store-release: ordinary accesses here, but they must be aligned.
    if (l) {
      const v = readData(va, bytes, NO_MMIO, true);
      if (pending == PEND_NONE) setX(rt, v);
    } else writeData(va, bytes, xr(rt), NO_MMIO, true);
    return;
  }
  if (l) {
    const pa = atomicPa(va, bytes, false);
    if (pa & XLATE_FAILED) return;
    const v = atomicRead(pa, bytes);
    setMonitor(pa);
    setX(rt, v);
    return;
  }
  const pa = atomicPa(va, bytes, true);
  if (pa & XLATE_FAILED) return;
  const v = xr(rt);
  if (takeMonitor(pa)) {
    atomicWrite(pa, bytes, v);
    setX(rs, 0);
  } else setX(rs, 1);
}

/** CAS: if [Xn] equals Rs, write Rt; Rs gets the old value either way. */
function compareAndSwap(bytes: u32, rs: u32, rn: u32, rt: u32): void {
  const va = baseAddress(rn);
  if (pending != PEND_NONE) return;
  const pa = atomicPa(va, bytes, true, true);
  if (pa & XLATE_FAILED) return;
  const mask = ones(bytes << 3);
  const old = atomicRead(pa, bytes);
  if (old == (xr(rs) & mask)) atomicWrite(pa, bytes, xr(rt) & mask);
  setX(rs, old);
}

/**
 * LDXP/LDAXP/STXP/STLXP (DDI0487 C6.2 LDXP, STXP): two registers of 32 or
 * 64 bits from or to [Xn], the first at the lower address, as one
 * single-copy-atomic access of twice their size (so aligned to it). The
 * monitor works as for LDXR/STXR; Ws gets 0 when the store happened.
 */
function exclusivePair(insn: u32, rs: u32, rt2: u32, rn: u32, rt: u32): void {
  const bytes: u32 = (insn >> 30) == 3 ? 8 : 4;
  const load = ((insn >> 22) & 1) != 0;
  const va = baseAddress(rn);
  if (pending != PEND_NONE) return;
  const pa = atomicPa(va, bytes << 1, !load);
  if (pa & XLATE_FAILED) return;
  if (load) {
    const lo = atomicRead(pa, bytes);
    const hi = atomicRead(pa + bytes, bytes);
    setMonitor(pa);
    setX(rt, lo);
    setX(rt2, hi);
    return;
  }
  if (takeMonitor(pa)) {
    const mask = ones(bytes << 3);
    atomicWrite(pa, bytes, xr(rt) & mask);
    atomicWrite(pa + bytes, bytes, xr(rt2) & mask);
    setX(rs, 0);
  } else setX(rs, 1);
}

/**
 * CASP/CASPA/CASPL/CASPAL (DDI0487 C6.2 CASP): compares the pair at [Xn]
 * with <Rs, Rs+1> and, when both are equal, writes <Rt, Rt+1>; <Rs, Rs+1>
 * get the old pair either way. Rs and Rt must be even (odd ones are
 * UNDEFINED here, one of the CONSTRAINED UNPREDICTABLE choices) and Rt2
 * (bits 14:10) all ones.
 */
function compareAndSwapPair(size: u32, rs: u32, rt2: u32, rn: u32, rt: u32): void {
  if (rt2 != 31 || (rs & 1) != 0 || (rt & 1) != 0) {
    raiseUndef();
    return;
  }
  const bytes: u32 = size == 1 ? 8 : 4;
  const va = baseAddress(rn);
  if (pending != PEND_NONE) return;
  const pa = atomicPa(va, bytes << 1, true, true);
  if (pa & XLATE_FAILED) return;
  const mask = ones(bytes << 3);
  const lo = atomicRead(pa, bytes);
  const hi = atomicRead(pa + bytes, bytes);
  if (lo == (xr(rs) & mask) && hi == (xr(rs + 1) & mask)) {
    atomicWrite(pa, bytes, xr(rt) & mask);
    atomicWrite(pa + bytes, bytes, xr(rt + 1) & mask);
  }
  setX(rs, lo);
  setX(rs + 1, hi);
}

/** LDADD LDCLR LDEOR LDSET LDSMAX LDSMIN LDUMAX LDUMIN and SWP (with A/R ordering variants). */
function atomicMemory(insn: u32): void {
  const bytes: u32 = 1 << (insn >> 30);
  const rs = (insn >> 16) & 31;
  const o3 = (insn >> 15) & 1;
  const opc = (insn >> 12) & 7;
  const rn = (insn >> 5) & 31;
  const rt = insn & 31;
  if (o3 && opc != 0) {
    raiseUndef();
    return;
  }
  const va = baseAddress(rn);
  if (pending != PEND_NONE) return;
  const pa = atomicPa(va, bytes, true, true);
  if (pa & XLATE_FAILED) return;
  const bits = bytes << 3;
  const mask = ones(bits);
  const old = atomicRead(pa, bytes);
  const s = xr(rs) & mask;
  let r: u64;
  if (o3) r = s;
  else {
    switch (opc) {
      case 0: r = old + s; break;
      case 1: r = old & ~s; break;
      case 2: r = old ^ s; break;
      case 3: r = old | s; break;
      case 4: r = <i64>sext(old, bits) > <i64>sext(s, bits) ? old : s; break;
      case 5: r = <i64>sext(old, bits) < <i64>sext(s, bits) ? old : s; break;
      case 6: r = old > s ? old : s; break;
      default: r = old < s ? old : s; break;
    }
  }
  atomicWrite(pa, bytes, r & mask);
  setX(rt, old);
}
