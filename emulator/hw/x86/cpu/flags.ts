// SPDX-License-Identifier: MIT
//
// RFLAGS, with lazy arithmetic flags. An arithmetic instruction records its
// operation, operand size, operands and result (setLazy); CF, PF, AF, ZF, SF
// and OF are computed from those only when an instruction reads them, which
// most never do. Conditions (Jcc, SETcc, CMOVcc) after a SUB/CMP or a
// logical operation are answered from the operands directly.
//
// The definitions are the SDM's (Vol.1 3.4.3.1 and each instruction's
// "Flags Affected"); flags it leaves undefined are computed the way common
// hardware does, and differential tests mask them.

import { C } from "../../cpu";
import {
  CPU_RFLAGS, X86_LAZY_OP, X86_LAZY_SIZE, X86_LAZY_RES, X86_LAZY_A, X86_LAZY_B,
  LAZY_NONE, LAZY_ADD, LAZY_SUB, LAZY_LOGIC, LAZY_INC, LAZY_DEC, LAZY_NEG,
} from "../../layout";
import { sizeMask, signBit } from "./state";

export const FLAG_CF: u64 = 1 << 0;
export const FLAG_PF: u64 = 1 << 2;
export const FLAG_AF: u64 = 1 << 4;
export const FLAG_ZF: u64 = 1 << 6;
export const FLAG_SF: u64 = 1 << 7;
export const FLAG_TF: u64 = 1 << 8;
export const FLAG_IF: u64 = 1 << 9;
export const FLAG_DF: u64 = 1 << 10;
export const FLAG_OF: u64 = 1 << 11;
export const FLAG_IOPL: u64 = 3 << 12;
export const FLAG_NT: u64 = 1 << 14;
export const FLAG_RF: u64 = 1 << 16;
export const FLAG_VM: u64 = 1 << 17;
export const FLAG_AC: u64 = 1 << 18;
export const FLAG_VIF: u64 = 1 << 19;
export const FLAG_VIP: u64 = 1 << 20;
export const FLAG_ID: u64 = 1 << 21;
/** Bit 1 always reads 1. */
export const FLAG_FIXED: u64 = 1 << 1;
export const ARITH_FLAGS: u64 = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;

/** Records an arithmetic result; the flags come later. */
@inline export function setLazy(op: u32, size: u32, res: u64, a: u64, b: u64): void {
  store<u64>(C + X86_LAZY_RES, res);
  store<u64>(C + X86_LAZY_A, a);
  store<u64>(C + X86_LAZY_B, b);
  store<u32>(C + X86_LAZY_OP, op);
  store<u32>(C + X86_LAZY_SIZE, size);
}

/** PF: set when the low byte of the result has an even number of 1 bits. */
@inline function parity(res: u64): u64 {
  return (popcnt<u32>(<u32>res & 0xFF) & 1) == 0 ? FLAG_PF : 0;
}

/** The arithmetic flags of the recorded operation. */
function lazyFlags(): u64 {
  const op = load<u32>(C + X86_LAZY_OP);
  const size = load<u32>(C + X86_LAZY_SIZE);
  const mask = sizeMask(size);
  const sign = signBit(size);
  const res = load<u64>(C + X86_LAZY_RES) & mask;
  const a = load<u64>(C + X86_LAZY_A) & mask;
  const b = load<u64>(C + X86_LAZY_B) & mask;
  let f: u64 = parity(res) | (res == 0 ? FLAG_ZF : 0) | (res & sign ? FLAG_SF : 0);
  switch (op) {
    case LAZY_ADD:
      if (res < a) f |= FLAG_CF;
      if ((a ^ res) & (b ^ res) & sign) f |= FLAG_OF;
      f |= (a ^ b ^ res) & FLAG_AF;
      break;
    case LAZY_SUB:
      if (a < b) f |= FLAG_CF;
      if ((a ^ b) & (a ^ res) & sign) f |= FLAG_OF;
      f |= (a ^ b ^ res) & FLAG_AF;
      break;
    case LAZY_LOGIC:
      // CF = OF = 0; AF is undefined and left 0.
      break;
    case LAZY_INC:
      // CF is kept from before: the carry at the time is recorded as b.
      f |= b & FLAG_CF;
      if (res == sign) f |= FLAG_OF;
      if ((res & 0xF) == 0) f |= FLAG_AF;
      break;
    case LAZY_DEC:
      f |= b & FLAG_CF;
      if (res == sign - 1) f |= FLAG_OF;
      if ((res & 0xF) == 0xF) f |= FLAG_AF;
      break;
    case LAZY_NEG:
      if (res != 0) f |= FLAG_CF;
      if (res == sign) f |= FLAG_OF;
      if ((res & 0xF) != 0) f |= FLAG_AF;
      break;
  }
  return f;
}

