// SPDX-License-Identifier: MIT
//
// The HVM host: `shootdown run IMAGE --hv --hvm`. The machine's CPUs are the
// hypervisor's pCPUs; each domain (d1, or --domains of them) runs the image
// exactly as the bare machine would boot it (boot.ts), so an image that
// runs bare runs here unchanged and prints the same. What differs is
// underneath:
//
// - EPT (ept.ts): guest-physical frames map to machine frames that are
//   neither identity nor contiguous; a GPA outside the domain's RAM is an
//   EPT violation, which ends the run as the bare machine's bus error does.
// - A VPID per vCPU, and more vCPUs than pCPUs: vCPUs wait in one run queue
//   and the pCPUs take them (common/vcpu-sched.ts: time slices, --migrate).
//   A vCPU landing on a pCPU other than the one it last ran on first has
//   that pCPU's entries for its VPID invalidated (INVVPID single-context):
//   they may predate flushes it made elsewhere.
// - A virtual x2APIC per vCPU (vlapic.ts). Every RDMSR and WRMSR exits; the
//   x2APIC range goes to the vCPU's vlapic, the others are done as the bare
//   CPU does them (so a reserved MSR or bit gets its #GP). An ICR write is a
//   virtual IPI: the vector is requested in each target's vlapic and the
//   target is kicked (woken from HLT, or, on another pCPU, interrupted at
//   its next decision: the engine asks Platform.interrupt). Interrupts reach
//   the guest by injection at VM entry, and the CPU holds an injected
//   interrupt until the guest's RFLAGS.IF is 1, so a vCPU with interrupts
//   off does not take a virtual IPI until it turns them on.
//
//   VM exit              what the host does (Xen's function)
//   RDMSR/WRMSR          x2APIC: the vlapic (vlapic_msr_read/write); else the
//                        bare CPU's MSR (hvm_msr_read_intercept), #GP as bare
//   CPUID                the bare CPU's values, its APIC ID the vCPU's (cpuid_hypervisor_leaves)
//   IN/OUT               COM1 and the debug-exit port as bare (the platform's
//                        I/O bus); 0x5D0–0x5D6 the guest annotations to the
//                        sanitizer (emulator/machine/core/annotations.ts),
//                        their PFN translated GPA → MFN through the EPT
//   HLT                  hvm_hlt: go on if an interrupt can be taken; with
//                        interrupts on and the timer armed, the vCPU's clock
//                        moves to its deadline (a halted bare CPU's does);
//                        else the vCPU blocks until an interrupt for it
//   VMCALL               hvm_do_hypercall (hypercall.ts)
//   EPT violation        a write to a shared page: the copy on write
//                        (hvm-sharing.ts); outside RAM: the bare machine's
//                        bus error
//   triple fault         the bare machine's triple fault
//   external interrupt   none is sent to a pCPU in guest mode; ended with an EOI
//
// Several domains (--domains) share the pCPUs and the frame allocator; each
// has its own EPT, VPIDs, COM1 and debug-exit port (the host prefixes their
// console lines "[dN] "). A domain that writes its debug-exit port is over:
// its vCPUs leave the pCPUs; the run ends when every domain is over, with
// the first nonzero code any wrote (or 0). One domain ends the run at once,
// as the bare machine does.
//
// Racy hypervisor work is a continuation of steps (hypervisor/README.md), so
// it interleaves with the guest instructions of the other pCPUs and is
// recorded in the run's schedule.

import type { X86Cpu, X86Event, X86Exit, X86GuestExit, X86Registers } from "../../../emulator/machine/cpu/x86-cpu.ts";
import type { Continuation, ExitHandler, Handled, StepLabel } from "../../../emulator/machine/core/exits.ts";
import type { X86Platform } from "../../../emulator/machine/platform/x86/platform.ts";
import type { MachineEvent } from "../../../emulator/machine/core/exits.ts";
import { Xoshiro128 } from "../../../emulator/machine/core/scheduler.ts";
import { InvvpidType } from "../../../emulator/machine/cpu/x86-cpu.ts";
import { VcpuScheduler } from "../../common/vcpu-sched.ts";
import { Domain, type VCpu } from "../../common/domain.ts";
import type { Hypervisor, Cpu } from "../hypervisor.ts";
import type { Ept } from "./ept.ts";
import { HvmVcpu, type HvmSaved } from "./vcpu.ts";
import type { IpiRequest } from "./vlapic.ts";
import { HvmDomain } from "./hvm-domain.ts";
import { inspectHvm } from "./inspect.ts";
import { HvmVcpuView } from "./vcpu-view.ts";
import { DAEMON_ODDS, DAEMON_PERIOD, HvmSharing } from "./hvm-sharing.ts";
import { DEFAULT_SHARING, type MemSharingOptions } from "../mem-sharing.ts";
import { annotationPortIo, isAnnotationPort, SD_ANNOT_PORT, takesFrame } from "../../../emulator/machine/core/annotations.ts";
import { IoBus, raxAfterIn } from "../../../emulator/machine/platform/x86/devices.ts";

