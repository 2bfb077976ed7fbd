// SPDX-License-Identifier: MIT
//
// Field extraction for the decoders, named as the Arm ARM's encoding
// diagrams name bit ranges: bits(w, hi, lo) is w<hi:lo>.

import type { Insn } from "../format.ts";

/** w<hi:lo> as an unsigned number. */
export function bits(w: number, hi: number, lo: number): number {
  return (w >>> lo) & (hi - lo === 31 ? 0xffffffff : (1 << (hi - lo + 1)) - 1);
}

/** w<n> */
export const bit = (w: number, n: number) => (w >>> n) & 1;

/** SignExtend(v<width-1:0>) as a bigint. */
export function signExtend(v: number, width: number): bigint {
  return BigInt.asIntN(width, BigInt(v));
}

/** What a decoder returns: the instruction, or undefined for an encoding outside the subset or unallocated. */
export type DecodeResult = Insn | undefined;

/** The fields every decoder needs besides the word. */
export interface DecodeContext {
  address: bigint;
}

export const rdOf = (w: number) => bits(w, 4, 0);
export const rnOf = (w: number) => bits(w, 9, 5);
export const rmOf = (w: number) => bits(w, 20, 16);
