// SPDX-License-Identifier: MIT
//
// Every page walker reads, writes back, counts and records its descriptors
// through its architecture's one fetch (x86/paging/fetch.ts,
// arm/vmsa/fetch.ts), as QEMU's walker does through arm_ldq_ptw: the walkers
// themselves name none of the means. (What the walks do is checked by the
// conformance vectors and the walker tests; this keeps the structure.)

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../../emulator/machine/core/wasm.ts";

const HW = join(packageRoot(), "emulator", "hw");

const WALKERS = ["x86/paging/walk.ts", "x86/paging/nested.ts", "x86/ept.ts", "arm/vmsa/walk.ts", "arm/vmsa/stage2.ts"];

/** What only a fetch module may use: memory, the caches, the counters of reads and writes, the detector's record, the trace. */
const FETCH_ONLY: [string, RegExp][] = [
  ["a physical read or write", /\bphysHost(Slow|Cached)?\(|\bphysWrite64\(|\bcoherent(Read|Write)64\(/],
  ["a counter of descriptor reads or A/D writes", /\bCNT_(WALK_READ|S2_WALK_READ|AD_WRITE)\b/],
  ["the detector's record of a descriptor", /\bwalkSrc(Push|UpdateLast)\(/],
  ["the walk trace", /\bCPU_WALK_TRACE\b/],
  ["a stage-2 translation of a table address (S1PTW)", /\bs2Translate\([^;]*,\s*true\s*,/],
  ["an EPT translation of a guest paging-structure entry", /\beptTranslate\([^;]*,\s*true\s*,/],
];

/** The source without comments, so that prose may name the fetch's means. */
function code(path: string): string {
  return readFileSync(join(HW, path), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

describe("the page walkers' descriptor access", () => {
  for (const walker of WALKERS) {
    it(`${walker} reads, writes, counts and records descriptors only through its fetch`, () => {
      const source = code(walker);
      const found = FETCH_ONLY.filter(([, re]) => re.test(source)).map(([what]) => what);
      expect(found, `${walker} uses directly`).toEqual([]);
    });
  }

  it("finds the means where they are: in the fetch modules", () => {
    // The check above must be able to see what it looks for.
    const fetches = code("x86/paging/fetch.ts") + code("arm/vmsa/fetch.ts");
    for (const [what, re] of FETCH_ONLY) expect(re.test(fetches), what).toBe(true);
  });
});
