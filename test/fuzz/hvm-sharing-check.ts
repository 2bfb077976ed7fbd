// SPDX-License-Identifier: MIT
//
// The invariants of memory sharing between HVM domains (issue 19), recounted
// from scratch after every step of the hvm-sharing fuzz surface
// (hvm-sharing.ts): from the frame table, every domain's EPT leaves
// (Ept.entry / Ept.writable, what the hardware walks), mem_sharing's own
// state (MemSharing.shared: handle and rmap per shared frame) and the shadow
// of what each (domain, gfn) must read.
//
// The reference counts (written from mem-sharing.ts and page-ref.ts, and
// what mem-sharing.test.ts's audits agree with):
//
//   shared frame   owned by dom_cow, type shared, validated, allocated;
//                  count = 1 (the allocation reference, which the source
//                  frame keeps) + one per gfn of its rmap; type count = one
//                  per gfn (page_make_sharable and each share or add_physmap
//                  take a general and a shared-type reference; the page
//                  lock holds one more type reference while held); M2P
//                  entry SHARED_M2P_ENTRY
//   private RAM    owned by its domain, count 1 (the allocation reference:
//                  EPT entries take none, as Xen's HVM RAM), no type
//                  references (after page_make_private the type stays
//                  "shared" with count 0, as Xen leaves type_info), not
//                  locked, mapped by exactly one gfn of its domain, M2P
//                  entry that gfn
//   free frame     no owner, no count, no type references, not locked, M2P ~0
//   counters       nr_shared_mfns = shared frames; nr_saved_mfns = the sum
//                  over shared frames of (gfns − 1)
//
// What a held lock hides. A check is skipped only where Xen's own readers
// would have to take a lock that some pCPU holds:
//
//   - a frame whose page lock is held (its rmap, counts and handle are the
//     holder's to change: mem_sharing_page_lock);
//   - the gfns of a domain whose p2m lock is held (get_gfn: the holder may be
//     between the p2m change and the rmap change), and the frames those gfns
//     map, the frames the domain owns (a copy on write's new frame before it
//     is mapped) and the frames its gfns stopped mapping while the lock was
//     held (a routine that reached a frame through the p2m drops its
//     references after unlocking the page, as Xen does);
//   - nr_shared_mfns and nr_saved_mfns while any p2m or page lock is held
//     (Xen updates them with atomics outside the locks);
//   - a frame with no owner and no references that is not free yet, while
//     any p2m lock is held: it is between alloc_heap_pages and assign_pages
//     (a copy on write's new frame) or between free_domheap_pages and
//     free_heap_pages, in the allocator's hands.
//
// Nothing hides what the hardware sees: every leaf's rights match its p2m
// type (ram_shared read-only, ram_rw writable), no leaf maps a free or
// ownerless frame, a writable leaf's frame is mapped by no other leaf and is
// not shared, a frame mapped by two leaves is a shared frame of dom_cow, and
// every (domain, gfn) reads what the shadow says it must (its own last
// write; what it held before a copy on write; the source's content when a
// share or add_physmap made it map the source's frame; its initial content).
// At the end of a case nothing is held, so nothing is skipped.

import type { Domain } from "../../hypervisor/common/domain.ts";
import { PAGE_TYPE_NAMES, PGT } from "../../hypervisor/common/frame-table.ts";
import { maddr } from "../../hypervisor/common/memory.ts";
import type { Hypervisor } from "../../hypervisor/x86/hypervisor.ts";
import type { MemSharing, P2mType } from "../../hypervisor/x86/mem-sharing.ts";
import type { HvmDomain } from "../../hypervisor/x86/hvm/hvm-domain.ts";
import { INVALID_M2P_ENTRY, SHARED_M2P_ENTRY } from "../../hypervisor/x86/public.ts";

export interface SharingWorld {
  hv: Hypervisor;
  ms: MemSharing;
  doms: readonly HvmDomain[];
}

/** Where a page's content id is kept: its first and last 8 bytes (a write stores a token at both). */
export const CONTENT_OFFSETS = [0, 4088] as const;

