// SPDX-License-Identifier: MIT
//
// The micro-TLB is not architectural: a machine with it must behave exactly as
// one without it, through any sequence of translations, page-table changes
// without invalidation, and invalidations of every kind.

import { describe, expect, it } from "vitest";
import { InvpcidType, type Access } from "../../../emulator/machine/index.ts";
import { rig, paOf, PTE, PAGE_4K, PAGE_2M, CR4_PCIDE, CR4_PGE, CR4_SMAP, RFLAGS_AC } from "../../helpers/x86.ts";

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const BASE = 0x0000_7f00_0000_0000n;
const ACCESSES: Access[] = [
  { op: "read", priv: "kernel" },
  { op: "write", priv: "kernel" },
  { op: "fetch", priv: "kernel" },
  { op: "read", priv: "user" },
  { op: "write", priv: "user" },
];

function script(seed: number, microTlbEntries: number, geometry: "small" | "default") {
  const tlb = geometry === "small" ? { tlb4k: { sets: 4, ways: 2 }, tlb2m: { sets: 1, ways: 2 }, pde: { sets: 2, ways: 1 } } : {};
  const r = rig({ cr4: CR4_PCIDE | CR4_SMAP, microTlbEntries, tlb });
  const { m, pt, cpu } = r;
  const pick = rng(seed);
  // 48 small pages and two large ones, with mixed rights.
  const leaves: bigint[] = [];
  for (let i = 0n; i < 48n; i++) {
    const flags = [PTE.RW | PTE.US, PTE.US, PTE.RW, PTE.RW | PTE.US | PTE.G, PTE.RW | PTE.US | PTE.XD][Number(i % 5n)]!;
    leaves.push(pt.map(BASE + i * PAGE_4K, 0x10_0000n + i * PAGE_4K, PAGE_4K, flags));
  }
  leaves.push(pt.map(BASE + 0x40_0000n, 0x40_0000n, PAGE_2M, PTE.RW | PTE.US));
  leaves.push(pt.map(BASE + 0x60_0000n, 0x60_0000n, PAGE_2M, PTE.US | PTE.G));
  const vas = [...Array.from({ length: 48 }, (_, i) => BASE + BigInt(i) * PAGE_4K), BASE + 0x40_0000n, BASE + 0x41_3000n, BASE + 0x60_0000n, BASE + 0x7f_f000n];
  const log: string[] = [];
  for (let step = 0; step < 3000; step++) {
    const op = pick(100);
    if (op < 70) {
      const va = vas[pick(vas.length)]! + BigInt(pick(512) * 8);
      log.push(String(paOf(cpu.translate(va, ACCESSES[pick(ACCESSES.length)]!))));
    } else if (op < 80) {
      // Change a leaf without invalidating: new frame, new rights, or not present.
      const at = leaves[pick(leaves.length)]!;
      const old = m.memory.read64(at);
      const variants = [old ^ PTE.RW, old ^ PTE.US, old & ~PTE.P, old ^ 0x1000_0000n, old | PTE.P, old & ~(PTE.A | PTE.D)];
      m.memory.write64(at, variants[pick(variants.length)]!);
    } else if (op < 85) {
      cpu.invlpg(vas[pick(vas.length)]!);
    } else if (op < 90) {
      const pcid = BigInt(pick(3));
      cpu.movToCr3(pt.root | pcid | (pick(2) ? 1n << 63n : 0n));
    } else if (op < 93) {
      cpu.invpcid(pick(4) as InvpcidType, BigInt(pick(3)), vas[pick(vas.length)]!);
    } else if (op < 95) {
      cpu.movToCr4(cpu.registers.cr4 ^ CR4_PGE);
    } else if (op < 98) {
      cpu.writeRflags(pick(2) ? RFLAGS_AC | 2n : 2n);
    } else {
      cpu.writePkru(BigInt(pick(4)));
    }
  }
  const { tlbHits, walks, walkReads, evictions, pageFaults } = cpu.counters();
  return { log, counters: { tlbHits, walks, walkReads, evictions, pageFaults } };
}

describe("micro-TLB", () => {
  for (const geometry of ["default", "small"] as const) {
    it(`is invisible: the same results and counters with and without it (${geometry} TLBs)`, () => {
      for (const seed of [1, 2, 3, 4]) {
        const without = script(seed, 0, geometry);
        const withMicro = script(seed, 256, geometry);
        const tiny = script(seed, 1, geometry);
        expect(withMicro.log).toEqual(without.log);
        expect(tiny.log).toEqual(without.log);
        expect(withMicro.counters).toEqual(without.counters);
        expect(tiny.counters).toEqual(without.counters);
        // Stale entries and faults must both have happened, or this proves little.
        expect(new Set(without.log).size).toBeGreaterThan(20);
        expect(without.counters.pageFaults).toBeGreaterThan(0n);
      }
    });
  }
});
