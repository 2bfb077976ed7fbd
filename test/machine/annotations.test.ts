// SPDX-License-Identifier: MIT
//
// The host side of the guest annotations (emulator/machine/core/annotations.ts):
// which ports and SMCCC function IDs are annotations, what the query
// answers, the warnings for frames a hypervisor cannot translate, and the
// spans a guest asks the cost model to price.

import { describe, expect, it } from "vitest";
import { Machine } from "../../emulator/machine/index.ts";
import {
  GuestAnnotations, SD_ANNOT, annotationCall, annotationOfSmccc, annotationPortIo, isAnnotationPort,
} from "../../emulator/machine/core/annotations.ts";
import { Timeline, type TimelineEvent } from "../../emulator/machine/core/timeline.ts";

function annotations() {
  const m = new Machine({ cpus: 2, maxPhysAddr: 46, ram: [{ base: 0n, size: 16n << 20n }] });
  return new GuestAnnotations(m.hw, (pfn) => m.memory.peek64(pfn << 12n) !== undefined, () => 7, "x86_64");
}

describe("guest annotations, host side", () => {
  // The span operations (5, 6) extended the range from 0x5D4 and 0xC600_0004: the neighbours moved with them.
  it("ports 0x5D0-0x5D6 are annotations, their neighbours are not", () => {
    expect([0x5cf, 0x5d0, 0x5d4, 0x5d6, 0x5d7].map(isAnnotationPort)).toEqual([false, true, true, true, false]);
  });

  it("SMCCC 0xC600_0000-0xC600_0006 and 0xC600_00FF are annotations; 0xC600_0007 and PSCI are not", () => {
    expect([0xc600_0000, 0xc600_0004, 0xc600_0006, 0xc600_00ff, 0xc600_0007, 0x8400_0000].map(annotationOfSmccc))
      .toEqual([SD_ANNOT.FREE, SD_ANNOT.TABLE_UNHOOK, SD_ANNOT.SPAN_END, "query", undefined, undefined]);
    const a = annotations();
    expect(annotationCall(a, 0, 0xc600_0007, 0n, (f) => f)).toBeUndefined();
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

describe("span annotations (SD_ANNOT_SPAN_BEGIN, SD_ANNOT_SPAN_END)", () => {
  function listening() {
    const m = new Machine({ cpus: 2, maxPhysAddr: 46, ram: [{ base: 0n, size: 16n << 20n }] });
    const timeline = new Timeline();
    const seen: TimelineEvent[] = [];
    timeline.sink = { event: (e) => seen.push(e) };
    const a = new GuestAnnotations(m.hw, (pfn) => m.memory.peek64(pfn << 12n) !== undefined, () => 7, "x86_64", timeline);
    return { a, seen };
  }

  it("carry the span ID untranslated (port 0x5D5/0x5D6, SMCCC 0xC600_0005/6), are counted by name, and announced to the timeline", () => {
    const { a, seen } = listening();
    const translated: bigint[] = [];
    const io = (port: number, value: bigint, owner?: string) =>
      annotationPortIo(a, 0, { port, size: 4, write: true, value }, (f) => (translated.push(f), f), owner);
    io(0x5d5, 1n);
    io(0x5d5, 2n);
    io(0x5d6, 2n);
    io(0x5d6, 1n);
    annotationCall(a, 1, 0xc600_0005, 17n, (f) => (translated.push(f), f), "d1v1");
    annotationCall(a, 0, 0xc600_0006, 17n, (f) => (translated.push(f), f), "d1v1");
    expect(translated).toEqual([]);
    expect(seen).toEqual([
      { kind: "span-begin", cpu: 0, owner: "CPU 0", span: 1, name: "munmap" },
      { kind: "span-begin", cpu: 0, owner: "CPU 0", span: 2, name: "gup_fast" },
      { kind: "span-end", cpu: 0, owner: "CPU 0", span: 2, name: "gup_fast" },
      { kind: "span-end", cpu: 0, owner: "CPU 0", span: 1, name: "munmap" },
      // A vCPU may end its span on another pCPU: the owner is what matches.
      { kind: "span-begin", cpu: 1, owner: "d1v1", span: 17, name: "grace period" },
      { kind: "span-end", cpu: 0, owner: "d1v1", span: 17, name: "grace period" },
    ]);
    expect(a.summary()).toEqual({
      made: { SPAN_BEGIN: 3, SPAN_END: 3 }, warnings: [], spans: { munmap: 1, gup_fast: 1, "grace period": 1 },
    });
  });

  it("a nested begin of the same span and an end without a begin are warnings, and nothing is announced for them", () => {
    const { a, seen } = listening();
    a.annotate(0, SD_ANNOT.SPAN_BEGIN, 1n);
    a.annotate(0, SD_ANNOT.SPAN_BEGIN, 1n);
    a.annotate(1, SD_ANNOT.SPAN_END, 1n);
    a.annotate(0, SD_ANNOT.SPAN_END, 9n);
    expect(seen.map((e) => e.kind)).toEqual(["span-begin"]);
    expect(a.summary()!.warnings).toEqual([
      "CPU 0 at step 7: SPAN_BEGIN of span 1 (munmap) inside the one begun at step 7 (a span does not nest; the first one stands)",
      "CPU 1 at step 7: SPAN_END of span 1 (munmap), which CPU 1 has not begun",
      "CPU 0 at step 7: SPAN_END of span 9 (span 9), which CPU 0 has not begun",
    ]);
    expect(a.summary()!.spans).toBeUndefined();
  });
});
