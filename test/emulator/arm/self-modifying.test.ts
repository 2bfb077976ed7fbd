// SPDX-License-Identifier: MIT
//
// Writes to code, as the Arm ARM says software must make them (DDI0487
// B2.4.4, "Cache maintenance requirements for instruction modification"):
// with CTR_EL0.IDC = DIC = 0, as shootdown reports, the writer cleans the
// data to the Point of Unification (DC CVAU), invalidates the instruction
// cache by address (IC IVAU, broadcast in the Inner Shareable domain) with a
// DSB ISH after each, and the PE that executes the new code runs an ISB
// first. After that sequence the new instruction must be the one executed,
// whatever the fast paths (the fetch window, the page states, a decoded
// instruction) held. Without the sequence the architecture allows the old or
// the new instruction; shootdown's fetches are coherent with data (no
// instruction cache is modelled), so it executes the new one, and the tests
// pin that down too, with one exception the model shows on purpose: with
// SCTLR_EL1.I clear a fetch is Non-cacheable and reads RAM, so code written
// through the data cache is seen only once it is cleaned to RAM (the Point of
// Coherency, DC CVAC).
//
// Each test first runs a loop on the code page, so that the run loop holds
// the page in its fetch window, then writes `mov x6, #7` over `mov x6, #1`
// and runs the slot.

import { describe, expect, it } from "vitest";
import { a64Rig, mmuOn, MMU_ON, type A64Rig } from "../../helpers/a64-exec.ts";

const SCTLR_M = 1n, SCTLR_C = 4n, SCTLR_I = 1n << 12n;

/** The writer's side of the sequence, for the line at x2. */
const MAINTENANCE = `
  dc cvau, x2
  dsb ish
  ic ivau, x2
  dsb ish
  isb
`;

/** A guest that spins on its page, writes the instruction at `slot`, runs `maintenance`, then executes the slot. */
function selfModifying(opts: { mmu?: bigint; caches: boolean; maintenance: string }): A64Rig {
  const r = a64Rig(`
_start:
  ${opts.mmu === undefined ? "" : MMU_ON}
  ldr w1, newinsn
  adr x2, slot
  mov x3, #100
1:
  subs x3, x3, #1
  b.ne 1b
  str w1, [x2]
  ${opts.maintenance}
slot:
  mov x6, #1
  hvc #0
newinsn:
  mov x6, #7
`, { caches: opts.caches });
  if (opts.mmu !== undefined) mmuOn(r, opts.mmu);
  expect(r.run(100_000).reason).toBe("hvc");
  return r;
}

describe("a write to code on the PE that executes it", () => {
  it("MMU and caches on (SCTLR_EL1.M, C, I): after DC CVAU, IC IVAU and ISB the new instruction runs", () => {
    expect(selfModifying({ mmu: SCTLR_M | SCTLR_C | SCTLR_I, caches: true, maintenance: MAINTENANCE }).x(6)).toBe(7n);
  });

  it("MMU and caches on, no maintenance: the fetch is coherent with the dirty line, so the new instruction runs", () => {
    expect(selfModifying({ mmu: SCTLR_M | SCTLR_C | SCTLR_I, caches: true, maintenance: "" }).x(6)).toBe(7n);
  });

  it("MMU off, no caches modelled: the new instruction runs, with the sequence or with none", () => {
    expect(selfModifying({ caches: false, maintenance: MAINTENANCE }).x(6)).toBe(7n);
    expect(selfModifying({ caches: false, maintenance: "" }).x(6)).toBe(7n);
  });

  it("MMU off with the caches modelled (data Non-cacheable): the new instruction runs", () => {
    expect(selfModifying({ caches: true, maintenance: MAINTENANCE }).x(6)).toBe(7n);
  });

  it("SCTLR_EL1.I clear: the Non-cacheable fetch sees the new instruction once DC CVAC has cleaned it to RAM", () => {
    const toPoc = MAINTENANCE.replace("dc cvau", "dc cvac");
    expect(selfModifying({ mmu: SCTLR_M | SCTLR_C, caches: true, maintenance: toPoc }).x(6)).toBe(7n);
    expect(selfModifying({ mmu: SCTLR_M | SCTLR_C, caches: true, maintenance: "" }).x(6)).toBe(1n);
  });

  it("a code write the run loop does not see coming (a DC ZVA over the slot, caches on) is fetched: the slot reads as zero, an undefined instruction", () => {
    const r = a64Rig(`
_start:
  ${MMU_ON}
  adr x2, slot
  mov x3, #100
1:
  subs x3, x3, #1
  b.ne 1b
  dc zva, x2
  isb
  .balign 64
slot:
  mov x6, #1
  hvc #0
`, { caches: true });
    mmuOn(r, SCTLR_M | SCTLR_C | SCTLR_I);
    // Nothing handles the exception: the vector table is empty, so the CPU stops with an exception loop.
    const exit = r.run(100_000);
    expect(exit.reason).not.toBe("hvc");
    expect(r.x(6)).toBe(0n);
  });
});

