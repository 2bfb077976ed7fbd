// SPDX-License-Identifier: MIT
//
// The debugger's hardware exports (emulator/hw/debug.ts): tlbEntriesLive
// says which TLB entries a probe in their own context would still hit,
// under the generation floors (INVLPG kills one entry, a CR3 write raises
// the PCID's floor but leaves global entries, INVPCID type 2 takes them
// too), while the entries themselves stay in memory to be read in place.

import { describe, expect, it } from "vitest";
import { Machine } from "../../../emulator/machine/core/machine.ts";
import { X86PageTables, PTE, PAGE_4K } from "../../../emulator/machine/platform/x86/page-tables.ts";
import { InvpcidType } from "../../../emulator/machine/cpu/x86-cpu.ts";
import { tlbEntries } from "../../../emulator/debug/tlb-dump.ts";

const LOCAL = 0x7f00_0000_0000n;
const GLOBAL = 0x7f00_0000_1000n;

function setup() {
  const m = new Machine({ cpus: 2, maxPhysAddr: 46, ram: [{ base: 0n, size: 64n << 20n }] });
  const pt = new X86PageTables(m.memory, { base: 0x10_0000n, limit: 0x20_0000n });
  pt.map(LOCAL, 0x40_0000n, PAGE_4K, PTE.RW);
  pt.map(GLOBAL, 0x40_1000n, PAGE_4K, PTE.RW | PTE.G);
  const cpu = m.cpu(0);
  // PGE and PCIDE, PCID 1.
  cpu.setRegisters({ cr0: 0x8001_0001n, cr3: pt.cr3() | 1n, cr4: 0x20n | 0x80n | 0x2_0000n, efer: 0xd00n });
  for (const va of [LOCAL, GLOBAL]) expect(cpu.translate(va, { op: "read", priv: "kernel" }).ok).toBe(true);
  return { m, pt, cpu };
}

const pages = (m: Machine, dead = false) =>
  tlbEntries(m, 0, dead).filter((e) => e.structure === m.layout.STRUCT_TLB_4K).map((e) => ({ va: e.tag, asid: e.asid, global: e.global, live: e.live }));

describe("tlbEntriesLive and the TLB dump", () => {
  it("lists the entries a translation filled, with their PCID and global bit", () => {
    const { m } = setup();
    expect(pages(m)).toEqual([
      { va: LOCAL, asid: 1, global: false, live: true },
      { va: GLOBAL, asid: 1, global: true, live: true },
    ]);
    expect(tlbEntries(m, 1)).toEqual([]);
  });

  it("follows INVLPG, a flushing CR3 write and INVPCID type 2 the way a probe would", () => {
    const { m, pt, cpu } = setup();
    cpu.invlpg(LOCAL);
    expect(pages(m)).toEqual([{ va: GLOBAL, asid: 1, global: true, live: true }]);
    expect(pages(m, true)).toContainEqual({ va: LOCAL, asid: 1, global: false, live: false });

    cpu.translate(LOCAL, { op: "read", priv: "kernel" });
    expect(cpu.movToCr3(pt.cr3() | 1n)).toBe("ok"); // PCID 1 again, flushing: non-global entries go
    expect(pages(m).map((e) => e.va)).toEqual([GLOBAL]);

    expect(cpu.invpcid(InvpcidType.AllIncludingGlobal, 0n)).toBe("ok");
    expect(pages(m)).toEqual([]);
    expect(pages(m, true).every((e) => !e.live)).toBe(true);
  });

  it("answers 0 past the end of a structure and for a structure that does not exist", () => {
    const { m } = setup();
    expect(m.hw.tlbEntriesLive(0, m.layout.STRUCT_COUNT, 0)).toBe(0);
    expect(m.hw.tlbEntriesLive(0, m.layout.STRUCT_TLB_4K, 1 << 20)).toBe(0);
    expect(m.hw.cacheLine(0, 0, 0)).toBe(0); // x86-64 machines model no data caches
  });
});
