// SPDX-License-Identifier: MIT
//
// The recount checker: recomputes from scratch, from the page tables in
// machine memory, every reference the frame table says exists, and reports
// where they differ or where isolation is broken. The property tests run it
// after every hypercall; the sanitizer can run it at quiet points (it assumes
// no routine is half-way, since a routine holds transient references).
//
// What it checks:
//   - no writable mapping of a frame typed as a page table;
//   - no mapping of a frame the table's owner does not own, and none of a freed frame;
//   - every general count, type count and linear count equals the recount;
//   - no free frame is owned, counted, typed, pinned or locked, and its M2P entry is ~0;
//   - each domain's frames add up to its tot_pages, within max_pages;
//   - every validated L4 holds the hypervisor's slots 256..271 unchanged.

import { isPageTableType, PAGE_TYPE_NAMES, PGT, type PageInfo } from "../common/frame-table.ts";
import { maddr, PAGE_SIZE } from "../common/memory.ts";
import type { Hypervisor } from "./hypervisor.ts";
import { DISALLOW_MASK, isGuestL4Slot, ROOT_PAGETABLE_FIRST_XEN_SLOT } from "./pte.ts";

const hex = (n: number) => `0x${n.toString(16)}`;
const add = (a: Float64Array, i: number, by: number) => {
  a[i] = a[i]! + by;
};

/** Every place the frame table and the page tables disagree, or isolation is broken; empty when all is well. */
export function recount(hv: Hypervisor): string[] {
  const problems: string[] = [];
  const frames = hv.frames;
  const first = frames.firstMfn;
  const n = frames.nrFrames;
  const { count, typeCount, linear, m2p } = scratchFor(hv);
  const pages = frames.all();
  const at = (mfn: number) => mfn - first;
  // The M2P in one read per frame: entry m is words[2m], words[2m + 1].
  hv.xenArea.m2pMfns.forEach((mfn, i) => m2p.set(new Uint32Array(hv.mem.read(maddr(mfn), PAGE_SIZE).buffer), i * (PAGE_SIZE / 4)));

  // How many frames name each domain as owner; with the page-list check below, the two agree.
  const owned = new Map<object, number>();
  for (const d of hv.domains.values()) owned.set(d, 0);
  for (let i = 0; i < n; i++) {
    const p = pages[i]!;
    if (p.free) {
      if (p.owner || p.count || p.typeCount || p.pinned || p.locked || p.allocated) {
        problems.push(`free frame ${hex(p.mfn)} is still owned, counted, typed, pinned or locked (count ${p.count}, type count ${p.typeCount})`);
      }
      if (m2p[2 * p.mfn] !== 0xffff_ffff || m2p[2 * p.mfn + 1] !== 0xffff_ffff) problems.push(`free frame ${hex(p.mfn)} has M2P entry ${hv.getGpfnFromMfn(p.mfn)}, not ~0`);
      continue;
    }
    const owner = p.owner;
    if (!owner) {
      problems.push(`frame ${hex(p.mfn)} is neither free nor owned`);
      continue;
    }
    if (owner === hv.domXen) continue;
    const k = owned.get(owner);
    if (k === undefined) problems.push(`frame ${hex(p.mfn)} is owned by d${owner.domid}, which the hypervisor does not know`);
    else owned.set(owner, k + 1);
    count[i] = (p.allocated ? 1 : 0) + (p.pinned ? 1 : 0);
    typeCount[i] = (p.pinned ? 1 : 0) + (p.locked ? 1 : 0);
    if (p.type !== PGT.none && p.type !== PGT.writable) {
      if (p.pinned && !isPageTableType(p.type)) problems.push(`frame ${hex(p.mfn)} is pinned as ${PAGE_TYPE_NAMES[p.type]}`);
      if (p.typeCount > 0 && !p.validated) problems.push(`page table ${hex(p.mfn)} has type references but is not validated`);
    } else if (p.pinned) problems.push(`frame ${hex(p.mfn)} is pinned as ${PAGE_TYPE_NAMES[p.type]}`);
  }

  for (const d of hv.domains.values()) {
    let listed = 0;
    for (const mfn of d.pageList) if (frames.lookup(mfn)?.owner === d) listed++;
    if (listed !== d.pageList.size) problems.push(`d${d.domid}'s page list names ${d.pageList.size - listed} frames it does not own`);
    if ((owned.get(d) ?? 0) !== d.pageList.size) problems.push(`d${d.domid} owns ${owned.get(d) ?? 0} frames but its page list has ${d.pageList.size}`);
    if (d.totPages !== d.pageList.size) problems.push(`d${d.domid} has tot_pages ${d.totPages} but owns ${d.pageList.size} frames`);
    if (d.totPages > d.maxPages) problems.push(`d${d.domid} owns ${d.totPages} frames, over its max_pages ${d.maxPages}`);
    for (const v of d.vcpus) {
      if (!v.guestTable) continue;
      const t = frames.lookup(v.guestTable);
      if (!t || t.owner !== d || t.type !== PGT.l4) {
        problems.push(`d${d.domid} vCPU ${v.vcpuId}'s CR3 ${hex(v.guestTable)} is not an L4 of its own`);
        continue;
      }
      add(count, at(t.mfn), 1);
      add(typeCount, at(t.mfn), 1);
    }
  }

  for (const p of pages) {
    if (p.free || p.owner === hv.domXen || !isPageTableType(p.type) || !p.validated) continue;
    scanTable(hv, p, { count, typeCount, linear }, problems);
  }

  for (const p of pages) {
    if (p.free || p.owner === hv.domXen) continue;
    const i = at(p.mfn);
    if (p.count !== count[i]) problems.push(`frame ${hex(p.mfn)} (d${p.owner?.domid}, ${PAGE_TYPE_NAMES[p.type]}) has count ${p.count}; the recount finds ${count[i]}`);
    if (p.typeCount !== typeCount[i]) problems.push(`frame ${hex(p.mfn)} (d${p.owner?.domid}, ${PAGE_TYPE_NAMES[p.type]}) has type count ${p.typeCount}; the recount finds ${typeCount[i]}`);
    if (p.linearPtCount !== linear[i]) problems.push(`frame ${hex(p.mfn)} has linear_pt_count ${p.linearPtCount}; the recount finds ${linear[i]}`);
    if (p.count === 0) problems.push(`frame ${hex(p.mfn)} has no references but is not free`);
  }
  return problems;
}

