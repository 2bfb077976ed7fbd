// SPDX-License-Identifier: MIT
//
// The fast paths that let a guest with the MMU and caches on skip the cache
// model and the micro-TLB's flushes must notice every event that takes them
// off: a dirty line appearing in a page the fetch window or the walker reads
// straight from RAM, a write to code, a TLBI of the page the fetch window
// holds or from another CPU, a set/way clean, a change of SCTLR_EL1 or MAIR.
// Each test runs a guest through the A64 run loop (where the fast paths are)
// and fails if the fast path kept what the event should have dropped.

import { describe, expect, it } from "vitest";
import { a64Rig, mmuOn, MMU_ON, RAM_BASE, type A64Rig } from "../../helpers/a64-exec.ts";
import { S1 } from "../../../emulator/machine/platform/arm/page-tables.ts";
import { armRig, NORMAL, PAGE } from "../../helpers/arm.ts";

const SCTLR_M = 1n, SCTLR_C = 4n, SCTLR_I = 1n << 12n;
const MCI = SCTLR_M | SCTLR_C | SCTLR_I;

/** Every CPU gets CPU 0's x10–x13 from mmuOn, so each can run MMU_ON. */
function mmuOnAll(r: A64Rig, sctlr: bigint) {
  const pt = mmuOn(r, sctlr);
  const x0 = r.cpu.state.x;
  for (const cpu of r.m.cpus.slice(1)) {
    const x = cpu.state.x.slice();
    for (const n of [10, 11, 12, 13]) x[n] = x0[n]!;
    cpu.setState({ x });
  }
  return pt;
}

function expectHvc(r: A64Rig, cpu = 0) {
  expect(r.m.cpu(cpu).run(100_000).reason).toBe("hvc");
}

describe("the fetch window with SCTLR_EL1.I set", () => {
  /** Runs a loop long enough for the window to hold the page, then writes the next instruction through the data cache. */
  const writeCode = (sctlr: bigint) => {
    const r = a64Rig(`
_start:
  ${MMU_ON}
  ldr w1, newinsn
  adr x2, slot
  mov x3, #100
1:
  subs x3, x3, #1
  b.ne 1b
  str w1, [x2]
slot:
  mov x6, #1
  hvc #0
newinsn:
  mov x6, #7
`, { caches: true });
    mmuOn(r, sctlr);
    expectHvc(r);
    return r.x(6);
  };

  it("a store that leaves a dirty line in the window's page is fetched next (the window is dropped)", () => {
    expect(writeCode(MCI)).toBe(7n);
  });

  it("with SCTLR_EL1.I clear the fetch reads RAM, which still holds the old instruction", () => {
    expect(writeCode(SCTLR_M | SCTLR_C)).toBe(1n);
  });

  it("a TLBI by address of the window's own page makes the next fetch use the new mapping", () => {
    // The code page at CODE_VA is mapped to PA_A; PA_B holds the same code but for one immediate.
    const CODE_VA = RAM_BASE + 0x40_0000n, PA_A = RAM_BASE + 0x50_0000n, PA_B = RAM_BASE + 0x60_0000n;
    const r = a64Rig(`
_start:
  ${MMU_ON}
  br x20
`, { caches: true });
    const pt = mmuOn(r, MCI);
    const code = a64Rig(`
  mov x3, #100
1:
  subs x3, x3, #1
  b.ne 1b
  str x8, [x9]
  dsb ish
  tlbi vae1, x21
  dsb ish
  isb
  mov x6, #1
  hvc #0
`).program.sections.find((s) => s.name === ".text")!.bytes;
    const leaf = pt.map(CODE_VA, PA_A, PAGE, NORMAL());
    // The code writes the leaf through an identity mapping of its table page.
    pt.map(leaf & ~0xfffn, leaf & ~0xfffn, PAGE, NORMAL());
    const other = code.slice();
    // mov x6, #1 (0xd2800026) becomes mov x6, #7 (0xd28000e6) in the copy at PA_B.
    const view = new DataView(other.buffer);
    const at = other.length - 8;
    expect(view.getUint32(at, true)).toBe(0xd2800026);
    view.setUint32(at, 0xd28000e6, true);
    r.m.memory.write(PA_A, code);
    r.m.memory.write(PA_B, other);
    const x = r.cpu.state.x.slice();
    x[20] = CODE_VA;
    x[8] = PA_B | NORMAL() | S1.VALID | S1.TABLE;
    x[9] = leaf;
    x[21] = CODE_VA >> 12n;
    r.cpu.setState({ x });
    expectHvc(r);
    expect(r.x(6)).toBe(7n);
  });
});

