// SPDX-License-Identifier: MIT
//
// Integer arithmetic with its flags (SDM Vol.2, each instruction's
// "Operation" and "Flags Affected"). Results are returned unmasked above
// the operand size; writers mask them.

import { setLazy, setArithFlags, resultFlags, materialize, carry, FLAG_CF, FLAG_OF, FLAG_AF } from "./flags";
import { sizeMask, signBit, signExtend } from "./state";
import {
  ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, SHIFT_ROL, SHIFT_ROR, SHIFT_RCL, SHIFT_RCR,
  SHIFT_SHL, SHIFT_SHR, SHIFT_SAL,
} from "./ops";
import { LAZY_ADD, LAZY_SUB, LAZY_LOGIC, LAZY_INC, LAZY_DEC, LAZY_NEG } from "../../layout";

/** ADD OR ADC SBB AND SUB XOR CMP (group 1): the result, flags recorded. Inline: it is most of what the CPU does. */
@inline export function alu(op: u32, size: u32, a: u64, b: u64): u64 {
  switch (op) {
    case ALU_ADD: {
      const r = a + b;
      setLazy(LAZY_ADD, size, r, a, b);
      return r;
    }
    case ALU_OR: {
      const r = a | b;
      setLazy(LAZY_LOGIC, size, r, a, b);
      return r;
    }
    case ALU_AND: {
      const r = a & b;
      setLazy(LAZY_LOGIC, size, r, a, b);
      return r;
    }
    case ALU_XOR: {
      const r = a ^ b;
      setLazy(LAZY_LOGIC, size, r, a, b);
      return r;
    }
    case ALU_ADC:
    case ALU_SBB:
      return withCarry(op == ALU_SBB, size, a, b);
    default: {
      // SUB and CMP.
      const r = a - b;
      setLazy(LAZY_SUB, size, r, a, b);
      return r;
    }
  }
}

/** ADC and SBB, flags worked out at once (the carry-in makes them less common and less regular). */
function withCarry(subtract: bool, size: u32, aIn: u64, bIn: u64): u64 {
  const mask = sizeMask(size);
  const sign = signBit(size);
  const a = aIn & mask;
  const b = bIn & mask;
  const c: u64 = carry() ? 1 : 0;
  let r: u64;
  let cf: bool;
  let ovf: bool;
  if (subtract) {
    r = (a - b - c) & mask;
    cf = a < b || (c != 0 && a == b);
    ovf = ((a ^ b) & (a ^ r) & sign) != 0;
  } else {
    r = (a + b + c) & mask;
    cf = r < a || (c != 0 && r == a);
    ovf = ((a ^ r) & (b ^ r) & sign) != 0;
  }
  setArithFlags(resultFlags(r, size) | (cf ? FLAG_CF : 0) | (ovf ? FLAG_OF : 0) | ((a ^ b ^ r) & FLAG_AF));
  return r;
}

@inline export function inc(size: u32, a: u64): u64 {
  const r = a + 1;
  setLazy(LAZY_INC, size, r, a, carry() ? 1 : 0);
  return r;
}

@inline export function dec(size: u32, a: u64): u64 {
  const r = a - 1;
  setLazy(LAZY_DEC, size, r, a, carry() ? 1 : 0);
  return r;
}

export function neg(size: u32, a: u64): u64 {
  const r = 0 - a;
  setLazy(LAZY_NEG, size, r, 0, a);
  return r;
}

/**
 * Group 2 shifts and rotates. The count is masked to 5 bits (6 with 64-bit
 * operands); a masked count ovf 0 changes nothing, flags included. OF is
 * defined for a count ovf 1 and computed the same way for others, as
 * processors do; AF is undefined (left 0).
 */
export function shift(op: u32, size: u32, a: u64, countIn: u32): u64 {
  const bits: u32 = size << 3;
  const count: u32 = countIn & (size == 8 ? 63 : 31);
  const mask = sizeMask(size);
  const sign = signBit(size);
  const v = a & mask;
  if (count == 0) return v;
  const flags = materialize();
  let r: u64 = 0;
  let cf = false;
  let ovf = false;
  let setsResultFlags = true;
  switch (op) {
    case SHIFT_ROL: {
      const n = count % bits;
      r = n == 0 ? v : ((v << n) | (v >> (bits - n))) & mask;
      cf = (r & 1) != 0;
      ovf = ((r & sign) != 0) != cf;
      setsResultFlags = false;
      break;
    }
    case SHIFT_ROR: {
      const n = count % bits;
      r = n == 0 ? v : ((v >> n) | (v << (bits - n))) & mask;
      cf = (r & sign) != 0;
      ovf = ((r & sign) != 0) != ((r & (sign >> 1)) != 0);
      setsResultFlags = false;
      break;
    }
    case SHIFT_RCL:
    case SHIFT_RCR: {
      // Through CF: a (bits + 1)-bit rotation, the count taken modulo bits + 1.
      const n = count % (bits + 1);
      let c: u64 = flags & FLAG_CF ? 1 : 0;
      r = v;
      for (let i: u32 = 0; i < n; i++) {
        if (op == SHIFT_RCL) {
          const out = (r & sign) != 0 ? 1 : 0;
          r = ((r << 1) | c) & mask;
          c = out;
        } else {
          const out = r & 1;
          r = (r >> 1) | (c != 0 ? sign : 0);
          c = out;
        }
      }
      cf = c != 0;
      if (op == SHIFT_RCL) ovf = ((r & sign) != 0) != cf;
      else ovf = ((r & sign) != 0) != ((r & (sign >> 1)) != 0);
      setsResultFlags = false;
      break;
    }
    case SHIFT_SHL:
    case SHIFT_SAL:
      r = count < 64 ? (v << count) & mask : 0;
      cf = count <= bits ? ((v >> (bits - count)) & 1) != 0 : false;
      ovf = ((r & sign) != 0) != cf;
      break;
    case SHIFT_SHR:
      r = v >> count;
      cf = ((v >> (count - 1)) & 1) != 0;
      ovf = (v & sign) != 0;
      break;
    default: {
      // SAR.
      const s = signExtend(v, size);
      r = <u64>(<i64>s >> count) & mask;
      cf = ((<u64>(<i64>s >> (count - 1))) & 1) != 0;
      ovf = false;
      break;
    }
  }
  let f: u64 = setsResultFlags ? resultFlags(r, size) : flags;
  f = (f & ~(FLAG_CF | FLAG_OF)) | (cf ? FLAG_CF : 0) | (ovf ? FLAG_OF : 0);
  if (setsResultFlags) f &= ~FLAG_AF;
  setArithFlags(f);
  return r;
}

export { mulHigh, imulHigh } from "../../common/mul128";

/** Sets CF = OF = overflow for MUL/IMUL; SF, ZF, AF, PF are undefined: SF and ZF follow the low half, as many processors do. */
export function mulFlags(overflow: bool, low: u64, size: u32): void {
  const f = resultFlags(low, size) | (overflow ? FLAG_CF | FLAG_OF : 0);
  setArithFlags(f);
}
