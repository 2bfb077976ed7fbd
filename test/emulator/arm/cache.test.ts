// SPDX-License-Identifier: MIT
//
// The data-cache model: per-CPU L1s, a system cache, RAM. The hazard it exists
// for: data written with caches on and "cleaned" by set/way is still not in
// RAM (it sits in the system cache, or in another CPU's L1), so a reader with
// caches off sees stale data; cleaning by address to the Point of Coherency
// fixes it.

import { describe, expect, it } from "vitest";
import { armRig, NORMAL, S1, PAGE, SCTLR, MAIR } from "../../helpers/arm.ts";
import type { ArmCpu } from "../../../emulator/machine/index.ts";

const VA = 0x0000_0000_4000_0000n;
const PA = 0x20_0000n;
/** The same page mapped Normal Non-cacheable (MAIR Attr2 = 0x44). */
const VA_NC = VA + 0x10_0000n;
const SCTLR_C = 1n << 2n;
/** No system cache (--system-cache off): 0 ways. */
const NO_SYSTEM_CACHE = { sets: 1, ways: 0 };

function cacheRig(cpus = 1, system: { sets: number; ways: number } = { sets: 64, ways: 4 }) {
  const r = armRig({ cpus, caches: { l1: { sets: 16, ways: 4 }, system } });
  r.pt.map(VA, PA, PAGE, NORMAL());
  r.pt.map(VA_NC, PA, PAGE, S1.attrIndx(2) | S1.sh(2) | S1.AF);
  return r;
}

const value = (cpu: ArmCpu, va: bigint) => {
  const r = cpu.load(va, 8);
  if (!r.ok) throw new Error(`load faulted: ${r.fault.type}`);
  return r.value;
};

/** Cleans (and invalidates, with `op`) this CPU's whole L1 by set/way, as a kernel loops over CCSIDR_EL1. */
function setWayAll(cpu: ArmCpu, op: "CSW" | "CISW" | "ISW") {
  const { ccsidr } = cpu.cacheIdRegisters();
  const lineBits = Number(ccsidr & 7n) + 4;
  const ways = Number((ccsidr >> 3n) & 0x3ffn) + 1;
  const sets = Number((ccsidr >> 13n) & 0x7fffn) + 1;
  const wayShift = 32 - Math.ceil(Math.log2(ways));
  for (let set = 0; set < sets; set++) {
    for (let way = 0; way < ways; way++) cpu.dc(op, (BigInt(way) << BigInt(wayShift)) | (BigInt(set) << BigInt(lineBits)));
  }
}

describe("a machine without a system cache (--system-cache off)", () => {
  it("a set/way clean writes the line back to RAM: only another CPU's L1 can still hide it", () => {
    const r = armRig({ cpus: 2, caches: { l1: { sets: 16, ways: 4 }, system: { sets: 1, ways: 0 } } });
    r.pt.map(VA, PA, PAGE, NORMAL());
    const [a, b] = [r.m.cpu(0), r.m.cpu(1)];
    r.m.memory.write64(PA, 0x1111n);
    expect(a.store(VA, 8, 0x2222n).ok).toBe(true);
    expect(r.m.memory.read64(PA)).toBe(0x1111n);
    // CPU 1 cleans its own L1: CPU 0's dirty line stays where it is (the migration hazard).
    setWayAll(b, "CSW");
    expect(r.m.memory.read64(PA)).toBe(0x1111n);
    // CPU 0 cleans its L1 by set/way: with no system cache to stop at, the line reaches RAM.
    setWayAll(a, "CSW");
    expect(r.m.memory.read64(PA)).toBe(0x2222n);
  });
});

