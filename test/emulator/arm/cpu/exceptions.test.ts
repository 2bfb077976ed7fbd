// SPDX-License-Identifier: MIT
//
// Synchronous exceptions taken to EL1 through VBAR_EL1 (DDI0487 D1.10):
// SVC, UNDEFINED, BRK, data and instruction aborts with the MMU's fault
// status, PC and SP alignment; ESR_EL1, FAR_EL1, ELR_EL1, SPSR_EL1; ERET
// back to EL0 and EL1; DAIF; and the exception-loop exit.

import { describe, expect, it } from "vitest";
import { a64Rig, mmuOn, MMU_ON, RAM_BASE, type A64Rig } from "../../../helpers/a64-exec.ts";
import { S1 } from "../../../../emulator/machine/platform/arm/page-tables.ts";

const IL = 1n << 25n;
const esr = (ec: number, iss: number) => (BigInt(ec) << 26n) | IL | BigInt(iss);

/**
 * Vectors that record ESR, FAR, ELR and SPSR in x20–x23 and the vector's
 * offset in x24, then leave with hvc #0; an SVC #1 from EL0 returns instead
 * (counting in x25), to show ERET back to EL0.
 */
const VECTORS = `
  .balign 0x800
vectors:
  .irp off, 0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0x400, 0x480, 0x500, 0x580
  .balign 0x80
  mov x24, #\\off
  b record
  .endr
record:
  mrs x20, esr_el1
  mrs x21, far_el1
  mrs x22, elr_el1
  mrs x23, spsr_el1
  movz x26, #0x5600, lsl #16
  movk x26, #1
  cmp x20, x26
  b.ne 1f
  add x25, x25, #1
  eret
1:
  hvc #0
`;

function rig(body: string, opts: { cpus?: number } = {}): A64Rig {
  return a64Rig(`
_start:
  adr x1, vectors
  msr vbar_el1, x1
  ${body}
  hvc #1
${VECTORS}
`, opts);
}

/** Runs to the final hvc and returns x20..x25. */
function taken(r: A64Rig) {
  const e = r.run();
  expect(e).toMatchObject({ reason: "hvc", imm: 0 });
  const x = r.cpu.state.x;
  return { esr: x[20]!, far: x[21]!, elr: x[22]!, spsr: x[23]!, vector: Number(x[24]!) };
}

describe("synchronous exceptions at EL1", () => {
  it("SVC: EC 0x15 with the immediate, ELR past it, SPSR the old PSTATE, vector current EL with SPx", () => {
    const r = rig(`
  msr daifclr, #0xf
  cmp x0, x0
svc_here:
  svc #0x1234
`);
    const t = taken(r);
    expect(t.esr).toBe(esr(0x15, 0x1234));
    expect(t.elr).toBe(r.sym("svc_here") + 4n);
    // Z and C from the CMP, DAIF clear, EL1h.
    expect(t.spsr).toBe(0x6000_0005n);
    expect(t.vector).toBe(0x200);
    // Taking the exception masked DAIF and kept EL1h.
    expect(r.cpu.state.pstate & 0x3cfn).toBe(0x3c5n);
  });

  it("with SP_EL0 selected the vector is current EL with SP0", () => {
    const r = rig(`
  msr spsel, #0
  svc #0
`);
    expect(taken(r).vector).toBe(0x000);
  });

  it("UNDEFINED (EC 0) for an unallocated encoding, ELR at it", () => {
    const r = rig(`
undef:
  .inst 0x00000000
`);
    const t = taken(r);
    expect(t.esr).toBe(esr(0, 0));
    expect(t.elr).toBe(r.sym("undef"));
  });

  it("BRK: EC 0x3C with the immediate, ELR at it", () => {
    const r = rig(`
brk_here:
  brk #0x42
`);
    const t = taken(r);
    expect(t.esr).toBe(esr(0x3c, 0x42));
    expect(t.elr).toBe(r.sym("brk_here"));
  });

  it("PC alignment: EC 0x22, FAR the misaligned target", () => {
    const r = rig(`
  adr x1, target
  add x1, x1, #2
  br x1
target:
  nop
`);
    const t = taken(r);
    expect(t.esr).toBe(esr(0x22, 0));
    expect(t.far).toBe(r.sym("target") + 2n);
    expect(t.elr).toBe(r.sym("target") + 2n);
  });

  it("SP alignment with SCTLR_EL1.SA: EC 0x26", () => {
    const r = rig(`
  mrs x1, sctlr_el1
  orr x1, x1, #8
  msr sctlr_el1, x1
  adr x2, vectors
  add x2, x2, #8
  mov sp, x2
here:
  ldr x3, [sp]
`);
    const t = taken(r);
    expect(t.esr).toBe(esr(0x26, 0));
    expect(t.elr).toBe(r.sym("here"));
  });

  it("an EL1 access to an EL2 register is UNDEFINED", () => {
    const r = rig(`
  mrs x1, hcr_el2
`);
    expect(taken(r).esr).toBe(esr(0, 0));
  });
});

