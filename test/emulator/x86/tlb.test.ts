// SPDX-License-Identifier: MIT
//
// What the x86-64 TLB keeps and what each invalidation removes (SDM Vol.3A
// 4.10.2 to 4.10.4): stale translations stay until software invalidates them.

import { describe, expect, it } from "vitest";
import { InvpcidType } from "../../../emulator/machine/index.ts";
import {
  rig, paOf, pf, read, write, userRead, userWrite, PTE, PAGE_4K, PAGE_2M, PAGE_1G, CR4_PGE, CR4_PCIDE, CR4_PAE,
  CR4_SMEP, CR0_PE, CR0_PG, CR0_WP,
} from "../../helpers/x86.ts";

const VA = 0x0000_7f00_1234_5000n;
const FRAME_A = 0x10_0000n;
const FRAME_B = 0x20_0000n;
const RW = PTE.RW | PTE.US;

describe("stale translations", () => {
  it("keeps using a changed PTE until INVLPG, and sees the change after", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    expect(paOf(cpu.translate(VA + 0x10n, read))).toBe(FRAME_A + 0x10n);
    m.memory.write64(pte, FRAME_B | RW | PTE.P);
    expect(paOf(cpu.translate(VA + 0x10n, read))).toBe(FRAME_A + 0x10n);
    cpu.invlpg(VA + 0xff8n);
    expect(paOf(cpu.translate(VA + 0x10n, read))).toBe(FRAME_B + 0x10n);
  });

  it("keeps a translation after its PTE is cleared, until a MOV to CR3", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    cpu.translate(VA, read);
    m.memory.write64(pte, 0n);
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
    expect(cpu.movToCr3(pt.cr3())).toBe("ok");
    expect(paOf(cpu.translate(VA, read))).toBe(pf(0));
  });

  it("invalidates every page size: INVLPG anywhere in a 2 MiB page drops it", () => {
    const { m, pt, cpu } = rig();
    const va = 0x0000_7f00_0040_0000n;
    const pde = pt.map(va, 0x40_0000n, PAGE_2M, RW);
    expect(paOf(cpu.translate(va + 0x12_3456n, read))).toBe(0x40_0000n + 0x12_3456n);
    expect(cpu.translate(va + 0x12_3456n, read)).toMatchObject({ pageSize: 2 << 20 });
    m.memory.write64(pde, 0x60_0000n | RW | PTE.P | PTE.PS);
    expect(paOf(cpu.translate(va + 0x1_0000n, read))).toBe(0x40_0000n + 0x1_0000n);
    cpu.invlpg(va + 0x1f_f000n);
    expect(paOf(cpu.translate(va + 0x1_0000n, read))).toBe(0x60_0000n + 0x1_0000n);
  });

  it("maps 1 GiB pages and reports their size", () => {
    const { pt, cpu } = rig();
    const va = 0x0000_7fc0_0000_0000n;
    pt.map(va, 0x40_0000_0000n, PAGE_1G, RW);
    const t = cpu.translate(va + 0x3fff_fff8n, read);
    expect(paOf(t)).toBe(0x40_3fff_fff8n);
    expect(t).toMatchObject({ pageSize: 1 << 30 });
  });

  it("serves a write through a clean entry by walking again and setting D", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    cpu.translate(VA, read);
    expect(m.memory.read64(pte) & PTE.D).toBe(0n);
    expect(paOf(cpu.translate(VA, write))).toBe(FRAME_A);
    expect(m.memory.read64(pte) & PTE.D).toBe(PTE.D);
    expect(cpu.counters().dirtyRewalks).toBe(1n);
  });

  it("re-walks for the Dirty flag and so sees a PTE made read-only meanwhile", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    cpu.translate(VA, read);
    m.memory.write64(pte, FRAME_A | PTE.US | PTE.P | PTE.A);
    expect(paOf(cpu.translate(VA, write))).toBe(pf(0x3));
  });

  it("faults on a stale read-only entry after a lazy upgrade, and the fault itself invalidates it", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, PTE.US);
    cpu.translate(VA, read);
    m.memory.write64(pte, FRAME_A | RW | PTE.P | PTE.A);
    // The cached entry says read-only: a spurious #PF with P=1, W=1.
    const t = cpu.translate(VA, write);
    expect(paOf(t)).toBe(pf(0x3));
    expect(cpu.registers.cr2).toBe(VA);
    // The retry walks and succeeds (SDM Vol.3A 4.10.4.1).
    expect(paOf(cpu.translate(VA, write))).toBe(FRAME_A);
    expect(cpu.counters().faultInvalidations).toBe(1n);
  });

  it("does not fill the TLB with a translation that faulted", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, 0n);
    m.memory.write64(pte, 0n);
    expect(paOf(cpu.translate(VA, read))).toBe(pf(0));
    m.memory.write64(pte, FRAME_A | RW | PTE.P);
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
  });
});

