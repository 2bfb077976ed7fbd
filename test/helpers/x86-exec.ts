// SPDX-License-Identifier: MIT
//
// A small x86-64 machine for CPU tests: the first 1 GiB identity-mapped
// with 2 MiB pages (writable, user-accessible), a GDT with 64-bit kernel and
// user segments, a stack, and a program assembled by shootdown's assembler
// at 0x100000, each CPU in 64-bit mode at CPL 0 at its entry.

import { Machine } from "../../emulator/machine/core/machine.ts";
import { X86PageTables, PTE, PAGE_2M } from "../../emulator/machine/platform/x86/page-tables.ts";
import { assemble, formatDiagnostic, type Program } from "../../asm/index.ts";
import type { X86Cpu, X86Exit } from "../../emulator/machine/cpu/x86-cpu.ts";

export const CODE_BASE = 0x10_0000n;
export const GDT_BASE = 0x1000n;
export const STACK_TOP = 0x8_0000n;
/** Selectors: kernel code 0x08, kernel data 0x10, user data 0x18 | 3, user code 0x20 | 3, TSS 0x28. */
export const KERNEL_CS = 0x08;
export const KERNEL_DS = 0x10;
export const USER_DS = 0x1b;
export const USER_CS = 0x23;
export const TSS_SELECTOR = 0x28;

const CR0_PE_NE_WP_PG = 0x8005_0021n;
const CR4_PAE = 0x20n;
const EFER_SCE_LME_LMA_NXE = 0xd01n;

export function assembleX86(source: string, base = CODE_BASE): Program {
  const r = assemble("x86_64", { sources: [{ path: "test.s", text: source }], sectionStarts: new Map([[".text", base]]) });
  if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  return r.program;
}

export interface ExecRig {
  m: Machine;
  cpu: X86Cpu;
  /** The rig's page tables, to map more (or change mappings) from a test. */
  pt: X86PageTables;
  program: Program;
  /** The address of a symbol of the program. */
  sym(name: string): bigint;
}

export function execRig(source: string, opts: { cpus?: number; ramMiB?: number; microTlbEntries?: number } = {}): ExecRig {
  const m = new Machine({
    cpus: opts.cpus ?? 1, maxPhysAddr: 46, ram: [{ base: 0n, size: BigInt(opts.ramMiB ?? 64) << 20n }],
    ...(opts.microTlbEntries !== undefined ? { microTlbEntries: opts.microTlbEntries } : {}),
  });
  const pt = new X86PageTables(m.memory, { base: 0x20_0000n, limit: 0x30_0000n });
  for (let a = 0n; a < 1n << 30n; a += PAGE_2M) pt.map(a, a, PAGE_2M, PTE.RW | PTE.US);
  // GDT: null, kernel code, kernel data, user data, user code, TSS (16 bytes).
  const gdt = [0n, 0x0020_9a00_0000_0000n, 0x0000_9200_0000_0000n, 0x0000_f200_0000_0000n, 0x0020_fa00_0000_0000n];
  gdt.forEach((d, i) => m.memory.write64(GDT_BASE + BigInt(8 * i), d));
  const program = assembleX86(source);
  for (const s of program.sections) if (s.type === "progbits" && s.size) m.memory.write(s.address, s.bytes);
  const entry = program.entry;
  for (const cpu of m.cpus) {
    cpu.setRegisters({ cr0: CR0_PE_NE_WP_PG, cr3: pt.cr3(), cr4: CR4_PAE, efer: EFER_SCE_LME_LMA_NXE });
    cpu.setState({
      rip: entry, rsp: STACK_TOP - BigInt(cpu.index) * 0x1000n, rdi: BigInt(cpu.index), rflags: 2n,
      cs: KERNEL_CS, ss: KERNEL_DS, cpl: 0, gdtrBase: GDT_BASE, gdtrLimit: 8 * 7 - 1,
    });
  }
  const sym = (name: string) => {
    const s = program.symbols.find((x) => x.name === name);
    if (!s) throw new Error(`no symbol ${name}`);
    return s.value;
  };
  return { m, cpu: m.cpu(0), program, sym, pt };
}

export const IDT_BASE = 0x3000n;
export const TSS_BASE = 0x4000n;

/** A 64-bit interrupt (type 0xE) or trap (0xF) gate. */
export function gate(offset: bigint, opts: { dpl?: number; type?: number; present?: boolean; ist?: number; selector?: number } = {}): [bigint, bigint] {
  const type = BigInt(opts.type ?? 0xe);
  const dpl = BigInt(opts.dpl ?? 0);
  const p = opts.present === false ? 0n : 1n;
  const lo = (offset & 0xffffn) | (BigInt(opts.selector ?? KERNEL_CS) << 16n) | (BigInt(opts.ist ?? 0) << 32n) | (type << 40n)
    | (dpl << 45n) | (p << 47n) | (((offset >> 16n) & 0xffffn) << 48n);
  return [lo, offset >> 32n];
}

/** Writes an IDT with the given gates (vector → gate) and points every CPU's IDTR at it (256 entries). */
export function installIdt(rig: ExecRig, gates: Record<number, [bigint, bigint]>): void {
  for (const [v, [lo, hi]] of Object.entries(gates)) {
    rig.m.memory.write64(IDT_BASE + 16n * BigInt(v), lo);
    rig.m.memory.write64(IDT_BASE + 16n * BigInt(v) + 8n, hi);
  }
  for (const cpu of rig.m.cpus) cpu.setState({ idtrBase: IDT_BASE, idtrLimit: 256 * 16 - 1 });
}

/** A 64-bit TSS at TSS_BASE with RSP0 (and IST1), its descriptor at GDT selector 0x28. */
export function installTss(rig: ExecRig, rsp0: bigint, ist1 = 0n): void {
  rig.m.memory.write64(TSS_BASE + 4n, rsp0);
  rig.m.memory.write64(TSS_BASE + 0x24n, ist1);
  const limit = 0x67n;
  const base = TSS_BASE;
  const lo = limit | ((base & 0xffffffn) << 16n) | (0x89n << 40n) | (((base >> 24n) & 0xffn) << 56n);
  rig.m.memory.write64(GDT_BASE + 0x28n, lo);
  rig.m.memory.write64(GDT_BASE + 0x30n, base >> 32n);
}

/** Runs until the CPU halts (or another exit), at most `budget` instructions. */
export function runToHalt(cpu: X86Cpu, budget = 100_000): X86Exit {
  return cpu.run(budget);
}