describe("ERET and EL0", () => {
  const toEl0 = (user: string) => `
  adr x1, user
  msr elr_el1, x1
  msr spsr_el1, xzr
  mov x25, #0
  eret
user:
  ${user}
`;

  it("ERET to EL0, SVC from EL0 to the lower-EL vector, ERET back, and again", () => {
    const r = rig(toEl0(`
  mov x3, #1
  svc #1
  add x3, x3, #1
  svc #1
  add x3, x3, #1
  svc #2
`));
    const t = taken(r);
    expect(t.vector).toBe(0x400);
    expect(t.esr).toBe(esr(0x15, 2));
    expect(t.spsr).toBe(0n);
    expect(r.x(3)).toBe(3n);
    expect(r.x(25)).toBe(2n);
  });

  it("EL0 and SP_EL0: each EL has its own stack pointer", () => {
    const r = rig(`
  mov x1, #0x1000
  mov sp, x1
  ${toEl0(`
  mov x2, #0x2000
  mov sp, x2
  svc #2
`)}`);
    taken(r);
    expect(r.cpu.state.sp_el0).toBe(0x2000n);
    expect(r.cpu.state.sp_el1).toBe(0x1000n);
  });

  it("EL0 cannot touch EL1 registers (UNDEFINED) nor DAIF without SCTLR_EL1.UMA (EC 0x18)", () => {
    let r = rig(toEl0(`
  mrs x1, sctlr_el1
`));
    let t = taken(r);
    expect(t.esr).toBe(esr(0, 0));
    expect(t.vector).toBe(0x400);
    r = rig(toEl0(`
  msr daifset, #2
`));
    t = taken(r);
    expect(t.esr >> 26n).toBe(0x18n);
  });

  it("WFI at EL0 traps to EL1 when SCTLR_EL1.nTWI is 0 (EC 0x01); at reset it is 1, as on QEMU", () => {
    let r = rig(`
  mrs x1, sctlr_el1
  bic x1, x1, #(1 << 16)
  msr sctlr_el1, x1
  ${toEl0(`
  wfi
`)}`);
    expect(taken(r).esr).toBe(esr(0x01, 0x1e0_0000));
    r = rig(toEl0(`
  wfi
`));
    expect(r.run()).toEqual({ reason: "wfi" });
  });

  it("ERET to an EL above EL1 is an illegal return: PSTATE.IL, then EC 0x0E", () => {
    const r = rig(`
  adr x1, next
  msr elr_el1, x1
  mov x1, #0x3c9
  msr spsr_el1, x1
  eret
next:
  nop
`);
    const t = taken(r);
    expect(t.esr).toBe(esr(0x0e, 0));
    expect(t.elr).toBe(r.sym("next"));
    expect(t.spsr & (1n << 20n)).toBe(1n << 20n);
  });
});

describe("DAIF", () => {
  it("MSR DAIFSet/DAIFClr and MRS DAIF", () => {
    const r = rig(`
  msr daifclr, #0xf
  mrs x2, daif
  msr daifset, #0x2
  mrs x3, daif
  msr daifset, #0xc
  msr daifclr, #0x2
  mrs x4, daif
  mov x5, #0x80
  msr daif, x5
  mrs x6, daif
  svc #0
`);
    const t = taken(r);
    expect([r.x(2), r.x(3), r.x(4), r.x(6)]).toEqual([0n, 0x80n, 0x300n, 0x80n]);
    expect(t.spsr & 0x3c0n).toBe(0x80n);
  });
});

