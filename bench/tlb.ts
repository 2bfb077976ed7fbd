// SPDX-License-Identifier: MIT
//
// The TLB hit path and cold page walks, inside WebAssembly, each in one batch
// call: x86-64 4-level walks, AArch64 stage-1 walks, and AArch64 stage 1+2
// walks, against plain WebAssembly loads over the same pattern of addresses,
// all measured in the same run.

import { Machine } from "../emulator/machine/core/machine.ts";
import { X86PageTables, PTE, PAGE_4K } from "../emulator/machine/platform/x86/page-tables.ts";
import { ArmPageTables, S1, S2 } from "../emulator/machine/platform/arm/page-tables.ts";
import { timeBest, perSecond, type BenchOptions } from "./cli.ts";

const VA_BASE = 0x0000_7f12_3400_0000n;
const DATA_PA = 0x0100_0000n;
const CR0_PG_WP_PE = 0x8001_0001n;
const CR4_PAE = 1n << 5n;
const EFER_LME_LMA_NXE = 0xd00n;

/** A one-CPU x86-64 machine with 2^lgPages 4 KiB pages mapped at VA_BASE. */
function x86Machine(lgPages: number, microTlbEntries: number): Machine {
  const m = new Machine({ cpus: 1, maxPhysAddr: 46, ram: [{ base: 0n, size: 64n << 20n }], microTlbEntries });
  const pt = new X86PageTables(m.memory, { base: 0x10_0000n, limit: DATA_PA });
  for (let i = 0n; i < 1n << BigInt(lgPages); i++) {
    pt.map(VA_BASE + i * PAGE_4K, DATA_PA + i * PAGE_4K, PAGE_4K, PTE.RW | PTE.A | PTE.D);
  }
  m.cpu(0).setRegisters({ cr0: CR0_PG_WP_PE, cr3: pt.cr3(), cr4: CR4_PAE, efer: EFER_LME_LMA_NXE });
  return m;
}

/**
 * A one-CPU AArch64 machine with the same pages mapped by a 4-level stage 1
 * (48-bit VA) and, when nested, a 4-level stage 2 (48-bit IPA) mapping every
 * IPA to PA + 1 GiB. Data caches off: this measures the walks.
 */
function armMachine(lgPages: number, nested: boolean): Machine<"aarch64"> {
  const GIB = 1n << 30n;
  const m = new Machine({
    arch: "aarch64", cpus: 1, maxPhysAddr: 48, caches: false,
    ram: [{ base: 0n, size: 64n << 20n }, { base: GIB, size: 64n << 20n }],
  });
  const offset = nested ? GIB : 0n;
  // Stage-1 tables at IPAs [1 MiB, 16 MiB), written at their PAs.
  const memory = m.memory;
  const view = nested
    ? ({ ...memory, read64: (a: bigint) => memory.read64(a + offset), write64: (a: bigint, v: bigint) => memory.write64(a + offset, v), write: (a: bigint, b: Uint8Array) => memory.write(a + offset, b) } as typeof memory)
    : memory;
  const s1 = new ArmPageTables(view, { base: 0x10_0000n, limit: DATA_PA }, 48);
  for (let i = 0n; i < 1n << BigInt(lgPages); i++) {
    s1.map(VA_BASE + i * PAGE_4K, DATA_PA + i * PAGE_4K, PAGE_4K, S1.attrIndx(0) | S1.sh(3) | S1.AF);
  }
  const cpu = m.cpu(0);
  cpu.setRegisters({
    sctlr_el1: 0x30d0_1805n,
    tcr_el1: 16n | (16n << 16n) | (2n << 30n) | (5n << 32n) | (1n << 36n),
    ttbr0_el1: s1.root,
    mair_el1: 0xffn,
  });
  if (nested) {
    const s2 = new ArmPageTables(m.memory, { base: GIB + (32n << 20n), limit: GIB + (64n << 20n) }, 48, 0);
    for (let ipa = 0n; ipa < 32n << 20n; ipa += PAGE_4K) s2.map(ipa, GIB + ipa, PAGE_4K, S2.R | S2.W | S2.AF | S2.memAttr(15));
    cpu.setRegisters({ hcr_el2: 1n, vttbr_el2: s2.root | (1n << 48n), vtcr_el2: 16n | (2n << 6n) | (5n << 16n) | (1n << 19n) });
  }
  return m;
}

