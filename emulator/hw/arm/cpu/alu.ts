// SPDX-License-Identifier: MIT
//
// The arithmetic of the A64 data-processing instructions, as the Arm ARM's
// shared pseudocode defines it (DDI0487 J1.1/J1.3): AddWithCarry and its
// NZCV, ShiftReg, ExtendReg, DecodeBitMasks, and the bit operations.
// Every function works on a datasize of 32 or 64 bits (`sf`); 32-bit
// results are returned zero-extended.

/** The NZCV of the last AddWithCarry, in bits 3:0 (N Z C V). */
export let nzcvOut: u64 = 0;

/** AddWithCarry(x, y, carry_in) with its flags in nzcvOut. */
export function addWithCarry(x: u64, y: u64, cin: u64, sf: bool): u64 {
  if (sf) {
    const r = x + y + cin;
    const c: u64 = cin ? (r <= x ? 1 : 0) : (r < x ? 1 : 0);
    const v: u64 = ((x ^ r) & (y ^ r)) >> 63;
    nzcvOut = ((r >> 63) << 3) | (r == 0 ? 4 : 0) | (c << 1) | v;
    return r;
  }
  const a = x & 0xFFFF_FFFF;
  const b = y & 0xFFFF_FFFF;
  const sum = a + b + cin;
  const r = sum & 0xFFFF_FFFF;
  const v: u64 = (((a ^ r) & (b ^ r)) >> 31) & 1;
  nzcvOut = (((r >> 31) & 1) << 3) | (r == 0 ? 4 : 0) | ((sum >> 32) << 1) | v;
  return r;
}

/** The NZCV of a logical result: N and Z, C = V = 0. */
@inline export function logicNzcv(r: u64, sf: bool): u64 {
  const n: u64 = sf ? r >> 63 : (r >> 31) & 1;
  return (n << 3) | (r == 0 ? 4 : 0);
}

/** Sign-extends the low `bits` bits of v. */
@inline export function sext(v: u64, bits: u32): u64 {
  return <u64>((<i64>(v << (64 - bits))) >> (64 - bits));
}

@inline export function ones(n: u32): u64 {
  return n >= 64 ? u64.MAX_VALUE : (<u64>1 << n) - 1;
}

@inline export function datasizeMask(sf: bool): u64 {
  return sf ? u64.MAX_VALUE : 0xFFFF_FFFF;
}

/** ROR within an element of `size` bits. */
export function rorN(x: u64, r: u32, size: u32): u64 {
  if (r == 0) return x;
  return ((x >> r) | (x << (size - r))) & ones(size);
}

export const SHIFT_LSL: u32 = 0;
export const SHIFT_LSR: u32 = 1;
export const SHIFT_ASR: u32 = 2;
export const SHIFT_ROR: u32 = 3;

/** ShiftReg: the shift of the shifted-register forms and the variable shifts (amount < datasize). */
@inline export function shiftReg(x: u64, type: u32, amount: u32, sf: bool): u64 {
  if (sf) {
    switch (type) {
      case SHIFT_LSL: return x << amount;
      case SHIFT_LSR: return x >> amount;
      case SHIFT_ASR: return <u64>(<i64>x >> amount);
      default: return rorN(x, amount, 64);
    }
  }
  const w = x & 0xFFFF_FFFF;
  switch (type) {
    case SHIFT_LSL: return (w << amount) & 0xFFFF_FFFF;
    case SHIFT_LSR: return w >> amount;
    case SHIFT_ASR: return <u64>(<u32>(<i32>(<u32>w) >> amount));
    default: return rorN(w, amount, 32);
  }
}

/** ExtendReg: option UXTB UXTH UXTW UXTX SXTB SXTH SXTW SXTX, then LSL #shift (0..4). */
@inline export function extendReg(x: u64, option: u32, shift: u32): u64 {
  let v: u64;
  switch (option) {
    case 0: v = x & 0xFF; break;
    case 1: v = x & 0xFFFF; break;
    case 2: v = x & 0xFFFF_FFFF; break;
    case 4: v = <u64>(<i64>(<i8>x)); break;
    case 5: v = <u64>(<i64>(<i16>x)); break;
    case 6: v = <u64>(<i64>(<i32>x)); break;
    default: v = x; break;
  }
  return v << shift;
}

