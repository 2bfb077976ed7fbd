// SPDX-License-Identifier: MIT
//
// The hypervisor's state over one machine memory and one range of machine
// frames, and the callbacks through which it reaches the rest of the
// machine. Every routine takes a Cpu: the hypervisor, the pCPU it runs on and
// the vCPU it runs for (Xen's `current`).

import { ShootdownError } from "../../emulator/machine/core/errors.ts";
import type { MachineMemory } from "../common/memory.ts";
import { FrameTable } from "../common/frame-table.ts";
import { FrameAllocator } from "../common/alloc.ts";
import { Domain, type VCpu } from "../common/domain.ts";
import { HvStats } from "../common/stats.ts";
import { TlbFlushClock, type FlushHook } from "../common/flush.ts";
import type { Routine } from "../common/routine.ts";
import { DOMID_FIRST_RESERVED, DOMID_SELF, DOMID_XEN, MACH2PHYS_VIRT_START } from "./public.ts";
import { buildXenArea, m2pEntryMaddr, type XenArea } from "./xen-area.ts";
import { deepCopy } from "../common/copy.ts";
import { hypercall } from "./hypercall.ts";
import { newGuestCr3 } from "./mmu.ts";
import { emptyIpiFlushState, flushLocal, type IpiFlushState } from "./flush.ts";
import { makePcpus, type Pcpu } from "../common/smp.ts";
import { Sanitizer, type Violation } from "../common/sanitizer.ts";
import { LockSanitizer, type LockViolation } from "../common/lock-sanitizer.ts";
import type { FlushPath, Timeline } from "../../emulator/machine/core/timeline.ts";

/** Something that happened to a frame, for the sanitizer and traces. */
export type FrameEvent =
  | { kind: "retype"; cpu: number; mfn: number; from: string; to: string }
  | { kind: "scrub"; cpu: number; mfn: number }
  | { kind: "alloc"; cpu: number; mfn: number; owner: number }
  | { kind: "free"; cpu: number; mfn: number; owner: number };

/** How the hypervisor reaches the machine around it. Every callback is optional. */
export interface HvCallbacks {
  /** CONSOLEIO_write: the bytes a domain wrote. */
  console?(domain: Domain, bytes: Uint8Array): void;
  /** Sees each TLB flush the hypervisor asks for (flush_area_mask), for tests. */
  flush?: FlushHook;
  /** The hardware part of flush_area_local on pCPU cpu: one page (va) or the whole TLB (va undefined). */
  flushLocal?(cpu: number, va: bigint | undefined, flags: number): void;
  /** L0's HVMOP_flush_tlbs for the assisted path: every pCPU's TLB is flushed at once. */
  l0FlushTlbs?(initiator: number): void;
  /** The sanitizer found a race. */
  violation?(v: Violation): void;
  /** The lock sanitizer found a page-lock or mm-lock hazard. */
  lockViolation?(v: LockViolation): void;
  /** VCPUOP_up made a vCPU runnable; its context is vcpu.context. */
  vcpuUp?(vcpu: VCpu): void;
  /** VCPUOP_down took a vCPU off the pCPUs. */
  vcpuDown?(vcpu: VCpu): void;
  /** SCHEDOP_shutdown (or the last vCPU going down): SHUTDOWN_poweroff, reboot, crash, … */
  shutdown?(domain: Domain, reason: number): void;
  /** SCHEDOP_yield. */
  yield?(vcpu: VCpu): void;
  /** SCHEDOP_block: the vCPU waits for an event. */
  block?(vcpu: VCpu): void;
  /** MMUEXT_NEW_BASEPTR (or VCPUOP_initialise) changed a vCPU's L4: the CPU must load vcpu.guestTable's machine address. */
  baseptrChanged?(vcpu: VCpu): void;
  /** Frame retypes, scrubs, allocations and frees. */
  frameEvent?(event: FrameEvent): void;
}

export interface HypervisorOptions {
  memory: MachineMemory;
  /** The machine frames handed to the hypervisor: [firstMfn, firstMfn + nrFrames). */
  firstMfn: number;
  nrFrames: number;
  /** Physical CPUs. */
  nrPcpus: number;
  /** Seeds the allocator's choice of frames. */
  seed?: bigint;
  callbacks?: HvCallbacks;
  /** This hypervisor runs as a guest of an L0 that offers the assisted flush (--nested); the TLB-flush clock is then off. */
  nested?: boolean;
  /** FLUSH_NO_ASSIST (FLUSH_FORCE_IPI) is honoured; false is --no-force-ipi, the behaviour before the fix. Default true. */
  forceIpi?: boolean;
  /** With `nested`: the L0 offers the flush hypercall (default true); false is --no-l0-assist. */
  l0Assist?: boolean;
  /** Where routines report what they do (traces, the cost model). */
  timeline?: Timeline;
  /** The engine's decision number, for the sanitizer's reports. */
  step?: () => number;
  /** --page-lock-check: the 2018 debug check (a pCPU holds at most one checked page lock, never put_page_type on it). */
  pageLockCheck?: boolean;
  /**
   * The run engine drives the pCPUs (PvHost): a flush IPI is taken when the
   * target's turn comes. Otherwise (tests, scripts) the other pCPUs run
   * nothing and take it at once.
   */
  engineDriven?: boolean;
}

