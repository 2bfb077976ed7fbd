// SPDX-License-Identifier: MIT
//
// Issue 13's flush machinery at the level of routines: an interrupts-off
// page walk (spurious_page_fault) on pCPU 1 while pCPU 0 unhooks the L1 the
// walk read and retypes it to writable. By IPI the retype waits for the walk;
// by the L0-assisted flush without FLUSH_NO_ASSIST it does not, and the
// sanitizer reports the frame changing under the walk (mechanisms §1.9).

import { describe, expect, it } from "vitest";
import { finish, maddr, xen, type Routine } from "../../hypervisor/index.ts";
import { spuriousPageFault, PFEC_WRITE } from "../../hypervisor/x86/traps.ts";
import { invalidateInterrupt } from "../../hypervisor/x86/flush.ts";
import { interruptDeliverable } from "../../hypervisor/common/smp.ts";
import { makeHv, mmuextOp, mmuUpdate, pin, put, spareMfns, unpin, type TestDomain, type TestHv } from "./helpers.ts";

const { HYPERVISOR, MMUEXT } = xen;

/** The bootstrap table frames of a domain: [L4, L3, L2, L1, L1]. */
const tables = (dom: TestDomain) => {
  const first = Number((dom.layout.ptBase - dom.layout.virtBase) >> 12n);
  return dom.layout.p2m.slice(first, first + dom.layout.nrPtFrames);
};

/** L2 slot 5 covers VAs 0xa00000..0xbfffff, outside the small kernel's bootstrap region. */
const SLOT = 5;
const VA = BigInt(SLOT) << 21n;

interface Scene {
  t: TestHv;
  a: TestDomain;
  /** The frame hooked in as the L1 for VA. */
  x: number;
  /** The page x's entry 0 maps (read-only). */
  data: number;
  walk: Routine<string>;
}

/** Frame x becomes an L1 mapping one page read-only at VA, hooked into the bootstrap L2; pCPU 1 starts a walk for a write to VA. */
function scene(o: { nested?: boolean; forceIpi?: boolean; l0Assist?: boolean }): Scene {
  // Set up with the other pCPUs idle (they take IPIs at once), then let only the test drive them.
  const t = makeHv({ domains: 1, ...o });
  const a = t.doms[0]!;
  const [x, data] = spareMfns(a);
  // Entry 0 of x maps `data` read-only, then x is validated as an L1 and hooked in.
  expect(mmuUpdate(t, a, maddr(data!, 0), 0n)).toBe(0);
  t.mem.write64(maddr(x!, 0), (BigInt(data!) << 12n) | 1n);
  expect(pin(t, a, 1, x!)).toBe(0);
  expect(mmuUpdate(t, a, maddr(tables(a)[2]!, 8 * SLOT), (BigInt(x!) << 12n) | 3n)).toBe(0);
  expect(unpin(t, a, x!)).toBe(0);
  t.hv.engineDriven = true;
  const v1 = a.d.vcpus[1]!;
  const walk = spuriousPageFault(t.hv.on(v1), VA, PFEC_WRITE | 1, a.layout.l4Mfn);
  // Run the walk until it has read the L1 entry in x: only re-enabling interrupts is left.
  for (let s = walk.next(); !s.done; s = walk.next()) if (s.value.what.includes("enable interrupts")) break;
  expect(t.hv.pcpus[1]!.irqEnabled).toBe(false);
  return { t, a, x: x!, data: data!, walk };
}

/** Drives a routine on pCPU 0 until it ends or only waits (10 wait steps in a row); returns its result, or "stuck". */
function drive<R>(r: Routine<R>): R | "stuck" {
  for (let waits = 0; waits < 10; ) {
    const s = r.next();
    if (s.done) return s.value;
    waits = s.value.wait ? waits + 1 : 0;
  }
  return "stuck";
}

/** pCPU 0: unhook x, then retype it to writable (MMUEXT_CLEAR_PAGE takes a writable type reference), as one routine. */
function* unhookAndRetype(s: Scene): Routine<bigint> {
  const { t, a, x } = s;
  const v0 = a.d.vcpus[0]!;
  const l2e = maddr(tables(a)[2]!, 8 * SLOT);
  const req = put(t, a, 0x100, new Uint8Array(new BigUint64Array([l2e, 0n]).buffer));
  const rc = yield* t.hv.hypercall(a.d, v0, BigInt(HYPERVISOR.mmu_update), [req, 1n, 0n, BigInt(xen.DOMID_SELF)]);
  if (rc !== 0n) return rc;
  const op = put(t, a, 0x200, mmuextOp(MMUEXT.CLEAR_PAGE, BigInt(x)));
  return yield* t.hv.hypercall(a.d, v0, BigInt(HYPERVISOR.mmuext_op), [op, 1n, 0n, BigInt(xen.DOMID_SELF)]);
}

