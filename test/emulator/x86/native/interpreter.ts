// SPDX-License-Identifier: MIT
//
// The interpreter side of the differential test: one Machine whose address
// space matches the harness's (the code at CODE_BASE and the scratch memory
// at SCRATCH_BASE, identity-mapped with one 2 MiB page), 64-bit mode at CPL
// 0, and no IDT, so that an exception ends the run as a triple fault whose
// first vector is the exception's.

import { Machine } from "../../../../emulator/machine/core/machine.ts";
import { X86PageTables, PTE, PAGE_2M } from "../../../../emulator/machine/platform/x86/page-tables.ts";
import type { X86Cpu } from "../../../../emulator/machine/cpu/x86-cpu.ts";
import { GPR_NAMES } from "../../../../emulator/machine/cpu/x86-cpu.ts";
import { CODE_BASE, SCRATCH_BASE, SCRATCH_SIZE, scratchContents } from "./generate.ts";
import type { CaseInput, CaseOutcome } from "./native.ts";

const GDT_BASE = 0x1000n;
const KERNEL_CS = 0x08;
const KERNEL_DS = 0x10;
const CR0_PE_NE_WP_PG = 0x8005_0021n;
const CR4_PAE = 0x20n;
const EFER_SCE_LME_LMA_NXE = 0xd01n;
/** Far more than a case runs (8 instructions and the HLT). */
const BUDGET = 64;

export class InterpreterRig {
  private readonly m: Machine;
  private readonly cpu: X86Cpu;
  private readonly cr3: bigint;

  constructor() {
    // Low RAM for the page tables and the GDT; the 2 MiB at CODE_BASE for the code and the scratch memory.
    this.m = new Machine({
      cpus: 1,
      maxPhysAddr: 46,
      ram: [{ base: 0n, size: 4n << 20n }, { base: CODE_BASE, size: PAGE_2M }],
    });
    if (SCRATCH_BASE + BigInt(SCRATCH_SIZE) > CODE_BASE + PAGE_2M) throw new Error("the scratch memory is outside the mapped page");
    const pt = new X86PageTables(this.m.memory, { base: 0x20_0000n, limit: 0x30_0000n });
    pt.map(CODE_BASE, CODE_BASE, PAGE_2M, PTE.RW);
    this.cr3 = pt.cr3();
    const gdt = [0n, 0x0020_9a00_0000_0000n, 0x0000_9200_0000_0000n];
    gdt.forEach((d, i) => this.m.memory.write64(GDT_BASE + BigInt(8 * i), d));
    this.cpu = this.m.cpu(0);
  }

  loadCode(code: Uint8Array): void {
    this.m.memory.write(CODE_BASE, code);
  }

  run(c: CaseInput): CaseOutcome {
    const cpu = this.cpu;
    const initial = scratchContents(c.scratchSeed);
    this.m.memory.write(SCRATCH_BASE, initial);
    // A reset clears HLT and a triple fault of the case before.
    cpu.reset();
    cpu.setRegisters({ cr0: CR0_PE_NE_WP_PG, cr3: this.cr3, cr4: CR4_PAE, efer: EFER_SCE_LME_LMA_NXE });
    const gprs: Partial<Record<(typeof GPR_NAMES)[number], bigint>> = {};
    GPR_NAMES.forEach((name, i) => (gprs[name] = c.gpr[i]!));
    cpu.setState({ ...gprs, rip: c.rip, rflags: c.rflags, cs: KERNEL_CS, ss: KERNEL_DS, cpl: 0, gdtrBase: GDT_BASE, gdtrLimit: 8 * 3 - 1, idtrLimit: 0 });
    const exit = cpu.run(BUDGET);
    const s = cpu.state;
    let vector: number | undefined;
    let rip = s.rip;
    if (exit.reason === "triple-fault") {
      vector = exit.vectors[0];
      rip = exit.rip;
    } else if (exit.reason !== "hlt") {
      throw new Error(`the interpreter stopped with ${JSON.stringify(exit, (_, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v))}`);
    }
    const after = this.m.memory.read(SCRATCH_BASE, SCRATCH_SIZE);
    // Compared as 32-bit halves: a bigint per word would be most of the test's time.
    const a = new Uint32Array(initial.buffer, initial.byteOffset, SCRATCH_SIZE / 4);
    const b = new Uint32Array(after.buffer, after.byteOffset, SCRATCH_SIZE / 4);
    const changed = new Map<number, bigint>();
    for (let i = 0; i < a.length; i += 2) {
      if (a[i] !== b[i] || a[i + 1] !== b[i + 1]) changed.set(i * 4, (BigInt(b[i + 1]!) << 32n) | BigInt(b[i]!));
    }
    return { gpr: GPR_NAMES.map((n) => s[n]), rflags: s.rflags, rip, vector, changed };
  }
}