describe("the inline data path with the caches modelled", () => {
  /** CPU 0 and CPU 1 take turns, each to its next HVC: two reads, a write on CPU 0, a read on CPU 1. */
  it("a store to a line this CPU holds clean, while another CPU holds it too, invalidates the other copy", () => {
    const r = a64Rig(`
_start:
  ${MMU_ON}
  mrs x9, mpidr_el1
  and x9, x9, #0xff
  adr x7, data
  cbnz x9, cpu1
  ldr x0, [x7]
  hvc #0
  mov x1, #5
  str x1, [x7]
  hvc #0
cpu1:
  ldr x0, [x7]
  hvc #0
  ldr x0, [x7]
  hvc #0
  .balign 64
data:
  .quad 3
`, { caches: true, cpus: 2 });
    mmuOnAll(r, MCI);
    expectHvc(r, 0);
    expectHvc(r, 1);
    expectHvc(r, 0);
    expectHvc(r, 1);
    expect(r.m.cpu(1).state.x[0]).toBe(5n);
    // The write is still only in CPU 0's L1.
    expect(r.m.memory.read64(r.sym("data"))).toBe(3n);
  });

  it("clearing SCTLR_EL1.C makes the next load read RAM, not the dirty line; setting it again reads the line", () => {
    const r = a64Rig(`
_start:
  ${MMU_ON}
  adr x7, data
  mov x1, #5
  str x1, [x7]
  ldr x2, [x7]
  mrs x3, sctlr_el1
  bic x4, x3, #4
  msr sctlr_el1, x4
  isb
  ldr x5, [x7]
  msr sctlr_el1, x3
  isb
  ldr x6, [x7]
  hvc #0
  .balign 64
data:
  .quad 3
`, { caches: true });
    mmuOn(r, MCI);
    expectHvc(r);
    expect([r.x(2), r.x(5), r.x(6)]).toEqual([5n, 3n, 5n]);
  });

  it("MAIR_EL1 Attr0 made Non-cacheable (then TLBI VMALLE1) makes loads read RAM; Write-Back again reads the line", () => {
    const r = a64Rig(`
_start:
  ${MMU_ON}
  adr x7, data
  mov x1, #5
  str x1, [x7]
  ldr x2, [x7]
  mov x3, #0x44
  msr mair_el1, x3
  tlbi vmalle1
  dsb ish
  isb
  ldr x5, [x7]
  mov x3, #0xff
  msr mair_el1, x3
  tlbi vmalle1
  dsb ish
  isb
  ldr x6, [x7]
  hvc #0
  .balign 64
data:
  .quad 3
`, { caches: true });
    mmuOn(r, MCI);
    expectHvc(r);
    expect([r.x(2), r.x(5), r.x(6)]).toEqual([5n, 3n, 5n]);
  });
});

