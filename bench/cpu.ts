// SPDX-License-Identifier: MIT
//
// Guest instructions per second: an image whose loop loads from memory and
// does integer arithmetic (mostly the instructions kernels run), booted as
// `shootdown run` boots it, run in quanta as the scheduler runs it, against
// plain WebAssembly loads (the MMU bench's baseline) in the same run.

import { Machine } from "../emulator/machine/core/machine.ts";
import { planLoad, bootX86 } from "../emulator/machine/platform/x86/boot.ts";
import { assemble, writeElf, formatDiagnostic } from "../asm/index.ts";
import { bootArmPlatform } from "../emulator/machine/platform/arm/platform.ts";
import { timeBest, perSecond, type BenchOptions } from "./cli.ts";
import { a64MmuOnSource, A64_MMU_LOOP_BODY, x86OwnTablesSource, X86_LOOP_BODY } from "./guests.ts";

/** The loop: one load, five ALU operations and a branch per iteration (8 instructions). */
export const LOOP_SOURCE = `
        .text
        .globl _start
_start: lea     table(%rip), %rsi
        xor     %edx, %edx
        mov     $-1, %rcx
1:      mov     (%rsi,%rdx,8), %rax
        add     %rax, %rbx
        xor     %rbx, %rdi
        lea     1(%rdx), %rdx
        and     $63, %edx
        cmp     %rdi, %rbx
        sub     $1, %rcx
        jnz     1b
        hlt
        .data
table:  .fill   64, 8, 3
`;

/** The same loop in A64: one load, five ALU operations and a branch per iteration (8 instructions). */
export const A64_LOOP_SOURCE = `
        .text
        .globl _start
_start: adr     x6, table
        mov     x2, #0
        mov     x3, #-1
1:      ldr     x0, [x6, x2, lsl #3]
        add     x1, x1, x0
        eor     x7, x7, x1
        add     x2, x2, #1
        and     x2, x2, #63
        cmp     x1, x7
        subs    x3, x3, #1
        b.ne    1b
        hvc     #0
        .data
table:  .fill   64, 8, 3
`;

/** Runs `instructions` guest instructions in quanta; the best time per instruction over the rounds. */
function timeGuest(run: (quantum: number) => string, instructions: number, quantum: number, rounds: number): number {
  // The first calls run before V8 has optimised the interpreter: warm up.
  for (let i = 0; i < 50; i++) run(quantum);
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    best = Math.min(best, timeBest(1, instructions, () => {
      for (let done = 0; done < instructions; done += quantum) {
        const reason = run(quantum);
        if (reason !== "budget") throw new Error(`bench loop stopped: ${reason}`);
      }
    }));
  }
  return best;
}

/** A loop ready to run: one call runs one quantum and returns the exit's reason. */
type Loop = (quantum: number) => string;

/** The A64 loop on an AArch64 machine (RAM at 0x4000_0000, CPU 0 at the entry with the MMU off), with and without the data caches modelled. */
function a64Cpu(caches: boolean): Loop {
  const r = assemble("aarch64", { sources: [{ path: "loop.s", text: A64_LOOP_SOURCE }], sectionStarts: new Map([[".text", 0x4000_0000n]]) });
  if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  const m = new Machine({ arch: "aarch64", cpus: 1, caches, ram: [{ base: 0x4000_0000n, size: 64n << 20n }] });
  for (const s of r.program.sections) if (s.type === "progbits" && s.size) m.memory.write(s.address, s.bytes);
  const cpu = m.cpu(0);
  cpu.powerOn(r.program.entry, 0n);
  return (q) => cpu.run(q).reason;
}

/** Assembles an image for `arch`; throws with the diagnostics when it does not assemble. */
export function benchImage(arch: "aarch64" | "x86_64", text: string): Uint8Array {
  const r = assemble(arch, { sources: [{ path: "loop.s", text }] });
  if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  return writeElf(r.program);
}

/**
 * The MMU-on loop as \`shootdown run\` boots it (RAM at 0x4000_0000, data
 * caches modelled, CPU 0 on, the others off), with \`cpus\` CPUs; the image
 * turns the MMU and caches on during the warm-up (checked after it).
 */
function a64MmuOn(cpus: number, quantum: number): Loop {
  const image = benchImage("aarch64", a64MmuOnSource(A64_MMU_LOOP_BODY));
  const { m } = bootArmPlatform(image, {
    cpus, memBytes: 128n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum, maxSteps: undefined, tlbChaos: undefined,
  }, () => {});
  const cpu = m.cpu(0);
  cpu.run(quantum);
  if ((cpu.state.sctlr_el1 & 0x1005n) !== 0x1005n) throw new Error("the MMU-on bench image did not set SCTLR_EL1.M, C and I");
  return (q) => cpu.run(q).reason;
}