describe("the set/way hazard", () => {
  it("a set/way clean leaves the data in the system cache: caches-off readers see stale RAM; DC CIVAC fixes it", () => {
    const { m, cpu } = cacheRig();
    m.memory.write64(PA, 0x1111n);
    expect(cpu.store(VA, 8, 0x2222n).ok).toBe(true);
    // The write sits dirty in the L1: RAM and non-cacheable readers see the old value.
    expect(m.memory.read64(PA)).toBe(0x1111n);
    expect(value(cpu, VA_NC)).toBe(0x1111n);
    setWayAll(cpu, "CSW");
    // Cleaned by set/way… into the system cache, which set/way never reaches.
    expect(m.memory.read64(PA)).toBe(0x1111n);
    cpu.setRegisters({ sctlr_el1: SCTLR & ~SCTLR_C });
    expect(value(cpu, VA)).toBe(0x1111n);
    cpu.setRegisters({ sctlr_el1: SCTLR });
    expect(cpu.dc("CIVAC", VA).ok).toBe(true);
    expect(m.memory.read64(PA)).toBe(0x2222n);
    cpu.setRegisters({ sctlr_el1: SCTLR & ~SCTLR_C });
    expect(value(cpu, VA)).toBe(0x2222n);
  });

  it("a set/way clean on one CPU misses the data dirty in another CPU's L1; DC CIVAC reaches it", () => {
    const { m } = cacheRig(2);
    const [c0, c1] = [m.cpu(0), m.cpu(1)];
    c1.store(VA, 8, 0x3333n);
    setWayAll(c0, "CISW");
    expect(value(c0, VA_NC)).toBe(0n);
    c0.dc("CIVAC", VA);
    expect(value(c0, VA_NC)).toBe(0x3333n);
  });

  it("cacheable readers on other CPUs see the newest data (the L1s are coherent)", () => {
    const { m } = cacheRig(2);
    const [c0, c1] = [m.cpu(0), m.cpu(1)];
    c0.store(VA, 8, 0x4444n);
    expect(value(c1, VA)).toBe(0x4444n);
    c1.store(VA + 8n, 8, 0x5555n);
    expect(value(c0, VA + 8n)).toBe(0x5555n);
    expect(c0.counters().cacheMisses).toBeGreaterThan(0n);
  });

  it("DC CVAC cleans to RAM and keeps the line; DC IVAC discards dirty data", () => {
    const { m, cpu } = cacheRig();
    cpu.store(VA, 8, 0x6666n);
    cpu.dc("CVAC", VA);
    expect(m.memory.read64(PA)).toBe(0x6666n);
    const hits = cpu.counters().cacheHits;
    expect(value(cpu, VA)).toBe(0x6666n);
    expect(cpu.counters().cacheHits).toBe(hits + 1n);
    cpu.store(VA, 8, 0x7777n);
    cpu.dc("IVAC", VA);
    expect(value(cpu, VA)).toBe(0x6666n);
  });

  it("DC ISW discards dirty data, but with HCR_EL2.SWIO it cleans too", () => {
    const { m, cpu } = cacheRig();
    cpu.store(VA, 8, 0x8888n);
    setWayAll(cpu, "ISW");
    expect(value(cpu, VA)).toBe(0n);
    cpu.setRegisters({ hcr_el2: 1n << 1n });
    cpu.store(VA, 8, 0x9999n);
    setWayAll(cpu, "ISW");
    cpu.dc("CIVAC", VA);
    expect(m.memory.read64(PA)).toBe(0x9999n);
  });

  it("DC ZVA zeroes a 64-byte block through the cache", () => {
    const { m, cpu } = cacheRig();
    for (let i = 0n; i < 16n; i++) m.memory.write64(PA + i * 8n, 0xffn);
    expect(cpu.dc("ZVA", VA + 0x48n).ok).toBe(true);
    cpu.dc("CIVAC", VA + 0x40n);
    expect(m.memory.read64(PA + 0x40n)).toBe(0n);
    expect(m.memory.read64(PA + 0x78n)).toBe(0n);
    expect(m.memory.read64(PA + 0x38n)).toBe(0xffn);
  });
});

describe("without a system cache (--system-cache off)", () => {
  it("a set/way clean writes the dirty line straight to RAM, so a caches-off reader sees it", () => {
    const { m, cpu } = cacheRig(1, NO_SYSTEM_CACHE);
    m.memory.write64(PA, 0x1111n);
    cpu.store(VA, 8, 0x2222n);
    expect(value(cpu, VA_NC)).toBe(0x1111n);
    setWayAll(cpu, "CISW");
    expect(m.memory.read64(PA)).toBe(0x2222n);
    cpu.setRegisters({ sctlr_el1: SCTLR & ~SCTLR_C });
    expect(value(cpu, VA)).toBe(0x2222n);
  });

  it("another CPU's L1 can still hide the line from a set/way clean on this one", () => {
    const { m } = cacheRig(2, NO_SYSTEM_CACHE);
    const [c0, c1] = [m.cpu(0), m.cpu(1)];
    c1.store(VA, 8, 0x3333n);
    setWayAll(c0, "CISW");
    expect(value(c0, VA_NC)).toBe(0n);
    setWayAll(c1, "CSW");
    expect(value(c0, VA_NC)).toBe(0x3333n);
  });

  it("an L1 eviction writes back to RAM, and a read miss after it fills from RAM", () => {
    const { m, cpu, pt } = cacheRig(1, NO_SYSTEM_CACHE);
    pt.map(VA + 0x1000n, PA + 0x1000n, PAGE, NORMAL());
    // Five lines of one set (16 sets of 64 bytes: 1 KiB apart) in a 4-way L1: the first is evicted.
    for (let i = 0n; i < 5n; i++) expect(cpu.store(VA + i * 0x400n, 8, 0x100n + i).ok).toBe(true);
    expect(m.memory.read64(PA)).toBe(0x100n);
    expect(m.memory.read64(PA + 0x400n)).toBe(0n);
    expect(value(cpu, VA)).toBe(0x100n);
  });
});

