// SPDX-License-Identifier: MIT
//
// How to carry 64-bit values on the TypeScript side: bigint (what the
// WebAssembly JavaScript API uses for i64) against the `long` package (two
// 32-bit halves across the boundary). Each loop passes a value to the module,
// gets one back, and does one 64-bit addition on the host side, as the
// machine API does for every address it handles.

import Long from "long";
import { Machine } from "../emulator/machine/core/machine.ts";
import { timeBest, perSecond, type BenchOptions } from "./cli.ts";

export function i64Suite({ scale, out }: BenchOptions): void {
  const n = Math.max(1, Math.round(2_000_000 * scale));
  const hw = new Machine({ ram: [] }).hw;
  const rounds = 5;
  let big = Infinity;
  let long = Infinity;
  let checkBig = 0n;
  let checkLong = Long.UZERO;
  for (let r = 0; r < rounds; r++) {
    big = Math.min(
      big,
      timeBest(1, n, () => {
        let acc = 0xffff_8000_0000_0000n;
        for (let i = 0; i < n; i++) acc = BigInt.asUintN(64, hw.i64Echo(acc) + 0x1000n);
        checkBig = acc;
      }),
    );
    long = Math.min(
      long,
      timeBest(1, n, () => {
        let acc = Long.fromString("ffff800000000000", true, 16);
        const step = Long.fromNumber(0x1000, true);
        for (let i = 0; i < n; i++) {
          const lo = hw.i64EchoParts(acc.low >>> 0, acc.high >>> 0);
          acc = Long.fromBits(lo, hw.i64EchoHigh(), true).add(step);
        }
        checkLong = acc;
      }),
    );
  }
  if (checkLong.toString(16) !== checkBig.toString(16)) throw new Error("i64 bench: bigint and long disagree");
  out(`i64: ${n} round trips through the module plus one 64-bit add each, best of ${rounds}`);
  out(`  bigint  ${big.toFixed(1).padStart(6)} ns  ${perSecond(big)}`);
  out(`  long    ${long.toFixed(1).padStart(6)} ns  ${perSecond(long)}   ${(long / big).toFixed(2)}x bigint`);
}