describe("aborts through the MMU", () => {
  /** Identity-maps the first 2 MiB of RAM (code, vectors, tables elsewhere) and one data page; the next page is unmapped. */
  function mmuRig(body: string) {
    const r = rig(`
  ${MMU_ON}
  ${body}
`);
    const pt = mmuOn(r, 1n | 4n | (1n << 12n));
    pt.map(RAM_BASE + 0x20_0000n, RAM_BASE + 0x20_0000n, 4096n, S1.attrIndx(0) | S1.sh(3) | S1.AF | S1.AP2);
    return r;
  }

  it("a load from an unmapped page: EC 0x25, DFSC translation fault at level 3, FAR the VA", () => {
    const r = mmuRig(`
  mov x1, #0x40200000
  add x1, x1, #1, lsl #12
  add x1, x1, #8
here:
  ldr x2, [x1]
`);
    const t = taken(r);
    expect(t.esr).toBe(esr(0x25, 0b000111));
    expect(t.far).toBe(0x4020_1008n);
    expect(t.elr).toBe(r.sym("here"));
  });

  it("a store to a read-only page: a permission fault with WnR", () => {
    const r = mmuRig(`
  mov x1, #0x40200000
  ldr x3, [x1]
  str x3, [x1]
`);
    expect(taken(r).esr).toBe(esr(0x25, (1 << 6) | 0b001111));
  });

  it("a fetch from an unmapped page: EC 0x21, IFSC translation fault, FAR and ELR the target", () => {
    const r = mmuRig(`
  mov x1, #0x40400000
  blr x1
`);
    const t = taken(r);
    expect(t.esr).toBe(esr(0x21, 0b000110));
    expect(t.far).toBe(0x4040_0000n);
    expect(t.elr).toBe(0x4040_0000n);
  });

  it("a data abort from EL0 is EC 0x24 at the lower-EL vector", () => {
    const r = mmuRig(`
  adr x1, user
  msr elr_el1, x1
  msr spsr_el1, xzr
  eret
user:
  mov x1, #0x40200000
  ldr x2, [x1]
`);
    const t = taken(r);
    // The data page is not EL0-readable (AP[1] = 0): a permission fault at level 3. The code
    // block is not EL0-readable either, but UXN = 0 makes it executable at EL0.
    expect(t.esr).toBe(esr(0x24, 0b001111));
    expect(t.far).toBe(0x4020_0000n);
    expect(t.vector).toBe(0x400);
  });
});

describe("the exception-loop exit", () => {
  it("an undefined instruction with VBAR_EL1 unset stops the CPU with a clear reason", () => {
    const r = a64Rig(`
_start:
  .inst 0x00000000
`);
    const e = r.run();
    expect(e).toEqual({ reason: "exception-loop", pc: 0x200n, vector: 0x200n, esr: esr(0x21, 0x10) });
    // ESR_EL1 and ELR_EL1 describe the exception that led there.
    expect(r.cpu.state.esr_el1).toBe(esr(0, 0));
    expect(r.cpu.state.elr_el1).toBe(RAM_BASE);
    expect(r.run()).toEqual({ reason: "stopped" });
  });

  it("a vector that itself faults at its first instruction", () => {
    const r = a64Rig(`
_start:
  adr x1, vectors
  msr vbar_el1, x1
  svc #0
  .balign 0x800
vectors:
  .skip 0x200
  .inst 0x00000000
`);
    expect(r.run()).toMatchObject({ reason: "exception-loop", esr: esr(0, 0), vector: r.sym("vectors") + 0x200n });
  });
});

describe("counters", () => {
  it("count exceptions by class and exits by reason", () => {
    const r = rig(`
  svc #0
`);
    taken(r);
    const c = r.cpu.executionCounters;
    expect(c.exceptionsByClass.get(0x15)).toBe(1n);
    expect(c.exits.hvc).toBe(1n);
    expect(r.cpu.counters().exceptions).toBe(1n);
  });
});