describe("cache identification and maintenance faults", () => {
  it("reports the L1 geometry in CCSIDR_EL1 and one level in CLIDR_EL1", () => {
    const { cpu } = cacheRig();
    const { clidr, ccsidr } = cpu.cacheIdRegisters();
    expect(clidr & 7n).toBe(0b100n);
    expect((clidr >> 24n) & 7n).toBe(1n);
    expect(ccsidr).toBe(2n | (3n << 3n) | (15n << 13n));
    cpu.setRegisters({ csselr_el1: 2n });
    expect(cpu.cacheIdRegisters().ccsidr).toBe(0n);
  });

  it("DC by address on an unmapped VA is a translation fault", () => {
    const { cpu } = cacheRig();
    const r = cpu.dc("CIVAC", 0x7000_0000n);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.fault).toMatchObject({ type: "translation" });
  });

  it("the table walker sees page tables written through the cache", () => {
    const { m, pt, cpu } = cacheRig();
    // Map a window over the page-table pool, then write a new leaf through it.
    const window = 0x0000_0000_8000_0000n;
    const leaf = pt.entryAddress(VA + PAGE, 3);
    pt.map(window, leaf & ~0xfffn, PAGE, NORMAL());
    cpu.store(window + (leaf & 0xfffn), 8, 0x30_0000n | NORMAL() | S1.VALID | S1.TABLE);
    expect(m.memory.read64(leaf)).toBe(0n);
    const t = cpu.translate(VA + PAGE, { op: "read", priv: "kernel" });
    expect(t).toMatchObject({ ok: true, pa: 0x30_0000n });
    expect(MAIR).toBe(0x44_00_ffn);
  });

  it("the missing-invalidation detector compares descriptors as the walker reads them, through the cache", () => {
    const r = armRig({ cpus: 1, detectMissingInvalidation: true, caches: { l1: { sets: 16, ways: 4 }, system: { sets: 64, ways: 4 } } });
    const { m, pt, cpu } = r;
    r.pt.map(VA, PA, PAGE, NORMAL());
    const window = 0x0000_0000_8000_0000n;
    const leaf = pt.entryAddress(VA, 3);
    pt.map(window, leaf & ~0xfffn, PAGE, NORMAL());
    const writeLeaf = (pa: bigint) => cpu.store(window + (leaf & 0xfffn), 8, pa | NORMAL() | S1.VALID | S1.TABLE);
    // A break-before-make done right: invalid, TLBI, the new page; all of it
    // still dirty in the L1, none of it in RAM. Nothing is reported.
    expect(cpu.translate(VA, { op: "read", priv: "kernel" })).toMatchObject({ ok: true, pa: PA });
    cpu.store(window + (leaf & 0xfffn), 8, 0n);
    cpu.tlbi("VAE1", VA >> 12n);
    writeLeaf(0x30_0000n);
    expect(cpu.translate(VA, { op: "read", priv: "kernel" })).toMatchObject({ ok: true, pa: 0x30_0000n });
    expect(m.memory.read64(leaf)).toBe(PA | NORMAL() | S1.VALID | S1.TABLE);
    cpu.translate(VA, { op: "read", priv: "kernel" });
    expect(m.takeEvents()).toEqual([]);
    // A change without TLBI, again only in the L1: the next use of the entry is reported.
    writeLeaf(0x31_0000n);
    expect(cpu.translate(VA, { op: "read", priv: "kernel" })).toMatchObject({ ok: true, pa: 0x30_0000n });
    expect(m.takeEvents()).toMatchObject([{ kind: "stale-tlb-entry", va: VA, sourcePa: leaf, currentValue: 0x31_0000n | NORMAL() | S1.VALID | S1.TABLE }]);
  });
});
