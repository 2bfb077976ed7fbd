// SPDX-License-Identifier: MIT
//
// Chaos eviction: seeded random loss of TLB and paging-structure-cache
// entries, never a change of what a translation gives when memory agrees.

import { describe, expect, it } from "vitest";
import { rig, paOf, read, PTE, PAGE_4K } from "../../helpers/x86.ts";

const VA = 0x0000_7f00_1234_5000n;
const PAGES = 32n;

function run(seed: bigint | undefined, meanInterval = 8) {
  const r = rig(seed === undefined ? {} : { chaos: { seed, meanInterval } });
  for (let i = 0n; i < PAGES; i++) r.pt.map(VA + i * PAGE_4K, 0x10_0000n + i * PAGE_4K, PAGE_4K, PTE.RW);
  const results: (bigint | string)[] = [];
  for (let round = 0; round < 20; round++) {
    for (let i = 0n; i < PAGES; i++) results.push(paOf(r.cpu.translate(VA + i * PAGE_4K + 8n, read)));
  }
  return { results, counters: r.cpu.counters(), rig: r };
}

describe("chaos eviction", () => {
  it("drops entries so that pages are walked again, without changing any translation", () => {
    const calm = run(undefined);
    const chaos = run(7n);
    expect(calm.counters.walks).toBe(PAGES);
    expect(chaos.counters.chaosEvictions).toBeGreaterThan(10n);
    expect(chaos.counters.walks).toBeGreaterThan(PAGES);
    expect(chaos.results).toEqual(calm.results);
  });

  it("is a function of the seed", () => {
    const a = run(42n).counters;
    const b = run(42n).counters;
    const c = run(43n).counters;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("exposes software that relied on an entry staying: a stale entry can vanish without an invalidation", () => {
    const { rig: r } = run(11n, 2);
    const pte = r.pt.entryAddress(VA, 1);
    r.m.memory.write64(pte, 0x77_0000n | PTE.P | PTE.RW);
    const seen = new Set<bigint | string>();
    for (let i = 0; i < 200; i++) seen.add(paOf(r.cpu.translate(VA, read)));
    expect(seen.has(0x77_0000n)).toBe(true);
  });

  it("rejects a meaningless rate", () => {
    expect(() => rig({ chaos: { seed: 1n, meanInterval: 0 } })).toThrow(/meanInterval must be a positive integer/);
  });
});