/** Where a routine runs: the hypervisor, the pCPU, and the vCPU and domain it runs for (Xen's `current`). */
export interface Cpu {
  readonly hv: Hypervisor;
  readonly cpu: number;
  readonly vcpu: VCpu;
  readonly d: Domain;
}

/** What ties a hypervisor to the machine around it (the constructor's options of that kind; copyFor takes them anew). */
export type HvWiring = Pick<HypervisorOptions, "memory" | "callbacks" | "timeline" | "step">;

export class Hypervisor {
  /** The machine memory (wire: set by the constructor and by copyFor, as are callbacks, timeline, sanitizer and locks). */
  mem!: MachineMemory;
  readonly frames: FrameTable;
  readonly allocator: FrameAllocator;
  readonly stats = new HvStats();
  readonly clock: TlbFlushClock;
  readonly nrPcpus: number;
  callbacks!: HvCallbacks;
  readonly domains = new Map<number, Domain>();
  /** The owner of the hypervisor's own frames (dom_xen): the M2P, its tables and the GDT. */
  readonly domXen = new Domain(DOMID_XEN, Number.MAX_SAFE_INTEGER, 0);
  /** The hypervisor's L4 slots, the M2P and the GDT. */
  readonly xenArea: XenArea;
  /** Each pCPU's interrupt flag and pending flush IPI. */
  readonly pcpus: Pcpu[];
  /** Runs under an L0 (--nested). */
  readonly nested: boolean;
  /**
   * The L0 flushes remote pCPUs for us (hypervisor_flush_tlb succeeds): nested
   * and not --no-l0-assist. Without it flush_area_mask falls back to IPIs.
   */
  readonly l0Assist: boolean;
  /** Honour FLUSH_NO_ASSIST (false: --no-force-ipi). */
  readonly forceIpi: boolean;
  /** flush_lock and the request it guards. */
  readonly ipiFlush: IpiFlushState = emptyIpiFlushState();
  /** The path of each pCPU's last remote flush, for the sanitizer's reports. */
  readonly lastFlushPath: (FlushPath | "none")[];
  timeline: Timeline | undefined;
  sanitizer!: Sanitizer;
  /** Page locks and mm locks each pCPU holds and spins on (issue 19). */
  locks!: LockSanitizer;
  engineDriven: boolean;

  constructor(o: HypervisorOptions) {
    if (!Number.isSafeInteger(o.firstMfn) || o.firstMfn < 0 || !Number.isSafeInteger(o.nrFrames) || o.nrFrames <= 0) {
      throw new ShootdownError(`the hypervisor needs a non-empty range of machine frames (got first MFN ${o.firstMfn}, ${o.nrFrames} frames)`);
    }
    if (!Number.isInteger(o.nrPcpus) || o.nrPcpus < 1) throw new ShootdownError(`the hypervisor needs at least one pCPU (got ${o.nrPcpus})`);
    this.frames = new FrameTable(o.firstMfn, o.nrFrames);
    this.allocator = new FrameAllocator(this.frames, o.seed ?? 0n);
    this.clock = new TlbFlushClock(o.nrPcpus);
    this.nrPcpus = o.nrPcpus;
    this.nested = o.nested ?? false;
    this.forceIpi = o.forceIpi ?? true;
    this.l0Assist = this.nested && (o.l0Assist ?? true);
    // hypervisor_setup (xen/arch/x86/guest/hypervisor.c): the clock goes off
    // (tlb_clk_enabled = false) only when a test flush through L0 succeeds.
    this.clock.enabled = !this.l0Assist;
    this.pcpus = makePcpus(o.nrPcpus);
    this.lastFlushPath = new Array(o.nrPcpus).fill("none");
    this.engineDriven = o.engineDriven ?? false;
    this.wire(o, o.pageLockCheck ?? false);
    this.xenArea = buildXenArea(this);
  }

