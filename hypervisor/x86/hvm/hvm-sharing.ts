// SPDX-License-Identifier: MIT
//
// Memory sharing on HVM domains (issue 19, mechanisms §5): mem_sharing.ts
// over the domains' EPTs, and the three ways into it.
//
//   SharingP2m       the p2m mem_sharing reads and writes is each domain's
//                    EPT: a ram_shared leaf is read/execute only, and every
//                    change is followed, in the same step, by INVEPT
//                    single-context for that EPT on every pCPU
//                    (ept_sync_domain; Xen defers it to the p2m unlock, which
//                    is later and never earlier, so a step is no weaker)
//   EPT violation    a guest write to a shared page (hvm_hap_nested_page_fault
//                    with P2M_UNSHARE): the gfn's p2m lock, the unshare
//                    (copy on write, or page_make_private for the last
//                    sharer), the lock released, and the guest retries the
//                    instruction; as steps on that pCPU while others run
//   memory_op 22     XENMEM_sharing_op from a guest (mem_sharing_memop): the
//                    xen_mem_sharing_op copied in from the caller's linear
//                    address, the op, the result copied back
//   the daemon       --sharing-daemon: at a scheduling decision a pCPU may
//                    run one pass of a KSM-like scanner inside the
//                    hypervisor (seeded): pick two running domains, scan
//                    DAEMON_SCAN gfns from a random one (after a gfn it
//                    shared or saw unshared lately, half the time) for
//                    identical pages, and for each of the first
//                    DAEMON_MERGE found nominate both, compare again now
//                    that they are read-only, and share the first into the
//                    second; two pCPUs may do so at once in opposite
//                    directions
//
// Each step follows mem-sharing.ts's rules (hypervisor/README.md).

import type { X86Cpu } from "../../../emulator/machine/cpu/x86-cpu.ts";
import { InveptType } from "../../../emulator/machine/cpu/x86-cpu.ts";
import type { Xoshiro128 } from "../../../emulator/machine/core/scheduler.ts";
import type { Routine, StepLabel } from "../../common/routine.ts";
import type { Domain } from "../../common/domain.ts";
import { EFAULT, ENOSYS } from "../../common/errno.ts";
import { maddr } from "../../common/memory.ts";
import type { Cpu } from "../hypervisor.ts";
import {
  decodeMemSharingOp, encodeMemSharingOp, INVALID_MFN, MEM_SHARING_OP_SIZE, MemSharing, memSharingMemop,
  type MemSharingOptions, type P2mEntry, type P2mType, type SharingP2m,
} from "../mem-sharing.ts";
import type { HvmDomain } from "./hvm-domain.ts";

/** XENMEM_sharing_op (public/memory.h). */
export const XENMEM_sharing_op = 22;
/** MEMOP_CMD_MASK: memory_op's command is the low 6 bits (the rest is a continuation's start extent). */
const MEMOP_CMD_MASK = 0x3fn;
/**
 * The daemon's clock: each pCPU may run a pass once per DAEMON_PERIOD guest
 * instructions it retires, with probability 1/DAEMON_ODDS (seeded). Counted
 * in instructions, not decisions, so that stepping in the debugger (which
 * splits decisions into pieces) changes nothing.
 */
export const DAEMON_PERIOD = 1000n;
export const DAEMON_ODDS = 4;
/** How many recently shared gfns the daemon goes back to (pages a writer unshares get shared again). */
const DAEMON_HOT = 16;
/** Pages a pass compares, as KSM's pages_to_scan: one step reads them all. */
export const DAEMON_SCAN = 64;
/** Identical pairs a pass shares at most. */
export const DAEMON_MERGE = 8;

const L_FAULT: StepLabel = { what: "hvm_hap_nested_page_fault: read the p2m entry (P2M_UNSHARE)" };
const L_COPY_IN: StepLabel = { what: "mem_sharing_memop: copy_from_guest of the xen_mem_sharing_op" };
const L_COPY_OUT: StepLabel = { what: "mem_sharing_memop: copy_to_guest of the xen_mem_sharing_op" };
const L_COMPARE: StepLabel = { what: "sharing daemon: compare the two pages" };

/** What a fault in a shared page came to. */
export type SharingFault = "retry" | "enomem";

export class HvmSharing implements SharingP2m {
  readonly ms: MemSharing;
  /** gfns the daemon shared or saw unshared lately: written pages may be identical again soon. */
  private readonly hot: number[] = [];
  readonly daemonStats = { passes: 0, compared: 0, identical: 0, shared: 0, failed: 0 };
  readonly faults = { cow: 0, spurious: 0, enomem: 0 };

  constructor(
    private readonly domains: ReadonlyMap<Domain, HvmDomain>,
    private readonly cpus: readonly X86Cpu[],
    private readonly memory: { read(pa: bigint, n: number): Uint8Array },
    options: MemSharingOptions,
  ) {
    this.ms = new MemSharing(this, options);
  }