interface Scratch {
  count: Float64Array;
  typeCount: Float64Array;
  linear: Float64Array;
  m2p: Uint32Array;
}
const scratch = new WeakMap<Hypervisor, Scratch>();

/** The recount's tallies for this hypervisor, zeroed (kept between calls: the property tests recount after every hypercall). */
function scratchFor(hv: Hypervisor): Scratch {
  let s = scratch.get(hv);
  if (!s) {
    const n = hv.frames.nrFrames;
    s = { count: new Float64Array(n), typeCount: new Float64Array(n), linear: new Float64Array(n), m2p: new Uint32Array(hv.xenArea.m2pMfns.length * (PAGE_SIZE / 4)) };
    scratch.set(hv, s);
  } else {
    s.count.fill(0);
    s.typeCount.fill(0);
    s.linear.fill(0);
  }
  return s;
}

interface Tally {
  count: Float64Array;
  typeCount: Float64Array;
  linear: Float64Array;
}

/** The references one validated table's present entries hold. */
function scanTable(hv: Hypervisor, p: PageInfo, tally: Tally, problems: string[]): void {
  const level = p.type as 1 | 2 | 3 | 4;
  const words = new Uint32Array(hv.mem.read(maddr(p.mfn), PAGE_SIZE).buffer);
  const owner = p.owner!;
  const frames = hv.frames;
  const where = (i: number) => `${PAGE_TYPE_NAMES[level]} ${hex(p.mfn)} (d${owner.domid}) slot ${i}`;
  if (level === 4) {
    hv.xenArea.l4Slots.forEach((e, k) => {
      const i = ROOT_PAGETABLE_FIRST_XEN_SLOT + k;
      const got = BigInt(words[2 * i]!) | (BigInt(words[2 * i + 1]!) << 32n);
      if (got !== e) problems.push(`${where(i)}: the hypervisor's slot holds 0x${got.toString(16)}, not 0x${e.toString(16)}`);
    });
  }
  for (let i = 0; i < 512; i++) {
    const lo = words[2 * i]!;
    if (!(lo & 1)) continue;
    if (level === 4 && !isGuestL4Slot(i)) continue;
    const hi = words[2 * i + 1]!;
    const flags = (lo & 0xfff) | ((hi >>> 20) << 12);
    const mfn = (lo >>> 12) + (hi & 0xf_ffff) * 0x10_0000;
    const rw = (lo & 2) !== 0;
    if (flags & DISALLOW_MASK[level]) problems.push(`${where(i)}: disallowed flags 0x${(flags & DISALLOW_MASK[level]).toString(16)}`);
    if (level > 1 && mfn === p.mfn) {
      if (rw) problems.push(`${where(i)}: maps its own table writable`);
      continue;
    }
    const t = frames.lookup(mfn);
    if (!t) {
      problems.push(`${where(i)}: maps MFN ${hex(mfn)}, outside the frame table`);
      continue;
    }
    if (t.free) {
      problems.push(`${where(i)}: maps freed frame ${hex(mfn)}`);
      continue;
    }
    if (t.owner !== owner) {
      problems.push(`${where(i)}: maps frame ${hex(mfn)} of ${t.owner ? `d${t.owner.domid}` : "nobody"}`);
      continue;
    }
    const k = mfn - frames.firstMfn;
    add(tally.count, k, 1);
    if (level === 1) {
      if (rw) {
        add(tally.typeCount, k, 1);
        if (t.type !== PGT.writable) problems.push(`${where(i)}: maps ${PAGE_TYPE_NAMES[t.type]} frame ${hex(mfn)} writable`);
      }
      continue;
    }
    add(tally.typeCount, k, 1);
    if (t.type === level) {
      // A linear entry: read-only, to an already-validated table of the same level.
      if (rw) problems.push(`${where(i)}: linear entry to ${hex(mfn)} is writable`);
      add(tally.linear, k, -1);
      add(tally.linear, p.mfn - frames.firstMfn, 1);
    } else if (t.type !== level - 1) {
      problems.push(`${where(i)}: points at ${PAGE_TYPE_NAMES[t.type]} frame ${hex(mfn)}, not an ${PAGE_TYPE_NAMES[(level - 1) as 1 | 2 | 3]}`);
    }
  }
}
