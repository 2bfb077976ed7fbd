// SPDX-License-Identifier: MIT
//
// Random hypercalls at the HVM hypercall layer (fast-check): random input
// values and GPAs, random input blocks biased towards the shapes the flush
// calls take. Whatever comes in, the layer never throws, always answers a
// status it defines, and a flush it asks for names only VPs of the domain and
// canonical pages; it reads nothing outside the input block.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeHypercallInput,
  decodeHypercallResult,
  encodeHypercallResult,
  HV_STATUS_NAMES,
  HV_STATUS_SUCCESS,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX,
} from "../../../hypervisor/x86/hvm/hyperv-tlfs.ts";
import { hvmHypercall } from "../../../hypervisor/x86/hvm/hvm-op.ts";
import { viridianHypercall, type HvmFlushRequest } from "../../../hypervisor/x86/hvm/viridian.ts";
import { buildFlushCall, FLUSH_CALL_CODES, SPOILS } from "./calls.ts";
import { fakeGuest } from "./fake-guest.ts";

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const BLOCK_PAGE = 0x4000n;

/** A word of the block: small values and flag-like bits more often than random ones. */
const word = fc.oneof(fc.constantFrom(0n, 1n, 2n, 3n, 4n, 5n, 7n, 8n, 1n << 63n, (1n << 64n) - 1n), fc.bigInt({ min: 0n, max: 0xffffn }), u64);
const gva = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 47n) - 1n }), fc.bigInt({ min: 0xffff_8000_0000_0000n, max: (1n << 64n) - 1n }), u64);

/** A flush call's choices (calls.ts): well formed unless one spoil applies. */
const flushCall = fc
  .record({
    code: fc.constantFrom(...FLUSH_CALL_CODES),
    reps: fc.integer({ min: 1, max: 12 }),
    start: fc.nat(),
    offset: fc.integer({ min: 0, max: 200 }),
    flags: fc.constantFrom(0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n),
    mask: word,
    sparse: fc.boolean(),
    banksMask: fc.oneof(fc.bigInt({ min: 0n, max: 7n }), u64),
    bankWords: fc.array(word, { minLength: 64, maxLength: 64 }),
    gvas: fc.array(gva, { minLength: 12, maxLength: 12 }),
    spoil: fc.option(fc.constantFrom(...SPOILS), { freq: 2 }),
    junk: u64,
  })
  .map((c) => buildFlushCall(c, BLOCK_PAGE));

/** Anything at all: a random input value, GPA and block. */
const anyCall = fc.record({
  rcx: u64,
  gpa: fc.oneof(fc.integer({ min: 0, max: 4095 }).map((o) => BLOCK_PAGE + BigInt(o)), u64),
  words: fc.array(word, { maxLength: 40 }),
  expect: fc.constant(undefined),
});

function checkFlush(f: HvmFlushRequest, vcpuCount: number, listCall: boolean): void {
  expect(f.vps.every((vp, i) => Number.isInteger(vp) && vp >= 0 && vp < vcpuCount && (i === 0 || vp > f.vps[i - 1]!))).toBe(true);
  if (!listCall) {
    expect(f.addresses).toBe("all");
    return;
  }
  expect(f.nonGlobalOnly).toBe(false);
  expect(Array.isArray(f.addresses)).toBe(true);
  for (const r of f.addresses as { va: bigint; pages: number }[]) {
    expect(r.va & 0xfffn).toBe(0n);
    expect(r.pages >= 1 && r.pages <= 4096).toBe(true);
    const last = r.va + BigInt(r.pages - 1) * 4096n;
    const canonical = (a: bigint) => a < 1n << 47n || (a >= 0xffff_8000_0000_0000n && a < 1n << 64n);
    expect(canonical(r.va) && canonical(last) && (r.va < 1n << 47n) === (last < 1n << 47n)).toBe(true);
  }
}

describe("the Viridian hypercall layer under random input", () => {
  it("never throws, answers a defined status in RAX (the one a single spoil of a good call must get), asks for a flush exactly when it succeeds, and reads only the input block", () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: flushCall }, { weight: 1, arbitrary: anyCall }), fc.integer({ min: 1, max: 130 }), fc.integer({ min: 32, max: 52 }), ({ rcx, gpa, words, expect: expected }, vcpuCount, physAddrBits) => {
        const g = fakeGuest(vcpuCount, 0, physAddrBits);
        g.map(BLOCK_PAGE);
        const block = g.pages.get(BLOCK_PAGE / 4096n)!;
        const view = new DataView(block.buffer);
        words.forEach((w, i) => {
          const at = Number(gpa & 0xff8n) + 8 * i;
          if (at < 4096) view.setBigUint64(at, w, true);
        });

        const o = viridianHypercall({ rcx, rdx: gpa, r8: 0n }, g);

        expect(HV_STATUS_NAMES[o.result.status]).toBeDefined();
        if (expected !== undefined) expect(o.result.status, o.why).toBe(expected);
        expect(o.rax).toBe(encodeHypercallResult(o.result));
        expect(decodeHypercallResult(o.rax)).toEqual(o.result);
        const input = decodeHypercallInput(rcx);
        const listCall = input.callCode === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || input.callCode === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
        if (o.result.status === HV_STATUS_SUCCESS) {
          expect(o.flush).toBeDefined();
          expect(o.result.repsCompleted).toBe(input.repCount);
          checkFlush(o.flush!, vcpuCount, listCall);
        } else {
          expect(o.flush).toBeUndefined();
          expect(o.result.repsCompleted).toBe(0);
          expect(o.why).toMatch(/\S/);
        }
        // Every read lies within the page of the input GPA, from the GPA on.
        for (const [at, n] of g.reads) {
          expect(at >= gpa && at + BigInt(n) <= (gpa & ~0xfffn) + 4096n).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("hvm_hypercall on any registers never throws and names its result", () => {
    fc.assert(
      fc.property(u64, u64, u64, u64, u64, fc.integer({ min: 0, max: 3 }), (rax, rcx, rdx, rdi, rsi, cpl) => {
        const g = fakeGuest(3);
        g.map(0n);
        const o = hvmHypercall({ rax, rcx, rdx, rsi, rdi, r8: 0n, r10: 0n, cpl }, g);
        expect(o.resultName).toMatch(/^(HV_STATUS_[A-Z_]+|-E[A-Z]+|0)$/);
        expect(o.abi).toBe((rax & 0x8000_0000n) !== 0n ? "viridian" : "xen");
        if (o.flush) expect(o.flush.vps.every((vp) => vp >= 0 && vp < 3)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
