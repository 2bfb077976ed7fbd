// SPDX-License-Identifier: MIT
//
// Random A64 data-processing instructions for the QEMU differential test:
// raw words drawn field by field from the encoding classes of DDI0487 C4.1.86
// and C4.1.88 that the interpreter implements (reserved field values within
// those classes included: both sides must then take UNDEFINED), each with
// random source registers X0–X7, random initial values and random NZCV.
// The destination field is always X8.

import { prng } from "../../../../helpers/prng.ts";

export interface Case {
  word: number;
  /** X0–X7 before the instruction. */
  regs: bigint[];
  /** NZCV before it, in bits 31:28. */
  nzcv: bigint;
}

const EDGES = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn,
  0x1_0000_0000n, 0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0xffff_ffff_ffff_ffffn, 0xffff_ffff_8000_0000n];

export function generate(seed: number, count: number): Case[] {
  const rnd = prng(seed);
  const bits = (n: number) => Math.floor(rnd() * 2 ** n);
  const value = (): bigint => {
    if (rnd() < 0.4) return EDGES[bits(8) % EDGES.length]!;
    const v = (BigInt(bits(32)) << 32n) | BigInt(bits(32));
    return rnd() < 0.3 ? v & 0xffff_ffffn : v;
  };
  const reg = () => bits(3);
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const sf = bits(1);
    const rd = 8;
    const rn = reg();
    const rm = reg();
    let w: number;
    switch (bits(4) % 14) {
      // Add/subtract (immediate): sf op S 100010 sh imm12 Rn Rd.
      case 0: w = (sf << 31) | (bits(2) << 29) | (0b100010 << 23) | (bits(1) << 22) | (bits(12) << 10) | (rn << 5) | rd; break;
      // Logical (immediate): sf opc 100100 N immr imms Rn Rd.
      case 1: w = (sf << 31) | (bits(2) << 29) | (0b100100 << 23) | (bits(1) << 22) | (bits(6) << 16) | (bits(6) << 10) | (rn << 5) | rd; break;
      // Move wide: sf opc 100101 hw imm16 Rd.
      case 2: w = (sf << 31) | (bits(2) << 29) | (0b100101 << 23) | (bits(2) << 21) | (bits(16) << 5) | rd; break;
      // Bitfield: sf opc 100110 N immr imms Rn Rd (N = sf mostly, so that most are allocated).
      case 3: w = (sf << 31) | (bits(2) << 29) | (0b100110 << 23) | ((rnd() < 0.9 ? sf : 1 - sf) << 22) | (bits(6) << 16) | (bits(6) << 10) | (rn << 5) | rd; break;
      // Extract: sf 00 100111 N 0 Rm imms Rn Rd.
      case 4: w = (sf << 31) | (0b100111 << 23) | (sf << 22) | (rm << 16) | (bits(6) << 10) | (rn << 5) | rd; break;
      // Logical (shifted register): sf opc 01010 shift N Rm imm6 Rn Rd.
      case 5: w = (sf << 31) | (bits(2) << 29) | (0b01010 << 24) | (bits(2) << 22) | (bits(1) << 21) | (rm << 16) | (bits(6) << 10) | (rn << 5) | rd; break;
      // Add/subtract (shifted register): sf op S 01011 shift 0 Rm imm6 Rn Rd.
      case 6: w = (sf << 31) | (bits(2) << 29) | (0b01011 << 24) | (bits(2) << 22) | (rm << 16) | (bits(6) << 10) | (rn << 5) | rd; break;
      // Add/subtract (extended register): sf op S 01011 00 1 Rm option imm3 Rn Rd.
      case 7: w = (sf << 31) | (bits(2) << 29) | (0b01011 << 24) | (1 << 21) | (rm << 16) | (bits(3) << 13) | ((bits(3) % 5) << 10) | (rn << 5) | rd; break;
      // ADC/ADCS/SBC/SBCS: sf op S 11010000 Rm 000000 Rn Rd.
      case 8: w = (sf << 31) | (bits(2) << 29) | (0b11010000 << 21) | (rm << 16) | (rn << 5) | rd; break;
      // CCMN/CCMP (register or immediate): sf op 1 11010010 Rm cond imm 0 Rn 0 nzcv.
      case 9: w = (sf << 31) | (bits(1) << 30) | (1 << 29) | (0b11010010 << 21) | ((rnd() < 0.5 ? bits(5) : rm) << 16) | (bits(4) << 12) | (bits(1) << 11) | (rn << 5) | bits(4); break;
      // Conditional select: sf op 0 11010100 Rm cond 0 o2 Rn Rd.
      case 10: w = (sf << 31) | (bits(1) << 30) | (0b11010100 << 21) | (rm << 16) | (bits(4) << 12) | (bits(1) << 10) | (rn << 5) | rd; break;
      // Data-processing (2 source): UDIV SDIV LSLV LSRV ASRV RORV.
      case 11: w = (sf << 31) | (0b11010110 << 21) | (rm << 16) | ([2, 3, 8, 9, 10, 11][bits(3) % 6]! << 10) | (rn << 5) | rd; break;
      // Data-processing (1 source): RBIT REV16 REV32/REV REV CLZ CLS.
      case 12: w = (sf << 31) | (1 << 30) | (0b11010110 << 21) | ((bits(3) % 6) << 10) | (rn << 5) | rd; break;
      // Data-processing (3 source): MADD MSUB SMADDL SMSUBL SMULH UMADDL UMSUBL UMULH.
      default: {
        const [op31, o0] = [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [5, 0], [5, 1], [6, 0]][bits(3)]!;
        const ra = op31 === 2 || op31 === 6 ? 31 : reg();
        w = ((op31 === 0 ? sf : 1) << 31) | (0b11011 << 24) | (op31! << 21) | (rm << 16) | (o0! << 15) | (ra << 10) | (rn << 5) | rd;
      }
    }
    cases.push({ word: w >>> 0, regs: Array.from({ length: 8 }, value), nzcv: BigInt(bits(4)) << 28n });
  }
  return cases;
}