/** One EPT leaf as the hardware walks it and the p2m reads it. */
export interface Leaf {
  h: HvmDomain;
  gfn: number;
  mfn: number;
  type: P2mType;
  writable: boolean;
}

/** What one check saw: the leaves, who maps each frame, and what the locks hide. */
export interface Snapshot {
  leaves: Leaf[];
  mappers: Map<number, Leaf[]>;
  lockedDomains: Set<Domain>;
  /** Frames whose checks are skipped (the header's rule). */
  hidden: Set<number>;
  /** Does any pCPU hold a p2m or page lock? */
  anyLock: boolean;
}

export const hex = (v: number | bigint) => `0x${v.toString(16)}`;
export const gfnKey = (d: Domain, gfn: number) => `d${d.domid}:${hex(gfn)}`;
const leafName = (l: Leaf) => `${gfnKey(l.h.domain, l.gfn)} (${l.type}, ${l.writable ? "writable" : "read-only"})`;

/** Every leaf of every domain over [0, max_pages): what the guests can reach. */
export function readLeaves(w: SharingWorld): Leaf[] {
  const out: Leaf[] = [];
  for (const h of w.doms) {
    for (let gfn = 0; gfn < h.domain.maxPages; gfn++) {
      const e = h.ept.entry(gfn);
      if (e) out.push({ h, gfn, mfn: e.mfn, type: e.type, writable: h.ept.writable(gfn) });
    }
  }
  return out;
}

function mappersOf(leaves: readonly Leaf[]): Map<number, Leaf[]> {
  const m = new Map<number, Leaf[]>();
  for (const l of leaves) {
    const list = m.get(l.mfn);
    if (list) list.push(l);
    else m.set(l.mfn, [l]);
  }
  return m;
}

/** The content id a frame holds, or a note that its two copies disagree. */
export function contentOf(hv: Hypervisor, mfn: number): bigint | string {
  const [a, b] = CONTENT_OFFSETS.map((o) => hv.mem.read64(maddr(mfn, o)));
  return a === b ? a! : `torn content ${hex(a!)} / ${hex(b!)}`;
}

/**
 * The shadow: what each (domain, gfn) must read, kept step by step. A guest
 * write sets it; a leaf that moves to a frame other leaves mapped before
 * (share_pages, add_to_physmap) takes their content; a leaf that moves to
 * a frame nobody mapped (the copy on write) keeps it.
 */
export class Shadow {
  readonly expected = new Map<string, bigint>();
  private prev = new Map<string, Leaf>();
  private prevMappers = new Map<number, Leaf[]>();
  /** Frames a domain's gfns stopped mapping while some pCPU held its p2m lock. */
  private readonly touched = new Map<Domain, Set<number>>();

  constructor(private readonly w: SharingWorld) {}

  /** Starts from the built domains: each leaf's content is its expected content. */
  start(): void {
    const leaves = readLeaves(this.w);
    for (const l of leaves) {
      const c = contentOf(this.w.hv, l.mfn);
      if (typeof c === "bigint") this.expected.set(gfnKey(l.h.domain, l.gfn), c);
    }
    this.remember(leaves);
  }

  private remember(leaves: readonly Leaf[]): void {
    this.prev = new Map(leaves.map((l) => [gfnKey(l.h.domain, l.gfn), l]));
    this.prevMappers = mappersOf(leaves);
  }

