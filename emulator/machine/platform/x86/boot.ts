// SPDX-License-Identifier: MIT
//
// The x86-64 boot protocol of `shootdown run` (docs/boot.md, "Boot
// protocol (x86-64)"): an ELF64 image is loaded at its physical addresses, the loader
// writes a boot-information block, a GDT and an identity map of the first
// 4 GiB into a reserved area, and every CPU starts at the entry point in
// 64-bit mode with paging on, as a multiboot-like loader leaves a kernel.
//
//   physical memory after loading
//   ┌────────────┬──────────────────────────────────────────────┬──────────────┐
//   │ 0x0–0xFFF  │ 0x1000–0x8FFF reserved for the loader         │ 0x9000–…     │
//   │ free       │ 0x1000 boot info   0x1100 command line        │ the image    │
//   │            │ 0x2000 GDT         0x3000 PML4  0x4000 PDPT   │ (its p_paddr)│
//   │            │ 0x5000–0x8FFF four page directories (2 MiB)   │              │
//   └────────────┴──────────────────────────────────────────────┴──────────────┘

import type { Machine } from "../../core/machine.ts";
import { PTE } from "./page-tables.ts";
import { planElf, loadSegments, writeBootInfo, LoadError, type LoadPlan, type LoadTarget } from "../../core/elf-load.ts";
import type { X86Registers, X86State } from "../../cpu/x86-cpu.ts";

export { LoadError, type LoadPlan };
export { BOOT_MAGIC, BOOT_VERSION, BOOT_INFO, CMDLINE_MAX_BYTES, encodeCmdline } from "../../core/elf-load.ts";

export const RESERVED_BASE = 0x1000n;
export const RESERVED_END = 0x9000n;
export const BOOT_INFO_ADDR = 0x1000n;
export const CMDLINE_ADDR = 0x1100n;
export const GDT_ADDR = 0x2000n;
export const PML4_ADDR = 0x3000n;
export const PDPT_ADDR = 0x4000n;
/** Four page directories, one per GiB of the identity map. */
export const PD_ADDR = 0x5000n;
/** The identity map covers [0, 4 GiB). */
export const IDENTITY_MAP_BYTES = 4n << 30n;

/** Selectors of the loader's GDT; the layout SYSCALL/SYSRET expect with STAR[47:32]=0x08, STAR[63:48]=0x10. */
export const GDT_SELECTORS = { KERNEL_CS: 0x08, KERNEL_DS: 0x10, USER_DS: 0x18, USER_CS: 0x20, TSS: 0x28 } as const;
/** null, 64-bit kernel code, kernel data, user data (DPL 3), 64-bit user code (DPL 3); then 16 zero bytes for a TSS. */
export const GDT_DESCRIPTORS = [0n, 0x0020_9a00_0000_0000n, 0x0000_9200_0000_0000n, 0x0000_f200_0000_0000n, 0x0020_fa00_0000_0000n, 0n, 0n] as const;
export const GDT_LIMIT = 8 * GDT_DESCRIPTORS.length - 1;

/** CR0: PE, ET, NE, WP, PG. */
export const BOOT_CR0 = 0x8001_0031n;
/** CR4: PAE. */
export const BOOT_CR4 = 0x20n;
/** EFER: LME, LMA, NXE. */
export const BOOT_EFER = 0xd00n;
/** RFLAGS: only the always-one bit 1; IF=0. */
export const BOOT_RFLAGS = 0x2n;

/**
 * Reads and checks an image for a machine with `ramBytes` of RAM at 0:
 * ELF64, little-endian, ET_EXEC, x86-64, every PT_LOAD inside RAM and
 * outside the reserved area.
 */
export function planLoad(image: Uint8Array, ramBytes: bigint): LoadPlan {
  return planElf(image, {
    arch: "x86_64", ramBase: 0n, ramBytes,
    reserved: { start: RESERVED_BASE, end: RESERVED_END, what: "boot info, GDT, page tables" },
  });
}

/** The boot parameters that are not in the image. */
export interface BootParams {
  /** The guest command line (UTF-8, at most CMDLINE_MAX_BYTES - 1 bytes). */
  cmdline: string;
}

/**
 * Loads a checked image into a fresh machine and sets every CPU to the
 * protocol's start state. The machine's RAM must be one range at 0.
 */
export function bootX86(m: Machine, plan: LoadPlan, params: BootParams): void {
  const ramBytes = m.memory.ranges().reduce((n, r) => (r.base === 0n ? r.size : n), 0n);
  writeX86BootMemory(m, plan, ramBytes, params);
  for (const cpu of m.cpus) {
    cpu.reset();
    const start = x86BootState(plan, cpu.index);
    cpu.setRegisters(start.registers);
    cpu.setState(start.state);
  }
  m.hw.x86CodeChanged();
}

/**
 * What the protocol writes into physical memory (the image, the boot
 * information, the GDT, the identity map), through any writer of physical
 * addresses: the machine's RAM, or a domain's guest-physical memory under
 * the HVM hypervisor, which boots an image as this protocol does.
 */
export function writeX86BootMemory(target: LoadTarget, plan: LoadPlan, ramBytes: bigint, params: BootParams): void {
  const memory = target.memory;
  const write64 = (pa: bigint, v: bigint) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    memory.write(pa, b);
  };
  loadSegments(target, plan);
  writeBootInfo(target, BOOT_INFO_ADDR, CMDLINE_ADDR, ramBytes, params.cmdline);

  GDT_DESCRIPTORS.forEach((d, i) => write64(GDT_ADDR + BigInt(8 * i), d));

  // Identity map of [0, 4 GiB) with 2 MiB pages: PML4[0] → PDPT, PDPT[0..3] → four PDs.
  const table = PTE.P | PTE.RW;
  memory.write(PML4_ADDR, new Uint8Array(0x6000));
  write64(PML4_ADDR, PDPT_ADDR | table);
  const pdCount = Number(IDENTITY_MAP_BYTES >> 30n);
  const pds = new Uint8Array(0x1000 * pdCount);
  const pv = new DataView(pds.buffer);
  for (let gib = 0; gib < pdCount; gib++) {
    const pd = PD_ADDR + BigInt(0x1000 * gib);
    write64(PDPT_ADDR + BigInt(8 * gib), pd | table);
    for (let i = 0; i < 512; i++) {
      const pa = (BigInt(gib) << 30n) | (BigInt(i) << 21n);
      pv.setBigUint64(0x1000 * gib + 8 * i, pa | PTE.P | PTE.RW | PTE.PS, true);
    }
  }
  memory.write(PD_ADDR, pds);
}

/** The registers CPU `index` starts with: 64-bit mode at the entry, RDI its index, RSI the boot information. */
export function x86BootState(plan: LoadPlan, index: number): { registers: Partial<X86Registers>; state: Partial<X86State> } {
  const zeroGprs = { rax: 0n, rcx: 0n, rdx: 0n, rbx: 0n, rsp: 0n, rbp: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n };
  return {
    registers: { cr0: BOOT_CR0, cr3: PML4_ADDR, cr4: BOOT_CR4, efer: BOOT_EFER },
    state: {
      ...zeroGprs,
      rip: plan.elf.entry, rflags: BOOT_RFLAGS, rdi: BigInt(index), rsi: BOOT_INFO_ADDR,
      cs: GDT_SELECTORS.KERNEL_CS, ss: GDT_SELECTORS.KERNEL_DS, cpl: 0,
      gdtrBase: GDT_ADDR, gdtrLimit: GDT_LIMIT, idtrBase: 0n, idtrLimit: 0,
    },
  };
}
