// SPDX-License-Identifier: MIT
//
// Guest instructions per second: an image whose loop loads from memory and
// does integer arithmetic (mostly the instructions kernels run), booted as
// `shootdown run` boots it, run in quanta as the scheduler runs it, against
// plain WebAssembly loads (the MMU bench's baseline) in the same run.

import { Machine } from "../emulator/machine/machine.ts";
import { planLoad, bootX86 } from "../emulator/machine/x86-boot.ts";
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
}
