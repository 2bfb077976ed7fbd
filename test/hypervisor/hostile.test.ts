// SPDX-License-Identifier: MIT
//
// Each hostile thing a PV guest may try, with the errno Xen returns for it
// and the Xen function that returns it. After each, the recount must find
// the frame table and the page tables in agreement.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { finish, maddr, PGT, xen } from "../../hypervisor/index.ts";
import { allocDomheapPage } from "../../hypervisor/x86/page-ref.ts";
import { EBUSY, EEXIST, EFAULT, EINVAL, ENOENT, ENOSYS, EPERM, ESRCH } from "../../hypervisor/common/errno.ts";
import { call, expectConsistent, makeHv, mmuext, mmuextOp, mmuUpdate, pin, put, spareMfns, u64s, unpin, type TestDomain, type TestHv } from "./helpers.ts";

const { HYPERVISOR, MMUEXT, XENMEM, VCPUOP } = xen;
const P = 1n;
const RW = 2n;
const PCD = 0x10n;
const PSE = 0x80n;
const pte = (mfn: number, flags: bigint) => (BigInt(mfn) << 12n) | flags;
const SELF = BigInt(xen.DOMID_SELF);

let t: TestHv;
let a: TestDomain;
let b: TestDomain;
let spare: number[];

/** The bootstrap table frames of a domain: [L4, L3, L2, L1, L1]. */
const tables = (dom: TestDomain) => {
  const first = Number((dom.layout.ptBase - dom.layout.virtBase) >> 12n);
  return dom.layout.p2m.slice(first, first + dom.layout.nrPtFrames);
};
/** Entry `slot` of the domain's first bootstrap L1 (slot 300 maps a page of the boot region the tests may remap). */
const l1Slot = (dom: TestDomain, slot: number) => maddr(tables(dom)[3]!, slot * 8);

/** A reservation structure in scratch memory naming `list`. */
function reservation(dom: TestDomain, list: bigint, nr: bigint, order = 0, domid = xen.DOMID_SELF): bigint {
  const r = new Uint8Array(xen.XEN_MEMORY_RESERVATION.SIZE);
  const v = new DataView(r.buffer);
  v.setBigUint64(0, list, true);
  v.setBigUint64(8, nr, true);
  v.setUint32(16, order, true);
  v.setUint16(24, domid, true);
  return put(t, dom, 0x300, r);
}
const memoryOp = (dom: TestDomain, cmd: number, arg: bigint) => call(t.hv, dom.d.vcpus[0]!, HYPERVISOR.memory_op, BigInt(cmd), arg);
const decrease = (dom: TestDomain, mfn: bigint) => memoryOp(dom, XENMEM.decrease_reservation, reservation(dom, put(t, dom, 0x400, u64s(mfn)), 1n));

beforeEach(() => {
  t = makeHv();
  [a, b] = t.doms as [TestDomain, TestDomain];
  spare = spareMfns(a);
});
afterEach(() => expectConsistent(t.hv));

