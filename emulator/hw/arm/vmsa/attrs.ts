// SPDX-License-Identifier: MIT
//
// Memory attributes: MAIR encodings, stage-2 MemAttr, and their combination
// for a stage 1+2 translation with HCR_EL2.FWB=0 (Arm ARM D8.6, "Combining
// the stage 1 and stage 2 attributes").

/** Cacheability classes, ordered from the weakest. */
const NC: u32 = 0;
const WT: u32 = 1;
const WB: u32 = 2;

/** Is this MAIR attribute byte Device memory? */
@inline export function mairIsDevice(attr: u32): bool {
  return (attr & 0xF0) == 0;
}

/** The class of one nibble of a Normal MAIR attribute (0b0100 NC, 0b00xx/0b10xx WT, 0b01xx/0b11xx WB). */
function nibbleClass(n: u32): u32 {
  if (n == 0b0100) return NC;
  return n & 0b0100 ? WB : WT;
}

/** Is memory with this MAIR attribute cacheable (Normal, inner not Non-cacheable: nibbleClass(inner) != NC)? */
@inline export function mairIsCacheable(attr: u32): bool {
  return !mairIsDevice(attr) && (attr & 15) != 0b0100;
}

function classNibble(c: u32, hint: u32): u32 {
  if (c == NC) return 0b0100;
  // Keep the allocation hints of stage 1 when they exist, else read- and write-allocate.
  const rw = (hint & 3) != 0 ? hint & 3 : 3;
  return (c == WB ? 0b1100 : 0b1000) | rw;
}

/** The class of a stage-2 MemAttr pair (0b01 NC, 0b10 WT, 0b11 WB). */
@inline function s2Class(two: u32): u32 {
  return two == 3 ? WB : two == 2 ? WT : NC;
}

@inline function min32(a: u32, b: u32): u32 {
  return a < b ? a : b;
}

/** Combined SH for the combined attribute. */
export let combinedSh: u32 = 0;

/**
 * Combines a stage-1 MAIR attribute byte and SH with a stage-2 MemAttr and SH,
 * returning the MAIR encoding of the result (combinedSh holds its SH).
 * Device wins over Normal, the stricter Device type wins, and each
 * cacheability is the weaker of the two; Device and Non-cacheable memory is
 * Outer Shareable, otherwise the more shareable of the two.
 */
export function combineS1S2(s1Attr: u32, s1Sh: u32, s2MemAttr: u32, s2Sh: u32): u32 {
  const s2Device = (s2MemAttr & 0b1100) == 0;
  if (mairIsDevice(s1Attr) || s2Device) {
    const t1: u32 = mairIsDevice(s1Attr) ? (s1Attr >> 2) & 3 : 3;
    const t2: u32 = s2Device ? s2MemAttr & 3 : 3;
    combinedSh = 0b10;
    return min32(t1, t2) << 2;
  }
  const outer = min32(nibbleClass(s1Attr >> 4), s2Class(s2MemAttr >> 2));
  const inner = min32(nibbleClass(s1Attr & 15), s2Class(s2MemAttr & 3));
  if (outer == NC && inner == NC) {
    combinedSh = 0b10;
  } else {
    // Shareability order: Non-shareable (00) < Inner (11) < Outer (10).
    const rank1: u32 = s1Sh == 0b10 ? 2 : s1Sh == 0b11 ? 1 : 0;
    const rank2: u32 = s2Sh == 0b10 ? 2 : s2Sh == 0b11 ? 1 : 0;
    const rank = rank1 > rank2 ? rank1 : rank2;
    combinedSh = rank == 2 ? 0b10 : rank == 1 ? 0b11 : 0;
  }
  return (classNibble(outer, s1Attr >> 4) << 4) | classNibble(inner, s1Attr & 15);
}
