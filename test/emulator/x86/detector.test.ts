// SPDX-License-Identifier: MIT
//
// The missing-invalidation detector: a use of a TLB or paging-structure-cache
// entry whose source descriptor changed, with no invalidation in between.

import { describe, expect, it } from "vitest";
import { rig, paOf, read, write, PTE, PAGE_4K, PAGE_2M } from "../../helpers/x86.ts";

const VA = 0x0000_7f00_1234_5000n;
const FRAME_A = 0x10_0000n;
const FRAME_B = 0x20_0000n;
const RW = PTE.RW | PTE.US;

describe("missing-invalidation detector", () => {
  it("reports a TLB entry used after its PTE changed, once, with the changed word", () => {
    const { m, pt, cpu } = rig({ detectMissingInvalidation: true });
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    cpu.translate(VA, read);
    const cached = m.memory.read64(pte);
    m.memory.write64(pte, FRAME_B | RW | PTE.P);
    expect(paOf(cpu.translate(VA + 8n, read))).toBe(FRAME_A + 8n);
    expect(paOf(cpu.translate(VA + 16n, read))).toBe(FRAME_A + 16n);
    const events = m.takeEvents();
    expect(events).toEqual([
      {
        kind: "stale-tlb-entry",
        cpu: 0,
        va: VA + 8n,
        sourcePa: pte,
        cachedValue: cached,
        currentValue: FRAME_B | RW | PTE.P,
        level: 1,
        pcid: 0,
        sequence: 0n,
      },
    ]);
    expect(cpu.counters().staleUses).toBe(1n);
    expect(m.takeEvents()).toEqual([]);
  });

  it("is silent when the change was followed by an invalidation", () => {
    const { m, pt, cpu } = rig({ detectMissingInvalidation: true });
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    cpu.translate(VA, read);
    m.memory.write64(pte, FRAME_B | RW | PTE.P);
    cpu.invlpg(VA);
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_B);
    expect(m.takeEvents()).toEqual([]);
  });

  it("ignores Accessed and Dirty updates and the ignored bits", () => {
    const { m, pt, cpu } = rig({ detectMissingInvalidation: true });
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    cpu.translate(VA, write);
    m.memory.write64(pte, (m.memory.read64(pte) & ~(PTE.A | PTE.D)) | (5n << 9n) | (3n << 52n));
    cpu.translate(VA, read);
    expect(m.takeEvents()).toEqual([]);
  });

  it("reports a changed upper-level entry behind a TLB entry", () => {
    const { m, pt, cpu } = rig({ detectMissingInvalidation: true });
    pt.map(VA, FRAME_A, PAGE_4K, RW);
    cpu.translate(VA, read);
    const pde = pt.entryAddress(VA, 2);
    m.memory.write64(pde, m.memory.read64(pde) & ~PTE.RW);
    cpu.translate(VA, read);
    expect(m.takeEvents()).toMatchObject([{ kind: "stale-tlb-entry", sourcePa: pde, level: 2 }]);
  });

  it("reports a paging-structure-cache entry used after its PDE was re-pointed", () => {
    const { m, pt, cpu } = rig({ detectMissingInvalidation: true });
    pt.map(VA, FRAME_A, PAGE_4K, RW);
    pt.map(VA + PAGE_4K, FRAME_A + PAGE_4K, PAGE_4K, RW);
    cpu.translate(VA, read);
    const pde = pt.entryAddress(VA, 2);
    m.memory.write64(pde, 0xb000n | PTE.P | RW);
    // A neighbour never translated: the walk starts from the cached PDE.
    expect(paOf(cpu.translate(VA + PAGE_4K, read))).toBe(FRAME_A + PAGE_4K);
    expect(m.takeEvents()).toMatchObject([{ kind: "stale-paging-structure-cache-entry", sourcePa: pde, level: 2, va: VA + PAGE_4K }]);
  });

  it("checks large pages too", () => {
    const { m, pt, cpu } = rig({ detectMissingInvalidation: true });
    const va = 0x0000_7f00_0040_0000n;
    const pde = pt.map(va, 0x40_0000n, PAGE_2M, RW);
    cpu.translate(va, read);
    m.memory.write64(pde, 0x60_0000n | RW | PTE.P | PTE.PS);
    cpu.translate(va + 0x1000n, read);
    expect(m.takeEvents()).toMatchObject([{ kind: "stale-tlb-entry", sourcePa: pde, level: 2 }]);
  });

  it("records nothing when it is off", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    cpu.translate(VA, read);
    m.memory.write64(pte, FRAME_B | RW | PTE.P);
    cpu.translate(VA, read);
    expect(m.takeEvents()).toEqual([]);
    expect(cpu.counters().staleUses).toBe(0n);
  });

  it("counts events lost when the ring is full", () => {
    const { m, pt, cpu } = rig({ detectMissingInvalidation: true });
    const pages = 1100n;
    const ptes: bigint[] = [];
    for (let i = 0n; i < pages; i++) ptes.push(pt.map(VA + i * PAGE_4K, FRAME_A, PAGE_4K, RW));
    for (let i = 0n; i < pages; i++) cpu.translate(VA + i * PAGE_4K, read);
    for (const pte of ptes) m.memory.write64(pte, FRAME_B | RW | PTE.P);
    for (let i = 0n; i < pages; i++) cpu.translate(VA + i * PAGE_4K, read);
    const events = m.takeEvents();
    expect(events.length + Number(m.droppedEvents())).toBe(Number(cpu.counters().staleUses));
    expect(m.droppedEvents()).toBeGreaterThan(0n);
  });
});
