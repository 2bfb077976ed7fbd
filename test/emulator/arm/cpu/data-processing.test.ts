// SPDX-License-Identifier: MIT
//
// A64 data processing: results and NZCV exactly as the Arm ARM's
// AddWithCarry, ShiftReg, ExtendReg and DecodeBitMasks define them.

import { describe, expect, it } from "vitest";
import { runA64 } from "../../../helpers/a64-exec.ts";

const N = 8, Z = 4, C = 2, V = 1;
const M64 = (1n << 64n) - 1n;

/** Runs `body` with x0 and x1 loaded, then reads x2 and the flags. */
function op(body: string, a: bigint, b: bigint): { r: bigint; f: number } {
  const rig = runA64(`
_start:
  ldr x0, a
  ldr x1, b
  ${body}
  hvc #0
  .balign 8
a: .quad ${a}
b: .quad ${b}
`);
  return { r: rig.x(2), f: rig.nzcv() };
}

describe("ADDS and SUBS set NZCV as AddWithCarry does", () => {
  it.each([
    // 64-bit
    ["adds x2, x0, x1", 1n, 2n, 3n, 0],
    ["adds x2, x0, x1", M64, 1n, 0n, Z | C],
    ["adds x2, x0, x1", 0x7fff_ffff_ffff_ffffn, 1n, 0x8000_0000_0000_0000n, N | V],
    ["adds x2, x0, x1", 0x8000_0000_0000_0000n, 0x8000_0000_0000_0000n, 0n, Z | C | V],
    ["adds x2, x0, x1", M64, M64, M64 - 1n, N | C],
    ["subs x2, x0, x1", 5n, 5n, 0n, Z | C],
    ["subs x2, x0, x1", 4n, 5n, M64, N],
    ["subs x2, x0, x1", 0x8000_0000_0000_0000n, 1n, 0x7fff_ffff_ffff_ffffn, C | V],
    ["subs x2, x0, x1", 0n, 0n, 0n, Z | C],
    ["subs x2, x0, x1", 0x7fff_ffff_ffff_ffffn, M64, 0x8000_0000_0000_0000n, N | V],
    // 32-bit: the carry and overflow out of bit 31, the result zero-extended
    ["adds w2, w0, w1", 0xffff_ffffn, 1n, 0n, Z | C],
    ["adds w2, w0, w1", 0x7fff_ffffn, 1n, 0x8000_0000n, N | V],
    ["adds w2, w0, w1", 0x1_0000_0001n, 0x1_0000_0001n, 2n, 0],
    ["subs w2, w0, w1", 0x8000_0000n, 1n, 0x7fff_ffffn, C | V],
    ["subs w2, w0, w1", 0n, 1n, 0xffff_ffffn, N],
    ["subs w2, w0, w1", 0xffff_ffff_0000_0005n, 5n, 0n, Z | C],
  ] as const)("%s with %s, %s", (insn, a, b, r, f) => {
    expect(op(insn, a, b)).toEqual({ r, f });
  });

  it("CMP, CMN and NEGS are SUBS/ADDS to the zero register", () => {
    expect(op("cmp x0, x1\n cset x2, lo", 1n, 2n)).toEqual({ r: 1n, f: N });
    expect(op("cmn x0, x1\n cset x2, eq", M64, 1n)).toEqual({ r: 1n, f: Z | C });
    expect(op("negs x2, x0", 0n, 0n)).toEqual({ r: 0n, f: Z | C });
    expect(op("negs x2, x0", 0x8000_0000_0000_0000n, 0n)).toEqual({ r: 0x8000_0000_0000_0000n, f: N | V });
    expect(op("cmp w0, #1", 0n, 0n).f).toBe(N);
    expect(op("cmp x0, #4095, lsl #12\n cset x2, hs", 0xfff000n, 0n)).toEqual({ r: 1n, f: Z | C });
  });

  it("ADC and SBC use the carry in", () => {
    expect(op("adds x3, x0, x0\n adc x2, x1, xzr", M64, 7n).r).toBe(8n);
    expect(op("cmp x0, x0\n sbc x2, x1, xzr", 0n, 7n).r).toBe(7n);
    expect(op("cmp x0, x1\n sbcs x2, x1, x1", 0n, 7n)).toEqual({ r: M64, f: N });
  });

  it("add and sub with the shifted and extended register forms", () => {
    expect(op("add x2, x0, x1, lsl #63", 1n, 1n).r).toBe(0x8000_0000_0000_0001n);
    expect(op("add x2, x0, x1, lsr #0", 1n, 2n).r).toBe(3n);
    expect(op("sub x2, x0, x1, asr #63", 0n, 0x8000_0000_0000_0000n).r).toBe(1n);
    expect(op("add x2, x0, w1, sxtw #2", 100n, 0xffff_fffen).r).toBe(92n);
    expect(op("add x2, x0, w1, uxtb", 0n, 0x1ffn).r).toBe(0xffn);
    expect(op("sub x2, x0, w1, sxth #1", 0n, 0x8000n).r).toBe(0x10000n);
    expect(op("adds w2, w0, w1, uxth #4", 1n, 0xffffn).r).toBe(0xffff1n);
  });

  it("ADD (immediate and extended) reads and writes SP as register 31", () => {
    const rig = runA64(`
_start:
  ldr x0, top
  mov sp, x0
  add sp, sp, #16
  sub x2, sp, #0x10, lsl #12
  add x3, sp, w0, uxtw
  hvc #0
  .balign 8
top: .quad 0x40100000
`);
    expect(rig.cpu.state.sp_el1).toBe(0x4010_0010n);
    expect(rig.x(2)).toBe(0x400f_0010n);
    expect(rig.x(3)).toBe(0x8020_0010n);
  });
});

