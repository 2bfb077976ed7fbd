// SPDX-License-Identifier: MIT
//
// A64 branches: B, BL, BR, BLR, RET, B.cond, CBZ/CBNZ, TBZ/TBNZ.

import { describe, expect, it } from "vitest";
import { runA64 } from "../../../helpers/a64-exec.ts";

describe("branches", () => {
  it("BL and RET, BLR and BR", () => {
    const r = runA64(`
_start:
  mov x1, #0
  bl func
  adr x2, func
  blr x2
  adr x3, skip
  br x3
  mov x1, #100
skip:
  hvc #0
func:
  add x1, x1, #1
  ret
`);
    expect(r.x(1)).toBe(2n);
    // The link register of the BLR: the instruction after it.
    expect(r.x(30)).toBe(r.sym("_start") + 16n);
  });

  it("B.cond on every condition after a compare", () => {
    // x0 counts the taken branches: 5 > 3 signed and unsigned, so GT GE HI HS NE PL VC AL are taken.
    const r = runA64(`
_start:
  mov x0, #0
  mov x1, #5
  cmp x1, #3
  .irp c, eq, ne, hs, lo, mi, pl, vs, vc, hi, ls, ge, lt, gt, le, al
  b.\\c 1f
  b 2f
1: add x0, x0, #1
2:
  .endr
  hvc #0
`);
    expect(r.x(0)).toBe(8n);
  });

  it("CBZ, CBNZ (32-bit looks at the low word) and TBZ, TBNZ on bits 0 and 63", () => {
    const r = runA64(`
_start:
  mov x0, #0
  mov x1, #1
  lsl x1, x1, #32
  cbz w1, 1f
  add x0, x0, #100
1:
  cbnz x1, 2f
  add x0, x0, #100
2:
  mov x2, #-1
  lsr x2, x2, #1
  tbnz x2, #63, 3f
  add x0, x0, #1
3:
  tbz x2, #0, 4f
  add x0, x0, #2
4:
  tbnz x2, #62, 5f
  add x0, x0, #100
5:
  hvc #0
`);
    expect(r.x(0)).toBe(3n);
  });

  it("a backward loop", () => {
    const r = runA64(`
_start:
  mov x0, #10
  mov x1, #0
loop:
  add x1, x1, x0
  subs x0, x0, #1
  b.ne loop
  hvc #0
`);
    expect(r.x(1)).toBe(55n);
    expect(r.cpu.progress.instructions).toBe(2n + 30n + 1n);
  });
});
