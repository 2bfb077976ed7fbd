// SPDX-License-Identifier: MIT
//
// The lock sanitizer (issue 19, mechanisms §5): what Xen's debug builds and
// its mm-locks ordering would catch about page locks, checked as the run
// goes. Every rule is reported once per occurrence with the pCPUs, the
// frames, the locks each pCPU holds and the decision number, and ends the
// run with status 4 like the race sanitizer's violations.
//
//   rule              what it sees                                        Xen
//   page-lock-check   (--page-lock-check only) a pCPU takes a second      cf4b30dca0's
//                     checked page lock, or calls put_page_type on a      current_locked_page
//                     page it holds locked                                ASSERTs
//   abba-deadlock     pCPUs each spinning on a page lock another of       (a hang; the MFN order
//                     them holds, around a cycle                          prevents it)
//   self-deadlock     a pCPU spinning in _put_page_type on a page whose   XSA-242's rule meets
//                     lock it holds itself: only its own unlock could     the pre-c2c6f8b68c order
//                     let the spin end
//   mfn-order         a pCPU holding the page lock of MFN x takes the     share_pages' "lower MFN
//                     lock of MFN y < x: half of an ABBA deadlock         first"
//   bug-on            a check Xen makes with BUG_ON fails on a pCPU        Xen crashes there
//                     (page_make_private in __mem_sharing_unshare_page)
//   mm-lock-order     a pCPU takes an mm lock of a level lower than one   mm-locks.h's levels:
//                     it holds (the p2m lock, 16, while holding a page-   p2m 16 before
//                     sharing lock, 24), other than taking it again       per_page_sharing 24
//
// The hypervisor tells it what each pCPU acquires, releases and spins on;
// it keeps no state of its own about the frames beyond that.
//
// The MFN-order rule is a predictor, as lockdep is: any out-of-order pair
// can deadlock with a partner that locks the same two pages the other way
// round, and it is reported when the pair is taken, whether or not a
// partner is there. In today's Xen that is the only way the hazard shows
// between two domains: share_pages holds both domains' p2m locks
// (get_two_gfns; gfn_lock is the whole p2m's lock since 6b719c3d7a, Feb
// 2012), so two shares in opposite directions between the same domains run
// one after the other and their page locks never meet. The MFN order was
// written (6a11f31bd5, Jan 2012) when p2m lookups took no lock. A wait-for
// cycle (abba-deadlock) still forms where the p2m locks do not serialize:
// shares whose rmaps span more domains (mem-sharing.test.ts).

/** mm-locks.h's ordering levels (a lock of a lower level must be taken first). */
export const MM_LOCK_LEVEL = {
  nestedp2m: 8,
  p2m: 16,
  per_page_sharing: 24,
  altp2mlist: 32,
  altp2m: 40,
  pod: 48,
  page_alloc: 56,
  paging: 64,
} as const;
export type MmLockName = keyof typeof MM_LOCK_LEVEL;

/**
 * Which page_lock a caller takes: "checked" is the generic page_lock with the
 * 2018 per-CPU tracking (cf4b30dca0); "private" is mem_sharing's own copy
 * without it (eb6ad54731).
 */
export type PageLockKind = "checked" | "private";

export type LockRule = "page-lock-check" | "abba-deadlock" | "self-deadlock" | "mfn-order" | "mm-lock-order" | "bug-on";

export interface LockViolation {
  rule: LockRule;
  /** The pCPU the rule caught. */
  cpu: number;
  /** Every pCPU involved (the cycle, for a deadlock). */
  pcpus: number[];
  /** The frames involved. */
  mfns: number[];
  /** What each involved pCPU holds, as the report says it. */
  held: Record<number, string[]>;
  /** The engine's decision number. */
  step: number;
  message: string;
}

/** What one pCPU is spinning on. */
interface Spin {
  /** page_lock waits for the lock; put_page_type for the lock's holder to unlock; a named lock (a p2m lock) for its holder. */
  in: string;
  /** The frame, for page locks. */
  mfn?: number;
  /** The lock spun on, in words. */
  on: string;
  /** Which pCPU holds what this one waits for (-1: nobody now). */
  holder: () => number;
}

interface PcpuLocks {
  /** Page locks held, in the order taken. */
  pages: { mfn: number; kind: PageLockKind }[];
  /** mm locks held (name, which instance, level), in the order taken. */
  mm: { name: MmLockName; id: string; level: number }[];
  spin: Spin | undefined;
}

const hex = (v: number) => `0x${v.toString(16)}`;

export class LockSanitizer {
  private readonly pcpus: PcpuLocks[];
  /** Every violation found, in order. */
  readonly violations: LockViolation[] = [];
  /** Deadlocks reported once per cycle (the set of pCPUs), not at every spin step. */
  private readonly reportedCycles = new Set<string>();