describe("TLB invalidation", () => {
  it("an IS TLBI from another CPU takes the remapped page off this CPU's micro-TLB", () => {
    const DATA_VA = RAM_BASE + 0x40_0000n, PA_A = RAM_BASE + 0x50_0000n, PA_B = RAM_BASE + 0x60_0000n;
    const r = a64Rig(`
_start:
  ${MMU_ON}
  mov x7, x20
1:
  ldr x0, [x7]
  cmp x0, #2
  b.ne 1b
  hvc #0
`, { caches: true, cpus: 2 });
    const pt = mmuOnAll(r, MCI);
    const leaf = pt.map(DATA_VA, PA_A, PAGE, NORMAL());
    r.m.memory.write64(PA_A, 1n);
    r.m.memory.write64(PA_B, 2n);
    r.cpu.setState({ x: Object.assign(r.cpu.state.x.slice(), { 20: DATA_VA }) });
    expect(r.cpu.run(1000).reason).toBe("budget");
    const c1 = r.m.cpu(1);
    c1.setRegisters({ sctlr_el1: r.cpu.state.sctlr_el1, tcr_el1: r.cpu.state.tcr_el1, ttbr0_el1: r.cpu.state.ttbr0_el1, mair_el1: 0xffn });
    r.m.memory.write64(leaf, PA_B | NORMAL() | S1.VALID | S1.TABLE);
    // Without the TLBI, CPU 0 keeps reading the old page.
    expect(r.cpu.run(1000).reason).toBe("budget");
    c1.tlbi("VAE1IS", DATA_VA >> 12n);
    expectHvc(r);
  });

  it("an IS TLBI reaches every CPU's counters, CPUs with nothing in their TLBs included", () => {
    const { m, pt, cpu } = armRig({ cpus: 16 });
    pt.map(0x1000_0000n, 0x20_0000n, PAGE, NORMAL());
    expect(cpu.load(0x1000_0000n, 8).ok).toBe(true);
    cpu.tlbi("VAE1IS", 0x1000_0000n >> 12n);
    cpu.tlbi("VMALLE1IS");
    expect(m.cpus.map((c) => c.counters().tlbiReceived)).toEqual([0n, ...Array(15).fill(2n)]);
    expect(cpu.counters().tlbi).toBe(2n);
  });
});

describe("the walker reading a page with no line that differs from RAM", () => {
  it("sees a descriptor cleaned by set/way into the system cache, and RAM's after DC ISW discards it", () => {
    const { m, pt, cpu } = armRig({ caches: { l1: { sets: 16, ways: 4 }, system: { sets: 64, ways: 4 } } });
    const VA = 0x1000_0000n;
    pt.map(VA, 0x20_0000n, PAGE, NORMAL());
    const window = 0x8000_0000n;
    const leaf = pt.entryAddress(VA + PAGE, 3);
    pt.map(window, leaf & ~0xfffn, PAGE, NORMAL());
    const setWay = (op: "CSW" | "ISW") => {
      const { ccsidr } = cpu.cacheIdRegisters();
      const ways = Number((ccsidr >> 3n) & 0x3ffn) + 1;
      const sets = Number((ccsidr >> 13n) & 0x7fffn) + 1;
      const wayShift = 32 - Math.ceil(Math.log2(ways));
      for (let set = 0; set < sets; set++) {
        for (let way = 0; way < ways; way++) cpu.dc(op, (BigInt(way) << BigInt(wayShift)) | (BigInt(set) << 6n));
      }
    };
    const read = { op: "read", priv: "kernel" } as const;
    // The page of tables has no cached line yet: the walk reads RAM (an invalid leaf).
    expect(cpu.translate(VA + PAGE, read).ok).toBe(false);
    expect(cpu.store(window + (leaf & 0xfffn), 8, 0x30_0000n | NORMAL() | S1.VALID | S1.TABLE).ok).toBe(true);
    setWay("CSW");
    // Clean in the L1, dirty in the system cache, RAM still old: the walker must see the system cache's copy.
    expect(m.memory.read64(leaf)).toBe(0n);
    expect(cpu.translate(VA + PAGE, read)).toMatchObject({ ok: true, pa: 0x30_0000n });
    cpu.tlbi("VMALLE1");
    // A new store, discarded by DC ISW: the walker then reads what the system cache holds.
    expect(cpu.store(window + (leaf & 0xfffn), 8, 0x40_0000n | NORMAL() | S1.VALID | S1.TABLE).ok).toBe(true);
    expect(cpu.translate(VA + PAGE, read)).toMatchObject({ ok: true, pa: 0x40_0000n });
    cpu.tlbi("VMALLE1");
    setWay("ISW");
    expect(cpu.translate(VA + PAGE, read)).toMatchObject({ ok: true, pa: 0x30_0000n });
  });
});
