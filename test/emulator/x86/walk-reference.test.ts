// SPDX-License-Identifier: MIT
//
// The fast walker against the reference written from the SDM, on random page
// tables: random flags and reserved bits in every entry, random large pages,
// random control registers, PKRU and access kinds. Tables sit above 4 GiB and
// point at each other, so walks go deep and sometimes loop through the same
// table twice (as recursive mappings do).

import { describe, expect, it } from "vitest";
import { Machine } from "../../../emulator/machine/index.ts";
import { referenceTranslate, type RefAccess, type RefRegisters, type RefResult } from "../../reference/x86-walk.ts";
import type { X86Translation } from "../../../emulator/machine/index.ts";

/** xorshift64*, so every case is reproducible from its seed. */
function rng(seed: bigint) {
  let x = seed | 1n;
  const next = () => {
    x ^= x >> 12n;
    x ^= (x << 25n) & 0xffff_ffff_ffff_ffffn;
    x ^= x >> 27n;
    return (x * 0x2545f4914f6cdd1dn) & 0xffff_ffff_ffff_ffffn;
  };
  return {
    u64: next,
    below: (n: number) => Number(next() % BigInt(n)),
    chance: (p: number) => Number(next() % 1000n) < p * 1000,
    pick<T>(xs: readonly T[]): T {
      return xs[Number(next() % BigInt(xs.length))]!;
    },
  };
}

const MAXPHYADDR = 40;
const POOL_BASE = 0x40_0000_0000n >> 2n; // 64 GiB: above 4 GiB, below 2^40
const POOL_PAGES = 12;

interface Case {
  regs: RefRegisters;
  words: Map<bigint, bigint>;
  access: RefAccess;
}

function randomCase(seed: bigint): Case {
  const r = rng(seed);
  const pages = Array.from({ length: POOL_PAGES }, (_, i) => POOL_BASE + BigInt(i) * 4096n);
  const la57 = r.chance(0.3);
  const words = new Map<bigint, bigint>();
  const va = (() => {
    const width = la57 ? 57 : 48;
    let v = r.u64() & ((1n << BigInt(width)) - 1n);
    if (r.chance(0.5)) v |= ~((1n << BigInt(width - 1)) - 1n) & 0xffff_ffff_ffff_ffffn; // kernel half
    else v &= (1n << BigInt(width - 1)) - 1n;
    if (r.chance(0.03)) v ^= 1n << 60n; // non-canonical now and then
    return v;
  })();
  // Fill the entries a walk of va would read, in random tables, with random bits.
  for (const table of pages) {
    for (let level = 1; level <= 5; level++) {
      const index = (va >> BigInt(12 + 9 * (level - 1))) & 511n;
      let e = 0n;
      if (r.chance(0.93)) e |= 1n; // P
      if (r.chance(0.75)) e |= 2n; // R/W
      if (r.chance(0.75)) e |= 4n; // U/S
      if (r.chance(0.2)) e |= 8n; // PWT
      if (r.chance(0.2)) e |= 16n; // PCD
      if (r.chance(0.5)) e |= 32n; // A
      if (r.chance(0.5)) e |= 64n; // D
      if (r.chance(0.25)) e |= 128n; // PS / PAT
      if (r.chance(0.3)) e |= 256n; // G
      if (r.chance(0.2)) e |= BigInt(r.below(8)) << 9n; // ignored
      if (r.chance(0.15)) e |= 1n << 63n; // XD
      if (r.chance(0.3)) e |= BigInt(r.below(16)) << 59n; // protection key
      if (r.chance(0.1)) e |= BigInt(r.below(128)) << 52n; // ignored high bits
      if (r.chance(0.06)) e |= 1n << BigInt(MAXPHYADDR + r.below(52 - MAXPHYADDR)); // reserved address bit
      const largeLeaf = (level === 2 || level === 3) && (e & 128n) !== 0n;
      if (largeLeaf && r.chance(0.15)) e |= 1n << BigInt(13 + r.below(17)); // reserved in large pages
      if (largeLeaf && r.chance(0.3)) e |= 1n << 12n; // PAT of a large page
      // The address: another table of the pool when the walk may follow it (a
      // table outside RAM would be a bus error, not a zero page); a frame
      // anywhere when the entry can only be a leaf or a reserved-bit fault.
      const followed = level > 1 && !(e & 128n);
      const target = followed || r.chance(0.5) ? r.pick(pages) : r.u64() & ((1n << 39n) - 1n) & ~0x3fff_ffffn;
      e |= target & ~(largeLeaf ? (level === 3 ? 0x3fff_f000n : 0x1f_f000n) : 0n);
      words.set(table + index * 8n, e);
    }
  }
  let cr4 = 1n << 5n; // PAE
  if (la57) cr4 |= 1n << 12n;
  if (r.chance(0.5)) cr4 |= 1n << 7n; // PGE
  if (r.chance(0.4)) cr4 |= 1n << 20n; // SMEP
  if (r.chance(0.4)) cr4 |= 1n << 21n; // SMAP
  if (r.chance(0.5)) cr4 |= 1n << 22n; // PKE
  const regs: RefRegisters = {
    cr0: 0x8000_0011n | (r.chance(0.6) ? 1n << 16n : 0n),
    cr3: r.pick(pages) | (r.chance(0.3) ? 0x18n : 0n),
    cr4,
    efer: 0x500n | (r.chance(0.7) ? 1n << 11n : 0n),
    pkru: r.chance(0.5) ? r.u64() & 0xffff_ffffn : 0n,
    rflags: 0x2n | (r.chance(0.3) ? 1n << 18n : 0n),
  };
  const access: RefAccess = { va, op: r.pick(["read", "write", "fetch"] as const), priv: r.pick(["user", "kernel", "kernel", "implicit"] as const) };
  if (access.priv === "implicit" && access.op === "fetch") access.op = "read";
  return { regs, words, access };
}