  /** Reads the world after a step, follows the leaves that moved, and says what the locks hide. Problems of leaves that vanished go to `problems`. */
  observe(problems: string[]): Snapshot {
    const { hv, ms } = this.w;
    const leaves = readLeaves(this.w);
    const mappers = mappersOf(leaves);
    const lockedDomains = new Set(this.w.doms.map((h) => h.domain).filter((d) => ms.p2mLockHolder(d) >= 0));
    for (const d of [...this.touched.keys()]) if (!lockedDomains.has(d)) this.touched.delete(d);
    const seen = new Set<string>();
    for (const l of leaves) {
      const k = gfnKey(l.h.domain, l.gfn);
      seen.add(k);
      const before = this.prev.get(k);
      if (before?.mfn === l.mfn) continue;
      if (before && lockedDomains.has(l.h.domain)) {
        let t = this.touched.get(l.h.domain);
        if (!t) this.touched.set(l.h.domain, (t = new Set()));
        t.add(before.mfn);
      }
      const older = (this.prevMappers.get(l.mfn) ?? []).filter((o) => o.h !== l.h || o.gfn !== l.gfn);
      if (older.length) {
        const from = this.expected.get(gfnKey(older[0]!.h.domain, older[0]!.gfn));
        if (from !== undefined) this.expected.set(k, from);
      } else if (!before) {
        problems.push(`${k} now maps MFN ${hex(l.mfn)}, which no leaf mapped before: its content comes from nowhere`);
      }
    }
    for (const k of this.prev.keys()) if (!seen.has(k)) problems.push(`${k} lost its EPT leaf (it mapped MFN ${hex(this.prev.get(k)!.mfn)})`);
    this.remember(leaves);

    const hidden = new Set<number>();
    let anyLock = lockedDomains.size > 0;
    for (const p of hv.frames.all()) {
      if (p.locked) {
        hidden.add(p.mfn);
        anyLock = true;
      } else if (p.owner && lockedDomains.has(p.owner)) hidden.add(p.mfn);
    }
    for (const l of leaves) if (lockedDomains.has(l.h.domain)) hidden.add(l.mfn);
    for (const t of this.touched.values()) for (const mfn of t) hidden.add(mfn);
    return { leaves, mappers, lockedDomains, hidden, anyLock };
  }
}

/** A frame in words, for reports. */
export function describeFrame(w: SharingWorld, snap: Snapshot | undefined, mfn: number): string {
  const p = w.hv.frames.lookup(mfn);
  if (!p) return `MFN ${hex(mfn)}: not in the frame table`;
  const owner = p.free ? "free" : p.owner === w.ms.domCow ? "dom_cow" : p.owner ? `d${p.owner.domid}` : "no owner";
  const s = w.ms.shared.get(mfn);
  const sharing = s ? `, handle ${s.handle} rmap [${s.rmap.map((g) => `d${g.domid}:${hex(g.gfn)}`).join(", ")}]` : "";
  const by = snap?.mappers.get(mfn)?.map(leafName).join(", ") ?? "?";
  return `MFN ${hex(mfn)}: ${owner}, count ${p.count}${p.allocated ? " (allocated)" : ""}, type ${PAGE_TYPE_NAMES[p.type]}×${p.typeCount}` +
    `${p.validated ? "" : " (not validated)"}${p.locked ? `, locked by pCPU ${p.lockedBy}` : ""}${sharing}, mapped by [${by}]`;
}

/**
 * Every broken invariant of the header, skipping what the snapshot's locks
 * hide; `expected` is the shadow's content per (domain, gfn).
 */