  private dom(d: Domain): HvmDomain {
    const h = this.domains.get(d);
    if (!h) throw new Error(`d${d.domid} is not an HVM domain of this host`);
    return h;
  }

  // ── SharingP2m over the EPTs ───────────────────────────────────────────────

  get(d: Domain, gfn: number): P2mEntry {
    const e = gfn >= 0 && gfn < d.maxPages ? this.dom(d).ept.entry(gfn) : undefined;
    return e ?? { mfn: INVALID_MFN, type: "invalid" };
  }

  set(d: Domain, gfn: number, mfn: number, type: P2mType): void {
    const ept = this.dom(d).ept;
    ept.set(gfn, mfn, type);
    // ept_sync_domain: no pCPU may go on using the old entry's translation or rights.
    for (const cpu of this.cpus) cpu.invept(InveptType.SingleContext, ept.eptp);
  }

  maxGpfn(d: Domain): number {
    return d.maxPages - 1;
  }

  // ── The guest's write to a shared page ─────────────────────────────────────

  /**
   * hvm_hap_nested_page_fault for a write: the gfn's p2m lock (get_gfn with
   * P2M_UNSHARE, which unshares a shared entry), then the entry again: still
   * shared means no frame was free for the copy (Xen crashes the domain
   * when no helper listens on the sharing ring). Anything else is retried.
   */
  *hapWriteFault(c: Cpu, gfn: number): Routine<SharingFault> {
    const d = c.d;
    yield* this.ms.p2mLock(c, d);
    try {
      yield L_FAULT;
      if (this.get(d, gfn).type !== "ram_shared") {
        this.faults.spurious++;
        return "retry";
      }
      yield* this.ms.unsharePage(c, d, gfn);
      yield L_FAULT;
      if (this.get(d, gfn).type === "ram_shared") {
        this.faults.enomem++;
        return "enomem";
      }
      this.faults.cow++;
      this.remember(gfn);
      return "retry";
    } finally {
      yield* this.ms.p2mUnlock(c, d);
    }
  }

  // ── memory_op from a guest ─────────────────────────────────────────────────

  /**
   * memory_op(cmd, arg) from a vCPU on `cpu`: XENMEM_sharing_op, with the
   * xen_mem_sharing_op at the caller's linear address `arg`; every other
   * command is -ENOSYS here. Returns the value for RAX.
   */
  *memoryOp(c: Cpu, cpu: X86Cpu, cmd: bigint, arg: bigint): Routine<bigint> {
    const rc = (v: number) => BigInt.asUintN(64, BigInt(v));
    if ((cmd & MEMOP_CMD_MASK) !== BigInt(XENMEM_sharing_op) || cmd >> 6n) return rc(-ENOSYS);
    yield L_COPY_IN;
    const bytes = copyFromGuest(cpu, arg, MEM_SHARING_OP_SIZE, this.memory);
    if (!bytes) return rc(-EFAULT);
    const caller = { domain: c.d, privileged: this.dom(c.d).privileged };
    const r = yield* memSharingMemop(c, this.ms, caller, decodeMemSharingOp(bytes));
    // Xen copies the argument back after a nominate that succeeded (its handle) and after range_share (its opaque).
    if (r.rc === 0 && (r.out.op === 0 || r.out.op === 8)) {
      const ok = yield* this.copyToGuest(c, cpu, arg, encodeMemSharingOp(r.out));
      if (!ok) return rc(-EFAULT);
    }
    return rc(r.rc);
  }

  /** copy_to_guest through the caller's page tables; a shared page on the way is unshared first (P2M_UNSHARE). */
  private *copyToGuest(c: Cpu, cpu: X86Cpu, gva: bigint, bytes: Uint8Array): Routine<boolean> {
    for (let tries = 0; tries < 4; tries++) {
      yield L_COPY_OUT;
      const r = guestPieces(cpu, gva, bytes.length, "write");
      if (r.kind === "fault") return false;
      if (r.kind === "shared") {
        if ((yield* this.hapWriteFault(c, r.gfn)) === "enomem") return false;
        continue;
      }
      let at = 0;
      for (const p of r.pieces) {
        c.hv.mem.write(p.pa, bytes.subarray(at, at + p.n));
        at += p.n;
      }
      return true;
    }
    return false;
  }

  // ── The sharing daemon ─────────────────────────────────────────────────────

