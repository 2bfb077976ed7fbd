// SPDX-License-Identifier: MIT
//
// A small AArch64 machine for CPU tests: RAM at 0x4000_0000 (QEMU virt's),
// a program assembled by shootdown's own assembler at RAM_BASE, CPU 0 powered
// on at its entry in the reset state (EL1h, DAIF masked, MMU off). Programs
// end with `hvc #0`, which leaves run() as an "hvc" exit.

import { Machine } from "../../emulator/machine/machine.ts";
import { assemble, formatDiagnostic, type Program } from "../../asm/index.ts";
import type { ArmCpu, ArmExit } from "../../emulator/machine/arm-cpu.ts";

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
