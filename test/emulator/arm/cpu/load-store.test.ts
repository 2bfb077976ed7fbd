// SPDX-License-Identifier: MIT
//
// A64 loads and stores: every addressing mode, the sizes and sign
// extensions, pairs, literals, and the MMIO exit for what is not RAM.

import { describe, expect, it } from "vitest";
import { a64Rig, runA64, RAM_BASE } from "../../../helpers/a64-exec.ts";

const DATA = RAM_BASE + 0x10_0000n;

/** A program with x0 = DATA, x1 = 0x8877665544332211 stored there and at DATA + 8 the same value reversed. */
function withData(body: string) {
  return runA64(`
_start:
  ldr x0, data
  ldr x1, value
  str x1, [x0]
  rev x2, x1
  str x2, [x0, #8]
  ${body}
  hvc #0
  .balign 8
data: .quad ${DATA}
value: .quad 0x8877665544332211
`);
}

describe("single-register loads and stores", () => {
  it("unsigned offset, unscaled, pre- and post-index, register offset", () => {
    const r = withData(`
  ldr w3, [x0, #4]
  ldur x4, [x0, #1]
  add x9, x0, #16
  ldrb w5, [x9, #-16]!
  mov x10, x0
  ldrh w6, [x10], #2
  mov x11, #3
  ldrb w7, [x0, x11]
  mov w12, #-1
  ldr x8, [x9, w12, sxtw #3]
`);
    expect(r.x(3)).toBe(0x8877_6655n);
    expect(r.x(4)).toBe(0x8888_7766_5544_3322n);
    expect(r.x(5)).toBe(0x11n);
    expect(r.x(9)).toBe(DATA);
    expect(r.x(6)).toBe(0x2211n);
    expect(r.x(10)).toBe(DATA + 2n);
    expect(r.x(7)).toBe(0x44n);
    // x9 = DATA, so [x9, #-8] reads DATA - 8: the value stored before DATA (zero).
    expect(r.x(8)).toBe(0n);
  });

  it("LDRSB, LDRSH, LDRSW sign-extend to X or W", () => {
    const r = withData(`
  ldrsb x3, [x0, #7]
  ldrsb w4, [x0, #7]
  ldrsh x5, [x0, #6]
  ldrsh w6, [x0, #6]
  ldrsw x7, [x0, #4]
  ldrsb x8, [x0]
`);
    expect(r.x(3)).toBe(0xffff_ffff_ffff_ff88n);
    expect(r.x(4)).toBe(0xffff_ff88n);
    expect(r.x(5)).toBe(0xffff_ffff_ffff_8877n);
    expect(r.x(6)).toBe(0xffff_8877n);
    expect(r.x(7)).toBe(0xffff_ffff_8877_6655n);
    expect(r.x(8)).toBe(0x11n);
  });

  it("STRB, STRH, STR W store only their bytes; unaligned and line-crossing accesses work", () => {
    const r = withData(`
  mov x3, #0xaa
  strb w3, [x0, #1]
  mov x3, #0xbbcc
  strh w3, [x0, #2]
  mov x3, #-1
  str w3, [x0, #12]
  ldr x4, [x0]
  ldr x5, [x0, #8]
  add x6, x0, #60
  str x1, [x6]
  ldr x7, [x6]
  ldr w8, [x0, #61]
`);
    expect(r.x(4)).toBe(0x8877_6655_bbcc_aa11n);
    expect(r.x(5)).toBe(0xffff_ffff_5566_7788n);
    expect(r.x(7)).toBe(0x8877_6655_4433_2211n);
    expect(r.x(8)).toBe(0x5544_3322n);
  });

  it("LDR (literal): W, X and LDRSW", () => {
    const r = runA64(`
_start:
  ldr w1, lit
  ldr x2, lit
  ldrsw x3, lit
  hvc #0
  .balign 8
lit: .quad 0x12345678f0000000
`);
    expect(r.x(1)).toBe(0xf000_0000n);
    expect(r.x(2)).toBe(0x1234_5678_f000_0000n);
    expect(r.x(3)).toBe(0xffff_ffff_f000_0000n);
  });

  it("LDP, STP, LDPSW with offset, pre- and post-index", () => {
    const r = withData(`
  ldp x3, x4, [x0]
  ldp w5, w6, [x0, #4]
  ldpsw x7, x8, [x0]
  add x9, x0, #64
  stp x3, x4, [x9, #-16]!
  mov x10, x0
  ldp x11, x12, [x10], #16
  mov x13, #1
  mov x14, #2
  stp w13, w14, [x0, #32]
  ldr x15, [x0, #32]
`);
    expect(r.x(3)).toBe(0x8877_6655_4433_2211n);
    expect(r.x(4)).toBe(0x1122_3344_5566_7788n);
    expect(r.x(5)).toBe(0x8877_6655n);
    expect(r.x(6)).toBe(0x5566_7788n);
    expect(r.x(7)).toBe(0x4433_2211n);
    expect(r.x(8)).toBe(0xffff_ffff_8877_6655n);
    expect(r.x(9)).toBe(DATA + 48n);
    expect(r.x(10)).toBe(DATA + 16n);
    expect(r.x(11)).toBe(r.x(3));
    expect(r.x(15)).toBe(0x2_0000_0001n);
    expect(r.m.memory.read64(DATA + 56n)).toBe(0x1122_3344_5566_7788n);
  });

  it("SP as the base register, and XZR as the data register", () => {
    const r = withData(`
  mov sp, x0
  str xzr, [sp, #-16]!
  stp x1, x1, [sp, #-16]!
  ldr x3, [sp, #16]
  ldr x4, [sp], #32
  mov x5, sp
`);
    expect(r.x(3)).toBe(0n);
    expect(r.x(4)).toBe(0x8877_6655_4433_2211n);
    expect(r.x(5)).toBe(DATA);
  });
});

