// SPDX-License-Identifier: MIT
//
// The integer instructions GCC emits for freestanding kernel code that the
// first subset did not have (ops.ts numbers them from OP_LEAVE): LEAVE,
// MOV to and from a 64-bit absolute address, SAHF/LAHF and CMPXCHG8B/16B
// here; the string instructions in string.ts, SHLD/SHRD and the bit scans in
// bitops.ts, and the segment registers in segment.ts. executeSlow hands
// every one of them to executeGeneral, out of the run loop's hot switch.

import { C } from "../../cpu";
import { X86_FS_BASE, X86_GS_BASE } from "../../layout";
import {
  D_SUB, D_IMM, D_SEG, SEG_FS, SEG_GS, OP_LEAVE, OP_MOV_MOFFS, OP_STRING, OP_SHIFT_DOUBLE, OP_BIT_SCAN, OP_BSWAP,
  OP_CMPXCHG_DOUBLE, OP_SAHF, OP_LAHF, OP_MOV_FROM_SREG, OP_MOV_TO_SREG, OP_FSGSBASE,
} from "./ops";
import { gpr, setGpr, readReg, writeReg, RAX, RBX, RCX, RDX, RBP, RSP } from "./state";
import { faulted, raiseGP, raiseUD } from "./fault";
import { materialize, setArithFlags, FLAG_CF, FLAG_PF, FLAG_AF, FLAG_ZF, FLAG_SF } from "./flags";
import { effectiveAddress } from "./operands";
import { readMem, writeMem, resolve, dataKind, setStackAccess } from "./mem";
import { checkCodeWrite } from "./code";
import { executeString } from "./string";
import { shiftDouble, bitScan, byteSwap } from "./bitops";
import { moveSegment, fsGsBase } from "./segment";

/** The flags SAHF loads and LAHF stores: SF ZF AF PF CF, bits 7 6 4 2 0 of AH. */
const AH_FLAGS: u64 = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF;
const AH: u32 = 16 + 0;

/** Every op from OP_LEAVE on, with RIP in the CPU block already past the instruction. */
export function executeGeneral(op: u16, d: usize, size: u32, rip: u64, nextRip: u64): void {
  switch (op) {
    case OP_LEAVE:
      leave(size);
      return;
    case OP_MOV_MOFFS: {
      const seg = load<u8>(d, D_SEG);
      let va = load<u64>(d, D_IMM);
      if (seg == SEG_FS) va += load<u64>(C + X86_FS_BASE);
      else if (seg == SEG_GS) va += load<u64>(C + X86_GS_BASE);
      setStackAccess(false);
      if (load<u8>(d, D_SUB)) {
        writeMem(va, size, readReg(RAX, size), dataKind(true));
      } else {
        const v = readMem(va, size, dataKind(false));
        if (!faulted()) writeReg(RAX, size, v);
      }
      return;
    }
    case OP_STRING:
      executeString(d, size, rip);
      return;
    case OP_SHIFT_DOUBLE:
      shiftDouble(d, size, nextRip);
      return;
    case OP_BIT_SCAN:
      bitScan(d, size, nextRip);
      return;
    case OP_BSWAP:
      byteSwap(d, size);
      return;
    case OP_CMPXCHG_DOUBLE:
      compareExchangeDouble(d, size, nextRip);
      return;
    case OP_SAHF: {
      const f = materialize();
      setArithFlags((f & ~AH_FLAGS) | (readReg(AH, 1) & AH_FLAGS));
      return;
    }
    case OP_LAHF:
      // Bit 1 of RFLAGS reads as 1 (SDM Vol.2A LAHF).
      writeReg(AH, 1, (materialize() & AH_FLAGS) | 2);
      return;
    case OP_MOV_FROM_SREG:
    case OP_MOV_TO_SREG:
      moveSegment(op, d, size, nextRip);
      return;
    case OP_FSGSBASE:
      fsGsBase(d, size);
      return;
    default:
      raiseUD();
  }
}

/** LEAVE: RSP ← RBP, then pop RBP (BP with 0x66); nothing changes if the pop faults (SDM Vol.2A LEAVE). */
function leave(size: u32): void {
  const frame = gpr(RBP);
  setStackAccess(true);
  const v = readMem(frame, size, dataKind(false));
  if (faulted()) return;
  setGpr(RSP, frame + <u64>size);
  writeReg(RBP, size, v);
}

/**
 * CMPXCHG8B m64 / CMPXCHG16B m128 (SDM Vol.2A): compare EDX:EAX (RDX:RAX)
 * with the memory operand; if equal, set ZF and store ECX:EBX (RCX:RBX),
 * else clear ZF and load the operand into EDX:EAX (RDX:RAX). The operand is
 * written either way, so it is translated for a write first. CMPXCHG16B's
 * operand must be 16-byte aligned (#GP(0)). Only ZF changes.
 */
function compareExchangeDouble(d: usize, size: u32, nextRip: u64): void {
  const va = effectiveAddress(d, nextRip);
  const half = size >> 1;
  if (size == 16 && (va & 15) != 0) {
    raiseGP(0);
    return;
  }
  const kind = dataKind(true);
  // An aligned 16-byte operand is in one page; an 8-byte one may cross, and is then read and written byte-wise.
  const host = resolve(va, size == 16 ? 16 : 8, kind);
  if (host == -1) return;
  let lo: u64;
  let hi: u64;
  if (host >= 0) {
    lo = size == 16 ? load<u64>(<usize>host) : <u64>load<u32>(<usize>host);
    hi = size == 16 ? load<u64>(<usize>host + 8) : <u64>load<u32>(<usize>host + 4);
  } else {
    const v = readMem(va, 8, kind);
    if (faulted()) return;
    lo = v & 0xFFFF_FFFF;
    hi = v >> 32;
  }
  const equal = lo == readReg(RAX, half) && hi == readReg(RDX, half);
  const newLo = equal ? readReg(RBX, half) : lo;
  const newHi = equal ? readReg(RCX, half) : hi;
  if (host >= 0) {
    checkCodeWrite(<usize>host, size);
    if (size == 16) {
      store<u64>(<usize>host, newLo);
      store<u64>(<usize>host + 8, newHi);
    } else {
      store<u32>(<usize>host, <u32>newLo);
      store<u32>(<usize>host + 4, <u32>newHi);
    }
  } else {
    writeMem(va, 8, newLo | (newHi << 32), kind);
    if (faulted()) return;
  }
  if (!equal) {
    writeReg(RAX, half, lo);
    writeReg(RDX, half, hi);
  }
  const f = materialize();
  setArithFlags(equal ? f | FLAG_ZF : f & ~FLAG_ZF);
}