const X86_GP = 13;
const RFLAGS_IF = 1n << 9n;
/** IA32_APIC_BASE.EXTD: the x2APIC is on (the bare machine never turns it off). */
const APIC_BASE_EXTD = 1n << 10n;
/** DOMID_IDLE: the owner of the vCPUs a pCPU runs hypervisor work on when no guest's (the sharing daemon). */
const DOMID_IDLE = 0x7fff;
/** EPT violation qualification bit 1: the access was a write (SDM Vol.3C table 28-7). */
const EPTQ_WRITE = 1 << 1;

/** What an HVM vCPU runs under (VMX controls): only what the bare machine must not do natively exits. */
const HVM_CONTROLS = {
  guestMode: true,
  exceptionBitmap: 0,
  hltExiting: true,
  invlpgExiting: false,
  invpcidExiting: false,
  cr3LoadExiting: false,
  cr0Exiting: false,
  cr4Exiting: false,
  rdmsrExiting: true,
  wrmsrExiting: true,
  ioExiting: true,
  vmcallExiting: true,
  externalInterruptExiting: true,
  virtualIf: false,
  cpuidExiting: true,
};

/** A guest annotation as the host passed it on to the sanitizer: the operation, and for a frame the machine frame (MFN). */
export interface HvmAnnotation {
  op: number;
  /** The argument as the guest gave it (a PFN is guest-physical). */
  arg: number;
  /** For FREE, ALLOC and TABLE_UNHOOK: the machine frame the PFN maps to, or undefined when it is not the domain's RAM. */
  mfn?: number;
  pcpu: number;
  vcpu: string;
}

/** One domain as the builder made it. */
export interface HvmDomainSpec {
  domain: Domain;
  ept: Ept;
  /** Its COM1 and debug-exit port: the platform's for a single domain. */
  io: IoBus;
  /** Domain 0: the sharing memop may name other domains. */
  privileged: boolean;
}