describe("global pages", () => {
  it("survive a MOV to CR3 but not a toggle of CR4.PGE", () => {
    const { m, pt, cpu } = rig({ cr4: CR4_PGE });
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW | PTE.G);
    expect(cpu.translate(VA, read)).toMatchObject({ global: true });
    m.memory.write64(pte, FRAME_B | RW | PTE.P | PTE.G);
    cpu.movToCr3(pt.cr3());
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
    const cr4 = cpu.registers.cr4;
    expect(cpu.movToCr4(cr4 & ~CR4_PGE)).toBe("ok");
    expect(cpu.movToCr4(cr4)).toBe("ok");
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_B);
  });

  it("are not global when CR4.PGE=0 at fill time", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW | PTE.G);
    expect(cpu.translate(VA, read)).toMatchObject({ global: false });
    m.memory.write64(pte, FRAME_B | RW | PTE.P | PTE.G);
    cpu.movToCr3(pt.cr3());
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_B);
  });

  it("survive INVPCID types 1 and 3 but not type 2, and INVLPG drops them", () => {
    const { m, pt, cpu } = rig({ cr4: CR4_PGE | CR4_PCIDE });
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW | PTE.G);
    cpu.translate(VA, read);
    m.memory.write64(pte, FRAME_B | RW | PTE.P | PTE.G);
    expect(cpu.invpcid(InvpcidType.SingleContext, 0n)).toBe("ok");
    expect(cpu.invpcid(InvpcidType.AllExcludingGlobal, 0n)).toBe("ok");
    expect(cpu.invpcid(InvpcidType.Address, 0n, VA)).toBe("ok");
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
    expect(cpu.invpcid(InvpcidType.AllIncludingGlobal, 0n)).toBe("ok");
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_B);
    m.memory.write64(pte, FRAME_A | RW | PTE.P | PTE.G);
    cpu.invlpg(VA);
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
  });
});

