// SPDX-License-Identifier: MIT
//
// The hvm-sharing fuzz surface (hvm-sharing.ts): a few seeded cases with
// today's defaults find nothing, and the from-scratch checks it runs after
// every step (hvm-sharing-check.ts) see each kind of broken invariant when
// one is planted in a world after a real share.

import { describe, expect, it } from "vitest";
import { finish } from "../../hypervisor/common/routine.ts";
import { maddr } from "../../hypervisor/common/memory.ts";
import { DEFAULT_SHARING } from "../../hypervisor/x86/mem-sharing.ts";
import { Random } from "./harness.ts";
import { checkSharing } from "./hvm-sharing-check.ts";
import { runHvmSharingCase } from "./hvm-sharing.ts";
import { buildWorld, cpuOf, type World } from "./hvm-sharing-world.ts";

/** A world where d_a's and d_b's gfn 0 share one frame (the daemon's way: nominate both, share). */
function sharedWorld(): { w: World; gfn: number; mfn: number } {
  for (let seed = 1; ; seed++) {
    const w = buildWorld(new Random(seed), DEFAULT_SHARING, false);
    const [a, b] = w.doms.filter((h) => !h.privileged);
    const gfn = [...Array(16).keys()].find((g) => a!.ept.entry(g) && b!.ept.entry(g));
    if (!a || !b || gfn === undefined) continue;
    const c = cpuOf(w, 0);
    const s = finish(w.ms.nominatePage(c, a.domain, gfn));
    const cl = finish(w.ms.nominatePage(c, b.domain, gfn));
    expect(finish(w.ms.sharePages(c, a.domain, gfn, s.handle, b.domain, gfn, cl.handle))).toBe(0);
    return { w, gfn, mfn: a.ept.entry(gfn)!.mfn };
  }
}

const problems = (w: World) => {
  const found: string[] = [];
  const snap = w.shadow.observe(found);
  return [...found, ...checkSharing(w, snap, w.shadow.expected)];
};

describe("the hvm-sharing fuzz surface", () => {
  it("a few seeded cases with today's defaults find no failure", () => {
    for (let i = 0; i < 4; i++) {
      const { result } = runHvmSharingCase(Random.forCase(17, "hvm-sharing", 100 + i));
      expect(result.detail ?? "").toBe("");
    }
  }, 60_000);

  it("a real share passes every check: the sharers read their common content through read-only leaves", () => {
    const { w } = sharedWorld();
    expect(problems(w)).toEqual([]);
  });

  it("sees a sharer's leaf made writable", () => {
    const { w, gfn, mfn } = sharedWorld();
    w.doms.find((h) => !h.privileged)!.ept.set(gfn, mfn, "ram_rw");
    expect(problems(w).join("\n")).toMatch(/writable, and it is a shared frame/);
  });

  it("sees a type reference too many on a shared frame", () => {
    const { w, mfn } = sharedWorld();
    w.hv.frames.page(mfn).typeCount++;
    expect(problems(w).join("\n")).toMatch(/2 gfns need count 3 and 2 type references/);
  });

  it("sees one sharer's data in another's gfn (a write behind the copy on write's back)", () => {
    const { w, mfn } = sharedWorld();
    w.hv.mem.write64(maddr(mfn), 0x1234n);
    w.hv.mem.write64(maddr(mfn, 4088), 0x1234n);
    expect(problems(w).join("\n")).toMatch(/reads 0x1234 from MFN .* a domain sees what it should not/);
  });

  it("sees counters that do not recount, and a dom_cow frame the sharing list lost", () => {
    const { w, mfn } = sharedWorld();
    w.ms.nrSavedMfns++;
    expect(problems(w).join("\n")).toMatch(/nr_saved_mfns 2; the sharing list recounts 1 and 1/);
    w.ms.nrSavedMfns--;
    const info = w.ms.shared.get(mfn)!;
    w.ms.shared.delete(mfn);
    expect(problems(w).join("\n")).toMatch(/belongs to dom_cow but is not in the sharing list/);
    w.ms.shared.set(mfn, info);
    expect(problems(w)).toEqual([]);
  });
});