function describeRef(r: RefResult): string {
  if (r.kind === "ok") return `pa 0x${r.pa.toString(16)} size 0x${r.pageSize.toString(16)}`;
  if (r.kind === "gp") return "#GP";
  return `#PF 0x${r.errorCode.toString(16)}`;
}

function describeFast(t: X86Translation): string {
  if (t.ok) return `pa 0x${t.pa.toString(16)} size 0x${t.pageSize.toString(16)}`;
  if (t.fault.kind === "page-fault") return `#PF 0x${t.fault.errorCode.toString(16)}`;
  if (t.fault.kind === "general-protection") return "#GP";
  return "bus error";
}

describe("x86-64 walk against the SDM reference", () => {
  const machine = new Machine({ cpus: 1, maxPhysAddr: MAXPHYADDR, ram: [{ base: POOL_BASE, size: BigInt(POOL_PAGES) * 4096n }] });
  const cpu = machine.cpu(0);

  let written: bigint[] = [];
  function run(seed: bigint) {
    const c = randomCase(seed);
    for (const pa of written) machine.memory.write64(pa, 0n);
    written = [...c.words.keys()];
    for (const [pa, v] of c.words) machine.memory.write64(pa, v);
    cpu.reset();
    cpu.setRegisters(c.regs);
    const expectedMem = new Map(c.words);
    const expected = describeRef(referenceTranslate(expectedMem, c.regs, MAXPHYADDR, true, c.access));
    const got = describeFast(cpu.translate(c.access.va, { op: c.access.op, priv: c.access.priv }));
    const memDiffs: string[] = [];
    for (const [pa, v] of expectedMem) {
      const now = machine.memory.read64(pa);
      if (now !== v) memDiffs.push(`0x${pa.toString(16)}: expected 0x${v.toString(16)} got 0x${now.toString(16)}`);
    }
    return { seed, expected, got, memDiffs };
  }

  it("agrees on the address or fault and on every Accessed/Dirty update for 10000 random walks", () => {
    const mismatches: unknown[] = [];
    const outcomes = new Map<string, number>();
    for (let seed = 1n; seed <= 10000n; seed++) {
      const r = run(seed * 0x9e3779b97f4a7c15n);
      const kind = r.expected.split(" ").slice(0, 2).join(" ").replace(/pa 0x.*/, "pa");
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
      if (r.expected !== r.got || r.memDiffs.length) mismatches.push(r);
      if (mismatches.length >= 5) break;
    }
    if (process.env.SHOW_OUTCOMES) console.log(outcomes);
    expect(mismatches).toEqual([]);
    // The generator must reach every outcome, or the comparison proves little.
    expect(outcomes.get("pa") ?? 0).toBeGreaterThan(500);
    for (const code of ["#PF 0x0", "#PF 0x1", "#PF 0x9", "#PF 0x21", "#GP"]) {
      expect(outcomes.has(code), `outcome ${code} seen`).toBe(true);
    }
  });
});
