// SPDX-License-Identifier: MIT
//
// FrameSet, a domain's page list: membership, the count, ascending order,
// and copies that share nothing.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { FrameSet } from "../../../hypervisor/common/frame-set.ts";
import { deepCopy } from "../../../hypervisor/common/copy.ts";

describe("FrameSet", () => {
  it("holds what a Set of the same frames holds, in ascending order", () => {
    const op = fc.record({ add: fc.boolean(), mfn: fc.integer({ min: 0, max: 5000 }) });
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const s = new FrameSet();
      const ref = new Set<number>();
      for (const { add, mfn } of ops) {
        if (add) {
          s.add(mfn);
          ref.add(mfn);
        } else expect(s.delete(mfn)).toBe(ref.delete(mfn));
      }
      expect(s.size).toBe(ref.size);
      expect([...s]).toEqual([...ref].sort((a, b) => a - b));
      for (const { mfn } of ops) expect(s.has(mfn)).toBe(ref.has(mfn));
    }));
  });

  it("copies apart: a change to the copy leaves the original as it was", () => {
    const s = new FrameSet().add(3).add(9);
    const c = deepCopy({ s }).s;
    c.add(4);
    c.delete(9);
    expect([...s]).toEqual([3, 9]);
    expect([...c]).toEqual([3, 4]);
    s.clear();
    expect(s.size).toBe(0);
    expect(c.size).toBe(2);
  });

  it("refuses what is not a frame number", () => {
    expect(() => new FrameSet().add(-1)).toThrow(/frame numbers, not -1/);
    expect(() => new FrameSet().add(1.5)).toThrow(/frame numbers/);
  });
});
