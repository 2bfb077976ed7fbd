// SPDX-License-Identifier: MIT
//
// A per-CPU xorshift64* generator: every random choice the hardware makes
// (chaos eviction) comes from here, so a run is a function of its seed.

import { C } from "../cpu";
import { CPU_PRNG } from "../layout";

/** Scrambles a seed and a CPU index into a non-zero state (splitmix64 finaliser). */
export function prngSeed(seed: u64, cpu: u32): void {
  let z = seed + (<u64>(cpu + 1) * 0x9E3779B97F4A7C15);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  z ^= z >> 31;
  store<u64>(C + CPU_PRNG, z == 0 ? 1 : z);
}

export function prngNext(): u64 {
  let x = load<u64>(C + CPU_PRNG);
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  store<u64>(C + CPU_PRNG, x);
  return x * 0x2545F4914F6CDD1D;
}

/** A value in [0, n). */
export function prngBelow(n: u32): u32 {
  return <u32>((prngNext() >> 32) % <u64>n);
}
