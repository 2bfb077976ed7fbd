// SPDX-License-Identifier: MIT
//
// IRQs through VBAR_EL1 and their masking by PSTATE.I, driven by an SGI a
// CPU sends itself through the GICv3 CPU interface (ICC_SGI1R_EL1).

import { describe, expect, it } from "vitest";
import { a64Rig } from "../../../helpers/a64-exec.ts";

/** Enables SGI 3 on CPU 0's redistributor and the CPU interface, IRQs masked (QEMU virt addresses). */
const GIC_SETUP = `
  adr x0, vectors
  msr vbar_el1, x0
  mov x0, #1
  msr icc_sre_el1, x0
  isb
  mov x1, #0x08000000
  mov w2, #0x13
  str w2, [x1]
  mov x1, #0x080a0000
  ldr w2, [x1, #0x14]
  and w2, w2, #~2
  str w2, [x1, #0x14]
  add x1, x1, #0x10000
  mov w2, #-1
  str w2, [x1, #0x80]
  mov w2, #8
  str w2, [x1, #0x100]
  mov x0, #0xff
  msr icc_pmr_el1, x0
  mov x0, #1
  msr icc_igrpen1_el1, x0
  isb
`;

const VECTORS = `
  .balign 0x800
vectors:
  .skip 0x280
  mrs x20, icc_iar1_el1
  msr icc_eoir1_el1, x20
  mrs x21, elr_el1
  mrs x22, spsr_el1
  hvc #0
`;

describe("IRQs", () => {
  it("an SGI to self is taken at the current-EL SPx IRQ vector once PSTATE.I is clear, not before", () => {
    const r = a64Rig(`
_start:
  ${GIC_SETUP}
  movz x0, #0x0300, lsl #16
  orr x0, x0, #1
  msr icc_sgi1r_el1, x0
  isb
  mov x9, #1
  mov x9, #2
unmask:
  msr daifclr, #2
after:
  mov x9, #3
  hvc #1
${VECTORS}
`);
    expect(r.run()).toMatchObject({ reason: "hvc", imm: 0 });
    expect(r.x(20)).toBe(3n);
    expect(r.x(9)).toBe(2n);
    expect(r.x(21)).toBe(r.sym("after"));
    expect(r.x(22) & 0x80n).toBe(0n);
  });

  it("WFI with an SGI pending but masked does not sleep", () => {
    const r = a64Rig(`
_start:
  ${GIC_SETUP}
  movz x0, #0x0300, lsl #16
  orr x0, x0, #1
  msr icc_sgi1r_el1, x0
  wfi
  hvc #1
${VECTORS}
`);
    expect(r.run()).toMatchObject({ reason: "hvc", imm: 1 });
  });
});

describe("WFI without a GIC interrupt", () => {
  it("sleeps (the wfi exit)", () => {
    const r = a64Rig(`
_start:
  msr daifclr, #2
  wfi
  hvc #0
`);
    expect(r.run()).toEqual({ reason: "wfi" });
  });
});
