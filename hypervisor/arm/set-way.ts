// SPDX-License-Identifier: MIT
//
// Set/way emulation (mechanisms §4.4; Xen's p2m_set_way_flush,
// p2m_toggle_cache, p2m_flush_vm in xen/arch/arm/mmu/p2m.c, f253e88bec).
// Set/way operations act on one pCPU's caches and never on the system
// cache, so a guest's "clean everything" loop cannot be passed through once
// its vCPU can migrate: HCR_EL2.TSW traps it, and the first trapped
// operation of a batch asks for the whole p2m to be cleaned to the point of
// coherency before the vCPU runs again (need_flush_to_ram), with TVM on so
// that the guest turning its caches on or off is seen too.
//
//   trap                           state change
//   DC ISW/CSW/CISW, TVM clear     need_flush_to_ram ← 1, TVM ← 1
//   DC ISW/CSW/CISW, TVM set       nothing: the batch's flush is asked for already
//   write of a TVM register        the write; if "caches on" (SCTLR_EL1.M && C)
//                                  changed, need_flush_to_ram ← 1; if the caches
//                                  are now on, TVM ← 0
//   way back to the guest          check_for_vcpu_work: p2m_flush_vm when
//                                  need_flush_to_ram, then need_flush_to_ram ← 0
//
// p2m_flush_vm cleans and invalidates every valid RAM page between the
// lowest and the highest mapped GFN (a page whose valid bit is 0 was not
// touched since it was last cleaned and is skipped). It runs as steps of
// its own, one per 512 cost units (a page cleaned 10, an entry skipped 1),
// which is where Xen checks for softirqs; when one is pending the vCPU
// gives its pCPU up there and the flush goes on from the same GFN wherever
// the vCPU runs next (Arm Xen has per-vCPU stacks).
//
// Which valid bits a flush clears, and when, is what makes the valid-bit
// tracking (Xen 2148a125b7) safe or not with several vCPUs. Xen clears them
// all at the end, after the whole clean (p2m_invalidate_root): a page
// another vCPU dirties between this flush's clean of it and that moment is
// left dirty with its valid bit 0, and the next flush skips it
// (hypervisor/README.md, "Trapped set/way is not clean with concurrent
// vCPUs"). The trap and trap-inline policies instead clear the leaf valid
// bits of the pages each chunk of work (the entries between two softirq
// checks, one step) cleans, and flush the VMID's TLB entries on every pCPU
// (TLBI VMALLS12E1IS), in the same step; there is no root invalidation at
// the end, which would hide pages made valid again since. That keeps this
// invariant at every step boundary:
//
//   a page some cache (a pCPU's L1 or the system cache) holds a dirty line
//   of has a valid stage-2 path, and no TLB holds a translation for a page
//   whose path is invalid.
//
// A guest store needs a translation, so it can dirty only a page whose
// path is valid; p2m_resolve_translation_fault only sets valid bits (and
// clears those below an entry that was invalid, whose pages were
// unreachable); a chunk leaves each page it touches clean and invalid, with
// no TLB entry for it left anywhere. So a page a flush skips is clean
// (sanitizer event (c) cannot fire), a page dirtied after a chunk cleaned
// it faulted first and is valid again for the next flush, and whichever
// vCPU's flush comes after a store cleans it. On hardware the chunk's
// order matters, since the other pCPUs run during it: the leaves are
// cleared, then DSB ISHST and TLBI VMALLS12E1IS and DSB ISH, then the pages
// cleaned, so that a store either lands before the clean (and is cleaned)
// or faults (and revalidates the page); this model's chunk is one step,
// but is written in that order.
//
// The --set-way policies:
//
//   trap          the above: Xen's flush with the valid bits cleared per chunk (default)
//   trap-inline   the same flush inside the trap handler, to its end, with
//                 no preemption point (correct, but a long stretch in EL2)
//   trap-xen      Xen's p2m_flush_vm as written (f253e88bec): valid bits
//                 cleared at the root after the whole clean; with vCPUs
//                 flushing concurrently a page dirtied in between is left
//                 dirty and invalid (shootdown found this)
//   passthrough   TSW clear: the guest's set/way operations act on the
//                 pCPU it happens to run on (Xen before the fix)

import type { ArmCpu } from "../../emulator/machine/cpu/arm-cpu.ts";
import type { StepLabel } from "../../emulator/machine/core/exits.ts";
import type { P2m } from "./p2m.ts";
import { HCR_TVM, type ArmVcpu } from "./vcpu.ts";

