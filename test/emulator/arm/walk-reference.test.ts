// SPDX-License-Identifier: MIT
//
// The AArch64 walker against the reference written from the Arm ARM, on
// random translation tables and random TCR settings (TxSZ, TBI, EPD, E0PD,
// HPD, HA/HD, IPS), through AT, comparing PAR_EL1 and every AF/dirty update.

import { describe, expect, it } from "vitest";
import { Machine } from "../../../emulator/machine/index.ts";
import { referenceAt, type ArmAccess, type ArmRegisters } from "../../reference/arm-walk.ts";
import type { AtOp } from "../../../emulator/machine/index.ts";

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const u32 = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const u64 = () => (BigInt(u32()) << 32n) | BigInt(u32());
  return {
    u64,
    below: (n: number) => u32() % n,
    chance: (p: number) => u32() % 1000 < p * 1000,
    pick<T>(xs: readonly T[]): T {
      return xs[u32() % xs.length]!;
    },
  };
}

const POOL_BASE = 0x8000_0000n;
const POOL_PAGES = 10;

function randomCase(seed: number) {
  const r = rng(seed);
  const pages = Array.from({ length: POOL_PAGES }, (_, i) => POOL_BASE + BigInt(i) * 4096n);
  const t0sz = r.chance(0.5) ? r.pick([16, 25, 33, 39, 42, 48]) : 16 + r.below(33);
  const t1sz = r.chance(0.5) ? r.pick([16, 25, 33, 39, 42, 48]) : 16 + r.below(33);
  let tcr = BigInt(t0sz) | (BigInt(t1sz) << 16n) | (2n << 30n) | (BigInt(r.below(7)) << 32n);
  for (const [bit, p] of [[7, 0.05], [23, 0.05], [22, 0.4], [36, 0.5], [37, 0.2], [38, 0.2], [39, 0.3], [40, 0.3], [41, 0.2], [42, 0.2], [55, 0.1], [56, 0.1]] as const) {
    if (r.chance(p)) tcr |= 1n << BigInt(bit);
  }
  const upper = r.chance(0.5);
  let va = r.u64() & ((1n << 48n) - 1n);
  const inputBits = 64 - (upper ? t1sz : t0sz);
  if (r.chance(0.9)) va &= (1n << BigInt(inputBits)) - 1n;
  if (upper) va |= ~((1n << BigInt(inputBits)) - 1n) & 0xffff_ffff_ffff_ffffn;
  if (r.chance(0.15)) va = (va & 0x00ff_ffff_ffff_ffffn) | (BigInt(r.below(256)) << 56n);
  const topBits = (tsz: number) => {
    const inputSize = 64 - tsz;
    const start = 4 - Math.floor((inputSize - 4) / 9);
    return inputSize - 12 - 9 * (3 - start);
  };
  const words = new Map<bigint, bigint>();
  for (const table of pages) {
    for (let level = 0; level <= 3; level++) {
      for (const bitsHere of new Set([9, topBits(t0sz), topBits(t1sz)])) {
        const shift = 12 + 9 * (3 - level);
        const index = (va >> BigInt(shift)) & ((1n << BigInt(bitsHere)) - 1n);
        let d = 0n;
        if (r.chance(0.92)) d |= 1n;
        if (r.chance(0.7)) d |= 2n;
        d |= BigInt(r.below(1 << 10)) << 2n; // AttrIndx, NS, AP, SH, AF
        if (r.chance(0.6)) d |= 1n << 10n;
        if (r.chance(0.3)) d |= 1n << 11n;
        if (r.chance(0.2)) d |= 1n << 51n;
        if (r.chance(0.3)) d |= BigInt(r.below(32)) << 52n;
        if (r.chance(0.3)) d |= BigInt(r.below(32)) << 59n;
        // A word with bit 1 set may be read as a table at some level (tables
        // of the pool serve several levels): keep its target in RAM, where a
        // walk reads zeros rather than a bus error.
        const target = (d & 2n) !== 0n || r.chance(0.5) ? r.pick(pages) : r.u64() & 0x0000_ffff_c000_0000n;
        d |= target;
        if (r.chance(0.05)) d |= 1n << BigInt(40 + r.below(8));
        words.set(table + index * 8n, d);
      }
    }
  }
  const regs: ArmRegisters = {
    sctlr: 0x30d0_1805n,
    tcr,
    ttbr0: r.pick(pages) | (r.u64() & 0xffff_0000_0000_0000n),
    ttbr1: r.pick(pages) | (r.u64() & 0xffff_0000_0000_0000n),
    mair: r.u64(),
  };
  const access: ArmAccess = { va, op: r.pick(["read", "write"] as const), priv: r.pick(["user", "kernel"] as const) };
  return { regs, words, access };
}

describe("AArch64 walk against the Arm ARM reference", () => {
  const machine = new Machine({ arch: "aarch64", cpus: 1, maxPhysAddr: 52, ram: [{ base: POOL_BASE, size: BigInt(POOL_PAGES) * 4096n }] });
  const cpu = machine.cpu(0);
  let written: bigint[] = [];

  it("agrees on PAR_EL1, the fault and every AF/dirty update for 6000 random walks", () => {
    const mismatches: unknown[] = [];
    const outcomes = new Map<string, number>();
    for (let seed = 1; seed <= 6000 && mismatches.length < 5; seed++) {
      const c = randomCase(seed * 2654435761);
      for (const pa of written) machine.memory.write64(pa, 0n);
      written = [...c.words.keys()];
      for (const [pa, v] of c.words) machine.memory.write64(pa, v);
      cpu.reset();
      cpu.setRegisters({ sctlr_el1: c.regs.sctlr, tcr_el1: c.regs.tcr, ttbr0_el1: c.regs.ttbr0, ttbr1_el1: c.regs.ttbr1, mair_el1: c.regs.mair });
      const expectedMem = new Map(c.words);
      const inPool = (pa: bigint) => pa >= POOL_BASE && pa < POOL_BASE + BigInt(POOL_PAGES) * 4096n;
      const expected = referenceAt(expectedMem, c.regs, c.access, inPool);
      const op = `S1E${c.access.priv === "user" ? 0 : 1}${c.access.op === "write" ? "W" : "R"}` as AtOp;
      const got = cpu.at(op, c.access.va);
      const key = expected.kind === "ok" ? "ok" : `${expected.type}@${expected.level}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      const diffs: string[] = [];
      if (got.par !== expected.par) diffs.push(`par expected 0x${expected.par.toString(16)} got 0x${got.par.toString(16)}`);
      if (expected.kind === "ok" && (!got.translation.ok || got.translation.pa !== expected.pa)) diffs.push("pa differs");
      for (const [pa, v] of expectedMem) {
        const now = machine.memory.read64(pa);
        if (now !== v) diffs.push(`mem 0x${pa.toString(16)} expected 0x${v.toString(16)} got 0x${now.toString(16)}`);
      }
      if (diffs.length) mismatches.push({ seed, tcr: `0x${c.regs.tcr.toString(16)}`, ...c.access, va: `0x${c.access.va.toString(16)}`, diffs });
    }
    expect(mismatches).toEqual([]);
    expect(outcomes.get("ok") ?? 0).toBeGreaterThan(300);
    if (process.env.SHOW_OUTCOMES) console.log(outcomes);
    for (const k of ["translation@0", "translation@3", "access_flag@3", "permission@3", "address_size@1", "address_size@0", "external_walk@1"]) {
      expect(outcomes.has(k), `outcome ${k}`).toBe(true);
    }
  });
});