/** pCPU 1 ends its walk and, interrupts on again, takes any pending flush IPI, as the engine would let it. */
function endWalk(s: Scene): string {
  const verdict = finish(s.walk);
  while (interruptDeliverable(s.t.hv.pcpus[1]!)) finish(invalidateInterrupt(s.t.hv, 1));
  return verdict;
}

describe("flush paths against an interrupts-off page walk (issue 13)", () => {
  it("by IPI (no L0): the unhook's flush waits for the walk to end, and nothing changes under it", () => {
    const s = scene({});
    const retype = unhookAndRetype(s);
    expect(drive(retype)).toBe("stuck");
    expect(s.t.hv.pcpus[1]!.ipiFrom).toBe(0);
    expect(s.t.hv.frames.page(s.x).type).toBe(1);
    expect(endWalk(s)).toBe("real"); // the entry is read-only and the access a write
    expect(drive(retype)).toBe(0n);
    expect(s.t.hv.frames.page(s.x).type).toBe(7);
    expect(s.t.hv.sanitizer.violations).toEqual([]);
    expect(s.t.hv.stats.flushPaths.get("ipi")).toBeGreaterThan(0);
    expect(s.t.hv.stats.flushPaths.get("assisted")).toBeUndefined();
  });

  it("nested, with the fix: the unhook's flush is assisted, but the retype's (FLUSH_NO_ASSIST) waits for the walk", () => {
    const s = scene({ nested: true });
    const retype = unhookAndRetype(s);
    expect(drive(retype)).toBe("stuck");
    expect(s.t.hv.stats.flushPaths.get("assisted")).toBeGreaterThan(0);
    expect(s.t.hv.frames.page(s.x).validated).toBe(false); // validate-locked as writable, not usable yet
    endWalk(s);
    expect(drive(retype)).toBe(0n);
    expect(s.t.hv.sanitizer.violations).toEqual([]);
  });

  it("nested, --no-force-ipi: the retype goes assisted, completes under the walk, and the sanitizer reports it", () => {
    const s = scene({ nested: true, forceIpi: false });
    const seen: string[] = [];
    s.t.hv.callbacks.violation = (v) => seen.push(v.message);
    expect(drive(unhookAndRetype(s))).toBe(0n);
    expect(s.t.hv.stats.flushPaths.get("ipi")).toBeUndefined();
    const [v, ...more] = s.t.hv.sanitizer.violations;
    expect(more).toEqual([]);
    expect(v).toMatchObject({ walker: 1, actor: 0, mfn: s.x, readAs: "L1", change: "retyped it L1 → writable", flushPath: "assisted", va: VA });
    expect(seen).toEqual([v!.message]);
    endWalk(s);
  });

  it("nested under an L0 with no flush hypercall (--no-l0-assist), even --no-force-ipi: every remote flush is an IPI and waits for the walk; the clock is on", () => {
    const s = scene({ nested: true, forceIpi: false, l0Assist: false });
    expect(s.t.hv.clock.enabled).toBe(true);
    const retype = unhookAndRetype(s);
    expect(drive(retype)).toBe("stuck");
    expect(s.t.hv.pcpus[1]!.ipiFrom).toBe(0);
    endWalk(s);
    expect(drive(retype)).toBe(0n);
    expect(s.t.hv.sanitizer.violations).toEqual([]);
    expect(s.t.hv.stats.flushPaths.get("assisted")).toBeUndefined();
    expect(s.t.hv.stats.flushPaths.get("ipi")).toBeGreaterThan(0);
  });

  it("the assisted path flushes every pCPU through L0 at once and never waits; the clock is off, so it filters nothing", () => {
    const calls: number[] = [];
    const t = makeHv({ domains: 1, engineDriven: true, nested: true, callbacks: { l0FlushTlbs: (cpu) => calls.push(cpu) } });
    t.hv.pcpus[1]!.irqEnabled = false;
    expect(t.hv.clock.now).toBe(0);
    const a = t.doms[0]!;
    const op = put(t, a, 0x200, mmuextOp(MMUEXT.TLB_FLUSH_ALL, 0n));
    expect(drive(t.hv.hypercall(a.d, a.d.vcpus[0]!, BigInt(HYPERVISOR.mmuext_op), [op, 1n, 0n, BigInt(xen.DOMID_SELF)]))).toBe(0n);
    expect(calls).toEqual([0]);
    expect(t.hv.pcpus[1]!.ipiFrom).toBeUndefined();
  });

  it("a remote flush with interrupts off is a hypervisor bug (Xen ASSERTs), never a silent deadlock", () => {
    const t = makeHv({ domains: 1, engineDriven: true });
    t.hv.pcpus[0]!.irqEnabled = false;
    const a = t.doms[0]!;
    const op = put(t, a, 0x200, mmuextOp(MMUEXT.TLB_FLUSH_ALL, 0n));
    expect(() => drive(t.hv.hypercall(a.d, a.d.vcpus[0]!, BigInt(HYPERVISOR.mmuext_op), [op, 1n, 0n, BigInt(xen.DOMID_SELF)]))).toThrow(/interrupts disabled/);
  });

  it("two IPI flushes at once: the second waits for flush_lock, each target acknowledges, both finish", () => {
    const t = makeHv({ domains: 2, engineDriven: true });
    const [a, b] = t.doms as [TestDomain, TestDomain];
    const flushAll = (dom: TestDomain, off: number) =>
      t.hv.hypercall(dom.d, dom.d.vcpus[0]!, BigInt(HYPERVISOR.mmuext_op), [put(t, dom, off, mmuextOp(MMUEXT.TLB_FLUSH_ALL, 0n)), 1n, 0n, BigInt(xen.DOMID_SELF)]);
    const r0 = flushAll(a, 0x200);
    const r2 = flushAll(b, 0x200);
    const done: (bigint | undefined)[] = [undefined, undefined];
    const labels: string[] = [];
    for (let i = 0; i < 200 && (done[0] === undefined || done[1] === undefined); i++) {
      for (const [k, r] of [[0, r0], [1, r2]] as const) {
        if (done[k] !== undefined) continue;
        const s = r.next();
        if (s.done) done[k] = s.value;
        else labels.push(s.value.what);
      }
      for (const p of t.hv.pcpus) while (interruptDeliverable(p)) finish(invalidateInterrupt(t.hv, p.cpu));
    }
    expect(done).toEqual([0n, 0n]);
    expect(labels).toContain("flush_area_mask: wait for flush_lock");
    expect(t.hv.ipiFlush.lock).toBeUndefined();
    expect(t.hv.ipiFlush.cpumask.size).toBe(0);
  });
});

