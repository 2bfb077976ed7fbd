// SPDX-License-Identifier: MIT
//
// Hypervisor routines interleaved step by step on two pCPUs (the validate-
// locked wait, page_lock, XSA-242's rule), the flush requests the
// hypervisor makes and the callbacks through which it reaches the machine.

import { describe, expect, it } from "vitest";
import { finish, FLUSH_NO_ASSIST, FLUSH_ORDER, FLUSH_TLB, maddr, PGT, xen, type FlushRequest, type Routine } from "../../hypervisor/index.ts";
import { EFAULT, EINVAL } from "../../hypervisor/common/errno.ts";
import { newGuestCr3 } from "../../hypervisor/x86/mmu.ts";
import { getPage, putPage, allocDomheapPage } from "../../hypervisor/x86/page-ref.ts";
import { getPageType, pageLock, pageUnlock, putPageType } from "../../hypervisor/x86/page-type.ts";
import { putPageAndType } from "../../hypervisor/x86/page-ref.ts";
import { flushAreaLocal } from "../../hypervisor/x86/flush.ts";
import { copyFromGuest } from "../../hypervisor/x86/guest-access.ts";
import { call, expectConsistent, makeHv, mmuext, mmuextOp, mmuUpdate, pin, put, spareMfns, u64s, unpin } from "./helpers.ts";

const { HYPERVISOR, MMUEXT, VCPUOP, SCHEDOP } = xen;

/** Steps a routine until its label matches, returning how many steps that took. */
function stepUntil(r: Routine<unknown>, what: RegExp): number {
  for (let n = 1; ; n++) {
    const s = r.next();
    if (s.done) throw new Error(`routine ended before a step matching ${what}`);
    if (what.test(s.value.what)) return n;
  }
}

