// SPDX-License-Identifier: MIT
//
// Logical (bitmask) immediates: a run of ones, rotated, replicated across
// the register in elements of 2, 4, 8, 16, 32 or 64 bits (DDI0487 C6.2 "AND
// (immediate)" and the DecodeBitMasks() pseudocode, J1 shared/functions).

const MASK64 = (1n << 64n) - 1n;

const ones = (n: number) => (1n << BigInt(n)) - 1n;

function ror(value: bigint, shift: number, esize: number): bigint {
  const e = BigInt(esize);
  const s = BigInt(shift % esize);
  return ((value >> s) | (value << (e - s))) & ones(esize);
}

function replicate(elem: bigint, esize: number, width: number): bigint {
  let out = 0n;
  for (let i = 0; i < width; i += esize) out |= elem << BigInt(i);
  return out;
}

export interface BitmaskFields {
  N: number;
  immr: number;
  imms: number;
}

/**
 * DecodeBitMasks(immN, imms, immr, immediate=TRUE, M=width).wmask, or
 * undefined where the encoding is reserved (N=1 in a 32-bit instruction,
 * element size below 2, or an all-ones element).
 */
export function decodeBitmask({ N, immr, imms }: BitmaskFields, width: 32 | 64): bigint | undefined {
  if (width === 32 && N) return undefined;
  const combined = (N << 6) | (~imms & 0x3f);
  const len = 31 - Math.clz32(combined);
  if (len < 1) return undefined;
  const levels = (1 << len) - 1;
  if ((imms & levels) === levels) return undefined;
  const s = imms & levels;
  const r = immr & levels;
  const esize = 1 << len;
  return replicate(ror(ones(s + 1), r, esize), esize, width);
}

/**
 * The N:immr:imms encoding of `value` as a logical immediate for a
 * register of `width` bits, or undefined if it has none. For 32 bits the
 * value's upper half must be all zeros or all ones, as GNU as allows (so
 * that ~1 is a 32-bit immediate), and only the lower half counts.
 */
export function encodeBitmask(value: bigint, width: 32 | 64): BitmaskFields | undefined {
  let v = BigInt.asUintN(64, value);
  if (width === 32) {
    const high = v >> 32n;
    if (high !== 0n && high !== 0xffffffffn) return undefined;
    v &= 0xffffffffn;
    v |= v << 32n;
  }
  if (v === 0n || v === MASK64) return undefined;
  // The smallest element that the value replicates.
  let esize = 64;
  while (esize > 2) {
    const half = esize / 2;
    const lo = v & ones(half);
    if (replicate(lo, half, 64) !== v) break;
    esize = half;
  }
  const elem = v & ones(esize);
  let count = 0;
  for (let b = elem; b; b >>= 1n) count += Number(b & 1n);
  const run = ones(count);
  for (let r = 0; r < esize; r++) {
    if (ror(run, r, esize) === elem) {
      const imms = ((-esize << 1) & 0x3f) | (count - 1);
      return { N: esize === 64 ? 1 : 0, immr: r, imms };
    }
  }
  return undefined;
}

/** The wide-move test GNU as uses (aarch64_wide_constant_p): one 16-bit chunk, at a multiple of 16, holds every set bit. */
export function wideShift(value: bigint, width: 32 | 64): number | undefined {
  let v = BigInt.asUintN(64, value);
  if (width === 32) {
    const high = v >> 32n;
    if (high !== 0n && high !== 0xffffffffn) return undefined;
    v &= 0xffffffffn;
  }
  for (let shift = 0; shift < width; shift += 16) {
    if ((v & (0xffffn << BigInt(shift))) === v) return shift;
  }
  return undefined;
}
