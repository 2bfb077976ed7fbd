// SPDX-License-Identifier: MIT
//
// spurious_page_fault and __page_fault_type (xen/arch/x86/traps.c;
// mechanisms §1.5). Xen upgrades entries lazily, without flushing, so a
// pCPU may fault on a stale TLB entry although the tables in memory now allow
// the access. Before a fault goes anywhere, the hypervisor walks the tables
// the faulting pCPU uses, one entry per level, to prove it spurious.
//
// The walk runs with the pCPU's interrupts disabled: Xen's comment on
// spurious_page_fault says so outright, because an IPI flush then cannot
// complete while the walk runs, so the frames it reads cannot stop being
// page tables under it. That holds only if every flush that could free or
// retype them waits for IPIs: the L0-assisted flush does not (§1.9). Each
// table read is a step of its own, registered with the sanitizer.
//
// Xen runs it for faults in its own context and, for PV guests, for guest
// faults when the domain has suppress_spurious_page_faults set (do_page_fault);
// this hypervisor sets it for every domain: every guest #PF is checked.

import { PAGE_SIZE } from "../common/memory.ts";
import type { Routine, StepLabel } from "../common/routine.ts";
import type { Cpu } from "./hypervisor.ts";
import { _PAGE_NX, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_USER, pageNumberOffset, vaPageNumber, wordsFlags, wordsMfn } from "./pte.ts";

/** __page_fault_type's verdict. SMEP and SMAP are off for PV vCPUs here, so their verdicts never occur. */
export type PageFaultType = "real" | "spurious";

/** #PF error code bits (Intel SDM Vol. 3A §4.7). */
export const PFEC_PRESENT = 1;
export const PFEC_WRITE = 2;
export const PFEC_USER = 4;
export const PFEC_INSN_FETCH = 16;

const L_IRQ_OFF: StepLabel = { what: "spurious_page_fault: disable interrupts and start the walk" };
const L_IRQ_ON: StepLabel = { what: "spurious_page_fault: the walk is over, enable interrupts" };
const L_READ: StepLabel[] = [1, 2, 3, 4].map((l) => ({ what: `__page_fault_type: read the L${l} entry` }));
/** Each level's name, as the sanitizer records a read (made once, not per read). */
const LEVEL_NAMES = ["", "L1", "L2", "L3", "L4"] as const;

/**
 * spurious_page_fault(addr, error_code) on pCPU c.cpu, walking the tables
 * rooted at the L4 in machine frame cr3Mfn: "spurious" when the access would
 * now succeed (the fault came from a stale TLB entry), else "real".
 */
export function* spuriousPageFault(c: Cpu, va: bigint, errorCode: number, cr3Mfn: number): Routine<PageFaultType> {
  const hv = c.hv;
  const pcpu = hv.pcpus[c.cpu]!;
  yield L_IRQ_OFF;
  pcpu.irqEnabled = false;
  if (hv.timeline?.on) hv.timeline.emit({ kind: "irq-off", cpu: c.cpu });
  hv.sanitizer.beginWalk(c.cpu, va);
  const root = hv.frames.lookup(cr3Mfn);
  if (root) hv.sanitizer.read(c.cpu, root, "L4");
  if (hv.timeline?.on) hv.timeline.emit({ kind: "walk-begin", cpu: c.cpu, va });
  const verdict = yield* pageFaultType(c, va, errorCode, cr3Mfn);
  yield L_IRQ_ON;
  hv.sanitizer.endWalk(c.cpu);
  if (hv.timeline?.on) hv.timeline.emit({ kind: "walk-end", cpu: c.cpu, verdict });
  pcpu.irqEnabled = true;
  if (hv.timeline?.on) hv.timeline.emit({ kind: "irq-on", cpu: c.cpu });
  return verdict;
}

/** __page_fault_type: one table entry per step, from the L4 down, stopping at the first that forbids the access. */
function* pageFaultType(c: Cpu, va: bigint, errorCode: number, cr3Mfn: number): Routine<PageFaultType> {
  const hv = c.hv;
  // The flags every level must grant: present, writable for a write, user for a user access.
  const required = _PAGE_PRESENT | (errorCode & PFEC_WRITE ? _PAGE_RW : 0) | (errorCode & PFEC_USER ? _PAGE_USER : 0);
  // An instruction fetch must not meet NX at any level.
  const disallowed = errorCode & PFEC_INSN_FETCH ? _PAGE_NX : 0;
  let mfn = cr3Mfn;
  const vpn = vaPageNumber(va);
  for (let level = 4; level >= 1; level--) {
    yield L_READ[level - 1]!;
    // map_domain_page of a frame that is not RAM the hypervisor manages: Xen
    // would take a fault inside its fault handler; this model calls it real.
    const page = hv.frames.lookup(mfn);
    if (!page) return "real";
    // The entry as its two halves (no bigint per level); the trace, when there is one, gets it whole.
    const words = hv.mem.words();
    const at = hv.mem.frameWord(mfn * PAGE_SIZE) + 2 * pageNumberOffset(vpn, level);
    const lo = words[at]!;
    const hi = words[at + 1]!;
    hv.sanitizer.read(c.cpu, page, LEVEL_NAMES[level]!);
    if (hv.timeline?.on) hv.timeline.emit({ kind: "walk-read", cpu: c.cpu, level, mfn, entry: (BigInt(hi) << 32n) | BigInt(lo) });
    const flags = wordsFlags(lo, hi);
    if ((flags & required) !== required || flags & disallowed) return "real";
    // A superpage leaf ends the walk early (PV tables never hold one, but the frame may no longer be a table).
    if (level > 1 && level < 4 && flags & _PAGE_PSE) return "spurious";
    mfn = wordsMfn(lo, hi);
    // From here the walk depends on the next table: it learned the frame
    // and will read it (§1.9 step 1 ends with the walker knowing P).
    const next = level > 1 ? hv.frames.lookup(mfn) : undefined;
    if (next) hv.sanitizer.read(c.cpu, next, LEVEL_NAMES[level - 1]!);
  }
  return "spurious";
}