describe("routines racing on two pCPUs", () => {
  it("a second taker of a page-table type waits while the first validates, then both hold a reference (_get_page_type's validate-locked state)", () => {
    const t = makeHv({ domains: 1 });
    const { d } = t.doms[0]!;
    const x = spareMfns(t.doms[0]!)[0]!;
    const page = t.hv.frames.page(x);
    const [c0, c1] = [t.hv.on(d.vcpus[0]!), t.hv.on(d.vcpus[1]!)];
    expect(finish(getPage(c0, page, d)) && finish(getPage(c1, page, d))).toBe(true);
    const a = getPageType(c0, page, PGT.l1);
    const b = getPageType(c1, page, PGT.l1);
    stepUntil(a, /read a page-table entry/); // a holds the frame validate-locked
    expect(page.typeCount).toBe(1);
    expect(page.validated).toBe(false);
    stepUntil(b, /wait for another pCPU's validation/);
    for (let i = 0; i < 10; i++) expect(b.next().value).toEqual({ what: "_get_page_type: wait for another pCPU's validation", wait: true });
    expect(finish(a)).toBe(0);
    expect(finish(b)).toBe(0);
    expect(page.typeCount).toBe(2);
    for (const c of [c0, c1]) {
      finish(putPageType(c, page));
      finish(putPage(c, page));
    }
    expect(page.typeCount).toBe(0);
    expectConsistent(t.hv);
  });

  it("validation reads runs of empty entries in one step whose weight counts them, and stops at every present entry", () => {
    const t = makeHv({ domains: 1 });
    const dom = t.doms[0]!;
    const [table, a, b] = spareMfns(dom);
    // Entries 3 and 500 map two frames of the domain read-only; the other 510 are empty.
    t.hv.mem.write64(maddr(table!, 3 * 8), (BigInt(a!) << 12n) | 1n);
    t.hv.mem.write64(maddr(table!, 500 * 8), (BigInt(b!) << 12n) | 1n);
    const c = t.hv.on(dom.d.vcpus[0]!);
    const page = t.hv.frames.page(table!);
    expect(finish(getPage(c, page, dom.d))).toBe(true);
    const r = getPageType(c, page, PGT.l1);
    const reads: number[] = [];
    let steps = 0;
    for (let n = r.next(); !n.done; n = r.next(), steps++) if (n.value.what === "read a page-table entry") reads.push(n.value.weight ?? 1);
    // Slots 0–3, 4–500, 501–511: three scans, every slot counted once.
    expect(reads).toEqual([4, 497, 11]);
    expect(steps).toBeLessThan(20);
    expect(page.validated).toBe(true);
    expect(t.hv.frames.page(a!).count).toBe(2);
    expect(t.hv.frames.page(b!).count).toBe(2);
    // Demotion scans the same way and drops both references.
    const d = putPageType(c, page);
    const back: number[] = [];
    for (let n = d.next(); !n.done; n = d.next()) if (n.value.what === "read a page-table entry") back.push(n.value.weight ?? 1);
    expect(back).toEqual([4, 497, 11]);
    expect(t.hv.frames.page(a!).count).toBe(1);
    finish(putPage(c, page));
    expectConsistent(t.hv);
  });

  it("a guest access is one step: the walk and the bytes of a page together, as one instruction walks and accesses", () => {
    const t = makeHv({ domains: 1 });
    const dom = t.doms[0]!;
    const va = put(t, dom, 0x10, u64s(0x1234_5678n, 0x9abc_def0n));
    const labels: string[] = [];
    const r = copyFromGuest(t.hv.on(dom.d.vcpus[0]!), va, 16);
    let n = r.next();
    for (; !n.done; n = r.next()) labels.push(n.value.what);
    expect(labels).toEqual(["copy_from_guest: read guest memory"]);
    expect([...n.value!]).toEqual([...u64s(0x1234_5678n, 0x9abc_def0n)]);
    // Across a page boundary: one access per page.
    const across = copyFromGuest(t.hv.on(dom.d.vcpus[0]!), dom.scratchVa + 0xffcn, 8);
    let steps = 0;
    for (let m = across.next(); !m.done; m = across.next()) steps++;
    expect(steps).toBe(2);
  });

  it("page_lock: the second pCPU spins until the first unlocks", () => {
    const t = makeHv({ domains: 1 });
    const dom = t.doms[0]!;
    const x = spareMfns(dom)[0]!;
    expect(pin(t, dom, 1, x)).toBe(0);
    const page = t.hv.frames.page(x);
    const [c0, c1] = [t.hv.on(dom.d.vcpus[0]!), t.hv.on(dom.d.vcpus[1]!)];
    expect(finish(pageLock(c0, page))).toBe(true);
    const b = pageLock(c1, page);
    for (let i = 0; i < 5; i++) expect(b.next().done).toBe(false);
    expect(page.lockedBy).toBe(0);
    finish(pageUnlock(c0, page));
    expect(finish(b)).toBe(true);
    expect(page.lockedBy).toBe(1);
    finish(pageUnlock(c1, page));
    expectConsistent(t.hv);
  });

  it("dropping the reference before the lock's own waits for page_unlock, which alone may bring the count down (XSA-242, _put_page_type)", () => {
    const t = makeHv({ domains: 1 });
    const dom = t.doms[0]!;
    const x = spareMfns(dom)[0]!;
    expect(pin(t, dom, 1, x)).toBe(0);
    const page = t.hv.frames.page(x);
    const [c0, c1] = [t.hv.on(dom.d.vcpus[0]!), t.hv.on(dom.d.vcpus[1]!)];
    expect(finish(pageLock(c0, page))).toBe(true);
    page.pinned = false; // what MMUEXT_UNPIN_TABLE does before dropping the pin's references
    const unpinRefs = putPageAndType(c1, page);
    for (let i = 0; i < 6; i++) unpinRefs.next();
    expect(page.typeCount).toBe(2);
    expect(page.validated).toBe(true);
    finish(pageUnlock(c0, page));
    finish(unpinRefs);
    expect(page.typeCount).toBe(0);
    expect(page.validated).toBe(false);
    expectConsistent(t.hv);
  });
});

describe("flush requests", () => {
  function withFlushes() {
    const flushes: FlushRequest[] = [];
    const t = makeHv({ callbacks: { flush: (r) => void flushes.push(r) } });
    flushes.length = 0;
    return { t, flushes, a: t.doms[0]!, x: spareMfns(t.doms[0]!)[0]! };
  }

  it("retyping a page table to writable flushes the owner's dirty pCPUs by IPI: FLUSH_TLB | FLUSH_NO_ASSIST (_get_page_type, the FLUSH_FORCE_IPI fix)", () => {
    const { t, flushes, a, x } = withFlushes();
    expect(pin(t, a, 1, x)).toBe(0);
    expect(unpin(t, a, x)).toBe(0);
    flushes.length = 0;
    expect(mmuext(t, a, MMUEXT.CLEAR_PAGE, BigInt(x))).toBe(0);
    expect(flushes).toEqual([{ initiator: 0, mask: [0, 1], va: undefined, flags: FLUSH_TLB | FLUSH_NO_ASSIST, reason: "_get_page_type" }]);
    expect(t.hv.stats.typeTransitions.get("L1 → writable")).toBe(1);
  });

  it("retyping a writable frame to a page table flushes with plain FLUSH_TLB", () => {
    const { t, flushes, a, x } = withFlushes();
    expect(mmuext(t, a, MMUEXT.CLEAR_PAGE, BigInt(x))).toBe(0);
    flushes.length = 0;
    expect(pin(t, a, 1, x)).toBe(0);
    expect(flushes.map((f) => f.flags)).toEqual([FLUSH_TLB]);
  });

  it("the flush clock's filter leaves out pCPUs that flushed since the frame's stamp (tlbflush_filter)", () => {
    const { t, flushes, a, x } = withFlushes();
    expect(pin(t, a, 1, x)).toBe(0);
    expect(unpin(t, a, x)).toBe(0);
    const stamp = t.hv.frames.page(x).tlbflushTimestamp;
    expect(stamp).toBeGreaterThan(0);
    // pCPU 0 flushes its whole TLB after the stamp: the clock ticks, and pCPU 0 is spared.
    flushAreaLocal(t.hv, 0, undefined, FLUSH_TLB);
    expect(t.hv.clock.now).toBe(stamp + 1);
    expect(t.hv.clock.cpuTime[0]).toBe(stamp + 1);
    flushes.length = 0;
    const spared = t.hv.stats.pcpusSpared;
    expect(mmuext(t, a, MMUEXT.CLEAR_PAGE, BigInt(x))).toBe(0);
    expect(flushes.map((f) => f.mask)).toEqual([[1]]);
    expect(t.hv.stats.pcpusSpared).toBe(spared + 1);
  });

  it("handing out a frame another domain freed flushes every pCPU that may hold it, by IPI (filtered_flush_tlb_mask)", () => {
    const { t, flushes, a, x } = withFlushes();
    const b = t.doms[1]!;
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.memory_op, 1n, put(t, a, 0x300, reservation(put(t, a, 0x400, u64s(BigInt(x))))))).toBe(1);
    expect(t.hv.frames.page(x).free).toBe(true);
    flushes.length = 0;
    b.d.maxPages++;
    const page = finish(allocDomheapPage(t.hv.on(b.d.vcpus[0]!), b.d, (mfn) => mfn === x));
    expect(page?.mfn).toBe(x);
    expect(flushes).toEqual([{ initiator: 2, mask: [0, 1, 2, 3], va: undefined, flags: FLUSH_TLB | FLUSH_NO_ASSIST, reason: "filtered_flush_tlb_mask" }]);
  });

  it("update_va_mapping with UVMF_INVLPG: the local page, all dirty pCPUs (UVMF_ALL), or those of a vCPU mask", () => {
    const { t, flushes, a } = withFlushes();
    const va = a.layout.virtBase + 0x20000n;
    const pte = (BigInt(a.layout.p2m[0x20]!) << 12n) | 0x63n; // the same frame, only A and D added: no retype
    const uva = (flags: bigint) => call(t.hv, a.d.vcpus[0]!, HYPERVISOR.update_va_mapping, va, pte, flags);
    flushes.length = 0;
    expect(uva(2n)).toBe(0);
    expect(uva(6n)).toBe(0);
    const mask = put(t, a, 0x700, u64s(2n)); // vCPU 1
    expect(uva(mask | 2n)).toBe(0);
    expect(flushes.map((f) => [f.mask, f.va, f.flags])).toEqual([
      [[0], va, FLUSH_TLB | FLUSH_ORDER(0)],
      [[0, 1], va, FLUSH_TLB | FLUSH_ORDER(0)],
      [[1], va, FLUSH_TLB | FLUSH_ORDER(0)],
    ]);
  });

  it("changing an L2 entry flushes the owner's dirty pCPUs, the local one separately (do_mmu_update, flush_linear_pt)", () => {
    const { t, flushes, a, x } = withFlushes();
    expect(pin(t, a, 1, x)).toBe(0);
    const l2 = a.layout.p2m[Number((a.layout.ptBase - a.layout.virtBase) >> 12n) + 2]!;
    flushes.length = 0;
    expect(mmuUpdate(t, a, maddr(l2, 8 * 5), (BigInt(x) << 12n) | 3n)).toBe(0);
    expect(flushes.map((f) => [f.mask, f.reason])).toEqual([
      [[0], "do_mmu_update"],
      [[1], "do_mmu_update"],
    ]);
  });
});