describe("page tables that would give a guest write access to a page table", () => {
  it("an L1 entry mapping its own L1 writable: -EBUSY (get_page_from_l1e, could_not_pin)", () => {
    const l1 = spare[0]!;
    expect(pin(t, a, 1, l1)).toBe(0);
    expect(mmuUpdate(t, a, maddr(l1, 0), pte(l1, P | RW))).toBe(-EBUSY);
    expect(mmuUpdate(t, a, maddr(l1, 0), pte(l1, P))).toBe(0);
  });

  it("pinning an L1 whose entry maps itself writable: -EBUSY (promote_l1_table → get_page_from_l1e), and the frame keeps no type", () => {
    const f = spare[0]!;
    expect(mmuUpdate(t, a, maddr(f, 8), pte(f, P | RW))).toBe(0); // an untyped frame is written as data
    expect(pin(t, a, 1, f)).toBe(-EBUSY);
    expect(t.hv.frames.page(f).type).toBe(PGT.none);
  });

  it("mapping a bootstrap page table writable: -EBUSY (get_page_from_l1e: get_page_type writable fails)", () => {
    expect(mmuUpdate(t, a, l1Slot(a, 300), pte(tables(a)[2]!, P | RW))).toBe(-EBUSY);
  });

  it("an L2 that maps itself writable: -EINVAL (get_l2_linear_pagetable refuses write permission)", () => {
    const f = spare[0]!;
    expect(mmuUpdate(t, a, maddr(f, 0), pte(f, P | RW))).toBe(0);
    expect(pin(t, a, 2, f)).toBe(-EINVAL);
  });

  it("an L2 that maps itself read-only is a linear page table and validates (get_l2_linear_pagetable)", () => {
    const f = spare[0]!;
    expect(mmuUpdate(t, a, maddr(f, 0), pte(f, P))).toBe(0);
    expect(pin(t, a, 2, f)).toBe(0);
    expect(unpin(t, a, f)).toBe(0);
  });

  it("a read-only entry to another validated L2 counts as a linear use of it (get_l2_linear_pagetable, inc_linear_uses)", () => {
    const [x, y] = spare as [number, number];
    expect(pin(t, a, 2, x)).toBe(0);
    expect(mmuUpdate(t, a, maddr(y, 0), pte(x, P))).toBe(0);
    expect(pin(t, a, 2, y)).toBe(0);
    expect(t.hv.frames.page(x).linearPtCount).toBe(-1);
    expect(t.hv.frames.page(y).linearPtCount).toBe(1);
    // x is used linearly, so it may not hold linear entries itself (inc_linear_entries fails): -EINVAL.
    expect(mmuUpdate(t, a, maddr(x, 8), pte(y, P))).toBe(-EINVAL);
    expect(unpin(t, a, y)).toBe(0);
    expect(t.hv.frames.page(x).linearPtCount).toBe(0);
  });
});

describe("mappings of frames the guest does not own", () => {
  beforeEach(() => expect(pin(t, a, 1, spare[0]!)).toBe(0));
  const map = (mfn: number, flags = P) => mmuUpdate(t, a, maddr(spare[0]!, 0), pte(mfn, flags));

  it("another domain's frame: -EBUSY (get_page_from_l1e, could_not_pin)", () => {
    expect(map(b.layout.p2m[0]!)).toBe(-EBUSY);
    expect(map(b.layout.p2m[0]!, P | RW)).toBe(-EBUSY);
  });
  it("a free frame: -EBUSY (get_page_from_l1e: page_get_owner_and_reference finds no owner)", () => {
    expect(map(t.hv.frames.all().find((p) => p.free)!.mfn)).toBe(-EBUSY);
  });
  it("a hypervisor frame (the M2P): -EBUSY (get_page_from_l1e: owned by dom_xen)", () => {
    expect(map(t.hv.xenArea.m2pMfns[0]!)).toBe(-EBUSY);
  });
  it("an MFN beyond the machine's RAM: -EPERM (get_page_from_l1e: iomem_access_permitted)", () => {
    expect(map(0x10_0000)).toBe(-EPERM);
  });
  it("INVALID_MFN: -EINVAL (get_page_from_l1e)", () => {
    expect(map(0xff_ffff_ffff)).toBe(-EINVAL);
  });
  it("cache-attribute bits (PCD): -EINVAL (mod_l1_entry: l1_disallow_mask)", () => {
    expect(map(spare[1]!, P | PCD)).toBe(-EINVAL);
  });
  it("a superpage in an L2 (PSE): -EINVAL (mod_l2_entry: L2_DISALLOW_MASK)", () => {
    expect(mmuUpdate(t, a, maddr(tables(a)[2]!, 5 * 8), pte(spare[1]!, P | PSE))).toBe(-EINVAL);
  });
  it("MMU_MACHPHYS_UPDATE of another domain's frame: -EINVAL (do_mmu_update: get_page_from_mfn)", () => {
    expect(mmuUpdate(t, a, maddr(b.layout.p2m[0]!) | 1n, 5n)).toBe(-EINVAL);
    expect(t.hv.getGpfnFromMfn(b.layout.p2m[0]!)).toBe(0n);
  });
});