describe("spurious_page_fault (__page_fault_type)", () => {
  it("a write to a page whose entry is now writable is spurious; read-only or not present is real; a fetch through NX is real", () => {
    const t = makeHv({ domains: 1 });
    const a = t.doms[0]!;
    const [x, data] = spareMfns(a);
    t.mem.write64(maddr(x!, 0), (BigInt(data!) << 12n) | 1n);
    t.mem.write64(maddr(x!, 8), (BigInt(data!) << 12n) | 3n);
    t.mem.write64(maddr(x!, 16), (BigInt(data!) << 12n) | 1n | (1n << 63n));
    expect(pin(t, a, 1, x!)).toBe(0);
    expect(mmuUpdate(t, a, maddr(tables(a)[2]!, 8 * SLOT), (BigInt(x!) << 12n) | 3n)).toBe(0);
    const c = t.hv.on(a.d.vcpus[1]!);
    const verdict = (va: bigint, ec: number) => finish(spuriousPageFault(c, va, ec, a.layout.l4Mfn));
    expect(verdict(VA, PFEC_WRITE | 1)).toBe("real");
    expect(verdict(VA + 0x1000n, PFEC_WRITE | 1)).toBe("spurious");
    expect(verdict(VA, 1)).toBe("spurious");
    expect(verdict(VA + 0x2000n, 1)).toBe("spurious");
    expect(verdict(VA + 0x2000n, 16 | 1)).toBe("real");
    expect(verdict(VA + 0x3000n, 0)).toBe("real");
    expect(verdict(0x7f00_0000_0000n, 0)).toBe("real");
    expect(t.hv.pcpus[1]!.irqEnabled).toBe(true);
    expect(t.hv.sanitizer.walking(1)).toBe(false);
  });
});