export function tlbSuite({ scale, out }: BenchOptions): void {
  const lgPages = 6;
  const hits = Math.max(1, Math.round(20_000_000 * scale));
  const walks = Math.max(1, Math.round(5_000_000 * scale));
  const nestedWalks = Math.max(1, Math.round(1_000_000 * scale));
  const rounds = 7;

  const m = x86Machine(lgPages, 256);
  const mNoMicro = x86Machine(lgPages, 0);
  const arm = armMachine(lgPages, false);
  const armNested = armMachine(lgPages, true);
  const hw = m.hw;
  const host = Number(hw.ramHost(DATA_PA, 8));
  // Warm the TLBs so that every timed translation hits.
  hw.benchTranslate(0, VA_BASE, lgPages, 1 << 12);
  mNoMicro.hw.benchTranslate(0, VA_BASE, lgPages, 1 << 12);
  const before = m.cpu(0).counters();

  let load = Infinity;
  let hit = Infinity;
  let hitNoMicro = Infinity;
  let walk = Infinity;
  let armWalk = Infinity;
  let armNestedWalk = Infinity;
  // Interleave the rounds so that machine noise hits every loop alike.
  for (let r = 0; r < rounds; r++) {
    load = Math.min(load, timeBest(1, hits, () => hw.benchLoad(host, lgPages, hits)));
    hit = Math.min(hit, timeBest(1, hits, () => hw.benchTranslate(0, VA_BASE, lgPages, hits)));
    hitNoMicro = Math.min(hitNoMicro, timeBest(1, hits, () => mNoMicro.hw.benchTranslate(0, VA_BASE, lgPages, hits)));
    walk = Math.min(walk, timeBest(1, walks, () => hw.benchWalk(0, VA_BASE, lgPages, walks)));
    armWalk = Math.min(armWalk, timeBest(1, walks, () => arm.hw.benchArmWalk(0, VA_BASE, lgPages, walks)));
    armNestedWalk = Math.min(armNestedWalk, timeBest(1, nestedWalks, () => armNested.hw.benchArmWalk(0, VA_BASE, lgPages, nestedWalks)));
  }
  const after = m.cpu(0).counters();
  const walkReads = Number(after.walkReads - before.walkReads) / Number(after.walks - before.walks);
  const armCounters = arm.cpu(0).counters();
  const nestedCounters = armNested.cpu(0).counters();
  for (const [name, c] of [["x86-64", after], ["AArch64", armCounters], ["AArch64 nested", nestedCounters]] as const) {
    // Every timed translation must succeed, or the loops would be measuring faults.
    if (c.pageFaults !== 0n) throw new Error(`bench: ${name} translations faulted`);
  }

  const line = (name: string, ns: number, extra = "") => out(`  ${name.padEnd(40)} ${ns.toFixed(2).padStart(7)} ns  ${perSecond(ns).padStart(11)}${extra}`);
  out(`tlb: 1 CPU, ${1 << lgPages} pages of 4 KiB, best of ${rounds} rounds`);
  line("plain wasm load (baseline)", load);
  line("x86-64 TLB hit (micro-TLB)", hit, `   ${(hit / load).toFixed(2)}x plain load`);
  line("x86-64 TLB hit (set-associative only)", hitNoMicro, `   ${(hitNoMicro / load).toFixed(2)}x plain load`);
  line("x86-64 4-level walk, cold caches", walk, `   ${walkReads.toFixed(2)} reads/walk`);
  const armReads = Number(armCounters.walkReads) / Number(armCounters.walks);
  line("AArch64 stage-1 walk, cold caches", armWalk, `   ${(armWalk / walk).toFixed(2)}x x86-64 walk, ${armReads.toFixed(2)} reads/walk`);
  const nestedReads = Number(nestedCounters.walkReads) / Number(nestedCounters.walks);
  line("AArch64 stage 1+2 walk, cold caches", armNestedWalk, `   ${(armNestedWalk / walk).toFixed(2)}x x86-64 walk, ${nestedReads.toFixed(2)} reads/walk (both stages; stage-2 walk caches fill within a walk)`);
}