describe("PCIDs", () => {
  /** Two address spaces that map VA differently, in PCIDs 1 and 2. */
  function twoSpaces() {
    const r = rig({ cr4: CR4_PCIDE });
    const { m, pt } = r;
    const pte1 = pt.map(VA, FRAME_A, PAGE_4K, RW);
    const root2 = 0x7000n;
    m.memory.write(root2, new Uint8Array(4096));
    // Space 2 shares space 1's tables except the root entry for VA, which points to a copy.
    const pml4Index = (VA >> 39n) & 511n;
    const pdptCopy = 0x8000n;
    const pml4e = m.memory.read64(pt.root + pml4Index * 8n);
    m.memory.write(pdptCopy, m.memory.read(pml4e & 0xf_ffff_ffff_f000n, 4096));
    m.memory.write64(root2 + pml4Index * 8n, pdptCopy | PTE.P | RW);
    // Space 2's walk goes through the copied PDPT to the same PD: give VA its own PD and PT there.
    const pdptIndex = (VA >> 30n) & 511n;
    const pd2 = 0x9000n;
    const pt2 = 0xa000n;
    m.memory.write(pd2, new Uint8Array(4096));
    m.memory.write(pt2, new Uint8Array(4096));
    m.memory.write64(pdptCopy + pdptIndex * 8n, pd2 | PTE.P | RW);
    m.memory.write64(pd2 + ((VA >> 21n) & 511n) * 8n, pt2 | PTE.P | RW);
    const pte2 = pt2 + ((VA >> 12n) & 511n) * 8n;
    m.memory.write64(pte2, FRAME_B | PTE.P | RW);
    return { ...r, pte1, pte2, cr3a: pt.root | 1n, cr3b: root2 | 2n };
  }

  it("keeps each PCID's translations apart", () => {
    const { cpu, cr3a, cr3b } = twoSpaces();
    cpu.movToCr3(cr3a);
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
    cpu.movToCr3(cr3b);
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_B);
    cpu.movToCr3(cr3a | (1n << 63n));
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
  });

  it("keeps a PCID's entries across a MOV to CR3 with bit 63 set, and drops them without it", () => {
    const { m, cpu, cr3a, cr3b, pte1 } = twoSpaces();
    cpu.movToCr3(cr3a);
    cpu.translate(VA, read);
    m.memory.write64(pte1, 0x30_0000n | PTE.P | RW);
    cpu.movToCr3(cr3b);
    cpu.movToCr3(cr3a | (1n << 63n));
    expect(cpu.registers.cr3).toBe(cr3a);
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
    cpu.movToCr3(cr3b | (1n << 63n));
    cpu.movToCr3(cr3a);
    expect(paOf(cpu.translate(VA, read))).toBe(0x30_0000n);
    expect(cpu.counters()).toMatchObject({ cr3NoFlush: 2n, cr3Flush: 3n });
  });

  it("flushes only the new PCID on a MOV to CR3 without bit 63", () => {
    const { m, cpu, cr3a, cr3b, pte1, pte2 } = twoSpaces();
    cpu.movToCr3(cr3a);
    cpu.translate(VA, read);
    cpu.movToCr3(cr3b);
    cpu.translate(VA, read);
    m.memory.write64(pte1, 0x30_0000n | PTE.P | RW);
    m.memory.write64(pte2, 0x31_0000n | PTE.P | RW);
    cpu.movToCr3(cr3b); // flushes PCID 2 only
    expect(paOf(cpu.translate(VA, read))).toBe(0x31_0000n);
    cpu.movToCr3(cr3a | (1n << 63n));
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
  });

  it("INVPCID type 0 drops one address of one PCID, type 1 one PCID, type 3 all of them", () => {
    const { m, cpu, cr3a, cr3b, pte1, pte2 } = twoSpaces();
    cpu.movToCr3(cr3a);
    cpu.translate(VA, read);
    cpu.movToCr3(cr3b);
    cpu.translate(VA, read);
    m.memory.write64(pte1, 0x30_0000n | PTE.P | RW);
    m.memory.write64(pte2, 0x31_0000n | PTE.P | RW);
    // Type 0 on PCID 1 while PCID 2 is current.
    expect(cpu.invpcid(InvpcidType.Address, 1n, VA)).toBe("ok");
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_B);
    cpu.movToCr3(cr3a | (1n << 63n));
    expect(paOf(cpu.translate(VA, read))).toBe(0x30_0000n);
    // Type 1 on PCID 2.
    expect(cpu.invpcid(InvpcidType.SingleContext, 2n)).toBe("ok");
    cpu.movToCr3(cr3b | (1n << 63n));
    expect(paOf(cpu.translate(VA, read))).toBe(0x31_0000n);
    // Type 3: both.
    m.memory.write64(pte1, FRAME_A | PTE.P | RW);
    m.memory.write64(pte2, FRAME_B | PTE.P | RW);
    expect(cpu.invpcid(InvpcidType.AllExcludingGlobal, 0n)).toBe("ok");
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_B);
    cpu.movToCr3(cr3a | (1n << 63n));
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
  });

  it("INVLPG acts on the current PCID only", () => {
    const { m, cpu, cr3a, cr3b, pte1 } = twoSpaces();
    cpu.movToCr3(cr3a);
    cpu.translate(VA, read);
    m.memory.write64(pte1, 0x30_0000n | PTE.P | RW);
    cpu.movToCr3(cr3b | (1n << 63n));
    cpu.invlpg(VA);
    cpu.movToCr3(cr3a | (1n << 63n));
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
  });

  it("raises #GP for a bad INVPCID type, a PCID above 4095, or a non-canonical type-0 address", () => {
    const { cpu } = rig({ cr4: CR4_PCIDE });
    expect(cpu.invpcid(4 as InvpcidType, 0n)).toBe("#GP");
    expect(cpu.invpcid(InvpcidType.SingleContext, 4096n)).toBe("#GP");
    expect(cpu.invpcid(InvpcidType.Address, 0n, 0x8000_0000_0000n)).toBe("#GP");
  });

  it("clearing CR4.PCIDE flushes every PCID including globals; setting it needs CR3[11:0]=0", () => {
    const { m, cpu, pt, cr3a, pte1 } = twoSpaces();
    cpu.movToCr3(cr3a);
    cpu.translate(VA, read);
    m.memory.write64(pte1, 0x30_0000n | PTE.P | RW);
    const cr4 = cpu.registers.cr4;
    expect(cpu.movToCr4(cr4 & ~CR4_PCIDE)).toBe("ok");
    expect(paOf(cpu.translate(VA, read))).toBe(0x30_0000n);
    cpu.setRegisters({ cr3: pt.root | 5n });
    expect(cpu.movToCr4(cr4)).toBe("#GP");
    cpu.setRegisters({ cr3: pt.root });
    expect(cpu.movToCr4(cr4)).toBe("ok");
  });
});