describe("the hypervisor's L4 slots", () => {
  it("writing slot 256 or 271 of a validated L4: -EINVAL (mod_l4_entry: L4 update in Xen-private area)", () => {
    const l4 = a.layout.l4Mfn;
    const before = t.mem.read64(maddr(l4, 256 * 8));
    expect(mmuUpdate(t, a, maddr(l4, 256 * 8), 0n)).toBe(-EINVAL);
    expect(mmuUpdate(t, a, maddr(l4, 271 * 8), pte(spare[0]!, P))).toBe(-EINVAL);
    expect(t.mem.read64(maddr(l4, 256 * 8))).toBe(before);
  });
  it("an L4 written with junk in slots 256..271 gets the hypervisor's entries when validated (init_xen_l4_slots)", () => {
    const f = spare[0]!;
    expect(mmuUpdate(t, a, maddr(f, 256 * 8), pte(spare[1]!, P | RW))).toBe(0);
    expect(pin(t, a, 4, f)).toBe(0);
    expect(t.mem.read64(maddr(f, 256 * 8))).toBe(t.hv.xenArea.l4Slots[0]);
  });
});

describe("pinning and unpinning", () => {
  it("pinning at the wrong level: -EINVAL (_get_page_type: a type reference of another type)", () => {
    expect(pin(t, a, 1, spare[0]!)).toBe(0);
    expect(pin(t, a, 2, spare[0]!)).toBe(-EINVAL);
    expect(pin(t, a, 2, tables(a)[1]!)).toBe(-EINVAL); // the bootstrap L3
  });
  it("pinning twice: -EINVAL (do_mmuext_op: already pinned)", () => {
    expect(pin(t, a, 1, spare[0]!)).toBe(0);
    expect(pin(t, a, 1, spare[0]!)).toBe(-EINVAL);
    expect(t.hv.frames.page(spare[0]!).typeCount).toBe(1);
  });
  it("unpinning twice: -EINVAL (do_mmuext_op: not pinned)", () => {
    expect(pin(t, a, 1, spare[0]!)).toBe(0);
    expect(unpin(t, a, spare[0]!)).toBe(0);
    expect(unpin(t, a, spare[0]!)).toBe(-EINVAL);
  });
  it("pinning another domain's frame or an MFN outside RAM: -EINVAL (do_mmuext_op: get_page_from_gfn)", () => {
    expect(pin(t, a, 1, b.layout.p2m[5]!)).toBe(-EINVAL);
    expect(pin(t, a, 1, 0x10_0000)).toBe(-EINVAL);
  });
  it("unpinning an L1 that a pinned L2 still uses: the frame stays an L1, so mapping it writable is -EBUSY", () => {
    const [l1, l2] = spare as [number, number];
    expect(pin(t, a, 1, l1)).toBe(0);
    expect(mmuUpdate(t, a, maddr(l2, 0), pte(l1, P | RW))).toBe(0);
    expect(pin(t, a, 2, l2)).toBe(0);
    expect(unpin(t, a, l1)).toBe(0);
    expect(t.hv.frames.page(l1).type).toBe(PGT.l1);
    expect(mmuUpdate(t, a, l1Slot(a, 300), pte(l1, P | RW))).toBe(-EBUSY);
  });
});

