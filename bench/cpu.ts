// SPDX-License-Identifier: MIT
//
// Guest instructions per second: an image whose loop loads from memory and
// does integer arithmetic (mostly the instructions kernels run), booted as
// `shootdown run` boots it, run in quanta as the scheduler runs it, against
// plain WebAssembly loads (the MMU bench's baseline) in the same run.

import { Machine } from "../emulator/machine/core/machine.ts";
import { planLoad, bootX86 } from "../emulator/machine/platform/x86/boot.ts";
import { assemble, writeElf, formatDiagnostic } from "../asm/index.ts";
import { timeBest, perSecond, type BenchOptions } from "./cli.ts";

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

/** The A64 loop on an AArch64 machine (RAM at 0x4000_0000, CPU 0 at the entry with the MMU off), with and without the data caches modelled. */
function a64Cpu(instructions: number, quantum: number, rounds: number, caches: boolean): number {
  const r = assemble("aarch64", { sources: [{ path: "loop.s", text: A64_LOOP_SOURCE }], sectionStarts: new Map([[".text", 0x4000_0000n]]) });
  if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  const m = new Machine({ arch: "aarch64", cpus: 1, caches, ram: [{ base: 0x4000_0000n, size: 64n << 20n }] });
  for (const s of r.program.sections) if (s.type === "progbits" && s.size) m.memory.write(s.address, s.bytes);
  const cpu = m.cpu(0);
  cpu.powerOn(r.program.entry, 0n);
  return timeGuest((q) => cpu.run(q).reason, instructions, quantum, rounds);
}

export function cpuSuite({ scale, out }: BenchOptions): void {
  const r = assemble("x86_64", { sources: [{ path: "loop.s", text: LOOP_SOURCE }] });
  if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  const m = new Machine({ cpus: 1, ram: [{ base: 0n, size: 64n << 20n }] });
  bootX86(m, planLoad(writeElf(r.program), 64n << 20n), { cmdline: "" });
  const cpu = m.cpu(0);
  const quantum = 100_000;
  const instructions = Math.max(quantum, Math.round(50_000_000 * scale / quantum) * quantum);
  const loads = instructions;
  const host = Number(m.hw.ramHost(0x10_0000n, 8));
  const rounds = 7;
  // The first calls run before V8 has optimised the interpreter: warm up.
  for (let i = 0; i < 50; i++) cpu.run(quantum);
  let guest = Infinity;
  let load = Infinity;
  for (let round = 0; round < rounds; round++) {
    load = Math.min(load, timeBest(1, loads, () => m.hw.benchLoad(host, 6, loads)));
    guest = Math.min(guest, timeBest(1, instructions, () => {
      for (let done = 0; done < instructions; done += quantum) {
        const exit = cpu.run(quantum);
        if (exit.reason !== "budget") throw new Error(`bench loop stopped: ${exit.reason}`);
      }
    }));
  }
  out(`cpu: x86-64 ALU-and-load loop, quanta of ${quantum}, best of ${rounds} rounds`);
  out(`  plain wasm load (baseline)        ${load.toFixed(2).padStart(7)} ns  ${perSecond(load).padStart(11)}`);
  out(`  guest instructions                ${guest.toFixed(2).padStart(7)} ns  ${perSecond(guest).padStart(11)}   ${(guest / load).toFixed(1)}x plain load`);
  const a64 = a64Cpu(instructions, quantum, rounds, false);
  const a64Caches = a64Cpu(instructions, quantum, rounds, true);
  out(`cpu: A64 ALU-and-load loop (the MMU off), quanta of ${quantum}, best of ${rounds} rounds`);
  out(`  guest instructions                ${a64.toFixed(2).padStart(7)} ns  ${perSecond(a64).padStart(11)}   ${(a64 / load).toFixed(1)}x plain load`);
  out(`  with the data caches modelled     ${a64Caches.toFixed(2).padStart(7)} ns  ${perSecond(a64Caches).padStart(11)}   ${(a64Caches / load).toFixed(1)}x plain load`);
}
