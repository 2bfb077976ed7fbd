// SPDX-License-Identifier: MIT
//
// Synchronous exceptions for the QEMU differential test: each case runs one
// instruction (at EL1, or at EL0 after an ERET) that must take an exception
// to EL1, and the vector records ESR_EL1, ELR_EL1, FAR_EL1 (cleared before
// each case) and SPSR_EL1, then returns to EL1h at the next case.

import { printResults } from "./generate.ts";

export interface ExceptionCase {
  name: string;
  /** Instructions before the faulting one (x1 holds an aligned RAM address). */
  setup?: string;
  insn: string;
  el0?: boolean;
  /**
   * Where QEMU 7.2 departs from the Arm ARM, which shootdown follows: the
   * case still runs on both, but is not compared.
   */
  qemuDeviates?: string;
}

export const EXCEPTION_CASES: ExceptionCase[] = [
  { name: "SVC at EL1", insn: "svc #0x1234" },
  { name: "SVC at EL0", insn: "svc #0xffff", el0: true },
  { name: "BRK at EL1", insn: "brk #0x42" },
  { name: "BRK at EL0", insn: "brk #1", el0: true },
  { name: "UDF", insn: ".inst 0x00000000" },
  { name: "unallocated data processing", insn: ".inst 0x5ac0f000" },
  { name: "FMOV while CPACR_EL1.FPEN traps it", insn: ".inst 0x1e204000" },
  { name: "LDR Q while CPACR_EL1.FPEN traps it", insn: ".inst 0x3dc00020" },
  { name: "HVC at EL0", insn: "hvc #0", el0: true },
  { name: "an EL2 register from EL1", insn: "mrs x0, hcr_el2" },
  { name: "an EL1 register from EL0", insn: "mrs x0, sctlr_el1", el0: true },
  { name: "DAIFSet from EL0 without UMA", insn: "msr daifset, #2", el0: true,
    qemuDeviates: "QEMU's ISS has Op1 and Op2 swapped (0x0793e4 rather than 0x0cd3e4 for Op1 = 3, Op2 = 6)" },
  { name: "DC ZVA from EL0 without DZE", insn: "dc zva, x1", el0: true },
  { name: "WFI from EL0 with nTWI clear", setup: "mrs x4, sctlr_el1\n  bic x4, x4, #(1 << 16)\n  msr sctlr_el1, x4", insn: "wfi", el0: true },
  { name: "WFE from EL0 with nTWE clear", setup: "mrs x4, sctlr_el1\n  bic x4, x4, #(1 << 18)\n  msr sctlr_el1, x4", insn: "wfe", el0: true,
    qemuDeviates: "QEMU does not trap WFE (SCTLR_EL1.nTWE, DDI0487 D19.2.118)" },
  { name: "SP alignment (SCTLR_EL1.SA is set at reset)", setup: "add x2, x1, #8\n  mov sp, x2", insn: "ldr x0, [sp]",
    qemuDeviates: "QEMU does not check SP alignment (SCTLR_EL1.SA, DDI0487 D1.8.2)" },
  { name: "ERET at EL0", insn: "eret", el0: true },
  { name: "PC alignment", setup: "adr x2, 9f\n  add x2, x2, #2", insn: "br x2\n9:" },
  { name: "misaligned LDXR", setup: "add x2, x1, #4", insn: "ldxr x0, [x2]" },
  { name: "misaligned STXR after LDXR", setup: "ldxr x0, [x1]\n  add x2, x1, #2", insn: "stxr w3, x0, [x2]",
    qemuDeviates: "QEMU fails a STXR to another address than the LDXR's without checking alignment; the Arm ARM's ExclusiveMonitorsPass checks alignment first" },
  { name: "misaligned LDAR", setup: "add x2, x1, #1", insn: "ldar w0, [x2]" },
  { name: "misaligned STLR", setup: "add x2, x1, #4", insn: "stlr x0, [x2]" },
  { name: "misaligned CAS", setup: "add x2, x1, #4", insn: "cas x0, x3, [x2]" },
  { name: "misaligned LDADD", setup: "add x2, x1, #2", insn: "ldadd w0, w3, [x2]" },
  { name: "misaligned SWP", setup: "add x2, x1, #1", insn: "swph w0, w3, [x2]" },
  { name: "LDR with SCTLR_EL1.A", setup: "mrs x4, sctlr_el1\n  orr x5, x4, #2\n  msr sctlr_el1, x5\n  add x2, x1, #4", insn: "ldr x0, [x2]" },
  { name: "illegal exception return", setup: "adr x2, 9f\n  msr elr_el1, x2\n  mov x2, #0x3c9\n  msr spsr_el1, x2", insn: "eret\n9:\n  nop" },
];

export function exceptionSource(resultsAt: bigint, scratch: bigint): string {
  const body = EXCEPTION_CASES.map((c, i) => `
  // ${c.name}
  adr x27, 8f
  msr far_el1, xzr
  ldr x1, scratch
  ${c.setup ?? ""}
  ${c.el0 ? "adr x9, 7f\n  msr elr_el1, x9\n  msr spsr_el1, xzr\n  eret\n7:" : ""}
case_${i}:
  ${c.insn}
  b missed
8:`).join("");
  return `
  .text
  .globl _start
_start:
  adr x0, vectors
  msr vbar_el1, x0
  ldr x28, results_at
  mrs x26, sctlr_el1
  mov x6, sp
${body}
${printResults(EXCEPTION_CASES.length * 4)}

// A case that did not fault: four ones, then back to EL1 at the next case by an SVC the vector knows.
missed:
  mov x0, #-1
  stp x0, x0, [x28], #16
  stp x0, x0, [x28], #16
  svc #0x7777

record:
  // The SCTLR_EL1 and SP a case may have changed, back as they were.
  msr sctlr_el1, x26
  mov sp, x6
  isb
  mrs x10, esr_el1
  movz x11, #0x5600, lsl #16
  movk x11, #0x7777
  cmp x10, x11
  b.eq 1f
  mrs x11, elr_el1
  mrs x12, far_el1
  mrs x13, spsr_el1
  // PSTATE.BTYPE (FEAT_BTI, which QEMU's max CPU has and shootdown does not).
  bic x13, x13, #0xc00
  stp x10, x11, [x28], #16
  stp x12, x13, [x28], #16
1:
  msr elr_el1, x27
  mov x10, #0x3c5
  msr spsr_el1, x10
  eret

  .balign 8
results_at: .quad ${resultsAt}
scratch: .quad ${scratch}
  .balign 0x800
vectors:
  .skip 0x200
  b record
  .skip 0x200 - 4
  b record
`;
}
