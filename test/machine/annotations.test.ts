// SPDX-License-Identifier: MIT
//
// The host side of the guest annotations (emulator/machine/core/annotations.ts):
// which ports and SMCCC function IDs are annotations, what the query
// answers, and the warnings for frames a hypervisor cannot translate.

import { describe, expect, it } from "vitest";
import { Machine } from "../../emulator/machine/index.ts";
import {
  GuestAnnotations, SD_ANNOT, annotationCall, annotationOfSmccc, annotationPortIo, isAnnotationPort,
} from "../../emulator/machine/core/annotations.ts";

function annotations() {
  const m = new Machine({ cpus: 2, maxPhysAddr: 46, ram: [{ base: 0n, size: 16n << 20n }] });
  return new GuestAnnotations(m.hw, (pfn) => m.memory.peek64(pfn << 12n) !== undefined, () => 7, "x86_64");
}

describe("guest annotations, host side", () => {
  it("ports 0x5D0-0x5D4 are annotations, their neighbours are not", () => {
    expect([0x5cf, 0x5d0, 0x5d4, 0x5d5].map(isAnnotationPort)).toEqual([false, true, true, false]);
  });

  it("SMCCC 0xC600_0000-0xC600_0004 and 0xC600_00FF are annotations; 0xC600_0005 and PSCI are not", () => {
    expect([0xc600_0000, 0xc600_0004, 0xc600_00ff, 0xc600_0005, 0x8400_0000].map(annotationOfSmccc))
      .toEqual([SD_ANNOT.FREE, SD_ANNOT.TABLE_UNHOOK, "query", undefined, undefined]);
    const a = annotations();
    expect(annotationCall(a, 0, 0xc600_0005, 0n, (f) => f)).toBeUndefined();
    expect(annotationCall(a, 0, 0xc600_00ff, 0n, (f) => f)).toBe(0x5d5d_0001n);
    expect(a.summary()).toBeUndefined();
  });

  it("the query is a 32-bit IN from 0x5D0; narrower reads and the other ports read all ones", () => {
    const a = annotations();
    const inOf = (port: number, size: 1 | 2 | 4) => annotationPortIo(a, 0, { port, size, write: false, value: 0n }, (f) => f);
    expect([inOf(0x5d0, 4), inOf(0x5d0, 1), inOf(0x5d3, 4)]).toEqual([0x5d5d_0001n, 0xffn, 0xffff_ffffn]);
  });

  it("a frame the hypervisor cannot translate is a warning, and the frame is translated before it is checked", () => {
    const a = annotations();
    const seen: bigint[] = [];
    annotationCall(a, 1, 0xc600_0000, 0x99n, (f) => (seen.push(f), undefined));
    annotationPortIo(a, 0, { port: 0x5d0, size: 4, write: true, value: 0x1_0000_0020n }, (f) => (seen.push(f), f + 0x100n));
    expect(seen).toEqual([0x99n, 0x20n]);
    expect(a.summary()).toEqual({
      made: { FREE: 2 },
      warnings: ["CPU 1 at step 7: FREE of a guest frame with no machine frame behind it; ignored"],
    });
  });

  it("warnings stop at five of a kind, then say how many more", () => {
    const a = annotations();
    for (let i = 0; i < 8; i++) a.annotate(0, SD_ANNOT.WALK_END, 0n);
    const w = a.summary()!.warnings;
    expect(w).toHaveLength(6);
    expect(w[5]).toBe("… and 3 more like the last");
  });
});
