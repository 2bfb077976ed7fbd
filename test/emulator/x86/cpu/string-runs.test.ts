// SPDX-License-Identifier: MIT
//
// Forward REP STOS and REP MOVS go a page at a time when the micro-TLB
// holds the page (emulator/hw/x86/cpu/string.ts, pageRun); without a
// micro-TLB every element takes the element loop. Both must leave the same
// memory, registers and TLB-hit count: across pages, unaligned, with a
// count that ends mid-page, with source and destination overlapping (which
// the run leaves to the loop: the element order shows), and past the 4,096
// elements after which the instruction lets the CPU look at interrupts.

import { describe, expect, it } from "vitest";
import { execRig } from "../../../helpers/x86-exec.ts";

const PROGRAM = `
  .globl _start
_start:
  cld
  lea buf(%rip), %rdi          # 4 pages and a bit of quadwords: a pattern
  mov $0x1122334455667788, %rax
  mov $2100, %ecx
  rep stosq
  lea buf+5(%rip), %rdi        # bytes, unaligned, over a page boundary
  mov $0x5a, %al
  mov $6001, %ecx
  rep stosb
  lea buf+3(%rip), %rsi        # an unaligned copy across pages, no overlap
  lea buf+0x9003(%rip), %rdi
  mov $9000, %ecx
  rep movsb
  lea buf+0x9000(%rip), %rsi   # quadwords, overlapping forward: the smear only an element loop makes
  lea buf+0x9008(%rip), %rdi
  mov $700, %ecx
  rep movsq
  lea buf+0x40(%rip), %rsi     # words, source above the destination
  lea buf+0x38(%rip), %rdi
  mov $3000, %ecx
  rep movsw
  mov $5000, %ecx              # more than 4,096 elements: the instruction stops once and goes on
  lea buf+0xc000(%rip), %rdi
  xor %eax, %eax
  rep stosl
  hlt
  .balign 4096
buf:
  .fill 0x12000, 1, 0xcc
`;

function run(microTlbEntries: number) {
  const { m, cpu, sym } = execRig(PROGRAM, { microTlbEntries });
  const exit = cpu.run(1_000_000);
  const s = cpu.state;
  return {
    exit, rip: s.rip, rcx: s.rcx, rsi: s.rsi, rdi: s.rdi, instructions: cpu.instructions,
    memory: Buffer.from(m.memory.read(sym("buf"), 0x12000)).toString("hex"),
    tlbHits: cpu.counters().tlbHits,
  };
}

describe("REP STOS and REP MOVS a page at a time", () => {
  it("leave memory and registers as the element loop does", () => {
    const runs = run(256);
    const loop = run(0);
    expect(runs.exit).toEqual({ reason: "hlt" });
    const { tlbHits: _a, ...r } = runs;
    const { tlbHits: _b, ...l } = loop;
    expect(r).toEqual(l);
    // The overlapping quadword copy smeared the quadword before it forward, as an element loop does.
    const m = Buffer.from(runs.memory, "hex");
    expect(m.readBigUInt64LE(0x9008 + 8 * 699)).toBe(m.readBigUInt64LE(0x9000));
  });

  it("count a TLB hit for every element access, as the element loop through the micro-TLB does", () => {
    // The element loop counts one hit per element access here (38,501: the
    // 2,100 + 6,001 + 5,000 stores and 2 × (9,000 + 700 + 3,000) copies); a
    // run counts each of its elements' accesses as the loop would have.
    expect(run(256).tlbHits).toBe(2100n + 6001n + 5000n + 2n * (9000n + 700n + 3000n));
  });
});
