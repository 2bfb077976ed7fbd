// SPDX-License-Identifier: MIT
//
// A small fluent setup for x86-64 MMU tests: a machine with RAM below and
// above 4 GiB, a page-table builder, and registers for 4- or 5-level paging.

import { Machine, type MachineOptions, type X86Cpu, type X86Translation } from "../../emulator/machine/index.ts";
import { X86PageTables, PTE, PAGE_4K, PAGE_2M, PAGE_1G } from "../../emulator/machine/platform/x86/page-tables.ts";

export { PTE, PAGE_4K, PAGE_2M, PAGE_1G };

export const CR0_PE = 1n;
export const CR0_WP = 1n << 16n;
export const CR0_PG = 1n << 31n;
export const CR4_PSE = 1n << 4n;
export const CR4_PAE = 1n << 5n;
export const CR4_PGE = 1n << 7n;
export const CR4_LA57 = 1n << 12n;
export const CR4_PCIDE = 1n << 17n;
export const CR4_SMEP = 1n << 20n;
export const CR4_SMAP = 1n << 21n;
export const CR4_PKE = 1n << 22n;
export const EFER_LME = 1n << 8n;
export const EFER_LMA = 1n << 10n;
export const EFER_NXE = 1n << 11n;
export const RFLAGS_AC = 1n << 18n;

/** RAM: 16 MiB at 0, 16 MiB at 64 GiB (tables live up there). */
export const LOW_RAM = { base: 0n, size: 16n << 20n };
export const HIGH_RAM = { base: 64n << 30n, size: 16n << 20n };
/** Where the page tables are carved from. */
export const TABLE_POOL = { base: HIGH_RAM.base, limit: HIGH_RAM.base + HIGH_RAM.size };

export interface Rig {
  m: Machine;
  pt: X86PageTables;
  cpu: X86Cpu;
}

/** A machine with paging on in IA-32e mode (CR0.PG/WP, CR4.PAE, EFER.LME/LMA/NXE). */
export function rig(opts: Omit<MachineOptions, "arch"> & { levels?: 4 | 5; cr4?: bigint } = {}): Rig {
  const { levels = 4, cr4 = 0n, ...machineOptions } = opts;
  const m = new Machine({ maxPhysAddr: 46, ram: [LOW_RAM, HIGH_RAM], ...machineOptions });
  const pt = new X86PageTables(m.memory, TABLE_POOL, levels);
  for (const cpu of m.cpus) {
    cpu.setRegisters({
      cr0: CR0_PE | CR0_PG | CR0_WP,
      cr3: pt.cr3(),
      cr4: CR4_PAE | (levels === 5 ? CR4_LA57 : 0n) | cr4,
      efer: EFER_LME | EFER_LMA | EFER_NXE,
    });
  }
  return { m, pt, cpu: m.cpu(0) };
}

export const read = { op: "read", priv: "kernel" } as const;
export const write = { op: "write", priv: "kernel" } as const;
export const fetch = { op: "fetch", priv: "kernel" } as const;
export const userRead = { op: "read", priv: "user" } as const;
export const userWrite = { op: "write", priv: "user" } as const;
export const userFetch = { op: "fetch", priv: "user" } as const;

/** The physical address, or a short text for a fault (so that failures read well). */
export function paOf(t: X86Translation): bigint | string {
  if (t.ok) return t.pa;
  const f = t.fault;
  if (f.kind === "page-fault") return `#PF(0x${f.errorCode.toString(16)})`;
  if (f.kind === "general-protection") return "#GP";
  if (f.kind === "bus-error") return `bus error at 0x${f.address.toString(16)}`;
  if (f.kind === "ept-violation") return `EPT violation 0x${f.gpa.toString(16)} q=0x${f.qualification.toString(16)}`;
  return `EPT misconfig 0x${f.gpa.toString(16)}`;
}

export const pf = (code: number) => `#PF(0x${code.toString(16)})`;