describe("logical operations", () => {
  it("bitmask immediates decode as DecodeBitMasks says", () => {
    expect(op("orr x2, xzr, #0x5555555555555555", 0n, 0n).r).toBe(0x5555_5555_5555_5555n);
    expect(op("and x2, x0, #0xff00ff00ff00ff00", M64, 0n).r).toBe(0xff00_ff00_ff00_ff00n);
    expect(op("eor x2, x0, #0x8000000000000000", 0n, 0n).r).toBe(0x8000_0000_0000_0000n);
    expect(op("orr w2, wzr, #0xfffffffe", 0n, 0n).r).toBe(0xffff_fffen);
    expect(op("and x2, x0, #0x7ffffffffffffffe", M64, 0n).r).toBe(0x7fff_ffff_ffff_fffen);
    expect(op("orr x2, xzr, #0x3333333333333333", 0n, 0n).r).toBe(0x3333_3333_3333_3333n);
    expect(op("mov w2, #0x80000001", 0n, 0n).r).toBe(0x8000_0001n);
  });

  it("ANDS and TST set N and Z and clear C and V", () => {
    expect(op("subs x3, x0, x0\n ands x2, x0, x1", 0xf0n, 0x0fn)).toEqual({ r: 0n, f: Z });
    expect(op("cmn x0, x0\n ands x2, x0, x1", M64, 0x8000_0000_0000_0000n)).toEqual({ r: 0x8000_0000_0000_0000n, f: N });
    expect(op("tst w0, #0x80000000\n cset x2, ne", 0x8000_0000n, 0n)).toEqual({ r: 1n, f: N });
    expect(op("bics x2, x0, x1", 0xffn, 0xffn)).toEqual({ r: 0n, f: Z });
  });

  it("the shifted-register forms: BIC, ORN, EON, and ROR", () => {
    expect(op("bic x2, x0, x1, lsl #4", 0xffn, 1n).r).toBe(0xefn);
    expect(op("orn w2, wzr, w1", 0n, 0n).r).toBe(0xffff_ffffn);
    expect(op("eon x2, x0, x1", 0n, 0n).r).toBe(M64);
    expect(op("orr x2, xzr, x1, ror #4", 0n, 0x1fn).r).toBe(0xf000_0000_0000_0001n);
    expect(op("orr w2, wzr, w1, ror #31", 0n, 0x8000_0001n).r).toBe(3n);
  });
});