  constructor(
    nrPcpus: number,
    /** --page-lock-check: the 2018 debug check on checked page locks. */
    readonly pageLockCheck: boolean,
    /** The engine's decision number now. */
    private readonly step: () => number,
    /** Told of each violation as it is found. */
    private readonly report: (v: LockViolation) => void,
  ) {
    this.pcpus = Array.from({ length: nrPcpus }, () => ({ pages: [], mm: [], spin: undefined }));
  }

  /** Nothing held, nothing awaited, nothing found: what a new one knows. */
  idle(): boolean {
    return !this.violations.length && this.pcpus.every((p) => !p.pages.length && !p.mm.length && !p.spin);
  }

  /** The page locks pCPU cpu holds, by MFN. */
  pageLocksHeld(cpu: number): number[] {
    return this.at(cpu).pages.map((p) => p.mfn);
  }

  /** The mm locks pCPU cpu holds, by instance ("d1 p2m", "per_page_sharing"), in the order taken. */
  mmLocksHeld(cpu: number): string[] {
    return this.at(cpu).mm.map((m) => m.id);
  }

  /** What pCPU cpu holds and waits for, in words (for reports and the debugger). */
  describe(cpu: number): string[] {
    const p = this.at(cpu);
    const out = p.pages.map((l) => `page lock ${hex(l.mfn)} (${l.kind})`);
    for (const m of p.mm) out.push(`mm lock ${m.id} (level ${m.level})`);
    if (p.spin) out.push(`spinning in ${p.spin.in} on ${p.spin.on}`);
    return out;
  }

  /** pCPU cpu is about to take the page lock of mfn (the step that succeeds). */
  pageLocked(cpu: number, mfn: number, kind: PageLockKind): void {
    const p = this.at(cpu);
    p.spin = undefined;
    if (kind === "checked" && this.pageLockCheck) {
      const other = p.pages.find((l) => l.kind === "checked");
      if (other) {
        this.violation("page-lock-check", cpu, [cpu], [other.mfn, mfn],
          `pCPU ${cpu} takes the page lock of MFN ${hex(mfn)} while it holds MFN ${hex(other.mfn)}'s ` +
          `(--page-lock-check: a CPU holds at most one page lock, Xen cf4b30dca0)`);
      }
    }
    const higher = p.pages.find((l) => l.mfn > mfn);
    if (higher) {
      this.violation("mfn-order", cpu, [cpu], [higher.mfn, mfn],
        `pCPU ${cpu} takes the page lock of MFN ${hex(mfn)} while it holds MFN ${hex(higher.mfn)}'s: out of MFN order, ` +
        `an ABBA deadlock with any CPU that locks the two the other way round (share_pages locks the lower MFN first)`);
    }
    p.pages.push({ mfn, kind });
  }

  /** pCPU cpu released the page lock of mfn. */
  pageUnlocked(cpu: number, mfn: number): void {
    const p = this.at(cpu);
    const k = p.pages.findIndex((l) => l.mfn === mfn);
    if (k >= 0) p.pages.splice(k, 1);
  }

  /**
   * pCPU cpu found the page lock of mfn held by `holder` and spins: a wait-for
   * edge. A cycle of such edges back to cpu is an ABBA deadlock.
   */
  spinOnPageLock(cpu: number, mfn: number, holder: number): void {
    this.at(cpu).spin = { in: "page_lock", mfn, on: `MFN ${hex(mfn)}`, holder: () => this.holderOf(mfn) };
    this.checkCycle(cpu, holder);
  }

  /** pCPU cpu spins on another lock (`on`, e.g. "d3's p2m lock") that `holder()` says who holds: a wait-for edge too. */
  spinOnLock(cpu: number, on: string, holder: () => number): void {
    this.at(cpu).spin = { in: "lock", on, holder };
    this.checkCycle(cpu, holder());
  }

  /**
   * pCPU cpu is about to drop a type reference of mfn (put_page_type). With
   * --page-lock-check, doing so on a page it holds locked trips the 2018 check.
   */
  putPageType(cpu: number, mfn: number): void {
    if (!this.pageLockCheck) return;
    const held = this.at(cpu).pages.find((l) => l.mfn === mfn && l.kind === "checked");
    if (held) {
      this.violation("page-lock-check", cpu, [cpu], [mfn],
        `pCPU ${cpu} calls put_page_type on MFN ${hex(mfn)}, whose page lock it holds ` +
        `(--page-lock-check: Xen cf4b30dca0)`);
    }
  }

  /**
   * pCPU cpu spins in _put_page_type on mfn (dropping the reference would
   * leave "locked, count 1": XSA-242), whose lock `holder` holds. When the
   * holder is cpu itself the spin cannot end.
   */
  spinInPutPageType(cpu: number, mfn: number, holder: number): void {
    this.at(cpu).spin = { in: "put_page_type", mfn, on: `MFN ${hex(mfn)}`, holder: () => this.holderOf(mfn) };
    if (holder === cpu) {
      const key = `self ${cpu} ${mfn}`;
      if (this.reportedCycles.has(key)) return;
      this.reportedCycles.add(key);
      this.violation("self-deadlock", cpu, [cpu], [mfn],
        `pCPU ${cpu} spins in _put_page_type on MFN ${hex(mfn)} until its page lock is released, ` +
        `and pCPU ${cpu} holds that lock itself: it can never be released (the order before Xen c2c6f8b68c)`);
      return;
    }
    this.checkCycle(cpu, holder);
  }

