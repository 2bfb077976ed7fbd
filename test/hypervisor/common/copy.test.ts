// SPDX-License-Identifier: MIT
//
// deepCopy (hypervisor/common/copy.ts) and the frame table's copy, which
// hands out its original's entries only when first asked for: what a run
// gets of a build kept for many runs (x86/pv-build.ts).

import { describe, expect, it } from "vitest";
import { COPY, CopyError, deepCopy } from "../../../hypervisor/common/copy.ts";
import { FrameTable, PageInfo, PGT } from "../../../hypervisor/common/frame-table.ts";
import { Domain } from "../../../hypervisor/common/domain.ts";

describe("deepCopy", () => {
  it("copies every object once: shared objects stay shared, cycles stay cycles, classes keep their prototype", () => {
    const d = new Domain(1, 16, 2);
    d.pageList.add(7);
    const state = { a: d, b: d, list: [d.vcpus[0], null, 3n], byId: new Map([[1, d]]), holes: new Array<number>(5) };
    state.holes[3] = 9;
    const c = deepCopy(state);
    expect(c.a).not.toBe(d);
    expect(c.a).toBeInstanceOf(Domain);
    expect(c.b).toBe(c.a);
    expect(c.byId.get(1)).toBe(c.a);
    expect(c.a.vcpus[0]!.domain).toBe(c.a);
    expect(c.list[0]).toBe(c.a.vcpus[0]);
    expect(c.list[2]).toBe(3n);
    expect(2 in c.holes).toBe(false);
    expect(c.holes[3]).toBe(9);
    c.a.pageList.add(8);
    c.a.vcpus[1]!.blocked = true;
    expect([...d.pageList]).toEqual([7]);
    expect(d.vcpus[1]!.blocked).toBe(false);
  });

  it("puts the replacements where their originals were, and refuses closures and built-ins it cannot copy", () => {
    const wiring = { write: () => 1 };
    const other = { write: () => 2 };
    const c = deepCopy({ mem: wiring, again: [wiring] }, new Map([[wiring, other]]));
    expect(c.mem).toBe(other);
    expect(c.again[0]).toBe(other);
    expect(() => deepCopy({ f: () => 0 })).toThrow(CopyError);
    expect(() => deepCopy({ nested: { f: () => 0 } })).toThrow(/root\.nested\.f/);
    expect(() => deepCopy({ when: new Date(0) })).toThrow(/Date/);
    expect(() => deepCopy({ g: (function* () {})() })).toThrow(CopyError);
  });

  it("lets an object copy itself (COPY)", () => {
    class Counted {
      n = 1;
      [COPY]() {
        const c = new Counted();
        c.n = this.n + 1;
        return c;
      }
    }
    const x = new Counted();
    const c = deepCopy({ x, y: x });
    expect(c.x.n).toBe(2);
    expect(c.y).toBe(c.x);
  });
});

describe("the frame table's copy", () => {
  it("gives each entry as the original had it, owner made the copy's, and leaves the original alone", () => {
    const d = new Domain(1, 16, 1);
    const frames = new FrameTable(0x100, 64);
    const page = frames.page(0x105);
    page.owner = d;
    page.count = 3;
    page.type = PGT.l1;
    page.typeCount = 1;
    page.validated = true;
    const copy = deepCopy({ frames, d });
    const p = copy.frames.page(0x105);
    expect(p).not.toBe(page);
    expect(p.owner).toBe(copy.d);
    expect({ ...p, owner: undefined }).toEqual({ ...page, owner: undefined });
    p.count = 9;
    p.type = PGT.writable;
    expect(page.count).toBe(3);
    expect(page.type).toBe(PGT.l1);
    // The copy keeps its entry; a fresh one is a free frame; a copy of the copy sees the copy's.
    expect(copy.frames.page(0x105)).toBe(p);
    expect(copy.frames.page(0x106)).toMatchObject({ mfn: 0x106, owner: null, free: true });
    const again = deepCopy({ frames: copy.frames, d: copy.d });
    expect(again.frames.page(0x105)).toMatchObject({ count: 9, type: PGT.writable });
    expect(again.frames.page(0x105).owner).toBe(again.d);
    expect(again.frames.all()).toHaveLength(64);
  });

  it("has entries whose fields are all plain values but the owner (the copy copies only that one)", () => {
    const page = new PageInfo(1);
    const objects = Object.entries(page).filter(([, v]) => v !== null && typeof v === "object").map(([k]) => k);
    expect(objects).toEqual([]);
    expect(Object.keys(page)).toContain("owner");
  });
});