describe("freeing frames that are still in use", () => {
  it("decrease_reservation of a pinned table succeeds, but the frame stays the domain's until unpinned (guest_remove_page drops only the allocation reference)", () => {
    const f = spare[0]!;
    const tot = a.d.totPages;
    expect(pin(t, a, 1, f)).toBe(0);
    expect(decrease(a, BigInt(f))).toBe(1);
    expect(t.hv.frames.page(f).owner).toBe(a.d);
    expect(a.d.totPages).toBe(tot);
    expect(unpin(t, a, f)).toBe(0);
    expect(t.hv.frames.page(f).free).toBe(true);
    expect(a.d.totPages).toBe(tot - 1);
  });
  it("decrease_reservation of a mapped frame keeps it until the mapping goes, then frees it, scrubbed before anyone gets it again", () => {
    const f = spare[0]!;
    t.mem.write(maddr(f), new Uint8Array([1, 2, 3]));
    expect(mmuUpdate(t, a, l1Slot(a, 300), pte(f, P | RW))).toBe(0);
    expect(decrease(a, BigInt(f))).toBe(1);
    expect(t.hv.frames.page(f).free).toBe(false);
    expect(mmuUpdate(t, a, l1Slot(a, 300), 0n)).toBe(0);
    expect(t.hv.frames.page(f).free).toBe(true);
    expect(t.hv.frames.page(f).needScrub).toBe(true);
    // The next owner finds it zeroed (alloc_heap_pages scrubs a dirty frame before handing it out).
    const b = t.doms[1]!;
    b.d.maxPages++;
    const scrubbed = t.hv.stats.framesScrubbed;
    expect(finish(allocDomheapPage(t.hv.on(b.d.vcpus[0]!), b.d, (mfn) => mfn === f))?.mfn).toBe(f);
    expect(t.mem.read(maddr(f), 3)).toEqual(new Uint8Array(3));
    expect(t.hv.stats.framesScrubbed).toBe(scrubbed + 1);
  });
  it("decrease_reservation of another domain's frame: 0 done (guest_remove_page: -ENXIO)", () => {
    expect(decrease(a, BigInt(b.layout.p2m[0]!))).toBe(0);
    expect(t.hv.frames.page(b.layout.p2m[0]!).allocated).toBe(true);
  });
  it("decrease_reservation of an MFN outside the frame table: 0 done (guest_remove_page: -EINVAL)", () => {
    expect(decrease(a, 0x10_0000n)).toBe(0);
  });
  it("decrease_reservation twice of one frame: the second finds no allocation reference and changes nothing (put_page_alloc_ref)", () => {
    const f = spare[0]!;
    expect(pin(t, a, 1, f)).toBe(0);
    expect(decrease(a, BigInt(f))).toBe(1);
    expect(decrease(a, BigInt(f))).toBe(1);
    expect(t.hv.frames.page(f).count).toBe(1);
  });
});

describe("bad pointers and counts", () => {
  it("an unmapped argument pointer: -EFAULT (copy_from_guest)", () => {
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmu_update, 0x10_0000_0000n, 1n, 0n, SELF)).toBe(-EFAULT);
  });
  it("an argument pointer in the hypervisor's range: -EFAULT (guest_handle_okay)", () => {
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmuext_op, 0xffff_8000_0000_0000n, 1n, 0n, SELF)).toBe(-EFAULT);
  });
  it("a misaligned pointer works, as in Xen; one running into an unmapped page is -EFAULT", () => {
    const va = put(t, a, 0x503, u64s(maddr(spare[0]!, 0), 0x1234n));
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmu_update, va, 1n, 0n, SELF)).toBe(0);
    expect(t.mem.read64(maddr(spare[0]!, 0))).toBe(0x1234n);
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmu_update, a.layout.vEnd - 8n, 1n, 0n, SELF)).toBe(-EFAULT);
  });
  it("a PTE pointer whose low bits name no command: -ENOSYS (do_mmu_update)", () => {
    expect(mmuUpdate(t, a, maddr(spare[0]!, 0) | 4n, 0n)).toBe(-ENOSYS);
  });
  it("a huge count reaching the hypervisor's range: -EFAULT (guest_handle_okay)", () => {
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmu_update, 0x7fff_ffff_0000n, 0x7fff_ffffn, 0n, SELF)).toBe(-EFAULT);
  });
  it("a huge nr_extents: 0 done (do_memory_op: too large to encode a continuation)", () => {
    expect(memoryOp(a, XENMEM.populate_physmap, reservation(a, a.scratchVa, 1n << 40n))).toBe(0);
  });
  it("populate_physmap writing its MFNs into a read-only page (the page tables): stops, and writes nothing there (copy_to_guest)", () => {
    const l4Before = t.mem.read(maddr(a.layout.l4Mfn), 4096);
    expect(memoryOp(a, XENMEM.populate_physmap, reservation(a, a.layout.ptBase, 1n))).toBe(0);
    expect(t.mem.read(maddr(a.layout.l4Mfn), 4096)).toEqual(l4Before);
  });
  it("mmu_update's done count aimed at a read-only page is dropped (copy_to_guest fails)", () => {
    const reqs = put(t, a, 0x100, u64s(maddr(spare[0]!, 0), 7n));
    const l4Before = t.mem.read64(maddr(a.layout.l4Mfn, 0));
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmu_update, reqs, 1n, a.layout.ptBase, SELF)).toBe(0);
    expect(t.mem.read64(maddr(a.layout.l4Mfn, 0))).toBe(l4Before);
  });
  it("update_va_mapping of an unmapped address or one in the hypervisor's range: -EINVAL (map_guest_l1e)", () => {
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.update_va_mapping, 0x10_0000_0000n, 0n, 0n)).toBe(-EINVAL);
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.update_va_mapping, 0xffff_8000_0000_1000n, 0n, 0n)).toBe(-EINVAL);
  });
});

