// SPDX-License-Identifier: MIT
//
// The Machine around the hardware module: RAM ranges at any base below
// 2^MAXPHYADDR, bus errors instead of traps, option checking, CPUs apart.

import { describe, expect, it } from "vitest";
import { Machine, ShootdownError } from "../../../emulator/machine/index.ts";
import { GPR } from "../../../emulator/machine/cpu/x86-cpu.ts";
import { rig, paOf, read, write, fetch, PTE, PAGE_4K, CR0_WP, CR4_SMEP } from "../../helpers/x86.ts";

describe("physical memory", () => {
  it("holds RAM ranges far above 4 GiB and keeps them apart", () => {
    const m = new Machine({ maxPhysAddr: 46, ram: [{ base: 0n, size: 1n << 20n }, { base: 0x3f_0000_0000n, size: 2n << 20n }] });
    m.memory.write64(0x3f_0000_1000n, 0x1122_3344_5566_7788n);
    m.memory.write64(0x1000n, 0xaan);
    expect(m.memory.read64(0x3f_0000_1000n)).toBe(0x1122_3344_5566_7788n);
    expect(m.memory.read64(0x1000n)).toBe(0xaan);
    expect(m.memory.ranges()).toEqual([
      { base: 0n, size: 1n << 20n },
      { base: 0x3f_0000_0000n, size: 2n << 20n },
    ]);
  });

  it("reports an access outside every range as an error naming the address, never a trap", () => {
    const m = new Machine({ ram: [{ base: 0x1000n, size: 0x1000n }] });
    expect(() => m.memory.read64(0x2000n)).toThrow(ShootdownError);
    expect(() => m.memory.read64(0x2000n)).toThrow(/no RAM at physical address 0x2000/);
    expect(() => m.memory.read64(0x1ffcn)).toThrow(/0x1ffc/);
    expect(m.memory.peek64(0x0n)).toBeUndefined();
    expect(m.memory.peek64(0x1ff8n)).toBe(0n);
  });

  it("refuses overlapping, misaligned or too-wide ranges with a reason", () => {
    const m = new Machine({ maxPhysAddr: 36, ram: [{ base: 0x10_0000n, size: 0x10_0000n }] });
    expect(() => m.memory.addRange({ base: 0x18_0000n, size: 0x10_0000n })).toThrow(/overlaps/);
    expect(() => m.memory.addRange({ base: 0x8_0000n, size: 0x9_0000n })).toThrow(/overlaps/);
    expect(() => m.memory.addRange({ base: 0x123n, size: 0x1000n })).toThrow(/multiples of 4 KiB/);
    expect(() => m.memory.addRange({ base: 0xf_ffff_f000n, size: 0x2000n })).toThrow(/beyond MAXPHYADDR/);
    m.memory.addRange({ base: 0x20_0000n, size: 0x1000n });
    expect(m.memory.ranges().length).toBe(2);
  });

  it("finds the range again after a hit in another one, refuses an access that crosses a range's end, and forgets RAM with MAXPHYADDR", () => {
    // Memory remembers the range of its last lookup: every case here starts right after a hit.
    const m = new Machine({ ram: [{ base: 0x1000n, size: 0x1000n }, { base: 0x3000n, size: 0x1000n }] });
    m.memory.write64(0x1ff8n, 1n);
    m.memory.write64(0x3000n, 2n);
    expect(m.memory.read64(0x1ff8n)).toBe(1n);
    expect(() => m.memory.read64(0x1ffcn)).toThrow(/no RAM at physical address 0x1ffc/);
    expect(() => m.memory.read(0x1ff8n, 9)).toThrow(/no RAM/);
    expect(() => m.memory.read64(0x2000n)).toThrow(/0x2000/);
    expect(m.memory.read64(0x3000n)).toBe(2n);
    expect(() => m.memory.read64(0xff8n)).toThrow(/0xff8/);
    m.setMaxPhysAddr(40);
    expect(() => m.memory.read64(0x3000n)).toThrow(/no RAM at physical address 0x3000/);
    m.memory.addRange({ base: 0x3000n, size: 0x1000n });
    expect(m.memory.read64(0x3008n)).toBe(0n);
  });

  it("reads and writes byte strings within a range", () => {
    const m = new Machine({ ram: [{ base: 0n, size: 0x2000n }] });
    m.memory.write(0xffen, new Uint8Array([1, 2, 3, 4]));
    expect([...m.memory.read(0xffen, 4)]).toEqual([1, 2, 3, 4]);
    expect(() => m.memory.write(0x1ffen, new Uint8Array(4))).toThrow(/no RAM/);
  });
});