/** SCTLR_EL1.M and C: "caches on" for a vCPU (vcpu_has_cache_enabled). */
const SCTLR_M = 1n << 0n;
const SCTLR_C = 1n << 2n;
const cachesEnabled = (sctlr: bigint) => (sctlr & (SCTLR_M | SCTLR_C)) === (SCTLR_M | SCTLR_C);

/** p2m_cache_flush_range's budget between two softirq checks, and what each entry costs of it. */
export const FLUSH_CHECK_COST = 512;
export const FLUSH_PAGE_COST = 10;
export const FLUSH_SKIP_COST = 1;

/**
 * When p2m_flush_vm clears the valid bits: with each chunk, for the pages
 * it cleans (trap, trap-inline), or at the root after the whole clean, as
 * Xen does (trap-xen).
 */
export type ValidBitClearing = "per-chunk" | "root-at-end";

export interface SetWayContext {
  p2m: P2m;
  clearing: ValidBitClearing;
  cpus: readonly ArmCpu[];
  /** Counts one event for the summary ("set/way trap", "p2m flush" …). */
  count(what: string): void;
  /** Cleans and invalidates one machine page to the point of coherency; whether a cache held a line of it. */
  cleanPage(mfn: number): boolean;
  /**
   * The sanitizer's event (c): p2m_cache_flush_range skips the GFNs
   * [first, first + count) because a valid bit on their path is 0; it
   * reports those of them some cache holds dirty lines of.
   */
  skipped(cpu: ArmCpu, a: ArmVcpu, first: number, count: number): void;
  /**
   * The work a flush did in one step: `pages` cleaned to PoC, `skipped`
   * entries passed over, `tlbis` TLBI VMALLS12E1IS broadcast (for the cost
   * model and traces).
   */
  cleaned(cpu: ArmCpu, pages: number, skipped: number, tlbis: number): void;
  /** softirq_pending at a flush's check: must vCPU a give pCPU cpu up now (another vCPU waits, or it migrates)? */
  softirqPending(cpu: ArmCpu, a: ArmVcpu): boolean;
}

/** p2m_set_way_flush: a trapped DC ISW/CSW/CISW of vCPU a. */
export function p2mSetWayFlush(c: SetWayContext, a: ArmVcpu): void {
  c.count("set/way trap");
  if (a.hcr & HCR_TVM) return;
  a.needFlushToRam = true;
  a.hcr |= HCR_TVM;
}

/** A trapped write of a TVM register by vCPU a on `cpu`: the write itself, then p2m_toggle_cache. */
export function p2mToggleCache(c: SetWayContext, cpu: ArmCpu, a: ArmVcpu, register: string, value: bigint): void {
  c.count("TVM trap");
  const was = cachesEnabled(cpu.registers.sctlr_el1);
  writeTvmRegister(cpu, register, value);
  const now = cachesEnabled(cpu.registers.sctlr_el1);
  if (was !== now) a.needFlushToRam = true;
  if (now) a.hcr &= ~HCR_TVM;
}

/** The registers TVM traps, written as the guest's MSR would have written them. */
function writeTvmRegister(cpu: ArmCpu, register: string, value: bigint): void {
  switch (register) {
    case "sctlr_el1": case "ttbr0_el1": case "ttbr1_el1": case "tcr_el1": case "mair_el1":
      cpu.setRegisters({ [register]: value });
      return;
    case "esr_el1": case "far_el1": case "contextidr_el1":
      cpu.setState({ [register]: value });
      return;
    default:
      // AFSR0/1_EL1 and AMAIR_EL1 hold only what software writes: the software-only register block.
      cpu.writePlain(register, value);
  }
}

/** What check_for_vcpu_work did: nothing to do, the work done, or the vCPU must give its pCPU up first (softirq pending). */
export type VcpuWork = "none" | "done" | "preempted";

/**
 * check_for_vcpu_work: the work vCPU a must finish before it runs guest
 * code again. leave_hypervisor_to_guest asks again until it says "none";
 * "preempted" means a softirq wants the pCPU: the vCPU leaves it with the
 * work half done (need_flush_to_ram still set) and goes on wherever it
 * runs next.
 */
export function* checkForVcpuWork(c: SetWayContext, cpu: ArmCpu, a: ArmVcpu): Generator<StepLabel, VcpuWork, void> {
  if (!a.needFlushToRam) return "none";
  return (yield* p2mFlushVm(c, cpu, a, true)) ? "done" : "preempted";
}

