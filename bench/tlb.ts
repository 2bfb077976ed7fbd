// SPDX-License-Identifier: MIT
//
// The x86-64 TLB hit path and the cold page walk, inside WebAssembly, each in
// one batch call, against plain WebAssembly loads over the same pattern of
// addresses measured in the same run.

import { Machine } from "../emulator/machine/machine.ts";
import { X86PageTables, PTE, PAGE_4K } from "../emulator/machine/x86-page-tables.ts";
import { timeBest, perSecond, type BenchOptions } from "./cli.ts";

const VA_BASE = 0x0000_7f12_3400_0000n;
const DATA_PA = 0x0100_0000n;
const CR0_PG_WP_PE = 0x8001_0001n;
const CR4_PAE = 1n << 5n;
const EFER_LME_LMA_NXE = 0xd00n;

/** A one-CPU machine with 2^lgPages 4 KiB pages mapped at VA_BASE, page tables built in RAM. */
function machineWithPages(lgPages: number, microTlbEntries: number): Machine {
  const m = new Machine({ cpus: 1, maxPhysAddr: 46, ram: [{ base: 0n, size: 64n << 20n }], microTlbEntries });
  const pt = new X86PageTables(m.memory, { base: 0x10_0000n, limit: DATA_PA });
  for (let i = 0n; i < 1n << BigInt(lgPages); i++) {
    pt.map(VA_BASE + i * PAGE_4K, DATA_PA + i * PAGE_4K, PAGE_4K, PTE.RW | PTE.A | PTE.D);
  }
  m.cpu(0).setRegisters({ cr0: CR0_PG_WP_PE, cr3: pt.cr3(), cr4: CR4_PAE, efer: EFER_LME_LMA_NXE });
  return m;
}

export function tlbSuite({ scale, out }: BenchOptions): void {
  const lgHitPages = 6;
  const hits = Math.max(1, Math.round(20_000_000 * scale));
  const walks = Math.max(1, Math.round(5_000_000 * scale));
  const rounds = 5;

  const m = machineWithPages(lgHitPages, 256);
  const mNoMicro = machineWithPages(lgHitPages, 0);
  const hw = m.hw;
  const host = Number(hw.ramHost(DATA_PA, 8));
  // Warm the TLBs so that every timed translation hits.
  hw.benchTranslate(0, VA_BASE, lgHitPages, 1 << 12);
  mNoMicro.hw.benchTranslate(0, VA_BASE, lgHitPages, 1 << 12);
  const before = m.cpu(0).counters();

  // Interleave the rounds of the three loops so that machine noise hits all alike.
  let load = Infinity;
  let hit = Infinity;
  let hitNoMicro = Infinity;
  let walk = Infinity;
  for (let r = 0; r < rounds; r++) {
    load = Math.min(load, timeBest(1, hits, () => hw.benchLoad(host, lgHitPages, hits)));
    hit = Math.min(hit, timeBest(1, hits, () => hw.benchTranslate(0, VA_BASE, lgHitPages, hits)));
    hitNoMicro = Math.min(hitNoMicro, timeBest(1, hits, () => mNoMicro.hw.benchTranslate(0, VA_BASE, lgHitPages, hits)));
    walk = Math.min(walk, timeBest(1, walks, () => hw.benchWalk(0, VA_BASE, lgHitPages, walks)));
  }
  const after = m.cpu(0).counters();
  const walkReads = Number(after.walkReads - before.walkReads) / Number(after.walks - before.walks);

  out(`tlb: x86-64, 1 CPU, ${1 << lgHitPages} pages of 4 KiB, best of ${rounds} rounds, ${hits} hits / ${walks} walks per round`);
  out(`  plain wasm load (baseline)      ${load.toFixed(2).padStart(7)} ns  ${perSecond(load)}`);
  out(`  TLB hit (micro-TLB)             ${hit.toFixed(2).padStart(7)} ns  ${perSecond(hit)}   ${(hit / load).toFixed(2)}x baseline`);
  out(`  TLB hit (set-associative only)  ${hitNoMicro.toFixed(2).padStart(7)} ns  ${perSecond(hitNoMicro)}   ${(hitNoMicro / load).toFixed(2)}x baseline`);
  out(`  full 4-level walk, cold caches  ${walk.toFixed(2).padStart(7)} ns  ${perSecond(walk)}   ${(walk / load).toFixed(2)}x baseline, ${walkReads.toFixed(2)} reads/walk`);
}
