// SPDX-License-Identifier: MIT
//
// The hypercall input value and result value (TLFS "Hypercall Inputs",
// "Hypercall Outputs"): each field at its bits, and decode/encode round trips.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeHypercallInput,
  decodeHypercallResult,
  encodeHypercallInput,
  encodeHypercallResult,
  HV_HYPERCALL_INPUT_RSVD_MASK,
} from "../../../hypervisor/x86/hvm/hyperv-tlfs.ts";

describe("the hypercall input value", () => {
  it("puts the call code in bits 15:0, fast in 16, the variable header size in 26:17, the rep count in 43:32 and the rep start index in 59:48", () => {
    const rcx = 0x0abc_0123_0000_0000n | (0x3ffn << 17n) | (1n << 16n) | 0x0014n;
    expect(decodeHypercallInput(rcx)).toEqual({ callCode: 0x14, fast: true, varHeadSize: 0x3ff, repCount: 0x123, repStart: 0xabc, reserved: 0n });
  });

  it("keeps the RsvdZ bits 31:27, 47:44 and 63:60 apart from every field", () => {
    expect(HV_HYPERCALL_INPUT_RSVD_MASK).toBe(0xf000_f000_f800_0000n);
    const d = decodeHypercallInput(0xffff_ffff_ffff_ffffn);
    expect(d.reserved).toBe(HV_HYPERCALL_INPUT_RSVD_MASK);
    expect(d).toMatchObject({ callCode: 0xffff, fast: true, varHeadSize: 0x3ff, repCount: 0xfff, repStart: 0xfff });
    expect(decodeHypercallInput(1n << 31n).reserved).toBe(1n << 31n);
    expect(decodeHypercallInput(1n << 44n).reserved).toBe(1n << 44n);
    expect(decodeHypercallInput(1n << 63n).reserved).toBe(1n << 63n);
  });

  it("the way Linux's hv_do_rep_hypercall builds a list flush decodes to its parts", () => {
    // HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX | (nr_bank << HV_HYPERCALL_VARHEAD_OFFSET) | (rep_count << 32)
    const d = decodeHypercallInput(0x0014n | (2n << 17n) | (7n << 32n));
    expect(d).toEqual({ callCode: 0x14, fast: false, varHeadSize: 2, repCount: 7, repStart: 0, reserved: 0n });
  });

  it("decode then encode gives back every 64-bit value", () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (rcx) => encodeHypercallInput(decodeHypercallInput(rcx)) === rcx), { numRuns: 2000 });
  });

  it("a negative bigint decodes as its 64-bit two's complement", () => {
    expect(decodeHypercallInput(-1n)).toEqual(decodeHypercallInput(0xffff_ffff_ffff_ffffn));
  });

  it("encode refuses a field that does not fit (a bug in the caller, not guest input)", () => {
    const ok = { callCode: 2, fast: false, varHeadSize: 0, repCount: 0, repStart: 0, reserved: 0n };
    expect(() => encodeHypercallInput({ ...ok, repCount: 0x1000 })).toThrow(/rep count 4096/);
    expect(() => encodeHypercallInput({ ...ok, callCode: 0x10000 })).toThrow(/call code/);
    expect(() => encodeHypercallInput({ ...ok, varHeadSize: 0x400 })).toThrow(/variable header/);
    expect(() => encodeHypercallInput({ ...ok, reserved: 1n })).toThrow(/reserved/);
  });
});

describe("the hypercall result value", () => {
  it("puts the status in bits 15:0 and the reps completed in 43:32, the reserved bits zero", () => {
    expect(encodeHypercallResult({ status: 5, repsCompleted: 0 })).toBe(5n);
    expect(encodeHypercallResult({ status: 0, repsCompleted: 0xfff })).toBe(0xfffn << 32n);
  });

  it("encode then decode gives back every status and rep count", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xfff }), (status, repsCompleted) => {
        const r = decodeHypercallResult(encodeHypercallResult({ status, repsCompleted }));
        return r.status === status && r.repsCompleted === repsCompleted;
      }),
      { numRuns: 2000 },
    );
  });

  it("a caller ignores the reserved bits when it decodes", () => {
    expect(decodeHypercallResult(0xffff_f000_ffff_0003n)).toEqual({ status: 3, repsCompleted: 0 });
  });
});
