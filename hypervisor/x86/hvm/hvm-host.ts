// SPDX-License-Identifier: MIT
//
// The HVM host: `shootdown run IMAGE --hv --hvm`. The machine's CPUs are the
// hypervisor's pCPUs; one domain (d1) runs the image exactly as the bare
// machine would boot it (boot.ts), so an image that runs bare runs here
// unchanged and prints the same. What differs is underneath:
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
//   EPT violation        outside RAM: the bare machine's bus error
//   triple fault         the bare machine's triple fault
//   external interrupt   none is sent to a pCPU in guest mode; ended with an EOI
//
// Racy hypervisor work is a continuation of steps (hypervisor/README.md), so
// it interleaves with the guest instructions of the other pCPUs and is
// recorded in the run's schedule.

import type { X86Cpu, X86Exit, X86GuestExit, X86Registers } from "../../../emulator/machine/cpu/x86-cpu.ts";
import type { Continuation, ExitHandler, Handled, StepLabel } from "../../../emulator/machine/core/exits.ts";
import type { X86Platform } from "../../../emulator/machine/platform/x86/platform.ts";
import { Xoshiro128 } from "../../../emulator/machine/core/scheduler.ts";
import { InvvpidType } from "../../../emulator/machine/cpu/x86-cpu.ts";
import { VcpuScheduler } from "../../common/vcpu-sched.ts";
import type { Domain } from "../../common/domain.ts";
import type { Ept } from "./ept.ts";
import { HvmVcpu, type HvmSaved } from "./vcpu.ts";
import type { IpiRequest } from "./vlapic.ts";
import { HvmHypercalls, type HvmHypercallHost } from "./hypercall.ts";
import { annotationPortIo, isAnnotationPort, SD_ANNOT_PORT, takesFrame } from "../../../emulator/machine/core/annotations.ts";
import { raxAfterIn } from "../../../emulator/machine/platform/x86/devices.ts";

/** Guest instructions a vCPU runs before a scheduling decision is made for its pCPU. */
export const TIME_SLICE = 20_000n;

const X86_GP = 13;
const RFLAGS_IF = 1n << 9n;
/** IA32_APIC_BASE.EXTD: the x2APIC is on (the bare machine never turns it off). */
const APIC_BASE_EXTD = 1n << 10n;

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