  /** Ties the hypervisor to a machine: its memory, callbacks and timeline, and sanitizers that report through them. */
  private wire(o: HvWiring, pageLockCheck: boolean): void {
    this.mem = o.memory;
    this.callbacks = o.callbacks ?? {};
    this.timeline = o.timeline;
    const step = o.step ?? (() => 0);
    this.sanitizer = new Sanitizer(step, (cpu) => this.lastFlushPath[cpu] ?? "none", (v) => this.callbacks.violation?.(v));
    this.locks = new LockSanitizer(this.nrPcpus, pageLockCheck, step, (v) => this.callbacks.lockViolation?.(v));
  }

  /**
   * A copy of this hypervisor, frames, allocator, domains and all, tied to
   * another machine (pv-build.ts: a domain built once, copied for every
   * run). Its memory must hold what this one's does. The sanitizers start
   * empty, so copy only a hypervisor that runs nothing (no walk, no lock held).
   */
  copyFor(w: HvWiring): Hypervisor {
    if (!this.sanitizer.idle() || !this.locks.idle()) {
      throw new Error("a hypervisor is copied only while no routine runs");
    }
    const replace = new Map<object, unknown>([[this.mem, w.memory], [this.callbacks, w.callbacks ?? {}], [this.sanitizer, undefined], [this.locks, undefined]]);
    if (this.timeline) replace.set(this.timeline, w.timeline);
    const hv = deepCopy(this, replace);
    hv.wire(w, this.locks.pageLockCheck);
    return hv;
  }

  /** Creates an empty domain (the builder fills it). */
  createDomain(domid: number, maxPages: number, nrVcpus: number): Domain {
    if (!Number.isInteger(domid) || domid < 0 || domid >= DOMID_FIRST_RESERVED) throw new ShootdownError(`domain id ${domid} is outside 0..0x7fef`);
    if (this.domains.has(domid)) throw new ShootdownError(`domain ${domid} exists already`);
    if (!Number.isInteger(nrVcpus) || nrVcpus < 1) throw new ShootdownError(`a domain needs at least one vCPU (got ${nrVcpus})`);
    const d = new Domain(domid, maxPages, nrVcpus);
    this.domains.set(domid, d);
    return d;
  }

  /** rcu_lock_domain_by_any_id: DOMID_SELF names the caller. */
  domainByAnyId(domid: number, self: Domain): Domain | undefined {
    return domid === DOMID_SELF ? self : this.domains.get(domid);
  }

  /** A Cpu for routines run on behalf of vcpu. */
  on(vcpu: VCpu): Cpu {
    return { hv: this, cpu: vcpu.processor, vcpu, d: vcpu.domain };
  }

  /**
   * The hypercall entry: number and arguments as the guest left them in RAX
   * and RDI, RSI, RDX, R10, R8; the routine's result is the value for RAX
   * (a negative errno as its 64-bit two's complement).
   */
  hypercall(domain: Domain, vcpu: VCpu, nr: bigint, args: readonly bigint[]): Routine<bigint> {
    if (vcpu.domain !== domain) throw new Error(`vCPU ${vcpu.vcpuId} of d${vcpu.domain.domid} makes a hypercall for d${domain.domid}`);
    return hypercall(this.on(vcpu), nr, args);
  }

  /**
   * MOV to CR3 from the guest, emulated as MMUEXT_NEW_BASEPTR with the same
   * checks (new_guest_cr3): 0, or the negative errno for which the engine
   * injects #GP. The CR3 value is a machine address (xen_pfn_to_cr3).
   */
  newBaseptr(vcpu: VCpu, cr3: bigint): Routine<number> {
    return newGuestCr3(this.on(vcpu), Number(cr3 >> 12n));
  }

  /** INVLPG from the guest, emulated as MMUEXT_INVLPG_LOCAL: a local flush of one page. */
  invlpg(vcpu: VCpu, va: bigint): Routine<void> {
    return flushLocal(this.on(vcpu), va, "MMUEXT_INVLPG_LOCAL");
  }

  /** The M2P entry of a frame: its PFN in its owner, or ~0. */
  getGpfnFromMfn(mfn: number): bigint {
    return this.mem.read64(m2pEntryMaddr(this.xenArea, mfn));
  }

  /** set_gpfn_from_mfn. */
  setGpfnFromMfn(mfn: number, pfn: bigint): void {
    this.mem.write64(m2pEntryMaddr(this.xenArea, mfn), pfn);
  }

  /** The virtual address of a frame's M2P entry, as a guest sees it. */
  m2pEntryVa(mfn: number): bigint {
    return MACH2PHYS_VIRT_START + 8n * BigInt(mfn);
  }
}