describe("the MMIO exit", () => {
  const UART = 0x0900_0000n;

  it("a store to a device leaves with its address, size and value, PC past it", () => {
    const rig = a64Rig(`
_start:
  mov x0, #0x09000000
  mov w1, #'A'
  strb w1, [x0]
next:
  hvc #0
`);
    expect(rig.run()).toEqual({ reason: "mmio", address: UART, size: 1, write: true, value: 0x41n, register: -1, pc: RAM_BASE + 8n });
    expect(rig.cpu.state.pc).toBe(rig.sym("next"));
    expect(rig.run().reason).toBe("hvc");
  });

  it("completeMmioRead writes the loaded value, extended as the load says", () => {
    const rig = a64Rig(`
_start:
  mov x0, #0x09000000
  ldrsb x1, [x0, #0x18]
  ldrsh w2, [x0, #0x18]
  ldr w3, [x0, #0x18]
  ldr x4, [x0], #8
  hvc #0
`);
    let e = rig.run();
    expect(e).toMatchObject({ reason: "mmio", address: UART + 0x18n, size: 1, write: false, register: 1 });
    rig.cpu.completeMmioRead(0x90n);
    e = rig.run();
    expect(e).toMatchObject({ reason: "mmio", size: 2, register: 2 });
    rig.cpu.completeMmioRead(0x8001n);
    expect(rig.run()).toMatchObject({ reason: "mmio", size: 4, register: 3 });
    rig.cpu.completeMmioRead(0x1_ffff_ffffn);
    expect(rig.run()).toMatchObject({ reason: "mmio", size: 8, register: 4, address: UART });
    rig.cpu.completeMmioRead(0xdead_beef_0000_0001n);
    expect(rig.run().reason).toBe("hvc");
    const x = rig.cpu.state.x;
    expect(x[1]).toBe(0xffff_ffff_ffff_ff90n);
    expect(x[2]).toBe(0xffff_8001n);
    expect(x[3]).toBe(0xffff_ffffn);
    expect(x[4]).toBe(0xdead_beef_0000_0001n);
    expect(x[0]).toBe(UART + 8n);
    expect(() => rig.cpu.completeMmioRead(0n)).toThrow(/not an MMIO read/);
  });

  it("a pair, an exclusive or an atomic outside RAM is a bus error that stops the CPU", () => {
    for (const insn of ["ldp x1, x2, [x0]", "ldxr x1, [x0]", "ldadd x1, x2, [x0]", "stp x1, x2, [x0]"]) {
      const rig = a64Rig(`
_start:
  mov x0, #0x09000000
  ${insn}
  hvc #0
`);
      expect(rig.run(), insn).toEqual({ reason: "bus-error", pc: RAM_BASE + 4n, address: UART });
      expect(rig.run()).toEqual({ reason: "stopped" });
      expect(rig.cpu.progress.stopped).toBe(true);
    }
  });
});