/**
 * p2m_flush_vm: the p2m cleaned to PoC from where a preempted flush stopped
 * (or the lowest mapped GFN), chunk by chunk (p2mCacheFlushChunk), then,
 * under trap-xen, the root invalidated and the VMID's TLB entries dropped;
 * then need_flush_to_ram cleared. Returns false when it stopped at a
 * softirq check (only when `preemptible`; the trap-inline policy runs it
 * to the end in the trap).
 */
export function* p2mFlushVm(c: SetWayContext, cpu: ArmCpu, a: ArmVcpu, preemptible: boolean): Generator<StepLabel, boolean, void> {
  const p2m = c.p2m;
  const first = a.flushResumeGfn ?? p2m.lowestMappedGfn ?? 0;
  const last = p2m.maxMappedGfn ?? -1;
  if (a.flushResumeGfn === undefined) c.count("p2m flush");
  yield { what: `p2m_flush_vm: ${a.name} cleans GFNs 0x${first.toString(16)}-0x${last.toString(16)} to PoC` };
  for (let gfn = first; gfn <= last;) {
    gfn = p2mCacheFlushChunk(c, cpu, a, gfn, last);
    if (gfn > last) break;
    // p2m_cache_flush_range's softirq check: -ERESTART with the place kept, and do_softirq may deschedule the vCPU.
    yield { what: `p2m_cache_flush_range: ${a.name} at GFN 0x${(gfn - 1).toString(16)}, softirq check` };
    if (preemptible && c.softirqPending(cpu, a)) {
      a.flushResumeGfn = gfn;
      c.count("p2m flush: preemptions");
      return false;
    }
  }
  a.flushResumeGfn = undefined;
  if (c.clearing === "root-at-end") {
    yield { what: `p2m_invalidate_root: ${a.name}` };
    p2m.invalidateRoot();
    // p2m_force_tlb_flush_sync: TLBI VMALLS12E1IS with the domain's VTTBR loaded (it is: the vCPU runs here).
    cpu.tlbi("VMALLS12E1IS");
    p2m.needFlush = false;
    c.count("p2m flush: TLB flushes");
    c.cleaned(cpu, 0, 0, 1);
  }
  a.needFlushToRam = false;
  return true;
}

/**
 * One chunk of p2m_cache_flush_range, the work between two softirq checks
 * (one step): from `gfn`, one p2m_get_entry per block (an entry whose valid
 * bit is 0 skips everything it maps, gfn_next_boundary, cost 1; a valid
 * page costs 10) until the cost reaches FLUSH_CHECK_COST or the range
 * ends. The valid pages found are cleaned to PoC; under the per-chunk
 * clearing their leaves are made invalid and the VMID's TLB entries
 * flushed first (the file's comment says why, and why in that order).
 * Returns the GFN the next chunk starts from.
 */
function p2mCacheFlushChunk(c: SetWayContext, cpu: ArmCpu, a: ArmVcpu, from: number, last: number): number {
  const p2m = c.p2m;
  const valid: { gfn: number; mfn: number }[] = [];
  let cost = 0;
  let skipped = 0;
  let gfn = from;
  for (; gfn <= last && cost < FLUSH_CHECK_COST; gfn++) {
    const e = p2m.getEntry(gfn);
    if (!e || !e.valid) {
      const pages = 512 ** (3 - (e?.level ?? 3));
      const end = Math.min(last, (Math.floor(gfn / pages) + 1) * pages - 1);
      if (e) c.skipped(cpu, a, gfn, end - gfn + 1);
      gfn = end;
      cost += FLUSH_SKIP_COST;
      skipped++;
      c.count("p2m flush: entries skipped");
    } else {
      valid.push({ gfn, mfn: e.mfn });
      cost += FLUSH_PAGE_COST;
      c.count("p2m flush: pages cleaned");
    }
  }
  let tlbis = 0;
  if (c.clearing === "per-chunk" && valid.length) {
    for (const page of valid) p2m.invalidateLeaf(page.gfn);
    // p2m_force_tlb_flush_sync's TLBI VMALLS12E1IS: no pCPU may go on using a translation of a page about to be cleaned.
    cpu.tlbi("VMALLS12E1IS");
    p2m.needFlush = false;
    tlbis = 1;
    c.count("p2m flush: TLB flushes");
  }
  for (const page of valid) c.cleanPage(page.mfn);
  if (valid.length || skipped || tlbis) c.cleaned(cpu, valid.length, skipped, tlbis);
  return gfn;
}