describe("shifts, bitfields and bit operations", () => {
  it("shifts by 0 and 63 (immediate and register)", () => {
    expect(op("lsl x2, x0, #0", 0x1234n, 0n).r).toBe(0x1234n);
    expect(op("lsl x2, x0, #63", 3n, 0n).r).toBe(0x8000_0000_0000_0000n);
    expect(op("lsr x2, x0, #63", 0x8000_0000_0000_0000n, 0n).r).toBe(1n);
    expect(op("asr x2, x0, #63", 0x8000_0000_0000_0000n, 0n).r).toBe(M64);
    expect(op("asr x2, x0, #0", 0x8000_0000_0000_0000n, 0n).r).toBe(0x8000_0000_0000_0000n);
    expect(op("ror x2, x0, #63", 1n, 0n).r).toBe(2n);
    expect(op("ror x2, x0, #0", 5n, 0n).r).toBe(5n);
    expect(op("lsl x2, x0, x1", 1n, 64n + 63n).r).toBe(0x8000_0000_0000_0000n);
    expect(op("lsr w2, w0, w1", 0x8000_0000n, 32n + 31n).r).toBe(1n);
    expect(op("asr w2, w0, w1", 0x8000_0000n, 31n).r).toBe(0xffff_ffffn);
    expect(op("ror w2, w0, w1", 1n, 1n).r).toBe(0x8000_0000n);
    expect(op("lsl w2, w0, #31", 3n, 0n).r).toBe(0x8000_0000n);
  });

  it("UBFX, SBFX, BFI, BFXIL, SXTW, UXTB", () => {
    expect(op("ubfx x2, x0, #8, #8", 0xabcdn, 0n).r).toBe(0xabn);
    expect(op("sbfx x2, x0, #8, #8", 0xabcdn, 0n).r).toBe(0xffff_ffff_ffff_ffabn);
    expect(op("sbfx w2, w0, #0, #1", 1n, 0n).r).toBe(0xffff_ffffn);
    expect(op("mov x2, x1\n bfi x2, x0, #60, #4", 0xfn, 0x0123n).r).toBe(0xf000_0000_0000_0123n);
    expect(op("mov x2, x1\n bfxil x2, x0, #4, #8", 0xabcn, 0xffff_0000n).r).toBe(0xffff_00abn);
    expect(op("sxtw x2, w0", 0x8000_0000n, 0n).r).toBe(0xffff_ffff_8000_0000n);
    expect(op("uxtb w2, w0", 0x1ffn, 0n).r).toBe(0xffn);
    expect(op("sxth w2, w0", 0x8000n, 0n).r).toBe(0xffff_8000n);
    expect(op("ubfiz x2, x0, #63, #1", 1n, 0n).r).toBe(0x8000_0000_0000_0000n);
    expect(op("extr x2, x0, x1, #60", 0x1n, 0xf000_0000_0000_0000n).r).toBe(0x1fn);
  });

  it("CLZ, CLS, RBIT, REV, REV16, REV32", () => {
    expect(op("clz x2, x0", 0n, 0n).r).toBe(64n);
    expect(op("clz x2, x0", 1n, 0n).r).toBe(63n);
    expect(op("clz w2, w0", 0x8000_0000n, 0n).r).toBe(0n);
    expect(op("cls x2, x0", 0n, 0n).r).toBe(63n);
    expect(op("cls x2, x0", M64, 0n).r).toBe(63n);
    expect(op("cls w2, w0", 1n, 0n).r).toBe(30n);
    expect(op("rbit x2, x0", 1n, 0n).r).toBe(0x8000_0000_0000_0000n);
    expect(op("rbit w2, w0", 3n, 0n).r).toBe(0xc000_0000n);
    expect(op("rev x2, x0", 0x0102_0304_0506_0708n, 0n).r).toBe(0x0807_0605_0403_0201n);
    expect(op("rev w2, w0", 0x0102_0304n, 0n).r).toBe(0x0403_0201n);
    expect(op("rev16 x2, x0", 0x0102_0304_0506_0708n, 0n).r).toBe(0x0201_0403_0605_0807n);
    expect(op("rev32 x2, x0", 0x0102_0304_0506_0708n, 0n).r).toBe(0x0403_0201_0807_0605n);
  });
});

