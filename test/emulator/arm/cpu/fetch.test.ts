// SPDX-License-Identifier: MIT
//
// Instruction fetch and the modelled data caches: a cacheable fetch
// (SCTLR_EL1.I, Normal Write-Back memory) reads the freshest copy, as if the
// instruction cache were coherent; a Non-cacheable one reads memory, so code
// written through the data cache is not seen until it is cleaned there.

import { describe, expect, it } from "vitest";
import { a64Rig, mmuOn, MMU_ON } from "../../../helpers/a64-exec.ts";

const SCTLR_M = 1n, SCTLR_C = 4n, SCTLR_I = 1n << 12n;

/** Writes `mov x5, #7` over `mov x5, #1` through the data cache, optionally cleans it, and runs it. */
function selfModify(sctlr: bigint, clean: boolean) {
  const r = a64Rig(`
_start:
  ${MMU_ON}
  bl slot
  mov x6, x5
  ldr w1, newinsn
  adr x2, slot
  str w1, [x2]
  ${clean ? "dc civac, x2" : ""}
  dsb ish
  ic iallu
  isb
  bl slot
  hvc #0
  .balign 64
slot:
  mov x5, #1
  ret
newinsn:
  mov x5, #7
`, { caches: true });
  mmuOn(r, sctlr);
  expect(r.run().reason).toBe("hvc");
  return { before: r.x(6), after: r.x(5) };
}

describe("instruction fetch with the data caches modelled", () => {
  it("a cacheable fetch sees code just written through the data cache", () => {
    expect(selfModify(SCTLR_M | SCTLR_C | SCTLR_I, false)).toEqual({ before: 1n, after: 7n });
  });

  it("a Non-cacheable fetch (SCTLR_EL1.I = 0) reads memory: the old code until DC CIVAC cleans the line", () => {
    expect(selfModify(SCTLR_M | SCTLR_C, false)).toEqual({ before: 1n, after: 1n });
    expect(selfModify(SCTLR_M | SCTLR_C, true)).toEqual({ before: 1n, after: 7n });
  });
});
