// SPDX-License-Identifier: MIT
//
// System instructions from guest code: identification registers, TLBI,
// DC, AT and the thread registers, reaching the MMU's and caches' own
// implementations.

import { describe, expect, it } from "vitest";
import { a64Rig, runA64, mmuOn, MMU_ON, RAM_BASE, TABLE_POOL } from "../../../helpers/a64-exec.ts";
import { S1 } from "../../../../emulator/machine/platform/arm/page-tables.ts";

describe("identification and plain registers", () => {
  it("MPIDR_EL1 per CPU, CurrentEL, MIDR, CTR, DCZID, the cache ID registers, ID_AA64MMFR0 PARange", () => {
    const r = runA64(`
_start:
  mrs x1, mpidr_el1
  mrs x2, currentel
  mrs x3, midr_el1
  mrs x4, ctr_el0
  mrs x5, dczid_el0
  mrs x6, clidr_el1
  msr csselr_el1, xzr
  mrs x7, ccsidr_el1
  mrs x9, id_aa64mmfr0_el1
  mov x10, #0x1234
  msr tpidr_el0, x10
  mrs x11, tpidr_el0
  msr tpidr_el1, x10
  mrs x12, tpidr_el1
  hvc #0
`, { caches: true });
    expect(r.x(1)).toBe(0x8000_0000n);
    expect(r.x(2)).toBe(4n);
    expect(r.x(3)).toBe(0x000f_0510n);
    expect(r.x(4)).toBe(0x8444_c004n);
    expect(r.x(5)).toBe(4n);
    expect(r.x(6)).toBe(r.cpu.cacheIdRegisters().clidr);
    expect(r.x(7)).toBe(r.cpu.cacheIdRegisters().ccsidr);
    expect(r.x(9) & 0xfn).toBe(5n);
    expect([r.x(11), r.x(12)]).toEqual([0x1234n, 0x1234n]);
  });

  it("MSR PAN and MRS PAN; the MMU sees PSTATE.PAN", () => {
    const r = runA64(`
_start:
  msr pan, #1
  mrs x1, pan
  msr pan, #0
  mrs x2, pan
  hvc #0
`);
    expect([r.x(1), r.x(2)]).toEqual([1n << 22n, 0n]);
  });
});

describe("maintenance through the MMU", () => {
  const VA = 0x1000_0000n;
  const P1 = RAM_BASE + 0x20_0000n;
  const P2 = RAM_BASE + 0x20_1000n;

  /** The code identity-mapped, VA mapped (not global, ASID 0) to P1 holding 1, P2 holding 2; the MMU on. */
  function setup(body: string) {
    const r = a64Rig(`
_start:
  ${MMU_ON}
  ${body}
  hvc #0
`);
    const pt = mmuOn(r, 1n);
    // The tables themselves, so that the guest can change a descriptor.
    pt.map(TABLE_POOL.base, TABLE_POOL.base, 1n << 21n, S1.attrIndx(0) | S1.sh(3) | S1.AF);
    const pte = pt.map(VA, P1, 4096n, S1.attrIndx(0) | S1.sh(3) | S1.AF | S1.NG);
    r.m.memory.write64(P1, 1n);
    r.m.memory.write64(P2, 2n);
    const x = r.cpu.state.x;
    x[14] = pte;
    x[15] = P2 | S1.attrIndx(0) | S1.sh(3) | S1.AF | S1.NG | S1.VALID | S1.TABLE;
    x[16] = VA;
    r.cpu.setState({ x });
    return r;
  }

  it("a changed descriptor is not seen until TLBI VAE1IS; DSB; ISB (the TLB keeps what it may)", () => {
    const r = setup(`
  ldr x1, [x16]
  str x15, [x14]
  ldr x2, [x16]
  lsr x3, x16, #12
  tlbi vae1is, x3
  dsb ish
  isb
  ldr x4, [x16]
`);
    r.run();
    expect([r.x(1), r.x(2), r.x(4)]).toEqual([1n, 1n, 2n]);
    expect(r.cpu.counters().tlbi).toBe(1n);
  });

  it("TLBI VMALLE1 (local), ASIDE1, VAALE1 and VAAE1IS invalidate too", () => {
    for (const op of ["tlbi vmalle1", "tlbi aside1, xzr", "tlbi vaale1, x3", "tlbi vaae1is, x3"]) {
      const r = setup(`
  ldr x1, [x16]
  str x15, [x14]
  lsr x3, x16, #12
  ${op}
  ldr x4, [x16]
`);
      r.run();
      expect(r.x(4), op).toBe(2n);
    }
  });

  it("AT S1E1R writes PAR_EL1; AT on an unmapped VA reports the fault", () => {
    const r = setup(`
  at s1e1r, x16
  mrs x1, par_el1
  add x2, x16, #1, lsl #12
  at s1e1w, x2
  mrs x3, par_el1
`);
    r.run();
    expect(r.x(1) & 0xffff_ffff_f000n).toBe(P1);
    expect(r.x(1) & 1n).toBe(0n);
    expect(r.x(3) & 1n).toBe(1n);
    // FST: translation fault, level 3.
    expect((r.x(3) >> 1n) & 0x3fn).toBe(0b000111n);
  });

  it("DC ZVA zeroes a 64-byte block; DC CIVAC and IC IALLU run", () => {
    const r = setup(`
  mov x1, #-1
  add x2, x16, #64
  str x1, [x2, #-8]
  str x1, [x2]
  str x1, [x2, #56]
  str x1, [x2, #64]
  add x3, x2, #8
  dc zva, x3
  ldr x4, [x2, #-8]
  ldr x5, [x2]
  ldr x6, [x2, #56]
  ldr x7, [x2, #64]
  dc civac, x2
  dc cvac, x2
  ic iallu
  dsb sy
`);
    r.run();
    expect([r.x(4), r.x(5), r.x(6), r.x(7)]).toEqual([-1n & ((1n << 64n) - 1n), 0n, 0n, (1n << 64n) - 1n]);
    expect(r.cpu.counters().icInvalidations).toBe(1n);
  });

  it("DC by VA on an unmapped address is a data abort with CM and WnR", () => {
    const r = setup(`
  adr x1, vectors
  msr vbar_el1, x1
  add x2, x16, #1, lsl #12
  dc civac, x2
  hvc #1
  .balign 0x800
vectors:
  .skip 0x200
  mrs x20, esr_el1
`);
    expect(r.run()).toMatchObject({ reason: "hvc", imm: 0 });
    expect(r.x(20)).toBe((0x25n << 26n) | (1n << 25n) | (1n << 8n) | (1n << 6n) | 0b000111n);
  });
});
