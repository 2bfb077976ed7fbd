// SPDX-License-Identifier: MIT
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CpuSet } from "../../../emulator/machine/core/cpu-set.ts";

describe("CpuSet", () => {
  it("behaves as a Set<number> of CPU numbers under any sequence of add, delete and clear", () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant("add" as const), cpu: fc.nat(70) }),
      fc.record({ op: fc.constant("delete" as const), cpu: fc.nat(70) }),
      fc.record({ op: fc.constant("clear" as const), cpu: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.nat(8), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const mine = new CpuSet(capacity);
        const model = new Set<number>();
        for (const { op, cpu } of ops) {
          if (op === "add") (mine.add(cpu), model.add(cpu));
          else if (op === "delete") (mine.delete(cpu), model.delete(cpu));
          else (mine.clear(), model.clear());
          expect(mine.size).toBe(model.size);
          for (let c = 0; c <= 71; c++) expect(mine.has(c)).toBe(model.has(c));
        }
      }),
    );
  });
});
