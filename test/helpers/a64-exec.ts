// SPDX-License-Identifier: MIT
//
// A small AArch64 machine for CPU tests: RAM at 0x4000_0000 (QEMU virt's),
// a program assembled by shootdown's own assembler at RAM_BASE, CPU 0 powered
// on at its entry in the reset state (EL1h, DAIF masked, MMU off). Programs
// end with `hvc #0`, which leaves run() as an "hvc" exit.

import { Machine } from "../../emulator/machine/core/machine.ts";
import { assemble, formatDiagnostic, type Program } from "../../asm/index.ts";
import type { ArmCpu, ArmExit } from "../../emulator/machine/cpu/arm-cpu.ts";
import { ArmPageTables, S1 } from "../../emulator/machine/platform/arm/page-tables.ts";

export const RAM_BASE = 0x4000_0000n;
export const RAM_SIZE = 64n << 20n;

export function assembleA64(source: string, base = RAM_BASE): Program {
  const r = assemble("aarch64", { sources: [{ path: "test.s", text: source }], sectionStarts: new Map([[".text", base]]) });
  if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  return r.program;
}

export interface A64Rig {
  m: Machine<"aarch64">;
  cpu: ArmCpu;
  program: Program;
  /** The address of a symbol of the program. */
  sym(name: string): bigint;
  /** Runs until an exit other than the budget (at most `budget` instructions). */
  run(budget?: number): ArmExit;
  /** Xn of CPU 0. */
  x(n: number): bigint;
  /** NZCV of CPU 0 as a 4-bit number (N=8, Z=4, C=2, V=1). */
  nzcv(): number;
}

export function a64Rig(source: string, opts: { cpus?: number; caches?: boolean } = {}): A64Rig {
  const m = new Machine({
    arch: "aarch64", cpus: opts.cpus ?? 1, maxPhysAddr: 48, caches: opts.caches ?? false,
    ram: [{ base: RAM_BASE, size: RAM_SIZE }],
  });
  const program = assembleA64(source);
  for (const s of program.sections) if (s.type === "progbits" && s.size) m.memory.write(s.address, s.bytes);
  for (const cpu of m.cpus) cpu.powerOn(program.entry, BigInt(cpu.index));
  const cpu = m.cpu(0);
  const sym = (name: string) => {
    const s = program.symbols.find((x) => x.name === name);
    if (!s) throw new Error(`no symbol ${name}`);
    return s.value;
  };
  return {
    m, cpu, program, sym,
    run: (budget = 100_000) => cpu.run(budget),
    x: (n) => cpu.state.x[n]!,
    nzcv: () => Number((cpu.state.pstate >> 28n) & 15n),
  };
}

/** Assembles and runs `source` on CPU 0 until its `hvc #0`; fails on any other exit. */
export function runA64(source: string, opts: { budget?: number; caches?: boolean } = {}): A64Rig {
  const rig = a64Rig(source, opts);
  const exit = rig.run(opts.budget ?? 100_000);
  if (exit.reason !== "hvc") throw new Error(`expected the program to end in hvc, got ${JSON.stringify(exit, (_, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v))}`);
  return rig;
}

/** Instructions that turn the MMU on from x10 (MAIR_EL1), x11 (TCR_EL1), x12 (TTBR0_EL1), x13 (SCTLR_EL1), as mmuOn() sets them. */
export const MMU_ON = `
  msr mair_el1, x10
  msr tcr_el1, x11
  msr ttbr0_el1, x12
  isb
  msr sctlr_el1, x13
  isb
`;

/** Stage-1 tables for a 48-bit VA space in RAM at +48 MiB, reached by neither code nor data unless mapped. */
export const TABLE_POOL = { base: RAM_BASE + 0x300_0000n, limit: RAM_BASE + 0x380_0000n };

/**
 * Builds stage-1 tables in which the first 2 MiB of RAM (the program) are
 * identity-mapped Normal Write-Back (MAIR attribute 0), and loads CPU 0's
 * x10–x13 for MMU_ON, with SCTLR_EL1 at its reset value | `sctlr` (M at least).
 */
export function mmuOn(rig: A64Rig, sctlr: bigint): ArmPageTables {
  const pt = new ArmPageTables(rig.m.memory, TABLE_POOL, 48);
  pt.map(RAM_BASE, RAM_BASE, 1n << 21n, S1.attrIndx(0) | S1.sh(3) | S1.AF);
  const x = rig.cpu.state.x;
  x[10] = 0xffn;
  x[11] = 16n | (5n << 32n);
  x[12] = pt.root;
  x[13] = rig.cpu.state.sctlr_el1 | sctlr;
  rig.cpu.setState({ x });
  return pt;
}
