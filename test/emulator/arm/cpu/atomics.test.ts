// SPDX-License-Identifier: MIT
//
// Exclusive monitors (LDXR/STXR, LDAXR/STLXR, CLREX), load-acquire and
// store-release, and the FEAT_LSE atomics CAS, SWP and LDADD.

import { describe, expect, it } from "vitest";
import { a64Rig, runA64, RAM_BASE } from "../../../helpers/a64-exec.ts";

const DATA = RAM_BASE + 0x10_0000n;

function atomics(body: string, caches = false) {
  return runA64(`
_start:
  ldr x0, data
  mov x1, #5
  str x1, [x0]
  ${body}
  hvc #0
  .balign 8
data: .quad ${DATA}
`, { caches });
}

describe("exclusive monitors", () => {
  for (const caches of [false, true]) {
    it(`LDXR then STXR succeeds and stores (caches ${caches ? "on" : "off"})`, () => {
      const r = atomics(`
  ldxr x2, [x0]
  add x2, x2, #1
  stxr w3, x2, [x0]
  ldr x4, [x0]
`, caches);
      expect([r.x(2), r.x(3), r.x(4)]).toEqual([6n, 0n, 6n]);
    });
  }

  it("STXR without a monitor fails and stores nothing", () => {
    const r = atomics(`
  mov x2, #9
  stxr w3, x2, [x0]
  ldr x4, [x0]
`);
    expect([r.x(3), r.x(4)]).toEqual([1n, 5n]);
  });

  it("STXR fails after CLREX, after an intervening store, and a second STXR fails", () => {
    const r = atomics(`
  ldxr x2, [x0]
  clrex
  stxr w3, x2, [x0]
  ldxr x2, [x0]
  str x1, [x0, #8]
  stxr w4, x2, [x0]
  ldxr x2, [x0]
  stxr w5, x2, [x0]
  stxr w6, x2, [x0]
  ldaxr w2, [x0]
  stlxr w7, w2, [x0]
`);
    expect([r.x(3), r.x(4), r.x(5), r.x(6), r.x(7)]).toEqual([1n, 1n, 0n, 1n, 0n]);
  });

  it("a store by another CPU to the granule clears the monitor", () => {
    const rig = a64Rig(`
_start:
  cbnz x0, other
  mov x0, x9
  ldxr x2, [x0]
  hvc #0
  stxr w3, x2, [x0]
  hvc #0
other:
  str xzr, [x0]
  hvc #0
`, { cpus: 2 });
    for (const c of rig.m.cpus) c.setState({ x: [c.index === 1 ? DATA : 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, DATA] });
    expect(rig.run().reason).toBe("hvc");
    expect(rig.m.cpu(1).run(100).reason).toBe("hvc");
    expect(rig.run().reason).toBe("hvc");
    expect(rig.x(3)).toBe(1n);
  });

  it("an exception return clears the monitor", () => {
    const r = runA64(`
_start:
  ldr x0, data
  adr x1, after
  msr elr_el1, x1
  mov x1, #0x3c5
  msr spsr_el1, x1
  ldxr x2, [x0]
  eret
after:
  stxr w3, x2, [x0]
  hvc #0
  .balign 8
data: .quad ${DATA}
`);
    expect(r.x(3)).toBe(1n);
  });

  it("exclusives and acquire/release must be aligned: an Alignment fault", () => {
    for (const insn of ["ldxr x2, [x0]", "stxr w3, x2, [x0]", "ldar w2, [x0]", "stlr x2, [x0]", "cas x1, x2, [x0]", "swp x1, x2, [x0]"]) {
      const r = runA64(`
_start:
  adr x1, vectors
  msr vbar_el1, x1
  ldr x0, data
  add x0, x0, #2
  ${insn}
  hvc #1
  .balign 8
data: .quad ${DATA}
  .balign 0x800
vectors:
  .skip 0x200
  mrs x20, esr_el1
  mrs x21, far_el1
  hvc #0
`);
      // EC 0x25 (data abort, same EL), IL, DFSC 0x21 (alignment).
      expect(Number(r.x(20) >> 26n), insn).toBe(0x25);
      expect(Number(r.x(20) & 0x3fn), insn).toBe(0x21);
      expect(r.x(21), insn).toBe(DATA + 2n);
    }
  });
});

describe("load-acquire, store-release and the LSE atomics", () => {
  it("LDAR and STLR", () => {
    const r = atomics(`
  mov x2, #7
  stlr x2, [x0]
  ldar x3, [x0]
  stlrb w1, [x0]
  ldarb w4, [x0]
`);
    expect([r.x(3), r.x(4)]).toEqual([7n, 5n]);
  });

  it("CAS swaps only on a match and returns the old value in Rs", () => {
    const r = atomics(`
  mov x2, #5
  mov x3, #8
  cas x2, x3, [x0]
  ldr x4, [x0]
  mov x5, #5
  mov x6, #9
  casa x5, x6, [x0]
  ldr x7, [x0]
  mov w8, #8
  casal w8, wzr, [x0]
  ldr x9, [x0]
`);
    expect([r.x(2), r.x(4), r.x(5), r.x(7), r.x(8), r.x(9)]).toEqual([5n, 8n, 8n, 8n, 8n, 0n]);
  });

  it("SWP and LDADD return the old value; 32-bit forms wrap at 32 bits", () => {
    const r = atomics(`
  mov x2, #11
  swp x2, x3, [x0]
  ldr x4, [x0]
  mov x5, #-1
  ldadd x5, x6, [x0]
  ldr x7, [x0]
  mov w8, #-1
  ldadd w8, w9, [x0]
  ldr x10, [x0]
  stadd x1, [x0]
  ldr x11, [x0]
  mov x12, #0xf
  ldclr x12, x13, [x0]
  ldr x14, [x0]
`);
    expect([r.x(3), r.x(4), r.x(6), r.x(7), r.x(9), r.x(10), r.x(11), r.x(13), r.x(14)])
      .toEqual([5n, 11n, 11n, 10n, 10n, 9n, 14n, 14n, 0n]);
  });
});