export interface HvmHostOptions {
  domain: Domain;
  ept: Ept;
  /** The context each vCPU starts from (the bare boot protocol's, vCPU k with RDI = k). */
  start: (vcpuId: number) => HvmSaved;
  seed: bigint;
  /** --migrate: the chance per scheduling decision that a vCPU moves to another pCPU. */
  migrate: number;
  /** Sees each annotation (ports 0x5D0–0x5D6) the host passes to the sanitizer, with its frame translated (tests). */
  annotate?: (a: HvmAnnotation) => void;
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export class HvmHost implements ExitHandler<X86Cpu, X86Exit>, HvmHypercallHost {
  readonly name = "hypervisor";
  readonly domain: Domain;
  readonly ept: Ept;
  readonly vcpuList: HvmVcpu[];
  readonly cpus: readonly X86Cpu[];
  readonly sched: VcpuScheduler<HvmVcpu>;
  readonly hypercalls: HvmHypercalls;
  /** VM exits by reason, and what the host did for some (virtual IPIs, injections …). */
  readonly exits = new Map<string, number>();
  readonly outcomes = new Map<string, number>();
  /** pCPUs whose vCPU was sent an interrupt while it ran: they take a VM exit at their next decision (vcpu_kick). */
  private readonly kicks = new Set<number>();

  constructor(private readonly platform: X86Platform, private readonly o: HvmHostOptions) {
    const m = platform.m;
    this.cpus = m.cpus;
    this.domain = o.domain;
    this.ept = o.ept;
    this.sched = new VcpuScheduler<HvmVcpu>(m.cpus.length, new Xoshiro128(o.seed ^ 0x68_766d_686f_7374n), o.migrate, TIME_SLICE);
    this.vcpuList = o.domain.vcpus.map((v) => new HvmVcpu(v, v.vcpuId + 1, o.start(v.vcpuId)));
    // Every vCPU starts at once, as every bare CPU does.
    for (const a of this.vcpuList) {
      a.vcpu.down = false;
      this.sched.enqueue(a);
    }
    this.hypercalls = new HvmHypercalls(this);
    for (const cpu of m.cpus) {
      cpu.setGuestControls({ guestMode: false });
      platform.park(cpu.index);
    }
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
    const past = () => cpu.setState({ rip: exit.rip + BigInt(exit.instructionLength) });
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
        const r = yield* this.hypercalls.vmcall(cpu, a);
        // A continuation (-ERESTART) leaves RIP at the VMCALL: the guest makes the same call again.
        cpu.setState({ rax: r.rax });
        if (!r.restart) past();
        break;
      }
      case "ept-violation":
      case "ept-misconfig": {
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
    const viridian = this.hypercalls.msr(a, msr, write, value);
    if (viridian !== undefined) {
      if (viridian === "#GP") return false;
      if (!write) cpu.setState({ rax: viridian & 0xffff_ffffn, rdx: viridian >> 32n });
      return true;
    }
    return cpu.emulateMsr(write) === "ok";
  }

  /** vlapic_ipi: the vector requested in each target vCPU's vlapic, and each target kicked. */
  private sendIpi(cpu: X86Cpu, from: HvmVcpu, ipi: IpiRequest): void {
    const targets = this.vcpuList.filter((t) =>
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
    const own = this.hypercalls.cpuid(leaf);
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
    if (isAnnotationPort(exit.port)) {
      // The guest names guest-physical frames; the sanitizer tracks machine frames (docs/annotations.md).
      const toMachineFrame = (gfn: bigint) => {
        const mfn = gfn < BigInt(this.domain.maxPages) ? this.ept.lookup(Number(gfn)) : undefined;
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
    const r = this.platform.io.access(exit);
    if (r.exit) return { kind: "end", end: { kind: "debug-exit", code: r.exit.code, cpu: cpu.index } };
    if (!exit.write) setRax(r.value);
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
    cpu.setVmx({ vpid: a.vpid, eptp: this.ept.eptp });
    const s = a.saved!;
    cpu.setRegisters(s.registers);
    cpu.setState(s.state);
    if (s.injection) cpu.inject(s.injection);
    a.saved = undefined;
    // The vCPU's clock is this pCPU's from now on: it must not go back.
    cpu.skipTo(a.lastCycles);
    cpu.setGuestControls(HVM_CONTROLS);
    this.sched.running(i, a, cpu.instructions, last);
    a.vcpu.processor = i;
    a.vcpu.dirtyCpu = i;
    this.domain.dirtyCpumask.add(i);
    this.platform.unpark(i);
    this.platform.timeline.emit({ kind: "vcpu-load", cpu: i, vcpu: a.name });
  }

  /** Takes vCPU a off pCPU cpu, keeping its registers (vmx_ctxt_switch_from). */
  private save(cpu: X86Cpu, a: HvmVcpu): void {
    this.platform.timeline.emit({ kind: "vcpu-save", cpu: cpu.index, vcpu: a.name });
    const r: X86Registers = cpu.registers;
    // An event injected for this vCPU and not yet delivered (an interrupt waiting for its IF, a #GP about to be) goes with it.
    a.saved = { state: cpu.state, registers: r, injection: cpu.takeInjection() };
    a.lastCycles = cpu.progress.cycles;
    this.sched.stopped(cpu.index);
    this.kicks.delete(cpu.index);
    cpu.setGuestControls({ guestMode: false });
    cpu.setVmx({ vpid: 0, eptp: 0n });
    this.platform.park(cpu.index);
  }

  // ── HvmHypercallHost: what the hypercalls need of the host ────────────────

  /** Where each vCPU is: the pCPU it runs on, or -1. */
  pcpuOf(a: HvmVcpu): number {
    return this.sched.where(a);
  }

  clock(a: HvmVcpu): bigint {
    return this.clockOf(a);
  }

  /** The machine addresses of [gpa, gpa + length), page by page, or undefined when any byte is not the domain's RAM. */
  private guestPieces(gpa: bigint, length: number): { pa: bigint; n: number }[] | undefined {
    const out: { pa: bigint; n: number }[] = [];
    for (let done = 0; done < length; ) {
      const at = gpa + BigInt(done);
      const mfn = at >> 12n < BigInt(this.domain.maxPages) ? this.ept.lookup(Number(at >> 12n)) : undefined;
      if (mfn === undefined) return undefined;
      const n = Math.min(4096 - Number(at & 0xfffn), length - done);
      out.push({ pa: (BigInt(mfn) << 12n) | (at & 0xfffn), n });
      done += n;
    }
    return out;
  }

  /** hvm_copy_from_guest_phys. */
  readGuestPhys(gpa: bigint, length: number): Uint8Array | undefined {
    const pieces = this.guestPieces(gpa, length);
    if (!pieces) return undefined;
    const out = new Uint8Array(length);
    let at = 0;
    for (const p of pieces) {
      out.set(this.platform.m.memory.read(p.pa, p.n), at);
      at += p.n;
    }
    return out;
  }

  /** hvm_copy_to_guest_phys; the CPUs' decoded instructions are dropped (the hypercall page is code). */
  writeGuestPhys(gpa: bigint, bytes: Uint8Array): boolean {
    const pieces = this.guestPieces(gpa, bytes.length);
    if (!pieces) return false;
    let at = 0;
    for (const p of pieces) {
      this.platform.m.memory.write(p.pa, bytes.subarray(at, at + p.n));
      at += p.n;
    }
    this.platform.m.hw.x86CodeChanged();
    return true;
  }

  // ── The summary ────────────────────────────────────────────────────────────

  summary(): Record<string, unknown> {
    return {
      hvm: true,
      domains: [{ domid: this.domain.domid, vcpus: this.vcpuList.length, pages: this.domain.totPages, eptTables: this.ept.tables.length }],
      exits: Object.fromEntries([...this.exits].sort()),
      outcomes: Object.fromEntries([...this.outcomes].sort()),
      hypercalls: this.hypercalls.summary(),
      migrations: this.sched.migrations,
      preemptions: this.sched.preemptions,
      migrate: this.sched.migrate,
    };
  }
}