describe("options", () => {
  it("reject bad values with the option's name", () => {
    expect(() => new Machine({ cpus: 0 })).toThrow(/cpus must be an integer from 1 to 64, not 0/);
    expect(() => new Machine({ cpus: 65 })).toThrow(/cpus/);
    expect(() => new Machine({ maxPhysAddr: 60 })).toThrow(/maxPhysAddr/);
    expect(() => new Machine({ tlb: { tlb4k: { sets: 3, ways: 4 } } })).toThrow(/tlb.tlb4k.sets must be a power of two, not 3/);
    expect(() => new Machine({ tlb: { pde: { sets: 4, ways: 0 } } })).toThrow(/tlb.pde.ways/);
    expect(() => new Machine({ microTlbEntries: 100 })).toThrow(/microTlbEntries/);
    expect(() => new Machine({ arch: "riscv" as "x86_64" })).toThrow(/unsupported architecture 'riscv'/);
    expect(() => new Machine({ ram: [{ base: 0n, size: 0x800n }] })).toThrow(/multiples of 4 KiB/);
  });

  it("fail clearly when the TLBs cannot fit in WebAssembly memory", () => {
    const huge = { sets: 1 << 14, ways: 64 };
    expect(() => new Machine({ cpus: 64, tlb: { tlb4k: huge, tlb2m: huge } })).toThrow(/do not fit/);
  });

  it("ask for a CPU that exists", () => {
    const m = new Machine({ cpus: 2 });
    expect(m.cpu(1).index).toBe(1);
    expect(() => m.cpu(2)).toThrow(/no CPU 2 \(the machine has 2\)/);
  });
});