describe("other domains and other refusals", () => {
  it("another domain as foreigndom: -EPERM (xsm_mmu_update, xsm_mmuext_op)", () => {
    const reqs = put(t, a, 0x100, u64s(maddr(spare[0]!, 0), 0n));
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmu_update, reqs, 1n, 0n, 2n)).toBe(-EPERM);
    const ops = put(t, a, 0x200, mmuextOp(MMUEXT.PIN_L1_TABLE, BigInt(b.layout.p2m[0]!)));
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmuext_op, ops, 1n, 0n, 2n)).toBe(-EPERM);
  });
  it("DOMID_IO as foreigndom: mapping RAM through it is -EBUSY (get_page_from_l1e: the frame's owner is not DOMID_IO); mmuext_op is -EPERM (xsm_mmuext_op)", () => {
    expect(pin(t, a, 1, spare[0]!)).toBe(0);
    const reqs = put(t, a, 0x100, u64s(maddr(spare[0]!, 0), pte(spare[1]!, P)));
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmu_update, reqs, 1n, 0n, BigInt(xen.DOMID_IO))).toBe(-EBUSY);
    const ops = put(t, a, 0x200, mmuextOp(MMUEXT.TLB_FLUSH_LOCAL, 0n));
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmuext_op, ops, 1n, 0n, BigInt(xen.DOMID_IO))).toBe(-EPERM);
  });

  it("the caller's own domid named explicitly, or an unknown one: -ESRCH (get_pg_owner)", () => {
    const reqs = put(t, a, 0x100, u64s(maddr(spare[0]!, 0), 0n));
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmu_update, reqs, 1n, 0n, 1n)).toBe(-ESRCH);
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.mmu_update, reqs, 1n, 0n, 77n)).toBe(-ESRCH);
  });
  it("NEW_BASEPTR to a frame that is not an L4, or another domain's L4: -EINVAL (new_guest_cr3: get_page_and_type_from_mfn)", () => {
    expect(pin(t, a, 1, spare[0]!)).toBe(0);
    expect(mmuext(t, a, MMUEXT.NEW_BASEPTR, BigInt(spare[0]!))).toBe(-EINVAL);
    expect(mmuext(t, a, MMUEXT.NEW_BASEPTR, BigInt(b.layout.l4Mfn))).toBe(-EINVAL);
    expect(a.d.vcpus[0]!.guestTable).toBe(a.layout.l4Mfn);
  });
  it("CLEAR_PAGE of a page table: -EINVAL (do_mmuext_op: get_page_type writable fails); COPY_PAGE into another domain's frame: -EINVAL", () => {
    expect(mmuext(t, a, MMUEXT.CLEAR_PAGE, BigInt(a.layout.l4Mfn))).toBe(-EINVAL);
    expect(mmuext(t, a, MMUEXT.COPY_PAGE, BigInt(b.layout.p2m[0]!), BigInt(spare[0]!))).toBe(-EINVAL);
  });
  it("an extent_order other than 0: -EINVAL (the issue's rule for unimplemented orders)", () => {
    expect(memoryOp(a, XENMEM.populate_physmap, reservation(a, put(t, a, 0x400, u64s(2000n)), 1n, 1))).toBe(-EINVAL);
  });
  it("increase_reservation stops at max_pages (assign_pages)", () => {
    a.d.maxPages = a.d.totPages + 1;
    expect(memoryOp(a, XENMEM.increase_reservation, reservation(a, put(t, a, 0x400, u64s(0n, 0n, 0n)), 3n))).toBe(1);
  });
  it("another domain's reservation: -EPERM (xsm_memory_stat_reservation); an unknown one: -ESRCH", () => {
    expect(memoryOp(a, XENMEM.current_reservation, put(t, a, 0x400, new Uint8Array([2, 0])))).toBe(-EPERM);
    expect(memoryOp(a, XENMEM.current_reservation, put(t, a, 0x400, new Uint8Array([9, 0])))).toBe(-ESRCH);
    expect(memoryOp(a, XENMEM.current_reservation, put(t, a, 0x400, new Uint8Array([0xf0, 0x7f])))).toBe(a.d.totPages);
  });
  it("an unknown hypercall: -ENOSYS", () => {
    expect(call(t.hv, a.d.vcpus[0]!, 2)).toBe(-ENOSYS);
    expect(call(t.hv, a.d.vcpus[0]!, 1000)).toBe(-ENOSYS);
  });
  it("VCPUOP_initialise twice: -EEXIST; a vCPU that does not exist: -ENOENT; VCPUOP_up before initialise: -EINVAL (common_vcpu_op)", () => {
    const ctx = new Uint8Array(xen.VCPU_GUEST_CONTEXT.SIZE);
    new DataView(ctx.buffer).setBigUint64(xen.VCPU_GUEST_CONTEXT.CTRLREG + 24, maddr(a.layout.l4Mfn), true);
    const va = put(t, a, 0x0, ctx);
    const v = a.d.vcpus[0]!;
    expect(call(t.hv, v, HYPERVISOR.vcpu_op, BigInt(VCPUOP.up), 1n, 0n)).toBe(-EINVAL);
    expect(call(t.hv, v, HYPERVISOR.vcpu_op, BigInt(VCPUOP.initialise), 1n, va)).toBe(0);
    expect(call(t.hv, v, HYPERVISOR.vcpu_op, BigInt(VCPUOP.initialise), 1n, va)).toBe(-EEXIST);
    expect(call(t.hv, v, HYPERVISOR.vcpu_op, BigInt(VCPUOP.initialise), 7n, va)).toBe(-ENOENT);
    expect(call(t.hv, v, HYPERVISOR.vcpu_op, BigInt(VCPUOP.up), 1n, 0n)).toBe(0);
    expect(call(t.hv, v, HYPERVISOR.vcpu_op, BigInt(VCPUOP.is_up), 1n, 0n)).toBe(1);
    expect(t.hv.frames.page(a.layout.l4Mfn).typeCount).toBe(3);
  });
  it("a multicall inside a multicall: -EINVAL as that entry's result (do_multicall)", () => {
    const entry = new Uint8Array(64);
    new DataView(entry.buffer).setBigUint64(0, BigInt(HYPERVISOR.multicall), true);
    const va = put(t, a, 0x600, entry);
    expect(call(t.hv, a.d.vcpus[0]!, HYPERVISOR.multicall, va, 1n)).toBe(0);
    expect(BigInt.asIntN(64, t.mem.read64(a.scratchMa + 0x608n))).toBe(BigInt(-EINVAL));
  });
});
