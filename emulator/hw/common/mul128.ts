// SPDX-License-Identifier: MIT
//
// The high half of a 64 × 64 → 128-bit product, for both CPUs' multiplies
// (x86 MUL/IMUL, A64 UMULH/SMULH); WebAssembly has no wide multiply.

/** High 64 bits of the unsigned 128-bit product a × b. */
export function mulHigh(a: u64, b: u64): u64 {
  const aLo = a & 0xFFFF_FFFF;
  const aHi = a >> 32;
  const bLo = b & 0xFFFF_FFFF;
  const bHi = b >> 32;
  const ll = aLo * bLo;
  const lh = aLo * bHi;
  const hl = aHi * bLo;
  const hh = aHi * bHi;
  const mid = (ll >> 32) + (lh & 0xFFFF_FFFF) + (hl & 0xFFFF_FFFF);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/** High 64 bits of the signed 128-bit product a × b. */
export function imulHigh(a: u64, b: u64): u64 {
  let h = mulHigh(a, b);
  if (<i64>a < 0) h -= b;
  if (<i64>b < 0) h -= a;
  return h;
}