export interface HvmHostOptions {
  /** The hypervisor's frames, allocator, M2P and lock sanitizer. */
  hv: Hypervisor;
  domains: readonly HvmDomainSpec[];
  /** The context each vCPU starts from (the bare boot protocol's, vCPU k with RDI = k). */
  start: (vcpuId: number) => HvmSaved;
  seed: bigint;
  /** --migrate: the chance per scheduling decision that a vCPU moves to another pCPU. */
  migrate: number;
  /** Memory sharing's history options (--sharing-lock, --sharing-order, --sharing-release). */
  sharing?: MemSharingOptions;
  /** --sharing-daemon: the hypervisor nominates and shares identical pages of running domains. */
  sharingDaemon?: boolean;
  /** Sees each annotation (ports 0x5D0–0x5D6) the host passes to the sanitizer, with its frame translated (tests). */
  annotate?: (a: HvmAnnotation) => void;
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export class HvmHost implements ExitHandler<X86Cpu, X86Exit> {
  readonly name = "hypervisor";
  readonly hv: Hypervisor;
  readonly domains: HvmDomain[];
  /** Every vCPU of every domain, in domain order. */
  readonly vcpuList: HvmVcpu[];
  readonly cpus: readonly X86Cpu[];
  readonly sched: VcpuScheduler<HvmVcpu>;
  /** Memory sharing between the domains (XENMEM_sharing_op, copy on write, the daemon). */
  readonly sharing: HvmSharing;
  /** VM exits by reason, and what the host did for some (virtual IPIs, injections …). */
  readonly exits = new Map<string, number>();
  readonly outcomes = new Map<string, number>();
  /** pCPUs whose vCPU was sent an interrupt while it ran: they take a VM exit at their next decision (vcpu_kick). */
  private readonly kicks = new Set<number>();
  private readonly ofDomain = new Map<Domain, HvmDomain>();
  /** Sanitizer reports not yet taken by the engine. */
  private readonly events: MachineEvent[] = [];
  /** The idle domain's vCPU of each pCPU: the `current` of hypervisor work done for no guest. */
  private readonly idle: VCpu[];
  /** Seeds the sharing daemon's choices (drawn only with --sharing-daemon). */
  private readonly daemonRng: Xoshiro128;
  /** Per pCPU: the instruction count at which the daemon may next run there. */
  private readonly daemonDue: bigint[];

  constructor(private readonly platform: X86Platform, private readonly o: HvmHostOptions) {
    const m = platform.m;
    this.cpus = m.cpus;
    this.hv = o.hv;
    this.sched = new VcpuScheduler<HvmVcpu>(m.cpus.length, new Xoshiro128(o.seed ^ 0x68_766d_686f_7374n), { rate: o.migrate });
    this.daemonRng = new Xoshiro128(o.seed ^ 0x6b_736d_6464n);
    this.daemonDue = m.cpus.map(() => DAEMON_PERIOD);
    this.idle = new Domain(DOMID_IDLE, 0, m.cpus.length).vcpus;
    let vpid = 1;
    this.domains = o.domains.map((spec) => {
      const vcpus = spec.domain.vcpus.map((v) => new HvmVcpu(v, vpid++, o.start(v.vcpuId)));
      const d = new HvmDomain(this, spec.domain, spec.ept, vcpus, spec.io, spec.privileged, m.memory, () => m.hw.x86CodeChanged());
      this.ofDomain.set(spec.domain, d);
      return d;
    });
    this.vcpuList = this.domains.flatMap((d) => [...d.vcpuList]);
    // Every vCPU starts at once, as every bare CPU does.
    for (const a of this.vcpuList) {
      a.vcpu.down = false;
      this.sched.enqueue(a);
    }
    this.sharing = new HvmSharing(this.ofDomain, m.cpus, m.memory, o.sharing ?? DEFAULT_SHARING);
    for (const cpu of m.cpus) {
      cpu.setGuestMode(false);
      platform.park(cpu.index);
    }
  }

  /** The first domain (the only one without --domains). */
  get domain(): Domain {
    return this.domains[0]!.domain;
  }

  /** The first domain's EPT. */
  get ept(): Ept {
    return this.domains[0]!.ept;
  }

  /** The HVM domain a vCPU belongs to. */
  dom(a: HvmVcpu): HvmDomain {
    return this.ofDomain.get(a.vcpu.domain)!;
  }

  /** Where a hypervisor routine runs for vCPU a on pCPU i (Xen's `current`), or for no guest (the idle vCPU). */
  private on(i: number, a?: HvmVcpu): Cpu {
    const vcpu = a ? a.vcpu : this.idle[i]!;
    return { hv: this.hv, cpu: i, vcpu, d: vcpu.domain };
  }

  /** The lock sanitizer's and the race sanitizer's reports, for the engine (status 4). */
  report(cpu: number, message: string, detail: Record<string, unknown>, pcpus: readonly number[]): void {
    this.platform.timeline.emit({ kind: "violation", cpu, message, pcpus: [...pcpus] });
    this.events.push({ kind: "violation", cpu, message, detail });
  }

  takeEvents(): MachineEvent[] {
    return this.events.splice(0);
  }

  eventsPending(): boolean {
    return this.events.length > 0;
  }

  count(what: string): void {
    bump(this.outcomes, what);
  }

  /** The vCPU on pCPU i, if any. */
  current(i: number): HvmVcpu | undefined {
    return this.sched.pcpus[i]!.current;
  }

  /** The vCPU's clock now: its pCPU's cycle count, or where it stopped. */
  private clockOf(a: HvmVcpu): bigint {
    const at = this.sched.where(a);
    return at < 0 ? a.lastCycles : this.cpus[at]!.progress.cycles;
  }

  // ── Exits ──────────────────────────────────────────────────────────────────

  handle(cpu: X86Cpu, exit: X86Exit): Handled | undefined {
    const i = cpu.index;
    if (exit.reason === "parked") return this.sched.hasWork(i) ? this.go(this.schedule(cpu)) : { kind: "done" };
    const a = this.current(i);
    if (!a) return undefined;
    if (exit.reason === "budget") {
      if (a.paused) return this.go(this.pauseOff(cpu, a));
      const d = this.sched.decide(i, cpu.instructions);
      if (d === "migrate") return this.go(this.migrateAway(cpu, a));
      if (d === "preempt") return this.go(this.reschedule(cpu, a, { what: `schedule: ${a.name}'s time slice is over` }));
      if (this.daemonTurn(cpu)) return this.go(this.daemonThenGuest(cpu, a));
      // The timer may have come due while the guest ran: the interrupt is injected now, with no step (this pCPU's own state).
      this.injectPending(cpu, a);
      return undefined;
    }
    if (!("guest" in exit)) return undefined;
    bump(this.exits, exit.reason);
    // The cost model does not price an exit that only carries a guest annotation: it is shootdown's instrument, not the guest's work.
    const annotation = exit.reason === "io" && isAnnotationPort(exit.port);
    this.platform.timeline.emit({ kind: "vmexit", cpu: i, reason: annotation ? "annotation" : exit.reason });
    return this.go(this.vmexit(cpu, a, exit));
  }

  private go(routine: Continuation): Handled {
    return { kind: "continue", routine };
  }

  /** --sharing-daemon: whether this pCPU runs a pass now (once per DAEMON_PERIOD of its instructions, with odds 1/DAEMON_ODDS). */
  private daemonTurn(cpu: X86Cpu): boolean {
    if (!this.o.sharingDaemon || cpu.instructions < this.daemonDue[cpu.index]!) return false;
    this.daemonDue[cpu.index] = cpu.instructions + DAEMON_PERIOD;
    return this.daemonRng.below(DAEMON_ODDS) === 0;
  }

  /** A pass of the sharing daemon on this pCPU (a softirq-like piece of hypervisor work), then back to the guest. */
  private *daemonThenGuest(cpu: X86Cpu, a: HvmVcpu): Continuation {
    yield* this.sharing.daemonPass(this.on(cpu.index), this.daemonRng);
    if (this.current(cpu.index) !== a) return { kind: "done" };
    if (a.paused) return yield* this.pauseOff(cpu, a);
    return this.enter(cpu, a);
  }

  /** A pCPU whose vCPU was sent an interrupt while it ran takes it now: the kick's VM exit, then the injection. */
  interrupt(i: number): Continuation | undefined {
    // The engine also asks to learn whether a pCPU has work, and drops the routine: only running it takes the kick.
    if (!this.kicks.has(i)) return undefined;
    const a = this.current(i);
    if (!a) return undefined;
    return this.kicked(this.cpus[i]!, a);
  }

  private *kicked(cpu: X86Cpu, a: HvmVcpu): Continuation {
    this.kicks.delete(cpu.index);
    this.platform.timeline.emit({ kind: "vmexit", cpu: cpu.index, reason: "external-interrupt (vcpu_kick)" });
    bump(this.exits, "external-interrupt (vcpu_kick)");
    yield { what: `vcpu_kick: ${a.name} takes a VM exit${a.paused ? " (paused)" : " for its pending interrupt"}` };
    if (a.paused) return yield* this.pauseOff(cpu, a);
    return this.enter(cpu, a);
  }

  /** A paused vCPU leaves its pCPU (it is not runnable until unpaused); the pCPU takes another. */
  private *pauseOff(cpu: X86Cpu, a: HvmVcpu): Continuation {
    this.save(cpu, a);
    this.count("vCPUs descheduled by a pause");
    return yield* this.schedule(cpu);
  }

  /** vcpu_pause_nosync's kick: a paused vCPU running on a pCPU leaves it at that pCPU's next decision. */
  kickOff(a: HvmVcpu): void {
    this.sched.remove(a);
    const at = this.sched.where(a);
    if (at >= 0) this.kicks.add(at);
  }

  /** vcpu_unpause: runnable again, back to the run queue unless it sleeps or still runs. */
  unpaused(a: HvmVcpu): void {
    if (a.sleep === "none" && this.sched.where(a) < 0 && !this.sched.runq.includes(a)) this.sched.enqueue(a);
  }

  private *vmexit(cpu: X86Cpu, a: HvmVcpu, exit: X86GuestExit): Continuation {
    const past = () => cpu.setRipRax(exit.rip + BigInt(exit.instructionLength));
    switch (exit.reason) {
      case "msr": {
        yield { what: `${exit.write ? "WRMSR" : "RDMSR"} 0x${exit.msr.toString(16)} from ${a.name}` };
        const ok = this.msr(cpu, a, exit.msr, exit.write, exit.value);
        if (ok) past();
        else cpu.inject({ vector: X86_GP, errorCode: 0 });
        break;
      }
      case "cpuid": {
        yield { what: `CPUID 0x${cpu.gpr("rax").toString(16)} from ${a.name}` };
        this.cpuid(cpu, a);
        past();
        break;
      }
      case "io": {
        yield { what: `${exit.write ? "OUT" : "IN"} port 0x${exit.port.toString(16)} from ${a.name}` };
        const end = this.io(cpu, a, exit);
        if (end) return end;
        past();
        break;
      }
      case "hlt": {
        past();
        const h = yield* this.hlt(cpu, a);
        if (h) return h;
        break;
      }
      case "vmcall": {
        const r = yield* this.dom(a).hypercalls.vmcall(cpu, a);
        // A continuation (-ERESTART) leaves RIP at the VMCALL: the guest makes the same call again.
        cpu.setState({ rax: r.rax });
        if (!r.restart) past();
        break;
      }
      case "ept-violation":
      case "ept-misconfig": {
        const gfn = exit.gpa >> 12n;
        if (exit.reason === "ept-violation" && exit.qualification & EPTQ_WRITE && this.dom(a).mfnOf(gfn) !== undefined) {
          // A write to a page of its RAM the EPT maps read-only: a shared page (hvm_hap_nested_page_fault).
          const r = yield* this.sharing.hapWriteFault(this.on(cpu.index, a), Number(gfn));
          if (r === "enomem") {
            this.count("domain crashed: no frame to unshare into");
            return this.domainOver(cpu, a, 1n, "no free frame to unshare a shared page into");
          }
          this.count("EPT write violations (copy on write)");
          // A fault while the CPU delivered an event (pushing an interrupt's frame on a shared stack page, say): the
          // event is in the IDT-vectoring information and must be injected again, or it is lost (SDM Vol.3C 28.2.4).
          if (exit.duringDelivery) this.reinject(cpu, exit.duringDelivery, exit.instructionLength);
          break;
        }
        yield { what: `EPT ${exit.reason === "ept-violation" ? "violation" : "misconfiguration"} at GPA 0x${exit.gpa.toString(16)} from ${a.name}` };
        // Only RAM is mapped: the guest touched a guest-physical address outside it, the bare machine's bus error.
        this.count("bus error (GPA outside RAM)");
        return this.platform.describer.handle(cpu, { reason: "bus-error", rip: exit.rip, address: exit.gpa });
      }
      case "triple-fault":
        yield { what: `triple fault in ${a.name}` };
        return this.platform.describer.handle(cpu, { reason: "triple-fault", rip: exit.rip, vectors: exit.vectors });
      case "external-interrupt":
        // Nothing sends a pCPU in guest mode a physical interrupt; one that came is acknowledged and dropped.
        yield { what: `external interrupt ${exit.vector} on pCPU ${cpu.index}` };
        cpu.endOfInterrupt();
        break;
      default:
        yield { what: `${exit.reason}: a VM exit the HVM host does not ask for` };
        return this.platform.describer.handle(cpu, exit);
    }
    return yield* this.afterExit(cpu, a);
  }

  /** The way back to the guest: a scheduling decision if the slice is over, else the VM entry. */
  private *afterExit(cpu: X86Cpu, a: HvmVcpu): Continuation {
    if (this.current(cpu.index) !== a) return { kind: "done" };
    if (a.paused) return yield* this.pauseOff(cpu, a);
    const d = this.sched.decide(cpu.index, cpu.instructions);
    if (d === "migrate") return yield* this.migrateAway(cpu, a);
    if (d === "preempt") return yield* this.reschedule(cpu, a, { what: `schedule: ${a.name}'s time slice is over` });
    return this.enter(cpu, a);
  }

  /** Injects again an event whose delivery a VM exit interrupted (vmx_idtv_reinject). */
  private reinject(cpu: X86Cpu, e: X86Event, instructionLength: number): void {
    const software = e.type === "software-interrupt" || e.type === "software-exception";
    cpu.inject({ vector: e.vector, type: e.type, ...(e.errorCode !== undefined ? { errorCode: e.errorCode } : {}), ...(software ? { instructionLength } : {}) });
    this.count("events injected again after an EPT violation in their delivery");
  }

  /** VM entry: the highest deliverable virtual interrupt is injected (the CPU holds it until the guest's IF is 1). */
  private enter(cpu: X86Cpu, a: HvmVcpu): Handled {
    this.injectPending(cpu, a);
    this.platform.timeline.emit({ kind: "vmentry", cpu: cpu.index });
    return { kind: "done" };
  }

  /** vmx_intr_assist: the timer ticked, and the highest deliverable vector injected unless one is still held. */
  private injectPending(cpu: X86Cpu, a: HvmVcpu): void {
    a.vlapic.tick(cpu.progress.cycles);
    if (cpu.pendingInjection) return;
    const v = a.vlapic.pending();
    if (v < 0) return;
    a.vlapic.ack(v);
    cpu.inject({ vector: v });
    this.count("interrupts injected");
  }

  // ── MSRs, CPUID, I/O ───────────────────────────────────────────────────────

  /** One RDMSR or WRMSR; false for #GP. */
  private msr(cpu: X86Cpu, a: HvmVcpu, msr: number, write: boolean, value: bigint): boolean {
    if (msr >= 0x800 && msr <= 0x8ff) {
      // The x2APIC's registers exist while IA32_APIC_BASE.EXTD is set, as on the bare CPU.
      if (!(cpu.state.apicBase & APIC_BASE_EXTD)) return false;
      const now = cpu.progress.cycles;
      if (!write) {
        const v = a.vlapic.read(msr, now);
        if (v === undefined) return false;
        cpu.setState({ rax: v & 0xffff_ffffn, rdx: v >> 32n });
        return true;
      }
      const held = cpu.pendingInjection;
      const r = a.vlapic.write(msr, value, now, held?.type === "external-interrupt" ? held.vector : -1);
      if (r === "#GP") return false;
      if (r !== "ok") this.sendIpi(cpu, a, r);
      return true;
    }
    const viridian = this.dom(a).hypercalls.msr(a, msr, write, value);
    if (viridian !== undefined) {
      if (viridian === "#GP") return false;
      if (!write) cpu.setState({ rax: viridian & 0xffff_ffffn, rdx: viridian >> 32n });
      return true;
    }
    return cpu.emulateMsr(write) === "ok";
  }

  /** vlapic_ipi: the vector requested in each target vCPU's vlapic (of the sender's domain), and each target kicked. */
  private sendIpi(cpu: X86Cpu, from: HvmVcpu, ipi: IpiRequest): void {
    const targets = this.dom(from).vcpuList.filter((t) =>
      ipi.to === "self" ? t === from
        : ipi.to === "all" ? true
          : ipi.to === "all-but-self" ? t !== from
            : ipi.to === 0xffff_ffff || t.vlapic.id === ipi.to);
    for (const t of targets) {
      t.vlapic.setIrq(ipi.vector);
      this.count("virtual IPIs");
      this.kick(cpu, t);
    }
  }

  /** vcpu_kick: a target asleep in HLT with interrupts on wakes; one running on another pCPU takes a VM exit there. */
  private kick(cpu: X86Cpu, t: HvmVcpu): void {
    if (t.sleep === "hlt") {
      t.sleep = "none";
      if (!t.paused) this.sched.enqueue(t);
      return;
    }
    const at = this.sched.where(t);
    if (at >= 0 && at !== cpu.index) this.kicks.add(at);
  }

  /** CPUID: the bare CPU's answer for the leaf, with the vCPU's APIC ID; the hypervisor leaves from the viridian module. */
  private cpuid(cpu: X86Cpu, a: HvmVcpu): void {
    const leaf = Number(cpu.gpr("rax") & 0xffff_ffffn);
    const own = this.dom(a).hypercalls.cpuid(leaf, a);
    if (own) {
      cpu.setState({ rax: BigInt(own[0] >>> 0), rbx: BigInt(own[1] >>> 0), rcx: BigInt(own[2] >>> 0), rdx: BigInt(own[3] >>> 0) });
      return;
    }
    cpu.executeCpuid();
    // Leaf 1 EBX[31:24] is the initial APIC ID: the vCPU's, not the pCPU's it happens to run on.
    if (leaf === 1) cpu.setState({ rbx: (cpu.gpr("rbx") & 0x00ff_ffffn) | (BigInt(a.vlapic.id & 0xff) << 24n) });
  }

  /** IN or OUT; returns the run's end when the guest wrote the debug-exit port. */
  private io(cpu: X86Cpu, a: HvmVcpu, exit: Extract<X86GuestExit, { reason: "io" }>): Handled | undefined {
    const setRax = (value: bigint) => cpu.setState({ rax: raxAfterIn(cpu.gpr("rax"), exit.size, value) });
    const dom = this.dom(a);
    if (isAnnotationPort(exit.port)) {
      // The guest names guest-physical frames; the sanitizer tracks machine frames (docs/annotations.md).
      const toMachineFrame = (gfn: bigint) => {
        const mfn = dom.mfnOf(gfn);
        return mfn === undefined ? undefined : BigInt(mfn);
      };
      const value = annotationPortIo(this.platform.annotations, cpu.index, exit, toMachineFrame, a.name);
      if (value !== undefined) setRax(value);
      if (exit.write) {
        this.count("annotations");
        const op = exit.port - SD_ANNOT_PORT;
        const arg = Number(exit.value & 0xffff_ffffn);
        const mfn = takesFrame(op) ? toMachineFrame(BigInt(arg)) : undefined;
        this.o.annotate?.({ op, arg, ...(mfn !== undefined ? { mfn: Number(mfn) } : {}), pcpu: cpu.index, vcpu: a.name });
      }
      return undefined;
    }
    const r = dom.io.access(exit);
    if (r.exit) return this.domainOver(cpu, a, r.exit.code, undefined);
    if (!exit.write) setRax(r.value);
    return undefined;
  }

  /**
   * A domain wrote its debug-exit port (or crashed): it is over. With one
   * domain that ends the run, as on the bare machine. With several, its
   * vCPUs leave the pCPUs for good (paused, kicked off where they run) and
   * the run ends when the last domain is over, with the first nonzero code.
   * Undefined: the caller goes on (its own vCPU is paused and leaves).
   */
  private domainOver(cpu: X86Cpu, a: HvmVcpu, code: bigint, why: string | undefined): Handled | undefined {
    const dom = this.dom(a);
    if (dom.exitCode !== undefined) return undefined;
    dom.exitCode = code;
    if (why) this.platform.timeline.emit({ kind: "mark", cpu: cpu.index, name: `${dom.name} crashed: ${why}`, args: { domid: dom.domain.domid } });
    if (this.domains.length === 1) return { kind: "end", end: { kind: "debug-exit", code, cpu: cpu.index } };
    if (this.domains.every((d) => d.exitCode !== undefined)) {
      const code = this.domains.find((d) => d.exitCode !== 0n)?.exitCode ?? 0n;
      return { kind: "end", end: { kind: "debug-exit", code, cpu: cpu.index } };
    }
    for (const v of dom.vcpuList) {
      v.paused++;
      this.kickOff(v);
    }
    return undefined;
  }


  // ── HLT ────────────────────────────────────────────────────────────────────

  /**
   * hvm_hlt. An interrupt the vCPU can take ends it at once; with interrupts
   * on and the timer armed the vCPU's clock moves to the deadline (as a
   * halted bare CPU's clock does) and the timer fires; otherwise the vCPU
   * blocks and its pCPU takes another. With interrupts off it sleeps for
   * good, as a bare CPU would.
   */
  private *hlt(cpu: X86Cpu, a: HvmVcpu): Generator<StepLabel, Handled | undefined, void> {
    const interruptsOn = (cpu.state.rflags & RFLAGS_IF) !== 0n;
    const now = cpu.progress.cycles;
    a.vlapic.tick(now);
    if (interruptsOn && (a.vlapic.pending() >= 0 || cpu.pendingInjection)) return undefined;
    const deadline = a.vlapic.timerDeadline;
    if (interruptsOn && deadline !== undefined) {
      // As a halted bare CPU's clock moves to its timer's deadline.
      cpu.skipTo(deadline);
      this.count("HLT: clock moved to the timer");
      return undefined;
    }
    yield { what: `hvm_hlt: ${a.name} blocks${interruptsOn ? " until an interrupt" : " with interrupts off"}`, yields: true };
    a.sleep = interruptsOn ? "hlt" : "hlt-forever";
    // An interrupt may have come between the exit and this step.
    if (interruptsOn && a.vlapic.pending() >= 0) {
      a.sleep = "none";
      return undefined;
    }
    this.save(cpu, a);
    return yield* this.schedule(cpu);
  }

  // ── Scheduling ─────────────────────────────────────────────────────────────

  /** A parked pCPU takes a runnable vCPU. */
  private *schedule(cpu: X86Cpu): Continuation {
    yield { what: "schedule: take a vCPU from the run queue" };
    if (this.current(cpu.index)) return { kind: "done" };
    const a = this.sched.take(cpu.index);
    if (!a) return { kind: "done" };
    this.load(cpu, a);
    return this.enter(cpu, a);
  }

  /** schedule() on a pCPU whose vCPU's slice is over: the next among the runnable vCPUs and a itself. */
  private *reschedule(cpu: X86Cpu, a: HvmVcpu, label: StepLabel): Continuation {
    yield label;
    const next = this.sched.pickNext();
    if (!next) {
      this.sched.restartSlice(cpu.index, cpu.instructions);
      return this.enter(cpu, a);
    }
    this.save(cpu, a);
    this.sched.enqueue(a);
    this.load(cpu, next);
    return this.enter(cpu, next);
  }

  /** --migrate: a leaves this pCPU for another; this pCPU takes someone else, or parks. */
  private *migrateAway(cpu: X86Cpu, a: HvmVcpu): Continuation {
    yield { what: `schedule: ${a.name} migrates off pCPU ${cpu.index}` };
    this.save(cpu, a);
    this.sched.enqueue(a, cpu.index, true);
    return yield* this.schedule(cpu);
  }

  /** Puts vCPU a on pCPU cpu: its VPID and EPT, its registers, guest mode (vmx_do_resume). */
  private load(cpu: X86Cpu, a: HvmVcpu): void {
    const i = cpu.index;
    const last = a.vcpu.dirtyCpu;
    if (last !== undefined && last !== i) {
      this.platform.timeline.emit({ kind: "mark", cpu: i, name: `migrate ${a.name} from pCPU ${last}`, args: { vcpu: a.name, from: last, to: i } });
    }
    // Entries this pCPU holds for the VPID may predate flushes the vCPU made elsewhere.
    if (last !== i) cpu.invvpid(InvvpidType.SingleContext, a.vpid);
    const dom = this.dom(a);
    cpu.setVmx({ vpid: a.vpid, eptp: dom.ept.eptp });
    const s = a.saved!;
    cpu.setRegisters(s.registers);
    cpu.setState(s.state);
    if (s.injection) cpu.inject(s.injection);
    cpu.interruptShadow = s.shadow;
    a.saved = undefined;
    // The vCPU's clock is this pCPU's from now on: it must not go back.
    cpu.skipTo(a.lastCycles);
    cpu.setGuestControls(HVM_CONTROLS);
    this.sched.running(i, a, cpu.instructions, last);
    a.vcpu.processor = i;
    a.vcpu.dirtyCpu = i;
    dom.domain.dirtyCpumask.add(i);
    this.platform.unpark(i);
    this.platform.timeline.emit({ kind: "vcpu-load", cpu: i, vcpu: a.name });
  }

  /** Takes vCPU a off pCPU cpu, keeping its registers (vmx_ctxt_switch_from). */
  private save(cpu: X86Cpu, a: HvmVcpu): void {
    this.platform.timeline.emit({ kind: "vcpu-save", cpu: cpu.index, vcpu: a.name });
    const r: X86Registers = cpu.registers;
    // An event injected for this vCPU and not yet delivered (an interrupt waiting for its IF, a #GP about to be) goes with it.
    // With the STI / MOV SS shadow: taken off between STI and HLT, the vCPU must still take its wake-up after the HLT.
    a.saved = { state: cpu.state, registers: r, injection: cpu.takeInjection(), shadow: cpu.interruptShadow };
    a.lastCycles = cpu.progress.cycles;
    this.sched.stopped(cpu.index);
    this.kicks.delete(cpu.index);
    cpu.setGuestMode(false);
    cpu.setVmx({ vpid: 0, eptp: 0n });
    this.platform.park(cpu.index);
  }

  // ── What the domains need of the host ──────────────────────────────────────

  /** Where each vCPU is: the pCPU it runs on, or -1. */
  pcpuOf(a: HvmVcpu): number {
    return this.sched.where(a);
  }

  clock(a: HvmVcpu): bigint {
    return this.clockOf(a);
  }

  /** memory_op from vCPU a (running on its pCPU): XENMEM_sharing_op. */
  *memoryOp(a: HvmVcpu, cmd: bigint, arg: bigint): Generator<StepLabel, bigint, void> {
    const i = this.sched.where(a);
    return yield* this.sharing.memoryOp(this.on(i, a), this.cpus[i]!, cmd, arg);
  }

  /** The debugger's frame, shared, domain, p2m and hypercalls commands (inspect.ts). */
  inspect(command: string, args: readonly string[]): string[] | undefined {
    return inspectHvm(this, command, args);
  }

  private vcpuView: HvmVcpuView | undefined;

  /** The domains' vCPUs as the debugger's threads: where each runs, and the registers kept of those off every pCPU (vcpu-view.ts). */
  vcpus(): HvmVcpuView {
    return (this.vcpuView ??= new HvmVcpuView(this));
  }

  // ── The summary ────────────────────────────────────────────────────────────

  summary(): Record<string, unknown> {
    const hypercalls: Record<string, Record<string, number>> = {};
    for (const d of this.domains) {
      for (const [call, results] of Object.entries(d.hypercalls.summary())) {
        const into = (hypercalls[call] ??= {});
        for (const [r, n] of Object.entries(results)) into[r] = (into[r] ?? 0) + n;
      }
    }
    const ms = this.sharing.ms;
    return {
      hvm: true,
      domains: this.domains.map((d) => ({
        domid: d.domain.domid, vcpus: d.vcpuList.length, pages: d.domain.totPages, eptTables: d.ept.tables.length,
        ...(d.privileged ? { privileged: true } : {}), ...(d.exitCode !== undefined ? { exitCode: Number(d.exitCode) } : {}),
      })),
      exits: Object.fromEntries([...this.exits].sort()),
      outcomes: Object.fromEntries([...this.outcomes].sort()),
      hypercalls,
      ...(ms.stats.nominated || this.o.sharingDaemon ? { sharing: this.sharing.summary() } : {}),
      lockViolations: this.hv.locks.violations.length,
      migrations: this.sched.migrations,
      preemptions: this.sched.preemptions,
      migrate: this.sched.migrate,
    };
  }
}
