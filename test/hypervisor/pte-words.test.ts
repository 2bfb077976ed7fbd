// SPDX-License-Identifier: MIT
//
// The walkers read an entry as its two 32-bit halves and a VA as its page
// number (pte.ts), with no bigint per level: the same facts as the bigint
// helpers give, for any entry and any address.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { pageNumberOffset, pteFlags, pteMfn, tableOffset, vaPageNumber, wordsFlags, wordsMfn } from "../../hypervisor/x86/pte.ts";

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe("page-table entries from their halves", () => {
  it("wordsFlags and wordsMfn agree with pteFlags and pteMfn", () => {
    fc.assert(fc.property(u64, (e) => {
      const lo = Number(e & 0xffff_ffffn);
      const hi = Number(e >> 32n);
      expect(wordsFlags(lo, hi)).toBe(pteFlags(e));
      expect(wordsMfn(lo, hi)).toBe(pteMfn(e));
    }), { numRuns: 2000 });
  });

  it("pageNumberOffset agrees with tableOffset at every level", () => {
    fc.assert(fc.property(u64, fc.integer({ min: 1, max: 4 }), (va, level) => {
      expect(pageNumberOffset(vaPageNumber(va), level)).toBe(tableOffset(va, level));
    }), { numRuns: 2000 });
  });
});
