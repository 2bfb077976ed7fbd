// SPDX-License-Identifier: MIT
//
// What the benchmark loops of every architecture share (run by bench/, never
// by tests for timing).

/** The address of the i-th access of a benchmark: a scrambled page, a moving offset. */
@inline export function benchOffset(i: u32, lgPages: u32): u64 {
  const page = lgPages == 0 ? 0 : (i * 0x9E3779B1) >> (32 - lgPages);
  return (<u64>page << 12) | (<u64>(i & 511) << 3);
}
