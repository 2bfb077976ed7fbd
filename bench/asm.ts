// SPDX-License-Identifier: MIT
//
// The assembler's speed: a generated 10,000-line source per architecture
// (instructions of many forms, labels, branches back and forward, data,
// a macro), assembled end to end (parse, encode, relax, fixups, ELF), in
// lines per second, against the baseline of splitting the same text into
// statements, measured in the same run.

import { assemble, writeElf, type ArchName } from "../asm/index.ts";
import { statementsOf } from "../asm/source.ts";
import { timeBest, type BenchOptions } from "./cli.ts";

const X86_BODY = [
  "mov %rax, %rbx", "add $1, %rcx", "lea 8(%rsp,%rdi,4), %rsi", "cmp $0x1000, %rdx", "jne 1b",
  "movq $0x123456789, %r8", "xor %eax, %eax", "push %rbp", "pop %rbp", "jmp 2f", "shl $3, %r9",
  "movzbl (%rsi), %eax", "test %eax, %eax", "call func", "2:", "inc %r10",
];
const A64_BODY = [
  "mov x0, x1", "add x2, x2, #1", "ldr x3, [sp, #16]", "cmp x4, #0x100", "b.ne 1b",
  "movz x5, #0x1234, lsl #16", "eor w6, w6, w6", "stp x29, x30, [sp, #-16]!", "ldp x29, x30, [sp], #16",
  "b 2f", "lsl x7, x7, #3", "ldrb w8, [x9, x10]", "tst w8, #1", "bl func", "2:", "add x11, x11, #1",
];

/** About `lines` lines of source for an architecture. */
export function generateSource(arch: ArchName, lines: number): string {
  const body = arch === "x86_64" ? X86_BODY : A64_BODY;
  const comment = arch === "x86_64" ? "#" : "//";
  const out = [
    `${comment} generated for the assembler benchmark`,
    ".macro twice insn", "\\insn", "\\insn", ".endm",
    ".text", ".globl _start", "_start:", "func:",
  ];
  let i = 0;
  while (out.length < lines - 4) {
    out.push(`1:`);
    for (const line of body) out.push(line);
    out.push("twice nop");
    if (++i % 8 === 0) out.push(".data", `.quad ${i}, _start`, ".text");
  }
  out.push("ret", ".data", "tail: .byte 1", ".text");
  return out.join("\n") + "\n";
}

export function asmSuite({ scale, out }: BenchOptions): void {
  const lines = 10_000;
  const rounds = Math.max(3, Math.round(7 * Math.min(1, scale * 2)));
  out(`asm: a ${lines}-line generated source per architecture, best of ${rounds}`);
  for (const arch of ["x86_64", "aarch64"] as const) {
    const text = generateSource(arch, lines);
    const count = text.split("\n").length - 1;
    // Warm up (and check it assembles).
    const first = assemble(arch, { sources: [{ path: "bench.s", text }] });
    if (!first.program) throw new Error(`bench source does not assemble: ${JSON.stringify(first.diagnostics.slice(0, 3))}`);
    const split = timeBest(rounds, count, () => statementsOf(text, "bench.s", arch));
    const full = timeBest(rounds, count, () => {
      const r = assemble(arch, { sources: [{ path: "bench.s", text }] });
      writeElf(r.program!);
    });
    const perSecond = (ns: number) => `${(1e9 / ns / 1e3).toFixed(0)} k lines/s`;
    out(`  ${arch.padEnd(8)} split into statements ${(split * count / 1e6).toFixed(1).padStart(7)} ms  ${perSecond(split).padStart(16)}`);
    out(`  ${arch.padEnd(8)} assemble to ELF        ${(full * count / 1e6).toFixed(1).padStart(7)} ms  ${perSecond(full).padStart(16)}   ${(full / split).toFixed(1)}x splitting`);
  }
}