  /**
   * One pass of the daemon on pCPU c.cpu: two running domains (not the
   * privileged one) and DAEMON_SCAN gfns from a random one (half the time
   * one it shared or saw unshared lately first), seeded; for each of the
   * first DAEMON_MERGE whose pages are identical, both nominated, compared
   * again now that neither can change, and shared (the first domain's page
   * is the source). Pages that differ are left as they are.
   */
  *daemonPass(c: Cpu, rng: Xoshiro128): Routine<void> {
    const live = [...this.domains.values()].filter((h) => h.exitCode === undefined && !h.privileged);
    if (live.length < 2) return;
    this.daemonStats.passes++;
    const a = live[rng.below(live.length)]!;
    let b = live[rng.below(live.length - 1)]!;
    if (b === a) b = live[live.length - 1]!;
    const pages = Math.min(a.domain.maxPages, b.domain.maxPages);
    const from = this.hot.length && rng.below(2) ? this.hot[rng.below(this.hot.length)]! : rng.below(pages);
    yield { what: `sharing daemon: compare ${a.name}'s pages with ${b.name}'s from gfn 0x${from.toString(16)}` };
    const found: number[] = [];
    for (let k = 0; k < DAEMON_SCAN && found.length < DAEMON_MERGE; k++) {
      const g = (from + k) % pages;
      this.daemonStats.compared++;
      if (this.samePages(a.domain, b.domain, g)) found.push(g);
    }
    this.ms.enabled.add(a.domain);
    this.ms.enabled.add(b.domain);
    for (const gfn of found) {
      const s = yield* this.ms.nominatePage(c, a.domain, gfn);
      if (s.rc) {
        this.failed();
        continue;
      }
      const cl = yield* this.ms.nominatePage(c, b.domain, gfn);
      if (cl.rc) {
        this.failed();
        continue;
      }
      yield L_COMPARE;
      if (!this.samePages(a.domain, b.domain, gfn)) continue;
      this.daemonStats.identical++;
      const rc = yield* this.ms.sharePages(c, a.domain, gfn, s.handle, b.domain, gfn, cl.handle);
      if (rc) {
        this.failed();
        continue;
      }
      this.daemonStats.shared++;
      this.remember(gfn);
    }
  }

  /** A gfn worth another look soon (shared, or unshared by a write). */
  private remember(gfn: number): void {
    if (this.hot.includes(gfn)) return;
    this.hot.push(gfn);
    if (this.hot.length > DAEMON_HOT) this.hot.shift();
  }

  private failed(): void {
    this.daemonStats.failed++;
  }

  /** Whether gfn holds the same bytes in both domains (read through their EPTs). */
  private samePages(a: Domain, b: Domain, gfn: number): boolean {
    const ma = this.get(a, gfn).mfn, mb = this.get(b, gfn).mfn;
    if (ma === INVALID_MFN || mb === INVALID_MFN) return false;
    if (ma === mb) return false;
    return Buffer.compare(this.memory.read(maddr(ma), 4096), this.memory.read(maddr(mb), 4096)) === 0;
  }

  summary(): Record<string, unknown> {
    const ms = this.ms;
    return {
      options: ms.options,
      sharedFrames: ms.nrSharedMfns,
      savedFrames: ms.nrSavedMfns,
      ...ms.stats,
      cowFaults: this.faults.cow,
      spuriousFaults: this.faults.spurious,
      enomem: this.faults.enomem,
      daemon: this.daemonStats,
    };
  }
}

type Pieces =
  | { kind: "ok"; pieces: { pa: bigint; n: number }[] }
  | { kind: "shared"; gfn: number }
  | { kind: "fault" };

/**
 * The machine addresses of the caller's linear range, page by page, through
 * its page tables and EPT as the CPU would translate them (with CPL 0's
 * rights, no TLB): a write to a read-only EPT page names that gfn.
 */
function guestPieces(cpu: X86Cpu, gva: bigint, length: number, op: "read" | "write"): Pieces {
  const pieces: { pa: bigint; n: number }[] = [];
  for (let done = 0; done < length; ) {
    const at = BigInt.asUintN(64, gva + BigInt(done));
    const t = cpu.peek(at, { op, priv: "kernel" }, { memoryOnly: true });
    if (!t.ok) {
      if (t.fault.kind === "ept-violation" && op === "write") return { kind: "shared", gfn: Number(t.fault.gpa >> 12n) };
      return { kind: "fault" };
    }
    const n = Math.min(4096 - Number(at & 0xfffn), length - done);
    pieces.push({ pa: t.pa, n });
    done += n;
  }
  return { kind: "ok", pieces };
}

/** copy_from_guest: the bytes at the caller's linear address, or undefined when any is not mapped. */
function copyFromGuest(cpu: X86Cpu, gva: bigint, length: number, memory: { read(pa: bigint, n: number): Uint8Array }): Uint8Array | undefined {
  const r = guestPieces(cpu, gva, length, "read");
  if (r.kind !== "ok") return undefined;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of r.pieces) {
    out.set(memory.read(p.pa, p.n), at);
    at += p.n;
  }
  return out;
}