/** RFLAGS with the arithmetic flags worked out (they are then kept there, not lazy). */
export function materialize(): u64 {
  let f = load<u64>(C + CPU_RFLAGS);
  if (load<u32>(C + X86_LAZY_OP) != LAZY_NONE) {
    f = (f & ~ARITH_FLAGS) | lazyFlags();
    store<u64>(C + CPU_RFLAGS, f);
    store<u32>(C + X86_LAZY_OP, LAZY_NONE);
  }
  return f | FLAG_FIXED;
}

/** Sets the arithmetic flags outright (shifts, multiplies, bit tests). */
@inline export function setArithFlags(f: u64): void {
  const old = load<u64>(C + CPU_RFLAGS);
  store<u64>(C + CPU_RFLAGS, (old & ~ARITH_FLAGS) | (f & ARITH_FLAGS));
  store<u32>(C + X86_LAZY_OP, LAZY_NONE);
}

/** The flags of a result that sets ZF, SF and PF from it. */
@inline export function resultFlags(res: u64, size: u32): u64 {
  const r = res & sizeMask(size);
  return parity(r) | (r == 0 ? FLAG_ZF : 0) | (r & signBit(size) ? FLAG_SF : 0);
}

@inline export function carry(): bool {
  // INC and DEC keep the carry they found, recorded as their b.
  const lazy = load<u32>(C + X86_LAZY_OP);
  if (lazy == LAZY_INC || lazy == LAZY_DEC) return (load<u64>(C + X86_LAZY_B) & 1) != 0;
  const op = lazy;
  if (op == LAZY_SUB) {
    const mask = sizeMask(load<u32>(C + X86_LAZY_SIZE));
    return (load<u64>(C + X86_LAZY_A) & mask) < (load<u64>(C + X86_LAZY_B) & mask);
  }
  if (op == LAZY_LOGIC) return false;
  return (materialize() & FLAG_CF) != 0;
}

/**
 * Condition code cc (the low 4 bits of Jcc/SETcc/CMOVcc, SDM Vol.1 B.1):
 * 0 O, 1 NO, 2 B, 3 AE, 4 E, 5 NE, 6 BE, 7 A, 8 S, 9 NS, A P, B NP, C L,
 * D GE, E LE, F G.
 */
@inline export function condition(cc: u32): bool {
  const op = load<u32>(C + X86_LAZY_OP);
  // E/NE after anything lazy is a test of the result (ZF's definition for every lazy operation).
  if ((cc >> 1) == 2 && op != LAZY_NONE) {
    return ((load<u64>(C + X86_LAZY_RES) & sizeMask(load<u32>(C + X86_LAZY_SIZE))) == 0) != ((cc & 1) != 0);
  }
  return conditionSlow(cc, op);
}

function conditionSlow(cc: u32, op: u32): bool {
  const odd = (cc & 1) != 0;
  if (op == LAZY_SUB || op == LAZY_LOGIC) {
    const size = load<u32>(C + X86_LAZY_SIZE);
    const mask = sizeMask(size);
    const res = load<u64>(C + X86_LAZY_RES) & mask;
    let r: bool;
    if (op == LAZY_SUB) {
      const a = load<u64>(C + X86_LAZY_A) & mask;
      const b = load<u64>(C + X86_LAZY_B) & mask;
      const sh = 64 - (<u64>size << 3);
      const sa = <i64>(a << sh);
      const sb = <i64>(b << sh);
      switch (cc >> 1) {
        case 1: r = a < b; break;
        case 2: r = a == b; break;
        case 3: r = a <= b; break;
        case 4: r = (res & signBit(size)) != 0; break;
        case 6: r = sa < sb; break;
        case 7: r = sa <= sb; break;
        default: return conditionFromFlags(cc, materialize());
      }
    } else {
      const neg = (res & signBit(size)) != 0;
      switch (cc >> 1) {
        case 0: r = false; break;
        case 1: r = false; break;
        case 2: r = res == 0; break;
        case 3: r = res == 0; break;
        case 4: r = neg; break;
        case 6: r = neg; break;
        case 7: r = neg || res == 0; break;
        default: return conditionFromFlags(cc, materialize());
      }
    }
    return r != odd;
  }
  return conditionFromFlags(cc, materialize());
}

function conditionFromFlags(cc: u32, f: u64): bool {
  let r: bool;
  switch (cc >> 1) {
    case 0: r = (f & FLAG_OF) != 0; break;
    case 1: r = (f & FLAG_CF) != 0; break;
    case 2: r = (f & FLAG_ZF) != 0; break;
    case 3: r = (f & (FLAG_CF | FLAG_ZF)) != 0; break;
    case 4: r = (f & FLAG_SF) != 0; break;
    case 5: r = (f & FLAG_PF) != 0; break;
    case 6: r = ((f & FLAG_SF) != 0) != ((f & FLAG_OF) != 0); break;
    default: r = (f & FLAG_ZF) != 0 || ((f & FLAG_SF) != 0) != ((f & FLAG_OF) != 0); break;
  }
  return r != ((cc & 1) != 0);
}
