// SPDX-License-Identifier: MIT
//
// Random A64 loads and stores for the QEMU differential test: single
// registers (unsigned offset, unscaled, pre- and post-index, register
// offset with each extend) of every size and signedness, and pairs, all
// based on X0, which points into the middle of a 4 KiB buffer of random
// bytes. Encodings are drawn field by field; the cases the architecture
// leaves CONSTRAINED UNPREDICTABLE (writeback to a register the
// instruction also loads, a pair loading one register twice) are never made.

import { printResults } from "./generate.ts";
import { prng } from "../../../../helpers/prng.ts";

export interface MemCase {
  word: number;
  /** A word run just before it (the LDXP that opens an exclusive, the LDP that makes a CASP match). */
  before?: number;
  /** X1–X7 before the instruction (X0 is the buffer's middle, X6 and X7 are the index registers). */
  regs: bigint[];
}

export const BUFFER_BYTES = 4096;

export function generateMemory(seed: number, count: number): MemCase[] {
  const rnd = prng(seed);
  const bits = (n: number) => Math.floor(rnd() * 2 ** n);
  const word64 = () => (BigInt(bits(32)) << 32n) | BigInt(bits(32));
  const cases: MemCase[] = [];
  while (cases.length < count) {
    const rt = 1 + bits(3) % 5;
    const size = bits(2);
    const opc = bits(2);
    let w: number;
    const kind = bits(3) % 6;
    if (kind === 5) {
      // LDP/STP/LDPSW (signed offset, post-index, pre-index): opc 101 0 type L imm7 Rt2 Rn Rt.
      const popc = [0, 1, 2][bits(2) % 3]!;
      const l = popc === 1 ? 1 : bits(1);
      let rt2 = 1 + bits(3) % 5;
      if (l && rt2 === rt) rt2 = rt === 5 ? 1 : rt + 1;
      const imm7 = (bits(5) - 16) & 0x7f;
      w = (popc << 30) | (0b101 << 27) | ([2, 1, 3][bits(2) % 3]! << 23) | (l << 22) | (imm7 << 15) | (rt2 << 10) | rt;
    } else {
      if (size === 3 && opc >= 2) continue;
      if (size === 2 && opc === 3) continue;
      const head = (size << 30) | (0b111 << 27) | (opc << 22);
      if (kind === 0) {
        // Unsigned offset: size 111 0 01 opc imm12 Rn Rt.
        w = head | (1 << 24) | (bits(8) << 10) | rt;
      } else if (kind <= 3) {
        // Unscaled (00), post-index (01), pre-index (11): size 111 0 00 opc 0 imm9 idx Rn Rt.
        w = head | ((bits(9) & 0x1ff) << 12) | ([0, 1, 3][kind - 1]! << 10) | rt;
      } else {
        // Register offset: size 111 0 00 opc 1 Rm option S 10 Rn Rt, Rm = X6 or X7 (not X7 with UXTW: 4 GiB away).
        const option = [2, 3, 6, 7][bits(2)]!;
        const rm = option === 2 ? 6 : 6 + bits(1);
        w = head | (1 << 21) | (rm << 16) | (option << 13) | (bits(1) << 12) | (0b10 << 10) | rt;
      }
    }
    const regs = Array.from({ length: 5 }, word64);
    // X6: a small positive index; X7: a small negative one (as a W register too).
    regs.push(BigInt(bits(6)), (1n << 64n) - BigInt(1 + bits(6)));
    cases.push({ word: w >>> 0, regs });
  }
  return cases;
}

/**
 * Exclusive pairs and CASP, at [X0] (the buffer's middle, 16-byte aligned):
 * LDXP/LDAXP; STXP/STLXP without an open monitor (they fail) and right after
 * an LDAXP of the same address (they succeed); CASP/CASPA/CASPL/CASPAL
 * against random registers (they fail) and after an LDP that loaded the
 * compared pair (they succeed). Registers: pairs from X2-X5, statuses in X1,
 * the opening loads into X6 and X7, so nothing is CONSTRAINED UNPREDICTABLE.
 */