describe("a write over an instruction that has already run", () => {
  /**
   * Runs \`slot\` ten times, adding its x6 into x7; after the fifth it writes
   * \`mov x6, #7\` over it (then \`maintenance\`), and every iteration also
   * stores to a data word in the same page. So x7 is 5 + 5 × 7 = 40 when
   * the write is seen from the next iteration on.
   */
  function rewriteRunning(opts: { mmu?: bigint; caches: boolean; maintenance: string }): A64Rig {
    const r = a64Rig(`
_start:
  ${opts.mmu === undefined ? "" : MMU_ON}
  ldr w1, newinsn
  adr x2, slot
  adr x4, data
  mov x3, #10
  mov x7, #0
1:
slot:
  mov x6, #1
  add x7, x7, x6
  str x3, [x4]
  cmp x3, #6
  b.ne 2f
  str w1, [x2]
  ${opts.maintenance}
2:
  subs x3, x3, #1
  b.ne 1b
  hvc #0
newinsn:
  mov x6, #7
  .balign 8
data:
  .quad 0
`, { caches: opts.caches });
    if (opts.mmu !== undefined) mmuOn(r, opts.mmu);
    expect(r.run(100_000).reason).toBe("hvc");
    return r;
  }

  it("MMU off, no caches: the next run of the instruction is the new one, and only that store made decoded code stale", () => {
    const r = rewriteRunning({ caches: false, maintenance: "" });
    expect(r.x(7)).toBe(40n);
    // The stores to the data word in the same page made nothing stale: one word of code was written, once.
    expect(r.cpu.counters().codeWriteFlushes).toBe(1n);
    expect(rewriteRunning({ caches: false, maintenance: MAINTENANCE }).x(7)).toBe(40n);
  });

  it("MMU and caches on: the new instruction runs from the next iteration, with the sequence or without", () => {
    expect(rewriteRunning({ mmu: SCTLR_M | SCTLR_C | SCTLR_I, caches: true, maintenance: MAINTENANCE }).x(7)).toBe(40n);
    expect(rewriteRunning({ mmu: SCTLR_M | SCTLR_C | SCTLR_I, caches: true, maintenance: "" }).x(7)).toBe(40n);
  });

  it("SCTLR_EL1.I clear: once DC CVAC has cleaned the new instruction to RAM it runs; the decoded old one is not kept", () => {
    const toPoc = MAINTENANCE.replace("dc cvau", "dc cvac");
    expect(rewriteRunning({ mmu: SCTLR_M | SCTLR_C, caches: true, maintenance: toPoc }).x(7)).toBe(40n);
  });

  it("the host writing the instruction between two runs (a debugger's write) is seen by the next run", () => {
    const r = a64Rig(`
_start:
  mov x3, #200
1:
slot:
  mov x6, #1
  subs x3, x3, #1
  b.ne 1b
  hvc #0
`);
    expect(r.run(50).reason).toBe("budget");
    // mov x6, #7 over mov x6, #1, through the host's view of RAM.
    const slot = r.sym("slot");
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, 0xd28000e6, true);
    r.m.memory.write(slot, bytes);
    expect(r.run(100_000).reason).toBe("hvc");
    expect(r.x(6)).toBe(7n);
  });
});

describe("a write to code by another PE", () => {
  it("CPU 1 writes CPU 0's next instruction with the full sequence while CPU 0 spins; CPU 0 runs the new one after its ISB", () => {
    const r = a64Rig(`
_start:
  mrs x0, mpidr_el1
  and x0, x0, #0xff
  ${MMU_ON}
  adr x2, slot
  cbnz x0, writer
  // CPU 0: wait for the flag, then ISB and run the slot.
  adr x4, flag
1:
  ldr w5, [x4]
  cbz w5, 1b
  isb
slot:
  mov x6, #1
  hvc #0
writer:
  ldr w1, newinsn
  str w1, [x2]
  ${MAINTENANCE}
  adr x4, flag
  mov w5, #1
  str w5, [x4]
  dsb ish
  hvc #0
newinsn:
  mov x6, #7
  .balign 64
flag:
  .word 0
`, { cpus: 2, caches: true });
    mmuOn(r, SCTLR_M | SCTLR_C | SCTLR_I);
    const x = r.cpu.state.x;
    r.m.cpu(1).setState({ x: x.slice() });
    // CPU 0 spins long enough to hold its page in the fetch window, then CPU 1 writes, then CPU 0 goes on.
    expect(r.m.cpu(0).run(5_000).reason).toBe("budget");
    expect(r.m.cpu(1).run(100_000).reason).toBe("hvc");
    expect(r.m.cpu(0).run(100_000).reason).toBe("hvc");
    expect(r.x(6)).toBe(7n);
  });
});