describe("paging-structure caches", () => {
  /**
   * Maps VA and its neighbour, translates VA (caching the PDE), then re-points
   * the PDE at a new page table that maps the neighbour at 0x500000.
   */
  function repointedPde() {
    const r = rig();
    const { m, pt, cpu } = r;
    pt.map(VA, FRAME_A, PAGE_4K, RW);
    pt.map(VA + PAGE_4K, FRAME_A + PAGE_4K, PAGE_4K, RW);
    cpu.translate(VA, read);
    const newTable = 0xb000n;
    m.memory.write(newTable, new Uint8Array(4096));
    m.memory.write64(newTable + (((VA + PAGE_4K) >> 12n) & 511n) * 8n, 0x50_0000n | PTE.P | RW);
    m.memory.write64(pt.entryAddress(VA, 2), newTable | PTE.P | RW);
    return r;
  }

  it("keep a stale pointer to a page table until an invalidation", () => {
    const { cpu } = repointedPde();
    // The neighbour was never in the TLB, but the walk starts from the cached PDE.
    expect(paOf(cpu.translate(VA + PAGE_4K, read))).toBe(FRAME_A + PAGE_4K);
    expect(cpu.counters().pagingStructureCacheHits).toBeGreaterThan(0n);
  });

  it("are all dropped for the current PCID by INVLPG of any address", () => {
    const { cpu } = repointedPde();
    cpu.invlpg(0x1000n); // an unrelated address
    expect(paOf(cpu.translate(VA + PAGE_4K, read))).toBe(0x50_0000n);
    // …but the TLB entry for VA itself, untouched by that INVLPG, is still there.
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_A);
  });

  it("count their hits and the walk's memory reads", () => {
    const { pt, cpu } = rig();
    pt.map(VA, FRAME_A, PAGE_4K, RW);
    pt.map(VA + PAGE_4K, FRAME_A + PAGE_4K, PAGE_4K, RW);
    cpu.translate(VA, read);
    expect(cpu.counters()).toMatchObject({ walks: 1n, walkReads: 4n, tlbMisses: 1n, tlbHits: 0n });
    cpu.translate(VA + PAGE_4K, read);
    expect(cpu.counters()).toMatchObject({ walks: 2n, walkReads: 5n, pagingStructureCacheHits: 1n });
    cpu.translate(VA + 8n, read);
    expect(cpu.counters()).toMatchObject({ tlbHits: 1n, walks: 2n });
  });

  it("reads 5 levels with LA57", () => {
    const { pt, cpu } = rig({ levels: 5 });
    const va = 0xff23_4567_89ab_c000n;
    pt.map(va, FRAME_A, PAGE_4K, RW);
    expect(paOf(cpu.translate(va + 4n, read))).toBe(FRAME_A + 4n);
    expect(cpu.counters().walkReads).toBe(5n);
  });
});

describe("control registers", () => {
  it("clearing CR0.PG flushes everything; with paging off addresses are physical", () => {
    const { m, pt, cpu } = rig({ cr4: CR4_PGE });
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW | PTE.G);
    cpu.translate(VA, read);
    m.memory.write64(pte, FRAME_B | RW | PTE.P | PTE.G);
    expect(cpu.movToCr0(CR0_PE | CR0_WP)).toBe("ok");
    expect(paOf(cpu.translate(0x1234n, read))).toBe(0x1234n);
    cpu.movToCr0(CR0_PE | CR0_PG | CR0_WP);
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_B);
  });

  it("setting CR4.SMEP flushes the current PCID", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    cpu.translate(VA, read);
    m.memory.write64(pte, FRAME_B | RW | PTE.P);
    expect(cpu.movToCr4(cpu.registers.cr4 | CR4_SMEP)).toBe("ok");
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_B);
  });

  it("refuses reserved bits: CR3 above MAXPHYADDR, CR4 bit 15, clearing PAE in IA-32e mode", () => {
    const { cpu } = rig();
    expect(cpu.movToCr3(1n << 50n)).toBe("#GP");
    expect(cpu.movToCr4(cpu.registers.cr4 | (1n << 15n))).toBe("#GP");
    expect(cpu.movToCr4(cpu.registers.cr4 & ~CR4_PAE)).toBe("#GP");
    expect(cpu.movToCr0(1n << 32n)).toBe("#GP");
  });

  it("CR0.WP decides whether the kernel may write read-only user and supervisor pages", () => {
    const { pt, cpu } = rig();
    pt.map(VA, FRAME_A, PAGE_4K, PTE.US);
    expect(paOf(cpu.translate(VA, write))).toBe(pf(0x3));
    cpu.movToCr0(CR0_PE | CR0_PG);
    expect(paOf(cpu.translate(VA, write))).toBe(FRAME_A);
    expect(paOf(cpu.translate(VA, userWrite))).toBe(pf(0x7));
    expect(paOf(cpu.translate(VA, userRead))).toBe(FRAME_A);
  });
});

