// SPDX-License-Identifier: MIT
//
// The running-domain cases of the HVM hypercall surface (hvm-run.ts) need
// `run --hv --hvm`; what they build does not: the generated guest must
// assemble, with its data where the checks expect it, for every seed.

import { describe, expect, it } from "vitest";
import { readElf } from "../../asm/index.ts";
import { Random } from "./harness.ts";
import { flushChoices } from "./hvm-hypercalls.ts";
import { hvmCaseImage } from "./hvm-run.ts";

describe("the generated HVM hypercall guest", () => {
  it("assembles for 30 cases, every table between 1 and 40 calls, as an x86-64 ELF image", () => {
    for (let i = 0; i < 30; i++) {
      const c = hvmCaseImage(Random.forCase(5, "hvm-hypercalls", i), flushChoices);
      expect(c.image, typeof c.image === "string" ? c.image : "").toBeInstanceOf(Uint8Array);
      expect(c.table.length).toBeGreaterThanOrEqual(1);
      expect(c.table.length).toBeLessThanOrEqual(40);
      const elf = readElf(c.image as Uint8Array);
      expect(elf.arch).toBe("x86_64");
      // The data segment starts at 0x200000, where the expectations put the results, the hypercall page and the blocks.
      expect(elf.segments.some((s) => s.paddr === 0x20_0000n)).toBe(true);
    }
  });
});