/** The bare x86-64 ALU-and-load loop on the loader's 2 MiB pages, with the machine (for the plain-load baseline's memory). */
function x86Loop(): { m: Machine; loop: Loop } {
  const m = new Machine({ cpus: 1, ram: [{ base: 0n, size: 64n << 20n }] });
  bootX86(m, planLoad(benchImage("x86_64", LOOP_SOURCE), 64n << 20n), { cmdline: "" });
  const cpu = m.cpu(0);
  return { m, loop: (q) => cpu.run(q).reason };
}

/** ns per guest instruction of the bare x86-64 ALU-and-load loop (the baseline other suites quote against). */
export function x86LoopNs(instructions: number, rounds: number): number {
  return timeGuest(x86Loop().loop, instructions, 100_000, rounds);
}

/** The x86-64 loop after the image replaced the loader's 2 MiB pages by its own 4 KiB tables (checked after the warm-up). */
function x86OwnTables(quantum: number): Loop {
  const m = new Machine({ cpus: 1, ram: [{ base: 0n, size: 64n << 20n }] });
  bootX86(m, planLoad(benchImage("x86_64", x86OwnTablesSource(X86_LOOP_BODY)), 64n << 20n), { cmdline: "" });
  const cpu = m.cpu(0);
  cpu.run(quantum);
  if (cpu.registers.cr3 < 0x10_0000n) throw new Error("the x86-64 own-tables bench image did not load its CR3");
  return (q) => cpu.run(q).reason;
}

/**
 * Each loop's time per instruction: the fastest of many single quanta, the
 * loops taking turns quantum by quantum. On a machine that other processes
 * share, a long round is rarely left alone on its core, while a quantum
 * (about a millisecond) often is; taking turns exposes every loop to the same
 * conditions, so the ratios between them hold even when the machine is busy.
 */
function timeInTurns(loops: readonly Loop[], chunk: () => number, quantum: number, turns: number): { loops: number[]; chunk: number } {
  // The first calls run before V8 has optimised the interpreter: warm up.
  for (const loop of loops) for (let i = 0; i < 50; i++) loop(quantum);
  const best = loops.map(() => Infinity);
  let chunkBest = Infinity;
  for (let turn = 0; turn < turns; turn++) {
    chunkBest = Math.min(chunkBest, chunk());
    loops.forEach((loop, i) => {
      const t0 = process.hrtime.bigint();
      const reason = loop(quantum);
      const ns = Number(process.hrtime.bigint() - t0) / quantum;
      if (reason !== "budget") throw new Error(`bench loop stopped: ${reason}`);
      if (ns < best[i]!) best[i] = ns;
    });
  }
  return { loops: best, chunk: chunkBest };
}

export function cpuSuite({ scale, out }: BenchOptions): void {
  const quantum = 100_000;
  const turns = Math.max(20, Math.round(500 * scale));
  const { m, loop: x86 } = x86Loop();
  const host = Number(m.hw.ramHost(0x10_0000n, 8));
  const loops = [x86, x86OwnTables(quantum), a64Cpu(false), a64Cpu(true), a64MmuOn(1, quantum), a64MmuOn(16, quantum)];
  const { loops: ns, chunk: load } = timeInTurns(loops, () => timeBest(1, quantum, () => m.hw.benchLoad(host, 6, quantum)), quantum, turns);
  const line = (what: string, t: number) =>
    out(`  ${what.padEnd(33)} ${t.toFixed(2).padStart(7)} ns  ${perSecond(t).padStart(11)}   ${(t / load).toFixed(1)}x plain load   ${(t / ns[0]!).toFixed(2)}x the x86-64 loop`);
  out(`cpu: ALU-and-load loops (8 instructions an iteration), each the fastest of ${turns} quanta of ${quantum} taken in turns`);
  out(`  plain wasm load (baseline)        ${load.toFixed(2).padStart(7)} ns  ${perSecond(load).padStart(11)}`);
  out("x86-64:");
  line("loader's 2 MiB pages", ns[0]!);
  line("the image's own 4 KiB tables", ns[1]!);
  out("A64, the MMU off:");
  line("guest instructions", ns[2]!);
  line("with the data caches modelled", ns[3]!);
  out("A64, the image's own 4 KiB tables, SCTLR_EL1.M/C/I, Normal WB (a load and a store an iteration):");
  line("1 CPU", ns[4]!);
  line("16 CPUs (15 off)", ns[5]!);
}