describe("CPUs", () => {
  it("translate through the machine as through the CPU", () => {
    const { m, pt, cpu } = rig({ cpus: 2 });
    const VA = 0x7f00_0000_0000n;
    pt.map(VA, 0x40_0000n, PAGE_4K, PTE.RW);
    m.cpu(1).setRegisters(cpu.registers);
    expect(paOf(m.translate(1, VA + 8n, "read", "kernel"))).toBe(0x40_0008n);
    expect(m.translate(1, VA, "write", "user")).toMatchObject({ ok: false, fault: { vector: 14 } });
    expect(() => m.translate(2, VA, "read", "kernel")).toThrow(/no CPU 2/);
  });

  it("have TLBs of their own: one CPU's fill and flush do not touch the other's", () => {
    const { m, pt } = rig({ cpus: 2 });
    const va = 0x0000_7f00_0000_0000n;
    const pte = pt.map(va, 0x10_0000n, PAGE_4K, PTE.RW);
    const [a, b] = [m.cpu(0), m.cpu(1)];
    a.translate(va, read);
    m.memory.write64(pte, 0x20_0000n | PTE.P | PTE.RW);
    expect(paOf(b.translate(va, read))).toBe(0x20_0000n);
    expect(paOf(a.translate(va, read))).toBe(0x10_0000n);
    b.invlpg(va);
    expect(paOf(a.translate(va, read))).toBe(0x10_0000n);
    a.invlpg(va);
    expect(paOf(a.translate(va, read))).toBe(0x20_0000n);
    expect(a.counters().invlpg).toBe(1n);
  });

  it("reset to empty TLBs, zero counters and reset registers", () => {
    const { pt, cpu } = rig();
    const va = 0x0000_7f00_0000_0000n;
    pt.map(va, 0x10_0000n, PAGE_4K, PTE.RW);
    cpu.translate(va, read);
    cpu.reset();
    expect(cpu.counters().walks).toBe(0n);
    expect(cpu.registers).toMatchObject({ cr0: 0n, cr3: 0n, pat: 0x0007_0406_0007_0406n });
    expect(paOf(cpu.translate(va, read))).toBe(va);
  });

  it("validate register values", () => {
    const { cpu } = rig();
    expect(() => cpu.setRegisters({ cr3: -1n })).toThrow(/cr3 must be a 64-bit unsigned bigint/);
    expect(() => cpu.setRegisters({ pkru: 1n << 40n })).toThrow(/pkru is a 32-bit register/);
    expect(() => cpu.translate(1n << 64n, read)).toThrow(/va must be a 64-bit/);
    // Every value is checked before any is written.
    const cr0 = cpu.registers.cr0;
    expect(() => cpu.setRegisters({ cr0: cr0 & ~CR0_WP, pkru: 1n << 40n })).toThrow(/pkru/);
    expect(cpu.registers.cr0).toBe(cr0);
  });

  it("sameGprs says whether registers still hold what it saw last, and keeps what they hold", () => {
    const { cpu } = rig();
    const words = new Uint32Array(4);
    cpu.setState({ rdi: 0x1_0000_0002n, rsi: 0n });
    expect(cpu.sameGprs([GPR.rdi, GPR.rsi], words)).toBe(false);
    expect([...words]).toEqual([2, 1, 0, 0]);
    expect(cpu.sameGprs([GPR.rdi, GPR.rsi], words)).toBe(true);
    // A change in the high half alone is a change.
    cpu.setState({ rdi: 0x2_0000_0002n });
    expect(cpu.sameGprs([GPR.rdi, GPR.rsi], words)).toBe(false);
    expect(words[1]).toBe(2);
    expect(() => cpu.sameGprs([16], words)).toThrow(/no general-purpose register 16/);
  });

  it("derives the access rights from every register one setRegisters loads, not only from the last", () => {
    // Only the last register that changes goes through the module; the rights must still see CR0.WP going off.
    const { pt, cpu } = rig();
    const ro = 0x0000_7f00_0000_0000n;
    const user = 0x0000_7f00_0000_1000n;
    pt.map(ro, 0x10_0000n, PAGE_4K, 0n);
    pt.map(user, 0x11_0000n, PAGE_4K, PTE.US);
    expect(cpu.translate(ro, write).ok).toBe(false);
    expect(cpu.translate(user, fetch).ok).toBe(true);
    const r = cpu.registers;
    cpu.setRegisters({ cr0: r.cr0 & ~CR0_WP, cr4: r.cr4 | CR4_SMEP });
    expect(paOf(cpu.translate(ro, write))).toBe(0x10_0000n);
    expect(cpu.translate(user, fetch).ok).toBe(false);
    cpu.setRegisters({ cr0: r.cr0, cr4: r.cr4 });
    expect(cpu.translate(ro, write).ok).toBe(false);
    expect(paOf(cpu.translate(user, fetch))).toBe(0x11_0000n);
  });
});

describe("memory sizing", () => {
  it("refuses, without trapping, structures whose sizes would overflow 32 bits", () => {
    const huge = { sets: 1 << 14, ways: 64 };
    expect(() => new Machine({ cpus: 8, detectMissingInvalidation: true, tlb: { tlb4k: huge, tlb2m: huge, tlb1g: huge } })).toThrow(/do not fit/);
    expect(() => new Machine({ arch: "aarch64", caches: { system: { sets: 1 << 26, ways: 64 } } })).toThrow(/do not fit/);
  });

  it("models caches for aarch64 only, and checks their geometry", () => {
    expect(() => new Machine({ caches: true })).toThrow(/caches are modelled for aarch64 machines only/);
    expect(() => new Machine({ arch: "aarch64", caches: { l1: { sets: 3, ways: 2 } } })).toThrow(/caches.l1.sets must be a power of two/);
  });
});