function reservation(list: bigint): Uint8Array {
  const r = new Uint8Array(xen.XEN_MEMORY_RESERVATION.SIZE);
  const v = new DataView(r.buffer);
  v.setBigUint64(0, list, true);
  v.setBigUint64(8, 1n, true);
  v.setUint16(24, xen.DOMID_SELF, true);
  return r;
}

describe("callbacks and small hypercalls", () => {
  it("console_io writes go to the console callback; xen_version reports 4.19; a negative errno comes back as RAX's two's complement", () => {
    const t = makeHv({ domains: 1 });
    const a = t.doms[0]!;
    const text = new TextEncoder().encode("hello, world\n".repeat(20));
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.console_io, 0n, BigInt(text.length), put(t, a, 0x100, text))).toBe(0);
    expect(t.console.join("").replaceAll("[d1] ", "")).toBe("hello, world\n".repeat(20));
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.xen_version, 0n, 0n)).toBe((4 << 16) | 19);
    expect(finish(t.hv.hypercall(a.d, a.d.vcpus[0]!, BigInt(HYPERVISOR.mmuext_op), [0x10_0000_0000n, 1n, 0n, 0x7ff0n]))).toBe(0xffff_ffff_ffff_fff2n);
    expect(t.hv.stats.hypercalls.get("console_io")?.get("0")).toBe(1);
  });

  it("VCPUOP_initialise and up bring a vCPU up with the context's registers and CR3; the last vCPU going down shuts the domain down", () => {
    const events: string[] = [];
    const t = makeHv({
      domains: 1,
      callbacks: {
        vcpuUp: (v) => events.push(`up ${v.vcpuId}`),
        vcpuDown: (v) => events.push(`down ${v.vcpuId}`),
        shutdown: (d, reason) => events.push(`shutdown d${d.domid} ${reason}`),
        baseptrChanged: (v) => events.push(`cr3 ${v.vcpuId}`),
      },
    });
    const a = t.doms[0]!;
    const ctx = new Uint8Array(xen.VCPU_GUEST_CONTEXT.SIZE);
    const v = new DataView(ctx.buffer);
    const regs = xen.VCPU_GUEST_CONTEXT.USER_REGS;
    v.setBigUint64(regs + xen.CPU_USER_REGS.RIP, 0x36_1000n, true);
    v.setBigUint64(regs + xen.CPU_USER_REGS.RSP, 0x37_0000n, true);
    v.setBigUint64(regs + xen.CPU_USER_REGS.RDI, 7n, true);
    v.setBigUint64(regs + xen.CPU_USER_REGS.RSI, 8n, true);
    v.setBigUint64(regs + xen.CPU_USER_REGS.RFLAGS, 0x202n, true);
    v.setBigUint64(xen.VCPU_GUEST_CONTEXT.CTRLREG + 24, maddr(a.layout.l4Mfn), true);
    const va = put(t, a, 0, ctx);
    const vcpuOp = (cmd: number, id: bigint, arg = 0n) => call(t.hv, a.d.vcpus[0]!, HYPERVISOR.vcpu_op, BigInt(cmd), id, arg);
    expect(vcpuOp(VCPUOP.is_up, 1n)).toBe(0);
    expect(vcpuOp(VCPUOP.initialise, 1n, va)).toBe(0);
    expect(a.d.vcpus[1]!.context).toEqual({ rip: 0x36_1000n, rsp: 0x37_0000n, rdi: 7n, rsi: 8n, rflags: 0x202n, cr3: maddr(a.layout.l4Mfn) });
    expect(vcpuOp(VCPUOP.up, 1n)).toBe(0);
    expect(vcpuOp(VCPUOP.is_up, 1n)).toBe(1);
    expect(vcpuOp(VCPUOP.down, 0n)).toBe(0);
    expect(vcpuOp(VCPUOP.down, 1n)).toBe(0);
    expect(events).toEqual(["up 1", "down 0", "shutdown d1 0"]);
    expect(mmuext(t, a, MMUEXT.NEW_BASEPTR, BigInt(a.layout.l4Mfn))).toBe(0);
    expect(events.at(-1)).toBe("cr3 0");
    const shutdown = put(t, a, 0x100, new Uint8Array([3, 0, 0, 0]));
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.sched_op, BigInt(SCHEDOP.shutdown), shutdown)).toBe(0);
    expect(events.at(-1)).toBe("shutdown d1 3");
    expect(a.d.shutdownReason).toBe(3);
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.sched_op, BigInt(SCHEDOP.shutdown), 0x10_0000_0000n)).toBe(-14);
    expectConsistent(t.hv);
  });

  it("MOV to CR3 and INVLPG from the guest: hv.newBaseptr checks as MMUEXT_NEW_BASEPTR does (an errno means #GP), hv.invlpg flushes one local page", () => {
    const flushes: FlushRequest[] = [];
    const t = makeHv({ domains: 1, callbacks: { flush: (r) => void flushes.push(r) } });
    const a = t.doms[0]!;
    const v = a.d.vcpus[0]!;
    expect(finish(t.hv.newBaseptr(v, maddr(a.layout.p2m[0]!)))).toBe(-EINVAL);
    expect(finish(t.hv.newBaseptr(v, maddr(a.layout.l4Mfn)))).toBe(0);
    flushes.length = 0;
    finish(t.hv.invlpg(v, 0x36_1000n));
    expect(flushes).toEqual([{ initiator: 0, mask: [0], va: 0x36_1000n, flags: FLUSH_TLB | FLUSH_ORDER(0), reason: "MMUEXT_INVLPG_LOCAL" }]);
    expectConsistent(t.hv);
  });

  it("a new L4 through NEW_BASEPTR takes a type reference and the old one drops its own (new_guest_cr3)", () => {
    const t = makeHv({ domains: 1 });
    const a = t.doms[0]!;
    const l4 = t.hv.frames.page(a.layout.l4Mfn);
    expect(l4.typeCount).toBe(2);
    // A second L4 that maps the same L3 (so the guest keeps its mappings).
    const x = spareMfns(a)[0]!;
    const l3e = t.mem.read64(maddr(a.layout.l4Mfn, 0));
    expect(mmuUpdate(t, a, maddr(x, 0), l3e)).toBe(0);
    expect(mmuext(t, a, MMUEXT.NEW_BASEPTR, BigInt(x))).toBe(0);
    expect(l4.typeCount).toBe(1);
    expect(t.hv.frames.page(x).type).toBe(PGT.l4);
    expect(mmuext(t, a, MMUEXT.NEW_BASEPTR, BigInt(spareMfns(a)[1]!))).toBe(0);
    expect(t.hv.frames.page(x).typeCount).toBe(0);
    // The empty L4 maps nothing, not even the argument: -EFAULT. MOV to CR3 (no argument in memory) goes back.
    expect(mmuext(t, a, MMUEXT.PIN_L2_TABLE, BigInt(x))).toBe(-EFAULT);
    expect(finish(newGuestCr3(t.hv.on(a.d.vcpus[0]!), a.layout.l4Mfn))).toBe(0);
    // Its entry 0 points at an L3: as an L2 it would need an L1 there (get_page_from_l2e).
    expect(mmuext(t, a, MMUEXT.PIN_L2_TABLE, BigInt(x))).toBe(-EINVAL);
    expectConsistent(t.hv);
  });
});