describe("multiply and divide", () => {
  it("MUL, MADD, MSUB, UMULH, SMULH, SMADDL, UMADDL", () => {
    expect(op("mul x2, x0, x1", M64, M64).r).toBe(1n);
    expect(op("mul w2, w0, w1", 0x1_0000n, 0x1_0000n).r).toBe(0n);
    expect(op("mov x3, #10\n madd x2, x0, x1, x3", 3n, 4n).r).toBe(22n);
    expect(op("mov x3, #10\n msub x2, x0, x1, x3", 3n, 4n).r).toBe(M64 - 1n);
    expect(op("umulh x2, x0, x1", M64, M64).r).toBe(M64 - 1n);
    expect(op("smulh x2, x0, x1", M64, 2n).r).toBe(M64);
    expect(op("smull x2, w0, w1", 0xffff_ffffn, 2n).r).toBe(M64 - 1n);
    expect(op("umull x2, w0, w1", 0xffff_ffffn, 2n).r).toBe(0x1_ffff_fffen);
  });

  it("UDIV and SDIV: divide by zero gives 0, MIN / -1 gives MIN", () => {
    expect(op("udiv x2, x0, x1", 7n, 0n).r).toBe(0n);
    expect(op("sdiv x2, x0, x1", 7n, 0n).r).toBe(0n);
    expect(op("sdiv x2, x0, x1", 0x8000_0000_0000_0000n, M64).r).toBe(0x8000_0000_0000_0000n);
    expect(op("sdiv w2, w0, w1", 0x8000_0000n, 0xffff_ffffn).r).toBe(0x8000_0000n);
    expect(op("sdiv x2, x0, x1", M64 - 6n, 2n).r).toBe(M64 - 2n);
    expect(op("udiv w2, w0, w1", 0xffff_ffffn, 2n).r).toBe(0x7fff_ffffn);
  });
});

describe("moves and conditional select", () => {
  it("MOVZ, MOVN, MOVK at every shift", () => {
    expect(op("movz x2, #0xffff, lsl #48", 0n, 0n).r).toBe(0xffff_0000_0000_0000n);
    expect(op("movn x2, #0", 0n, 0n).r).toBe(M64);
    expect(op("movn w2, #0", 0n, 0n).r).toBe(0xffff_ffffn);
    expect(op("movn x2, #0x1234, lsl #16", 0n, 0n).r).toBe(~0x1234_0000n & M64);
    expect(op("mov x2, x0\n movk x2, #0xbeef, lsl #32", M64, 0n).r).toBe(0xffff_beef_ffff_ffffn);
    expect(op("mov x2, x0\n movk w2, #0xbeef", M64, 0n).r).toBe(0xffff_beefn);
  });

  it("CSEL, CSINC, CSINV, CSNEG, CSET, CINC on each condition", () => {
    expect(op("cmp x0, x1\n csel x2, x0, x1, gt", 5n, 3n).r).toBe(5n);
    expect(op("cmp x0, x1\n csinc x2, x0, x1, lt", 5n, 3n).r).toBe(4n);
    expect(op("cmp x0, x1\n csinv x2, x0, x1, mi", 5n, 3n).r).toBe(M64 - 3n);
    expect(op("cmp x0, x1\n csneg x2, x0, x1, vs", 5n, 3n).r).toBe(M64 - 2n);
    expect(op("cmp x0, x1\n cset w2, ls", 3n, 3n).r).toBe(1n);
    expect(op("cmp x0, x1\n cinc x2, x0, hi", 3n, 3n).r).toBe(3n);
    expect(op("cmp x0, x1\n cset x2, le", M64, 0n).r).toBe(1n);
    expect(op("cmp x0, x1\n cset x2, ge", M64, 0n).r).toBe(0n);
    expect(op("cmp x0, x1\n cset x2, pl", 0n, 1n).r).toBe(0n);
    expect(op("cmp x0, x1\n cset x2, vc", 0n, 1n).r).toBe(1n);
    expect(op("cmp x0, x1\n csel x2, x0, x1, al", 7n, 1n).r).toBe(7n);
    expect(op("cmp x0, x0\n ccmp x0, x1, #0xf, eq\n cset x2, eq", 1n, 1n)).toEqual({ r: 1n, f: Z | C });
    expect(op("cmp x0, x1\n ccmp x0, x1, #0x9, eq\n cset x2, eq", 1n, 2n)).toEqual({ r: 0n, f: N | V });
  });

  it("ADR and ADRP", () => {
    const rig = runA64(`
_start:
  adr x2, here
here:
  adrp x3, _start + 0x12345
  adr x4, _start - 4
  hvc #0
`);
    expect(rig.x(2)).toBe(rig.sym("here"));
    expect(rig.x(3)).toBe(0x4001_2000n);
    expect(rig.x(4)).toBe(0x3fff_fffcn);
  });
});
