// SPDX-License-Identifier: MIT
//
// mulberry32, the small seeded generator the randomised tests share, so
// that a seed names a whole run (test/emulator/x86/native/harness.c has the
// same step, for the scratch memory it fills).

/** One step of mulberry32 on state[0]: the next 32-bit output. */
export function mulberry32(state: Uint32Array): number {
  const a = (state[0] = (state[0]! + 0x6d2b79f5) >>> 0);
  let t = Math.imul(a ^ (a >>> 15), a | 1);
  t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
  return (t ^ (t >>> 14)) >>> 0;
}

/** A generator of numbers in [0, 1) from a seed. */
export function prng(seed: number): () => number {
  const state = new Uint32Array([seed >>> 0]);
  return () => mulberry32(state) / 4294967296;
}