export function generateExclusive(seed: number, count: number): MemCase[] {
  const rnd = prng(seed);
  const bits = (n: number) => Math.floor(rnd() * 2 ** n);
  const word64 = () => (BigInt(bits(32)) << 32n) | BigInt(bits(32));
  const EXCLUSIVE = 0x08000000;
  const cases: MemCase[] = [];
  while (cases.length < count) {
    const regs = Array.from({ length: 7 }, word64);
    const sz = bits(1);
    const o0 = bits(1);
    const kind = bits(2);
    let word: number;
    let before: number | undefined;
    if (kind === 0) {
      // LDXP/LDAXP Rt, Rt2, [X0]: 1 sz 001000 0 1 1 11111 o0 Rt2 Rn Rt.
      const rt = 2 + bits(2);
      const rt2 = rt === 5 ? 2 : rt + 1;
      word = (1 << 31) | (sz << 30) | EXCLUSIVE | (1 << 22) | (1 << 21) | (31 << 16) | (o0 << 15) | (rt2 << 10) | rt;
    } else if (kind === 1) {
      // STXP/STLXP W1, Rt, Rt2, [X0], opened or not by LDAXP X6, X7, [X0].
      const rt = 2 + bits(2);
      const rt2 = 2 + bits(2);
      word = (1 << 31) | (sz << 30) | EXCLUSIVE | (1 << 21) | (1 << 16) | (o0 << 15) | (rt2 << 10) | rt;
      if (bits(1)) before = (1 << 31) | (sz << 30) | EXCLUSIVE | (1 << 22) | (1 << 21) | (31 << 16) | (1 << 15) | (7 << 10) | 6;
    } else {
      // CASP{A}{L} Rs, Rs+1, Rt, Rt+1, [X0]: 0 sz 001000 0 L 1 Rs o0 11111 Rn Rt; Rs = X2, Rt = X4.
      word = (sz << 30) | EXCLUSIVE | (bits(1) << 22) | (1 << 21) | (2 << 16) | (o0 << 15) | (31 << 10) | 4;
      // Half of them first load the pair they compare (LDP X2, X3, [X0] or LDP W2, W3, [X0]).
      if (bits(1)) before = (sz ? 0xa9400000 : 0x29400000) | (3 << 10) | 2;
    }
    regs.push(BigInt(bits(6)));
    cases.push({ word: word >>> 0, regs: regs.slice(0, 5).concat([BigInt(bits(6)), (1n << 64n) - BigInt(1 + bits(6))]), ...(before === undefined ? {} : { before: before >>> 0 }) });
  }
  return cases;
}

/**
 * The image: for each case fill the buffer from a seeded generator, set X0
 * to its middle and X1–X7, run the word, and store X0–X7 and a checksum of
 * the buffer; then print every result as 16 hex digits a line and power off.
 */
/**
 * Turns the MMU and caches on: VA = PA through one level-1 table (39-bit VAs,
 * 1 GiB blocks), the GiB at 0 Device-nGnRnE (the PL011), the GiB of RAM
 * Normal Write-Back.
 */
const MMU_ON = `
  adr x0, l1_table
  msr ttbr0_el1, x0
  mov x0, #0xff
  msr mair_el1, x0
  // T0SZ = 25, IRGN0 = ORGN0 = Write-Back, SH0 = Inner Shareable, TG0 = 4 KiB, IPS = 40 bits.
  mov x0, #25
  orr x0, x0, #(1 << 8)
  orr x0, x0, #(1 << 10)
  orr x0, x0, #(3 << 12)
  orr x0, x0, #(2 << 32)
  msr tcr_el1, x0
  isb
  mrs x0, sctlr_el1
  orr x0, x0, #(1 << 0)
  orr x0, x0, #(1 << 2)
  orr x0, x0, #(1 << 12)
  msr sctlr_el1, x0
  isb
`;

/** The level-1 table MMU_ON points at: block descriptors with AF, AttrIndx 1 (Device) or 0 with SH = Inner Shareable. */
const L1_TABLE = `
  .balign 4096
l1_table:
  .quad 0x0000000000000405
  .quad 0x0000000040000701
  .fill 510, 8, 0
`;

export function memorySource(cases: MemCase[], bufferAt: bigint, resultsAt: bigint, mmu = false): string {
  const body = cases.map((c, i) => `
  bl fill
  ldp x1, x2, [x27], #16
  ldp x3, x4, [x27], #16
  ldp x5, x6, [x27], #16
  ldr x7, [x27], #8
  ldr x0, middle${c.before === undefined ? "" : `
  .inst 0x${c.before.toString(16)}`}
  .inst 0x${c.word.toString(16)} // case ${i}
  bl record`).join("");
  const table = cases.map((c) => `  .quad ${c.regs.map((v) => `0x${v.toString(16)}`).join(", ")}\n`).join("");
  return `
  .text
  .globl _start
_start:
${mmu ? MMU_ON : ""}
  adr x27, table
  ldr x28, results_at
  mov x26, #1
${body}
${printResults(cases.length * 9)}

// The buffer from an xorshift generator in x26, which goes on from case to case.
fill:
  ldr x9, buffer
  mov x10, #${BUFFER_BYTES / 8}
1:
  eor x26, x26, x26, lsl #13
  eor x26, x26, x26, lsr #7
  eor x26, x26, x26, lsl #17
  str x26, [x9], #8
  subs x10, x10, #1
  b.ne 1b
  ret

// X0–X7, then a checksum of the buffer (rotate left 5 and add, word by word).
record:
  stp x0, x1, [x28], #16
  stp x2, x3, [x28], #16
  stp x4, x5, [x28], #16
  stp x6, x7, [x28], #16
  ldr x9, buffer
  mov x10, #${BUFFER_BYTES / 8}
  mov x11, #0
1:
  ldr x12, [x9], #8
  ror x11, x11, #59
  add x11, x11, x12
  subs x10, x10, #1
  b.ne 1b
  str x11, [x28], #8
  ret

  .balign 8
results_at: .quad ${resultsAt}
buffer: .quad ${bufferAt}
middle: .quad ${bufferAt + BigInt(BUFFER_BYTES / 2)}
table:
${table}
${mmu ? L1_TABLE : ""}
`;
}
