// SPDX-License-Identifier: MIT
//
// The hardware side of the guest annotations (emulator/hw/common/annotate.ts),
// driven through the module's exports on both architectures: a free flags
// the walk-cache entries that point at the freed table (b) and the
// user-accessible TLB entries that map the freed frame (c); with the
// missing-invalidation detector, also the entries built from a descriptor in
// a freed table; kernel-only entries are never flagged; entries filled after
// the free are not; each entry is told once.

import { describe, expect, it } from "vitest";
import { rig, PTE, PAGE_4K, PAGE_2M, read, userRead } from "../../helpers/x86.ts";
import { armRig, NORMAL, S1, PAGE, read as armRead } from "../../helpers/arm.ts";
import type { HwEvent } from "../../../emulator/machine/core/machine.ts";

const VA = 0x1000000n;
const rules = (events: HwEvent[]) => events.map((e) => (e.kind === "annotation" ? `${e.rule} ${e.frame.toString(16)}` : e.kind));

describe("x86-64", () => {
  function setUp(detectMissingInvalidation = false) {
    const r = rig(detectMissingInvalidation ? { detectMissingInvalidation } : {});
    r.pt.map(VA, 0x200000n, PAGE_4K, PTE.P | PTE.RW | PTE.US);
    r.pt.map(VA + PAGE_4K, 0x201000n, PAGE_4K, PTE.P | PTE.RW | PTE.US);
    r.pt.map(VA + PAGE_2M, 0x400000n, PAGE_4K, PTE.P | PTE.RW);
    const table = r.pt.entryAddress(VA, 1) & ~0xfffn;
    return { ...r, table };
  }

  it("(b) a walk from a PDE-cache entry whose table was freed after the fill is an event, told once", () => {
    const { m, cpu, table } = setUp();
    cpu.translate(VA, read);
    m.hw.annotFree(0, table, 3);
    cpu.translate(VA + PAGE_4K, read);
    cpu.translate(VA + 2n * PAGE_4K, read);
    const events = m.takeEvents();
    expect(rules(events)).toEqual([`freed-table-in-walk-cache ${table.toString(16)}`]);
    expect(events[0]).toMatchObject({ cpu: 0, va: VA + PAGE_4K, freedBy: 0, freedAt: 3, structure: 3 });
  });

  it("(b) not for an entry filled after the free", () => {
    const { m, cpu, table } = setUp();
    m.hw.annotFree(1, table, 0);
    cpu.translate(VA, read);
    cpu.translate(VA + PAGE_4K, read);
    expect(m.takeEvents()).toEqual([]);
  });

  it("(c) a user TLB entry filled before its frame was freed; a supervisor-only one is left alone", () => {
    const { m, cpu } = setUp();
    cpu.translate(VA, userRead);
    cpu.translate(VA + PAGE_2M, read);
    m.hw.annotFree(1, 0x200000n, 5);
    m.hw.annotFree(1, 0x400000n, 6);
    cpu.translate(VA, userRead);
    cpu.translate(VA + PAGE_2M, read);
    const events = m.takeEvents();
    expect(rules(events)).toEqual(["tlb-entry-outlived-free 200000"]);
    expect(events[0]).toMatchObject({ cpu: 0, freedBy: 1, freedAt: 5, structure: 0 });
  });

  it("(c) a 2 MiB entry: an event for the freed 4 KiB frame the access reaches, not for its neighbours", () => {
    const r = rig();
    r.pt.map(0x4000_0000n, 0x800000n, PAGE_2M, PTE.P | PTE.RW | PTE.US);
    r.cpu.translate(0x4000_0000n, userRead);
    r.m.hw.annotFree(0, 0x801000n, 0);
    r.cpu.translate(0x4000_0000n, userRead);
    expect(r.m.takeEvents()).toEqual([]);
    r.cpu.translate(0x4000_1000n, userRead);
    expect(rules(r.m.takeEvents())).toEqual(["tlb-entry-outlived-free 801000"]);
  });

  it.each([false, true])("(b) a TLB entry built from a PTE in a freed table: an event only with the detector (%s), which knows its sources", (detect) => {
    const { m, pt, cpu } = setUp(detect);
    const table = pt.entryAddress(VA + PAGE_2M, 1) & ~0xfffn;
    cpu.translate(VA + PAGE_2M, read);
    m.hw.annotFree(0, table, 2);
    cpu.translate(VA + PAGE_2M, read);
    const events = m.takeEvents().filter((e) => e.kind === "annotation");
    expect(rules(events)).toEqual(detect ? [`freed-table-in-walk-cache ${table.toString(16)}`] : []);
    if (detect) expect(events[0]).toMatchObject({ structure: 0 });
  });
});

describe("AArch64", () => {
  it("(b) and (c): the same checks on the A64 walk caches and TLBs", () => {
    const { m, pt, cpu } = armRig();
    pt.map(VA, 0x80_0020_0000n, PAGE, NORMAL(S1.AP1));
    pt.map(VA + PAGE, 0x80_0020_1000n, PAGE, NORMAL());
    const table = pt.entryAddress(VA, 3) & ~0xfffn;
    cpu.translate(VA, armRead);
    m.hw.annotFree(1, table, 4);
    m.hw.annotFree(1, 0x80_0020_0000n, 5);
    cpu.translate(VA + PAGE, armRead);
    cpu.translate(VA, armRead);
    expect(rules(m.takeEvents())).toEqual([`freed-table-in-walk-cache ${table.toString(16)}`, "tlb-entry-outlived-free 8000200000"]);
  });
});