/** DecodeBitMasks results. */
export let wmask: u64 = 0;
export let tmask: u64 = 0;

/** Repeats the low `esize` bits of elem across 64 bits. */
function replicate(elem: u64, esize: u32): u64 {
  let v = elem;
  for (let e = esize; e < 64; e <<= 1) v |= v << e;
  return v;
}

/**
 * DecodeBitMasks(N, imms, immr, immediate, M): false for a reserved encoding.
 * The masks are left in wmask and tmask (M bits).
 */
export function decodeBitMasks(n: u32, imms: u32, immr: u32, immediate: bool, sf: bool): bool {
  const combined = (n << 6) | (~imms & 0x3F);
  if (combined < 2) return false;
  const len: u32 = 31 - clz<u32>(combined);
  const esize: u32 = 1 << len;
  if (esize > (sf ? 64 : 32)) return false;
  const levels: u32 = esize - 1;
  if (immediate && (imms & levels) == levels) return false;
  const s = imms & levels;
  const r = immr & levels;
  const d = (s - r) & levels;
  const mask = datasizeMask(sf);
  wmask = replicate(rorN(ones(s + 1), r, esize), esize) & mask;
  tmask = replicate(ones(d + 1), esize) & mask;
  return true;
}

/** RBIT. */
export function reverseBits(x: u64, sf: bool): u64 {
  let v = x;
  v = ((v >> 1) & 0x5555_5555_5555_5555) | ((v & 0x5555_5555_5555_5555) << 1);
  v = ((v >> 2) & 0x3333_3333_3333_3333) | ((v & 0x3333_3333_3333_3333) << 2);
  v = ((v >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((v & 0x0F0F_0F0F_0F0F_0F0F) << 4);
  v = bswap<u64>(v);
  return sf ? v : v >> 32;
}

/** REV16: the bytes of each halfword swapped. */
export function rev16(x: u64, sf: bool): u64 {
  const v = ((x >> 8) & 0x00FF_00FF_00FF_00FF) | ((x & 0x00FF_00FF_00FF_00FF) << 8);
  return sf ? v : v & 0xFFFF_FFFF;
}

/** REV32: the bytes of each word reversed. */
export function rev32(x: u64): u64 {
  return (<u64>bswap<u32>(<u32>x)) | (<u64>bswap<u32>(<u32>(x >> 32)) << 32);
}

/** CLS: leading bits equal to the sign bit, after it. */
export function countLeadingSign(x: u64, sf: bool): u64 {
  if (sf) return <u64>clz<u64>(x ^ <u64>(<i64>x >> 1)) - 1;
  const w = <u32>x;
  return <u64>(clz<u32>(w ^ <u32>(<i32>w >> 1)) - 1);
}

/** SDIV: rounds toward zero; ÷0 gives 0 and MIN ÷ -1 gives MIN (no trap, unlike WebAssembly). */
export function sdiv(a: u64, b: u64, sf: bool): u64 {
  if (sf) {
    if (b == 0) return 0;
    if (a == 0x8000_0000_0000_0000 && b == u64.MAX_VALUE) return a;
    return <u64>(<i64>a / <i64>b);
  }
  const x = <i32>a;
  const y = <i32>b;
  if (y == 0) return 0;
  if (x == i32.MIN_VALUE && y == -1) return <u64>(<u32>x);
  return <u64>(<u32>(x / y));
}

export function udiv(a: u64, b: u64, sf: bool): u64 {
  if (sf) return b == 0 ? 0 : a / b;
  const x = <u32>a;
  const y = <u32>b;
  return y == 0 ? 0 : <u64>(x / y);
}