describe("faults", () => {
  it("writes CR2 and counts page faults; a peek does neither", () => {
    const { cpu } = rig();
    expect(paOf(cpu.peek(VA, read))).toBe(pf(0));
    expect(cpu.registers.cr2).toBe(0n);
    expect(cpu.counters().pageFaults).toBe(0n);
    expect(paOf(cpu.translate(VA, read))).toBe(pf(0));
    expect(cpu.registers.cr2).toBe(VA);
    expect(cpu.counters().pageFaults).toBe(1n);
  });

  it("raises #GP, not #PF, for a non-canonical address", () => {
    const { cpu } = rig();
    expect(paOf(cpu.translate(0x0000_8000_0000_0000n, read))).toBe("#GP");
    expect(paOf(cpu.translate(0xffff_7fff_ffff_f000n, read))).toBe("#GP");
  });

  it("reports a bus error when a table is outside RAM", () => {
    const { cpu } = rig();
    cpu.setRegisters({ cr3: 0x7f_0000_0000n });
    const t = cpu.translate(VA, read);
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.fault).toMatchObject({ kind: "bus-error", address: 0x7f_0000_0000n + ((VA >> 39n) & 511n) * 8n, level: 4 });
    expect(cpu.counters().busErrors).toBe(1n);
  });
});

describe("peek, the side-effect-free twin", () => {
  it("sets no Accessed flag, fills no TLB entry and counts nothing", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    expect(paOf(cpu.peek(VA, write))).toBe(FRAME_A);
    expect(m.memory.read64(pte) & (PTE.A | PTE.D)).toBe(0n);
    expect(cpu.counters()).toMatchObject({ tlbHits: 0n, walks: 0n, walkReads: 0n });
    m.memory.write64(pte, FRAME_B | RW | PTE.P);
    expect(paOf(cpu.translate(VA, read))).toBe(FRAME_B);
  });

  it("shows what the TLB holds, or with memoryOnly what memory says", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    cpu.translate(VA, read);
    m.memory.write64(pte, FRAME_B | RW | PTE.P);
    expect(paOf(cpu.peek(VA, read))).toBe(FRAME_A);
    expect(paOf(cpu.peek(VA, read, { memoryOnly: true }))).toBe(FRAME_B);
  });
});

describe("capacity", () => {
  it("evicts round-robin within a set and counts evictions", () => {
    const { pt, cpu, m } = rig({ tlb: { tlb4k: { sets: 1, ways: 2 } }, microTlbEntries: 0 });
    for (let i = 0n; i < 3n; i++) pt.map(VA + i * PAGE_4K, FRAME_A + i * PAGE_4K, PAGE_4K, RW);
    for (let i = 0n; i < 3n; i++) cpu.translate(VA + i * PAGE_4K, read);
    expect(cpu.counters().evictions).toBe(1n);
    // The first page was evicted: translating it walks again.
    const walks = cpu.counters().walks;
    cpu.translate(VA, read);
    expect(cpu.counters().walks).toBe(walks + 1n);
    expect(m.cpus.length).toBe(1);
  });
});

describe("walkMemory, the debugger's view of the tables", () => {
  it("lists every descriptor read and why the walk stopped, changing nothing", () => {
    const { m, pt, cpu } = rig();
    const pte = pt.map(VA, FRAME_A, PAGE_4K, RW);
    const w = cpu.walkMemory(VA);
    expect(w.stop).toBe("leaf");
    expect(w.steps.map((s) => s.level)).toEqual([4, 3, 2, 1]);
    expect(w.steps[3]).toEqual({ level: 1, entryPa: pte, value: FRAME_A | RW | PTE.P });
    expect(w.steps[0]!.entryPa).toBe(pt.root + ((VA >> 39n) & 511n) * 8n);
    expect(m.memory.read64(pte) & PTE.A).toBe(0n);
    m.memory.write64(pt.entryAddress(VA, 2), 0n);
    expect(cpu.walkMemory(VA)).toMatchObject({ stop: "not-present", steps: [{ level: 4 }, { level: 3 }, { level: 2, value: 0n }] });
    cpu.setRegisters({ cr3: 0x7f_0000_0000n });
    expect(cpu.walkMemory(VA)).toMatchObject({ stop: "bus-error", steps: [{ level: 4, entryPa: 0x7f_0000_0000n + ((VA >> 39n) & 511n) * 8n }] });
  });
});