export function checkSharing(w: SharingWorld, snap: Snapshot, expected: ReadonlyMap<string, bigint>): string[] {
  const { hv, ms } = w;
  const out: string[] = [];
  const hidden = (mfn: number) => snap.hidden.has(mfn);
  const eptTables = new Set(w.doms.flatMap((h) => h.ept.tables));

  // What the hardware sees: no lock hides it.
  for (const l of snap.leaves) {
    const k = gfnKey(l.h.domain, l.gfn);
    if (l.type !== "ram_rw" && l.type !== "ram_shared") out.push(`${leafName(l)} has a p2m type no RAM gfn takes`);
    if (l.writable !== (l.type === "ram_rw")) out.push(`${leafName(l)}: the rights do not match the p2m type`);
    const p = hv.frames.lookup(l.mfn);
    if (!p || p.free || !p.owner || p.count < 1) {
      out.push(`${leafName(l)} maps MFN ${hex(l.mfn)}, which is ${!p ? "outside the frame table" : "free or has no owner or references"}`);
      continue;
    }
    const by = snap.mappers.get(l.mfn)!;
    if (l.writable && (by.length > 1 || ms.shared.has(l.mfn))) {
      out.push(`${leafName(l)} maps MFN ${hex(l.mfn)} writable, and it is ${ms.shared.has(l.mfn) ? "a shared frame" : `mapped by ${by.length - 1} other leaves too`}`);
    }
    if (by.length > 1 && by[0] === l && (!ms.shared.has(l.mfn) || p.owner !== ms.domCow)) {
      out.push(`MFN ${hex(l.mfn)} is mapped by ${by.length} leaves but is not a shared frame of dom_cow`);
    }
    const want = expected.get(k);
    const got = contentOf(hv, l.mfn);
    if (want === undefined) out.push(`${k} maps MFN ${hex(l.mfn)} with no content it should hold`);
    else if (got !== want) out.push(`${k} reads ${typeof got === "bigint" ? hex(got) : got} from MFN ${hex(l.mfn)}, not ${hex(want)}: a domain sees what it should not`);
  }

  // The shared frames: owner, type, counts, M2P and rmap.
  const handles = new Map<bigint, number>();
  for (const [mfn, info] of ms.shared) {
    const p = hv.frames.lookup(mfn);
    if (!p) {
      out.push(`the sharing list names MFN ${hex(mfn)}, outside the frame table`);
      continue;
    }
    const other = handles.get(info.handle);
    if (other !== undefined) out.push(`MFNs ${hex(other)} and ${hex(mfn)} have the same handle ${info.handle}`);
    handles.set(info.handle, mfn);
    if (hidden(mfn)) continue;
    const n = info.rmap.length;
    if (p.owner !== ms.domCow || p.type !== PGT.shared || !p.validated || !p.allocated || p.free) out.push(`shared ${describeFrame(w, snap, mfn)} is not a validated, allocated shared frame of dom_cow`);
    if (p.count !== 1 + n || p.typeCount !== n) out.push(`shared ${describeFrame(w, snap, mfn)}: ${n} gfns need count ${1 + n} and ${n} type references`);
    if (hv.getGpfnFromMfn(mfn) !== SHARED_M2P_ENTRY) out.push(`shared MFN ${hex(mfn)} has M2P entry ${hex(hv.getGpfnFromMfn(mfn))}`);
    if (!n) out.push(`shared MFN ${hex(mfn)} backs no gfn`);
    const names = new Set<string>();
    for (const g of info.rmap) {
      const d = hv.domains.get(g.domid);
      const k = `d${g.domid}:${hex(g.gfn)}`;
      if (names.has(k)) out.push(`shared MFN ${hex(mfn)} names ${k} twice`);
      names.add(k);
      if (!d) {
        out.push(`shared MFN ${hex(mfn)}'s rmap names d${g.domid}, which does not exist`);
        continue;
      }
      if (snap.lockedDomains.has(d)) continue;
      const e = ms.p2m.get(d, g.gfn);
      const h = w.doms.find((x) => x.domain === d)!;
      if (e.mfn !== mfn || e.type !== "ram_shared" || h.ept.writable(g.gfn)) {
        out.push(`${k} is in the rmap of shared ${describeFrame(w, snap, mfn)} but the p2m has ${e.type} MFN ${hex(e.mfn)}${h.ept.writable(g.gfn) ? ", writable" : ""}`);
      }
    }
    for (const l of snap.mappers.get(mfn) ?? []) {
      if (!snap.lockedDomains.has(l.h.domain) && !names.has(gfnKey(l.h.domain, l.gfn))) out.push(`${leafName(l)} maps shared MFN ${hex(mfn)} but is not in its rmap`);
    }
  }

  // Every leaf of an unlocked domain: a shared leaf is in its frame's rmap.
  for (const l of snap.leaves) {
    if (snap.lockedDomains.has(l.h.domain) || hidden(l.mfn) || l.type !== "ram_shared") continue;
    if (!ms.shared.has(l.mfn)) out.push(`${leafName(l)} maps MFN ${hex(l.mfn)}, which is not shared`);
  }

  // Every frame: free, a shared frame, or private RAM mapped once by its owner.
  for (const p of hv.frames.all()) {
    if (hidden(p.mfn) || eptTables.has(p.mfn) || p.owner === hv.domXen) continue;
    if (p.free) {
      if (p.owner || p.count || p.typeCount || p.locked || p.allocated || hv.getGpfnFromMfn(p.mfn) !== INVALID_M2P_ENTRY) out.push(`free ${describeFrame(w, snap, p.mfn)} is owned, counted, typed, locked or in the M2P`);
      continue;
    }
    if (p.owner === ms.domCow) {
      if (!ms.shared.has(p.mfn)) out.push(`${describeFrame(w, snap, p.mfn)} belongs to dom_cow but is not in the sharing list (leaked)`);
      continue;
    }
    const h = w.doms.find((x) => x.domain === p.owner);
    if (!h) {
      // Between alloc_heap_pages and assign_pages (a copy on write's new frame), or free_domheap_pages and free_heap_pages:
      // in the allocator's hands, unreferenced; only a routine under a p2m lock allocates or frees here.
      const inAllocator = !p.owner && !p.count && !p.typeCount && !p.allocated && !p.locked;
      if (!inAllocator || !snap.lockedDomains.size) out.push(`${describeFrame(w, snap, p.mfn)} is neither free nor owned by a domain`);
      continue;
    }
    const by = snap.mappers.get(p.mfn) ?? [];
    if (by.length !== 1 || by[0]!.h !== h || by[0]!.type !== "ram_rw") out.push(`private ${describeFrame(w, snap, p.mfn)} is not mapped once, ram_rw, by its owner`);
    if (p.count !== 1 || !p.allocated || p.typeCount !== 0 || p.locked) out.push(`private ${describeFrame(w, snap, p.mfn)} should have count 1 (allocated) and no type references`);
    if (by.length === 1 && hv.getGpfnFromMfn(p.mfn) !== BigInt(by[0]!.gfn)) out.push(`private MFN ${hex(p.mfn)} has M2P entry ${hex(hv.getGpfnFromMfn(p.mfn))}, not its gfn ${hex(by[0]!.gfn)}`);
  }

  // Each domain's frames add up (each change is one step, so no lock hides it).
  for (const h of w.doms) {
    const d = h.domain;
    let owned = 0;
    for (const mfn of d.pageList) if (hv.frames.lookup(mfn)?.owner === d) owned++;
    if (owned !== d.pageList.size || d.totPages !== d.pageList.size || d.totPages > d.maxPages) {
      out.push(`d${d.domid}: tot_pages ${d.totPages}, page list ${d.pageList.size} (${owned} owned), max_pages ${d.maxPages}`);
    }
  }
  if (!snap.anyLock) out.push(...countersProblems(ms));
  return out;
}

/** nr_shared_mfns and nr_saved_mfns against a recount of the sharing list. */
export function countersProblems(ms: MemSharing): string[] {
  let saved = 0;
  for (const info of ms.shared.values()) saved += info.rmap.length - 1;
  if (ms.nrSharedMfns !== ms.shared.size || ms.nrSavedMfns !== saved) {
    return [`nr_shared_mfns ${ms.nrSharedMfns} and nr_saved_mfns ${ms.nrSavedMfns}; the sharing list recounts ${ms.shared.size} and ${saved}`];
  }
  return [];
}

/** A leaf's frame that a landing write must own alone: the other leaves mapping it (any domain, locked or not). */
export function otherMappers(w: SharingWorld, h: HvmDomain, gfn: number, mfn: number): string[] {
  return readLeaves(w).filter((l) => l.mfn === mfn && (l.h !== h || l.gfn !== gfn)).map(leafName);
}

/** The frames a problem names (for the report). */
export function framesNamed(text: string): number[] {
  return [...new Set([...text.matchAll(/MFN (0x[0-9a-f]+)/g)].map((m) => Number(m[1])))].slice(0, 3);
}

