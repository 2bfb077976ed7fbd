// SPDX-License-Identifier: MIT
//
// The stale-read check (MachineOptions.checkStaleReads; mechanisms §4.6
// event (a)): a non-cacheable read that returns RAM's value while a cache
// holds the latest value written to those bytes is reported with the CPU,
// VA, PA, the value read, the one expected, and where the latest copy sits.
// A non-cacheable write makes RAM the latest, so it must never be reported.

import { describe, expect, it } from "vitest";
import { armRig, NORMAL, S1, PAGE, SCTLR } from "../../helpers/arm.ts";
import type { ArmCpu, HwEvent } from "../../../emulator/machine/index.ts";

const VA = 0x0000_0000_4000_0000n;
const PA = 0x20_0000n;
/** The same page mapped Normal Non-cacheable (MAIR Attr2 = 0x44). */
const VA_NC = VA + 0x10_0000n;
const SCTLR_C = 1n << 2n;
/** No system cache (--system-cache off): 0 ways. */
const NO_SYSTEM_CACHE = { sets: 1, ways: 0 };

function rig(cpus = 1, checkStaleReads = true, system: { sets: number; ways: number } = { sets: 64, ways: 4 }) {
  const r = armRig({ cpus, checkStaleReads, caches: { l1: { sets: 16, ways: 4 }, system } });
  r.pt.map(VA, PA, PAGE, NORMAL());
  r.pt.map(VA_NC, PA, PAGE, S1.attrIndx(2) | S1.sh(2) | S1.AF);
  return r;
}

const load = (cpu: ArmCpu, va: bigint, size: 1 | 2 | 4 | 8 = 8) => {
  const r = cpu.load(va, size);
  if (!r.ok) throw new Error(`load faulted: ${r.fault.type}`);
  return r.value;
};

/** Cleans this CPU's whole L1 by set/way (CCSIDR_EL1's geometry). */
function cleanBySetWay(cpu: ArmCpu) {
  const { ccsidr } = cpu.cacheIdRegisters();
  const ways = Number((ccsidr >> 3n) & 0x3ffn) + 1;
  const sets = Number((ccsidr >> 13n) & 0x7fffn) + 1;
  const wayShift = 32 - Math.ceil(Math.log2(ways));
  for (let set = 0; set < sets; set++) {
    for (let way = 0; way < ways; way++) cpu.dc("CSW", (BigInt(way) << BigInt(wayShift)) | (BigInt(set) << 6n));
  }
}

const staleReads = (events: HwEvent[]) => events.filter((e) => e.kind === "stale-read");

describe("the stale-read check", () => {
  it("reports a non-cacheable read of data dirty in this CPU's L1, with the L1 as the holder", () => {
    const { m, cpu } = rig();
    m.memory.write64(PA + 8n, 0x1111n);
    cpu.store(VA + 8n, 8, 0x2222n);
    expect(load(cpu, VA_NC + 8n)).toBe(0x1111n);
    expect(m.takeEvents()).toEqual([
      { kind: "stale-read", cpu: 0, va: VA_NC + 8n, pa: PA + 8n, size: 8, value: 0x1111n, expected: 0x2222n, holder: { l1: 0 }, sequence: 0n },
    ]);
  });

  it("names another CPU's L1, and the system cache after a set/way clean; reads of the bytes that match are not reported", () => {
    const { m } = rig(2);
    const [c0, c1] = [m.cpu(0), m.cpu(1)];
    c1.store(VA, 4, 0xaaaan);
    expect(load(c0, VA_NC + 4n, 4)).toBe(0n); // the other half of the doubleword: never written, RAM is the latest
    expect(m.takeEvents()).toEqual([]);
    expect(load(c0, VA_NC, 4)).toBe(0n);
    expect(staleReads(m.takeEvents())).toMatchObject([{ cpu: 0, pa: PA, size: 4, value: 0n, expected: 0xaaaan, holder: { l1: 1 } }]);
    cleanBySetWay(c1);
    // With its caches off, CPU 1's own reads are non-cacheable too.
    c1.setRegisters({ sctlr_el1: SCTLR & ~SCTLR_C });
    expect(load(c1, VA, 4)).toBe(0n);
    expect(staleReads(m.takeEvents())).toMatchObject([{ cpu: 1, va: VA, value: 0n, expected: 0xaaaan, holder: "system cache" }]);
  });

  it("is silent once DC CIVAC has cleaned the line to RAM", () => {
    const { m, cpu } = rig();
    cpu.store(VA, 8, 0x3333n);
    expect(cpu.dc("CIVAC", VA).ok).toBe(true);
    expect(load(cpu, VA_NC)).toBe(0x3333n);
    expect(m.takeEvents()).toEqual([]);
  });

  it("takes a non-cacheable write as the latest value: the older dirty copy it left behind is not reported", () => {
    const { m } = rig(2);
    const [c0, c1] = [m.cpu(0), m.cpu(1)];
    c0.store(VA, 8, 0x4444n); // dirty in CPU 0's L1
    expect(c1.store(VA_NC, 8, 0x5555n).ok).toBe(true); // RAM now has the newer value
    expect(load(c1, VA_NC)).toBe(0x5555n);
    // Moved on to the system cache, the old copy still must not count as the latest.
    cleanBySetWay(c0);
    expect(load(c1, VA_NC)).toBe(0x5555n);
    expect(m.takeEvents()).toEqual([]);
    // The check still reports a line no non-cacheable write has touched.
    c0.store(VA + 0x40n, 8, 0x6666n);
    expect(load(c1, VA_NC + 0x40n)).toBe(0n);
    expect(staleReads(m.takeEvents())).toMatchObject([{ cpu: 1, pa: PA + 0x40n, expected: 0x6666n, holder: { l1: 0 } }]);
  });

  it("without a system cache, only an L1 can hold the latest value", () => {
    const { m, cpu } = rig(1, true, NO_SYSTEM_CACHE);
    cpu.store(VA, 8, 0x7777n);
    expect(load(cpu, VA_NC)).toBe(0n);
    expect(staleReads(m.takeEvents())).toMatchObject([{ holder: { l1: 0 } }]);
    cleanBySetWay(cpu);
    expect(load(cpu, VA_NC)).toBe(0x7777n);
    expect(m.takeEvents()).toEqual([]);
  });

  it("is off unless asked for, and refused without the data caches", () => {
    const { m, cpu } = rig(1, false);
    cpu.store(VA, 8, 0x8888n);
    expect(load(cpu, VA_NC)).toBe(0n);
    expect(m.takeEvents()).toEqual([]);
    expect(() => armRig({ caches: false, checkStaleReads: true })).toThrow(/checkStaleReads needs the data caches/);
  });
});