  /** pCPU cpu stopped spinning (it got what it waited for, or gave up). */
  stopSpinning(cpu: number): void {
    this.at(cpu).spin = undefined;
  }

  /**
   * pCPU cpu takes an mm lock (mm_lock with its level); `id` names the
   * instance (d3's p2m lock is not d1's). Taking an instance it holds again
   * is recursion, allowed (_check_lock_level is skipped for it); any other
   * lock must not be of a lower level than one it holds.
   */
  mmLocked(cpu: number, name: MmLockName, id: string = name, checked = false): void {
    if (!checked) this.mmCheckOrder(cpu, name, id);
    this.at(cpu).mm.push({ name, id, level: MM_LOCK_LEVEL[name] });
  }

  /**
   * The order check alone, as _mm_lock makes it before it spins: a pCPU
   * that will wait for the lock has broken the order already.
   */
  mmCheckOrder(cpu: number, name: MmLockName, id: string = name): void {
    const p = this.at(cpu);
    const level = MM_LOCK_LEVEL[name];
    if (!p.mm.some((m) => m.id === id)) {
      const above = p.mm.find((m) => m.level > level);
      if (above) {
        this.violation("mm-lock-order", cpu, [cpu], [],
          `pCPU ${cpu} takes the ${id} lock (level ${level}) while it holds the ${above.id} lock ` +
          `(level ${above.level}): mm locks must be taken in increasing level (mm-locks.h)`);
      }
    }
  }

  /** pCPU cpu releases an mm lock (the latest acquisition of that instance). */
  mmUnlocked(cpu: number, name: MmLockName, id: string = name): void {
    const p = this.at(cpu);
    for (let k = p.mm.length - 1; k >= 0; k--) {
      if (p.mm[k]!.id === id && p.mm[k]!.name === name) {
        p.mm.splice(k, 1);
        return;
      }
    }
  }

  /**
   * Follows wait-for edges from the pCPU `holder` (which holds what `cpu`
   * waits for): a pCPU that spins waits for the holder of its frame's lock.
   * Reaching `cpu` again is a cycle nobody can leave.
   */
  private checkCycle(cpu: number, holder: number): void {
    const cycle = [cpu];
    let at = holder;
    while (at >= 0 && at !== cpu) {
      if (cycle.includes(at)) return; // a cycle not through cpu: reported when one of its members spins
      cycle.push(at);
      const spin = this.pcpus[at]?.spin;
      if (!spin) return;
      at = spin.holder();
    }
    if (at !== cpu) return;
    const key = [...cycle].sort((a, b) => a - b).join(",");
    if (this.reportedCycles.has(key)) return;
    this.reportedCycles.add(key);
    const links = cycle.map((c) => {
      const s = this.pcpus[c]!.spin!;
      return `pCPU ${c} spins in ${s.in} on ${s.on} (held by pCPU ${s.holder()})`;
    });
    const mfns = cycle.flatMap((c) => (this.pcpus[c]!.spin!.mfn !== undefined ? [this.pcpus[c]!.spin!.mfn!] : []));
    this.violation("abba-deadlock", cpu, cycle, mfns, `deadlock: ${links.join("; ")}: each waits for a lock another of them holds`);
  }

  /** A check Xen makes with BUG_ON failed on pCPU cpu (Xen would crash): reported with what it holds. */
  bugOn(cpu: number, mfns: number[], message: string): void {
    this.violation("bug-on", cpu, [cpu], mfns, message);
  }

  /** The pCPUs spinning on mfn's page lock (in page_lock or put_page_type), for the debugger. */
  spinnersOn(mfn: number): number[] {
    return this.pcpus.flatMap((p, i) => (p.spin?.mfn === mfn ? [i] : []));
  }

  /** The pCPU that holds mfn's page lock, or -1. */
  private holderOf(mfn: number): number {
    return this.pcpus.findIndex((p) => p.pages.some((l) => l.mfn === mfn));
  }

  private at(cpu: number): PcpuLocks {
    const p = this.pcpus[cpu];
    if (!p) throw new Error(`lock sanitizer: no pCPU ${cpu}`);
    return p;
  }

  private violation(rule: LockRule, cpu: number, pcpus: number[], mfns: number[], message: string): void {
    const held: Record<number, string[]> = {};
    for (const c of pcpus) held[c] = this.describe(c);
    const detail = pcpus.map((c) => `pCPU ${c} holds [${held[c]!.join(", ") || "nothing"}]`).join("; ");
    const v: LockViolation = { rule, cpu, pcpus, mfns, held, step: this.step(), message: `${message} (${detail})` };
    this.violations.push(v);
    this.report(v);
  }
}