/** Each case's inputs: X0–X7 and NZCV, 72 bytes. */
export const CASE_BYTES = 72;
/** Each case's outputs: X8 and NZCV. */
export const RESULT_BYTES = 16;
/** X8 when the instruction was UNDEFINED. */
export const UNDEF_MARK = 0xdeadn;

/**
 * The image: for each case load X0–X7 and NZCV from the table, clear X8, run
 * the word, store X8 and NZCV; an UNDEFINED word goes through the vector,
 * which marks X8 and steps past. Then every result is printed on the PL011
 * as 16 hex digits a line, and PSCI SYSTEM_OFF ends the run.
 */
export function source(cases: Case[], resultsAt: bigint): string {
  const body = cases.map((c, i) => `
  ldp x0, x1, [x27], #16
  ldp x2, x3, [x27], #16
  ldp x4, x5, [x27], #16
  ldp x6, x7, [x27], #16
  ldr x9, [x27], #8
  msr nzcv, x9
  mov x8, #0
  .inst 0x${c.word.toString(16)} // case ${i}
  mrs x9, nzcv
  stp x8, x9, [x28], #16`).join("");
  const table = cases.map((c) => `  .quad ${[...c.regs, c.nzcv].map((v) => `0x${v.toString(16)}`).join(", ")}\n`).join("");
  return `
  .text
  .globl _start
_start:
  adr x0, vectors
  msr vbar_el1, x0
  adr x27, table
  ldr x28, results_at
${body}
${printResults(cases.length * 2)}
  .balign 8
results_at: .quad ${resultsAt}
table:
${table}
  .balign 0x800
vectors:
  .skip 0x200
  mov x8, #${UNDEF_MARK}
  mrs x30, elr_el1
  add x30, x30, #4
  msr elr_el1, x30
  eret
`;
}

/**
 * Prints `count` 64-bit results from results_at on the PL011 as 16 hex
 * digits a line, then powers off with PSCI SYSTEM_OFF (HVC, as QEMU virt's
 * PSCI conduit is without EL2).
 */
export function printResults(count: number): string {
  return `
  ldr x20, results_at
  mov x21, #${count}
  mov x22, #0x09000000
print:
  ldr x23, [x20], #8
  mov x24, #60
digit:
  lsr x25, x23, x24
  and x25, x25, #15
  cmp x25, #10
  add x19, x25, #'0'
  add x25, x25, #('a' - 10)
  csel x25, x19, x25, lo
  strb w25, [x22]
  subs x24, x24, #4
  b.pl digit
  mov x25, #10
  strb w25, [x22]
  subs x21, x21, #1
  b.ne print
  movz w0, #0x0008
  movk w0, #0x8400, lsl #16
  hvc #0
  b .
`;
}
