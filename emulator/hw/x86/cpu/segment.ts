// SPDX-License-Identifier: MIT
//
// Segment registers in 64-bit mode: MOV to and from DS, ES, SS, FS and GS,
// and the FS/GS base instructions RDFSBASE, RDGSBASE, WRFSBASE, WRGSBASE.
//
// In 64-bit mode the CPU ignores the bases and limits of DS, ES and SS; a
// load still checks the descriptor as the SDM's MOV pseudocode says (SDM
// Vol.2B "MOV—Move", "64-Bit Mode Exceptions"; Vol.3A 5.4.1, 5.5), because
// a kernel that loads a bad selector expects the #GP. Loading FS or GS takes
// the descriptor's 32-bit base into the hidden base (Vol.3A 3.4.4.1); the
// 64-bit bases come from the MSRs, SWAPGS or WRFSBASE/WRGSBASE. There is no
// LDT: a selector with TI set is #GP(selector).

import { C } from "../../cpu";
import { X86_SEL, X86_GDTR_BASE, X86_SHADOW, X86_EVENTS, X86_FS_BASE, X86_GS_BASE, SEL_CS, SEL_SS, SEL_DS, SEL_ES, SEL_FS, SEL_GS } from "../../layout";
import { D_REG, D_SUB, D_RM, OP_MOV_TO_SREG } from "./ops";
import { cpl, readReg, writeReg } from "./state";
import { raise, raiseUD, raiseGP, faulted, VEC_NP, VEC_SS } from "./fault";
import { readE, writeE } from "./operands";
import { writeMem, KIND_SYSTEM_WRITE } from "./mem";
import { gdtDescriptor } from "./system";
import { cr4 } from "../regs";
import { isCanonical } from "../translate";

/** CR4.FSGSBASE enables RDFSBASE and its kin (SDM Vol.3A 2.5). */
const CR4_FSGSBASE: u64 = 1 << 16;

/** ModRM.reg's segment register numbers (ES CS SS DS FS GS) → the CPU block's SEL_* slots. */
function selSlot(sreg: u32): u32 {
  switch (sreg) {
    case 0: return SEL_ES;
    case 1: return SEL_CS;
    case 2: return SEL_SS;
    case 3: return SEL_DS;
    case 4: return SEL_FS;
    default: return SEL_GS;
  }
}

/** Descriptor fields (SDM Vol.3A 3.4.5). */
@inline function present(desc: u64): bool {
  return ((desc >> 47) & 1) != 0;
}

@inline function dpl(desc: u64): u32 {
  return <u32>(desc >> 45) & 3;
}

/** S = 1: a code or data segment rather than a system one. */
@inline function codeOrData(desc: u64): bool {
  return ((desc >> 44) & 1) != 0;
}

@inline function isCode(desc: u64): bool {
  return ((desc >> 43) & 1) != 0;
}

/** Type bit 1: readable for code, writable for data. */
@inline function readableOrWritable(desc: u64): bool {
  return ((desc >> 41) & 1) != 0;
}

@inline function conforming(desc: u64): bool {
  return ((desc >> 42) & 1) != 0;
}

/** Base[31:0] of a code or data descriptor. */
function descriptorBase(desc: u64): u64 {
  return ((desc >> 16) & 0xFF_FFFF) | (((desc >> 56) & 0xFF) << 24);
}

/**
 * MOV Sreg, r/m16. Returns with the fault raised when the selector may not
 * be loaded; otherwise the selector (and for FS and GS the base) is loaded
 * and the descriptor's accessed bit set.
 */
function loadSegment(sreg: u32, selector: u32): void {
  const rpl = selector & 3;
  const slot = selSlot(sreg);
  if ((selector & ~<u32>3) == 0) {
    // A null selector. SS takes one only at CPL < 3 with RPL = CPL (SDM Vol.2B MOV, 64-bit mode).
    if (slot == SEL_SS && (cpl() == 3 || rpl != cpl())) {
      raiseGP(0);
      return;
    }
    store<u16>(C + X86_SEL + (slot << 1), <u16>selector);
    // Intel processors clear the hidden base with a null selector; AMD keep it (Linux's X86_BUG_NULL_SEG).
    if (slot == SEL_FS) store<u64>(C + X86_FS_BASE, 0);
    else if (slot == SEL_GS) store<u64>(C + X86_GS_BASE, 0);
    return;
  }
  const desc = gdtDescriptor(selector, 0);
  if (faulted()) return;
  const code = selector & ~<u32>3;
  if (slot == SEL_SS) {
    if (rpl != cpl() || !codeOrData(desc) || isCode(desc) || !readableOrWritable(desc) || dpl(desc) != cpl()) {
      raiseGP(code);
      return;
    }
    if (!present(desc)) {
      raise(VEC_SS, code, true);
      return;
    }
  } else {
    if (!codeOrData(desc) || (isCode(desc) && !readableOrWritable(desc))) {
      raiseGP(code);
      return;
    }
    // Data and non-conforming code: neither RPL nor CPL may be above the DPL.
    if ((!isCode(desc) || !conforming(desc)) && (rpl > dpl(desc) || cpl() > dpl(desc))) {
      raiseGP(code);
      return;
    }
    if (!present(desc)) {
      raise(VEC_NP, code, true);
      return;
    }
  }
  if (!((desc >> 40) & 1)) {
    // The accessed bit (type bit 0), in the descriptor's sixth byte.
    writeMem(load<u64>(C + X86_GDTR_BASE) + <u64>(selector & ~<u32>7) + 5, 1, ((desc >> 40) & 0xFF) | 1, KIND_SYSTEM_WRITE);
    if (faulted()) return;
  }
  store<u16>(C + X86_SEL + (slot << 1), <u16>selector);
  if (slot == SEL_FS) store<u64>(C + X86_FS_BASE, descriptorBase(desc));
  else if (slot == SEL_GS) store<u64>(C + X86_GS_BASE, descriptorBase(desc));
  if (slot == SEL_SS) {
    // MOV SS holds off interrupts for one instruction, as STI does (SDM Vol.2B MOV, "Loading the SS register").
    store<u32>(C + X86_SHADOW, 1);
    store<u32>(C + X86_EVENTS, 1);
  }
}

/** OP_MOV_FROM_SREG and OP_MOV_TO_SREG. */
export function moveSegment(op: u16, d: usize, size: u32, nextRip: u64): void {
  const sreg = <u32>load<u8>(d, D_REG);
  if (op == OP_MOV_TO_SREG) {
    const selector = <u32>readE(d, 2, nextRip);
    if (!faulted()) loadSegment(sreg, selector);
    return;
  }
  // A register destination gets the selector zero-extended to the operand size; memory gets 16 bits.
  writeE(d, size, <u64>load<u16>(C + X86_SEL + (selSlot(sreg) << 1)), nextRip);
}

/** OP_FSGSBASE: RDFSBASE (/0), RDGSBASE (/1), WRFSBASE (/2), WRGSBASE (/3); #UD unless CR4.FSGSBASE (SDM Vol.2B RDFSBASE). */
export function fsGsBase(d: usize, size: u32): void {
  if (!(cr4() & CR4_FSGSBASE)) {
    raiseUD();
    return;
  }
  const which = <u32>load<u8>(d, D_SUB);
  const r = <u32>load<u8>(d, D_RM);
  const at = C + ((which & 1) == 0 ? X86_FS_BASE : X86_GS_BASE);
  if (which < 2) {
    writeReg(r, size, load<u64>(at));
    return;
  }
  const v = readReg(r, size);
  if (!isCanonical(v)) {
    raiseGP(0);
    return;
  }
  store<u64>(at, v);
}
