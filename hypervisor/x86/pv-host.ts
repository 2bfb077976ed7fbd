// SPDX-License-Identifier: MIT
//
// The hypervisor on the emulated machine: the first handler of every pCPU's
// exit chain (emulator/machine/core/exits.ts). It builds the PV domains,
// schedules their vCPUs onto pCPUs (VMX-like guest mode without EPT, one
// VPID per vCPU), and turns each VM exit into hypervisor work run as a
// continuation, so that its steps interleave with guest instructions on the
// other pCPUs under the run's seed and are recorded in its schedule.
//
//   VM exit                  what the hypervisor does (Xen's function)
//   VMCALL                   the hypercall (hypercall.ts); RAX ← its result
//   #PF (exception bitmap)   do_page_fault: spurious_page_fault walks the
//                            tables with interrupts off (traps.ts); a spurious
//                            fault is invalidated and the guest resumes, a real
//                            one is injected into the guest's IDT with the CR2
//                            and error code hardware gave
//   MOV to CR3               new_guest_cr3's checks (MMUEXT_NEW_BASEPTR); #GP if they fail
//   INVLPG                   MMUEXT_INVLPG_LOCAL
//   HLT                      the vCPU yields (SCHEDOP_yield)
//   MOV to CR0/CR4, WRMSR,
//   INVPCID, IN/OUT          #GP(0): a PV kernel may not, but for the guest
//                            annotations' ports 0x5D0–0x5D6, which the host
//                            passes to the sanitizer with their frames as
//                            given (a PV kernel's frames are machine frames)
//   triple fault             domain_crash
//   end of a time slice      the vCPU is preempted; the pCPU takes the next
//
// A pCPU with no vCPU to run is parked (Platform.park): a decision for it
// runs nothing, so the engine counts it idle, and the hypervisor looks for a
// runnable vCPU at each of them. Runnable vCPUs wait in one run queue and a
// pCPU takes a seeded random one, so vCPUs move between pCPUs (migrations,
// counted); the run queue, the slices and the seeded choices are every
// host's (common/vcpu-sched.ts).
//
// TLB isolation. Each vCPU has a VPID of its own: the TLBs tag every entry
// with it, so no vCPU can use another's entries, and a vCPU switched out and
// back on the same pCPU finds its own entries as a CPU would. When a vCPU
// lands on a pCPU other than the one it last ran on (v->dirty_cpu), that
// pCPU's entries for its VPID may predate flushes the vCPU had since, so
// they are invalidated (INVVPID single-context) first. A flush the
// hypervisor asks for on a pCPU (flush_area_local) invalidates one page of
// the VPIDs that may have entries there, or all of that pCPU's entries.
//
// Interrupts. Every routine runs under withInterrupts (common/smp.ts): a
// flush IPI is taken between two of its steps while the pCPU's interrupts are
// enabled, and by a pCPU in guest mode or parked at its next decision
// (Platform.interrupt), as a VM exit for an external interrupt.

import { GPR, InvvpidType, type X86Cpu, type X86Exit, type X86Registers, type X86State } from "../../emulator/machine/cpu/x86-cpu.ts";
import type { X86GuestExit, X86Event } from "../../emulator/machine/cpu/x86-guest.ts";
import type { Continuation, ExitHandler, Handled, StepLabel } from "../../emulator/machine/core/exits.ts";
import type { Routine } from "../common/routine.ts";
import type { X86Platform } from "../../emulator/machine/platform/x86/platform.ts";
import { VcpuScheduler } from "../common/vcpu-sched.ts";
import { Xoshiro128 } from "../../emulator/machine/core/scheduler.ts";
import type { RunEnd } from "../../emulator/machine/core/run-end.ts";
import type { Hypervisor } from "./hypervisor.ts";
import { builtPvDomains } from "./pv-build.ts";
import { GDT_VIRT_START, GDT_LIMIT } from "./xen-area.ts";
import { FLUSH_ORDER_MASK, FLUSH_TLB_GLOBAL } from "../common/flush.ts";
import { interruptDeliverable, withInterrupts } from "../common/smp.ts";
import type { Violation } from "../common/sanitizer.ts";
import type { LockViolation } from "../common/lock-sanitizer.ts";
import type { MachineEvent } from "../../emulator/machine/core/exits.ts";
import { invalidateInterrupt } from "./flush.ts";
import { spuriousPageFault } from "./traps.ts";
import type { Domain, VCpu } from "../common/domain.ts";
import { HYPERVISOR, SCHEDOP, SHUTDOWN, HYPERCALL_NAMES } from "./public.ts";
import { frameInfo } from "./inspect.ts";
import { resultName } from "../common/errno.ts";
import { ShootdownError } from "../../emulator/machine/core/errors.ts";
import { PvVcpuView } from "./vcpu-view.ts";
import { annotationPortIo, isAnnotationPort } from "../../emulator/machine/core/annotations.ts";
import { raxAfterIn } from "../../emulator/machine/platform/x86/devices.ts";

const errnoName = (e: number) => resultName(-e).replace(/^-/, "");

const X86_GP = 13;
const X86_PF = 14;

/** Hypercalls the debugger can list. */
const HYPERCALL_LOG = 256;

/** At the end of a time slice with nobody waiting, one vCPU in this many goes back to the run queue (a chance to migrate). */
const MIGRATE_ONE_IN = 4;

/** The machine frames below this are not the hypervisor's (the bare boot protocol's low memory). */
const FIRST_MFN = 0x100;

/** Control registers of a PV vCPU: paging, protected mode, write protection (a PV kernel cannot change them). */
const CR0_PV = 0x8001_0033n; // PG | WP | NE | ET | MP | PE
const CR4_PV = 0x20n; // PAE
const EFER_PV = 0xd01n; // NXE | LMA | LME | SCE

/** What a PV vCPU runs under: every exit a PV kernel must not do itself. */
const GUEST_CONTROLS = {
  guestMode: true,
  exceptionBitmap: 1 << X86_PF,
  hltExiting: true,
  invlpgExiting: true,
  invpcidExiting: true,
  cr3LoadExiting: true,
  cr0Exiting: true,
  cr4Exiting: true,
  rdmsrExiting: false,
  wrmsrExiting: true,
  ioExiting: true,
  vmcallExiting: true,
  externalInterruptExiting: false,
  virtualIf: true,
};

export interface PvHostOptions {
  image: Uint8Array;
  cmdline: string;
  /** Domains 1..domains. */
  domains: number;
  /** vCPUs per domain. */
  vcpus: number;
  /** Memory per domain, bytes. */
  domMemBytes: bigint;
  seed: bigint;
  /** --nested: the hypervisor runs under an L0 that offers the assisted flush. */
  nested?: boolean;
  /** false: --no-force-ipi (FLUSH_NO_ASSIST is ignored, as before Xen's fix). */
  forceIpi?: boolean;
  /** false: --no-l0-assist (nested, but the L0 offers no flush hypercall). */
  l0Assist?: boolean;
  /** --keep-going: count sanitizer violations instead of ending the run at the first. */
  keepGoing?: boolean;
  /** A domain's console bytes (CONSOLEIO_write). */
  console(domid: number, bytes: Uint8Array): void;
}

/** A vCPU's registers while it is off every pCPU. */
interface Saved {
  state: X86State;
  registers: Partial<X86Registers>;
  injection: X86Event | null;
  shadow: number;
}

/** Is this exit a SCHEDOP_yield hypercall (the guest gives its pCPU up)? */
function isYield(cpu: X86Cpu, exit: X86GuestExit): boolean {
  return exit.reason === "vmcall" && cpu.gprIs(GPR.rax, HYPERVISOR.sched_op) && cpu.gprIs(GPR.rdi, SCHEDOP.yield);
}

/** A hypercall's argument registers, in order. */
const ARG_GPRS = [GPR.rdi, GPR.rsi, GPR.rdx, GPR.r10, GPR.r8] as const;

/** A hypercall's arguments: RDI, RSI, RDX, R10, R8. */
function hypercallArgs(cpu: X86Cpu): bigint[] {
  return ARG_GPRS.map((r) => cpu.gprAt(r));
}

const SCHED_OP_NR = BigInt(HYPERVISOR.sched_op);

/** The guest goes on after the instruction that made the exit. */
function pastTheInstruction(cpu: X86Cpu, exit: X86GuestExit): void {
  cpu.setRipRax(exit.rip + BigInt(exit.instructionLength));
}

/** #GP(0) for the instruction that made the exit. */
function injectGp(cpu: X86Cpu): void {
  cpu.inject({ vector: X86_GP, errorCode: 0 });
}

const DONE: Handled = { kind: "done" };
const WORKED: Handled = { kind: "done", worked: true };
const YIELDED: Handled = { kind: "done", worked: true, yields: true };

/** A routine with no step of its own: run under withInterrupts, only the pending interrupts are taken. */
function* noSteps(): Generator<StepLabel, void, void> {}

const RESULT_STATUS: Record<number, number> = { [SHUTDOWN.poweroff]: 0 };

export class PvHost implements ExitHandler<X86Cpu, X86Exit> {
  readonly name = "hypervisor";
  readonly hv: Hypervisor;
  private readonly cpus: readonly X86Cpu[];
  /** The run queue, which vCPU each pCPU runs, and time slices (common/vcpu-sched.ts). */
  private readonly sched: VcpuScheduler<VCpu>;
  private readonly saved = new Map<VCpu, Saved>();
  private readonly vpids = new Map<VCpu, number>();
  private readonly exitCounts = new Map<string, number>();
  /** The last hypercalls, for the debugger's `hypercalls`. */
  private readonly log: { cpu: number; domid: number; vcpuId: number; nr: bigint; args: bigint[]; result: bigint }[] = [];
  /** Sanitizer violations not yet taken by the engine, and the first, which ends the run unless --keep-going. */
  private readonly events: MachineEvent[] = [];
  private spuriousFaults = 0;

  constructor(private readonly platform: X86Platform, private readonly o: PvHostOptions) {
    const m = platform.m;
    this.cpus = m.cpus;
    const frames = Number(m.options.ram[0]!.size >> 12n);
    this.sched = new VcpuScheduler<VCpu>(m.cpus.length, new Xoshiro128(o.seed ^ 0x7076_686f_7374n), { idleOneIn: MIGRATE_ONE_IN });
    // The domains as built once for these options (pv-build.ts), copied for this run and its seed.
    const build = {
      image: o.image, cmdline: o.cmdline, domains: o.domains, vcpus: o.vcpus, domMemBytes: o.domMemBytes,
      firstMfn: FIRST_MFN, nrFrames: frames - FIRST_MFN, nrPcpus: m.cpus.length,
      nested: o.nested ?? false, forceIpi: o.forceIpi ?? true, l0Assist: o.l0Assist ?? true,
    };
    this.hv = builtPvDomains(build, m.memory, {
      callbacks: {
        console: (d, bytes) => o.console(d.domid, bytes),
        // A vCPU taken down and brought up again before it left its pCPU is still there: it goes on running.
        vcpuUp: (v) => {
          if (!this.sched.runq.includes(v) && this.sched.where(v) < 0) this.sched.enqueue(v);
        },
        yield: (v) => this.yielded.add(v),
        baseptrChanged: (v) => this.baseptrChanged(v),
        flushLocal: (cpu, va, flags) => this.flushLocal(cpu, va, flags),
        l0FlushTlbs: () => {
          for (const c of this.cpus) c.invvpid(InvvpidType.AllContext, 0);
        },
        violation: (v) => this.violation(v),
        lockViolation: (v) => this.lockViolation(v),
      },
      timeline: platform.timeline, step: () => platform.timeline.step,
    }, o.seed);
    let vpid = 1;
    for (const d of this.hv.domains.values()) {
      for (const v of d.vcpus) this.vpids.set(v, vpid++);
      this.sched.enqueue(d.vcpus[0]!);
    }
    for (const cpu of m.cpus) {
      cpu.setGuestMode(false);
      platform.park(cpu.index);
    }
  }

  private count(what: string): void {
    this.exitCounts.set(what, (this.exitCounts.get(what) ?? 0) + 1);
  }

  /**
   * An exit's routine runs up to its first step at once, in the decision
   * that made the exit: what comes before a routine's first yield touches
   * nothing shared (README.md, "One step is one scheduler decision"). So an
   * exit whose handling has no step at all (a SCHEDOP_yield with nothing
   * else to run) is over when the guest's piece ends, and its CPU's next
   * decision runs guest code again; otherwise the routine's first label is
   * its first step, as before (handed to the engine as Handled.first).
   */
  handle(cpu: X86Cpu, exit: X86Exit): Handled | undefined {
    if (exit.reason === "vmcall" && "guest" in exit && isYield(cpu, exit)) {
      const h = this.yieldInPlace(cpu, exit);
      if (h) return h;
    }
    const h = this.exit(cpu, exit);
    if (h?.kind !== "continue") return h;
    const routine = this.onPcpu(cpu, h.routine);
    const first = routine.next();
    if (first.done) {
      const r = first.value ?? DONE;
      return r.kind === "done" ? (r.yields ? YIELDED : WORKED) : r;
    }
    return { ...h, routine, first: first.value };
  }

  /**
   * A routine as it runs on a pCPU: flush IPIs are taken between its steps
   * while interrupts are enabled, and when it ends by starting another
   * routine (a hypercall that yields the pCPU) that one runs on.
   */
  private onPcpu(cpu: X86Cpu, routine: Continuation): Continuation {
    return withInterrupts(this.hv.pcpus[cpu.index]!, routine, () => this.takeIpi(cpu), (h) => {
      if (h?.kind === "continue") return h.routine;
      if (this.platform.timeline.on && this.sched.pcpus[cpu.index]!.current && h?.kind !== "end") this.platform.timeline.emit({ kind: "vmentry", cpu: cpu.index });
      return undefined;
    });
  }

  /** A flush IPI taken on a pCPU (invalidate_interrupt). */
  private takeIpi(cpu: X86Cpu): Routine<void> {
    this.count("external-interrupt");
    return invalidateInterrupt(this.hv, cpu.index);
  }

  /**
   * A pCPU running guest code, or parked, with a flush IPI pending takes it
   * now: the interrupt makes the VM exit whatever the guest's own IF says.
   */
  interrupt(i: number): Continuation | undefined {
    if (!interruptDeliverable(this.hv.pcpus[i]!)) return undefined;
    return this.interrupted(i);
  }

  private *interrupted(i: number): Continuation {
    const inGuest = this.sched.pcpus[i]!.current !== undefined;
    if (inGuest && this.platform.timeline.on) this.platform.timeline.emit({ kind: "vmexit", cpu: i, reason: "external-interrupt" });
    yield* withInterrupts(this.hv.pcpus[i]!, noSteps(), () => this.takeIpi(this.cpus[i]!));
    if (inGuest && this.platform.timeline.on) this.platform.timeline.emit({ kind: "vmentry", cpu: i });
    return { kind: "done" };
  }

  takeEvents(): MachineEvent[] {
    return this.events.splice(0);
  }

  eventsPending(): boolean {
    return this.events.length > 0;
  }

  private violation(v: Violation): void {
    this.platform.timeline.emit({ kind: "violation", cpu: v.actor, message: v.message, pcpus: [v.walker, v.actor] });
    this.events.push({ kind: "violation", cpu: v.walker, message: v.message, detail: { ...v, va: `0x${v.va.toString(16)}` } });
  }

  private lockViolation(v: LockViolation): void {
    this.platform.timeline.emit({ kind: "violation", cpu: v.cpu, message: v.message, pcpus: v.pcpus });
    this.events.push({ kind: "violation", cpu: v.cpu, message: v.message, detail: { ...v } });
  }

  private exit(cpu: X86Cpu, exit: X86Exit): Handled | undefined {
    if (exit.reason === "parked") return this.sched.hasWork(cpu.index) ? { kind: "continue", routine: this.schedule(cpu) } : DONE;
    const v = this.sched.pcpus[cpu.index]!.current;
    if (!v) return undefined;
    // Another vCPU of its domain took it down (VCPUOP_down) or the domain shut down: it leaves at its next exit.
    if (v.down || v.domain.shutdownReason !== undefined) return { kind: "continue", routine: this.afterHypercallSteps(cpu, v) };
    if (exit.reason === "budget") {
      // A time slice ends at the end of a budget. Someone waits for a pCPU:
      // the vCPU is preempted. Otherwise, now and then (seeded), it goes back
      // to the run queue anyway and its pCPU parks, so that whichever pCPU
      // looks first takes it: vCPUs migrate.
      const d = this.sched.decide(cpu.index, cpu.instructions);
      if (d === "stay") return undefined;
      return { kind: "continue", routine: this.preempt(cpu, v, d === "migrate") };
    }
    if (!("guest" in exit)) return undefined;
    const reason = exit.reason === "exception" ? `exception ${exit.vector}` : exit.reason;
    this.count(reason);
    // As under --hvm, an exit that only carries a guest annotation is shootdown's instrument: the cost model does not price it.
    const annotation = exit.reason === "io" && isAnnotationPort(exit.port);
    if (this.platform.timeline.on) this.platform.timeline.emit({ kind: "vmexit", cpu: cpu.index, reason: annotation ? "annotation" : reason });
    const routine = this.vmexit(cpu, v, exit);
    return isYield(cpu, exit) ? { kind: "continue", routine, yields: true } : { kind: "continue", routine };
  }

  /**
   * A SCHEDOP_yield with nothing else runnable, carried out at once: Xen's
   * do_sched_op → vcpu_yield, then schedule() picks the same vCPU, which goes
   * on. Walkers spin through this most of a run, so it takes no routine: it
   * has exactly the effects the routine's way would have (vmexit →
   * do_sched_op → afterHypercall: the exit and the hypercall counted and
   * logged, RIP past the VMCALL, RAX 0, YIELDED). Any other case (a vCPU
   * going down, blocked or of a domain shut down, an interrupt to take
   * first, a traced run, whose timeline sees the routine's events) goes the
   * routine's way.
   */
  private yieldInPlace(cpu: X86Cpu, exit: X86GuestExit): Handled | undefined {
    const v = this.sched.pcpus[cpu.index]!.current;
    if (!v || v.down || v.blocked || v.domain.shutdownReason !== undefined || this.sched.runq.length !== 0) return undefined;
    if (this.platform.timeline.on || interruptDeliverable(this.hv.pcpus[cpu.index]!)) return undefined;
    this.count("vmcall");
    const args = this.yieldArgs(cpu);
    this.hv.stats.hypercall("sched_op", 0);
    this.logHypercall(cpu, v, SCHED_OP_NR, args, 0n);
    cpu.setRipRax(exit.rip + BigInt(exit.instructionLength), 0n);
    return YIELDED;
  }

  /**
   * A yield's arguments for the log: the array made for the last yield on
   * this pCPU while its argument registers hold the same (a spinning
   * walker's do, turn after turn), else a new one. Log entries are never
   * changed, so they may share it.
   */
  private yieldArgs(cpu: X86Cpu): bigint[] {
    const last = (this.lastYieldArgs[cpu.index] ??= { words: new Uint32Array(2 * ARG_GPRS.length), args: undefined });
    if (!cpu.sameGprs(ARG_GPRS, last.words) || !last.args) last.args = hypercallArgs(cpu);
    return last.args;
  }

  private readonly lastYieldArgs: { words: Uint32Array; args: bigint[] | undefined }[] = [];

  /** The last HYPERCALL_LOG are kept, the older ones dropped HYPERCALL_LOG at a time (a shift per hypercall moved the whole log). */
  private logHypercall(cpu: X86Cpu, v: VCpu, nr: bigint, args: bigint[], result: bigint): void {
    this.log.push({ cpu: cpu.index, domid: v.domain.domid, vcpuId: v.vcpuId, nr, args, result });
    if (this.log.length >= 2 * HYPERCALL_LOG) this.log.splice(0, HYPERCALL_LOG);
  }

  /** MMUEXT_NEW_BASEPTR or VCPUOP_initialise gave a vCPU a new L4: write_ptbase, as a MOV to CR3 (its non-global entries go). */
  private baseptrChanged(v: VCpu): void {
    const cr3 = BigInt(v.guestTable) << 12n;
    const at = this.sched.where(v);
    if (at >= 0) this.cpus[at]!.movToCr3(cr3);
    else {
      const saved = this.saved.get(v);
      if (saved) saved.registers.cr3 = cr3;
      else if (v.context) v.context = { ...v.context, cr3 };
    }
  }

  // ── Scheduling ─────────────────────────────────────────────────────────────

  /** A parked pCPU takes a runnable vCPU. */
  private *schedule(cpu: X86Cpu): Generator<StepLabel, Handled | undefined, void> {
    yield { what: "schedule: take a vCPU from the run queue" };
    if (this.sched.pcpus[cpu.index]!.current) return { kind: "done" };
    const v = this.sched.take(cpu.index);
    if (!v) return { kind: "done" };
    this.load(cpu, v);
    return { kind: "done" };
  }

  private *preempt(cpu: X86Cpu, v: VCpu, park: boolean): Generator<StepLabel, Handled | undefined, void> {
    if (!park) return yield* this.reschedule(cpu, v, { what: `schedule: d${v.domain.domid}v${v.vcpuId}'s time slice is over` });
    yield { what: `schedule: d${v.domain.domid}v${v.vcpuId}'s time slice is over` };
    this.save(cpu, v);
    this.sched.enqueue(v);
    return { kind: "done" };
  }

  /**
   * schedule() on a pCPU whose vCPU gives it up (a yield, HLT, the end of
   * its slice): one step picks the next vCPU at random among the runnable
   * ones and v itself. When that is v, nothing is switched (as in Xen, the
   * same vCPU simply goes on), which spares a save and a load.
   */
  private *reschedule(cpu: X86Cpu, v: VCpu, label: StepLabel): Generator<StepLabel, Handled | undefined, void> {
    yield label;
    const next = this.sched.pickNext();
    if (!next) return { kind: "done" };
    this.save(cpu, v);
    this.sched.enqueue(v);
    this.load(cpu, next);
    return { kind: "done" };
  }

  /** Puts vCPU v on pCPU cpu: its registers, its VPID, guest mode. */
  private load(cpu: X86Cpu, v: VCpu): void {
    const i = cpu.index;
    const vpid = this.vpids.get(v)!;
    const last = v.dirtyCpu;
    // Entries this pCPU holds for the VPID may predate flushes the vCPU asked for elsewhere.
    if (v.dirtyCpu !== i) cpu.invvpid(InvvpidType.SingleContext, vpid);
    cpu.setVmx({ vpid, eptp: 0n });
    const saved = this.saved.get(v);
    if (saved) {
      cpu.setRegisters(saved.registers);
      cpu.setState(saved.state);
      if (saved.injection) cpu.inject(saved.injection);
      cpu.interruptShadow = saved.shadow;
      this.saved.delete(v);
    } else {
      const c = v.context!;
      cpu.setRegisters({ cr0: CR0_PV, cr3: c.cr3, cr4: CR4_PV, efer: EFER_PV });
      cpu.setState({
        rip: c.rip, rsp: c.rsp, rdi: c.rdi, rsi: c.rsi, rflags: c.rflags | 2n,
        cs: 0x08, ss: 0x10, cpl: 0, gdtrBase: GDT_VIRT_START, gdtrLimit: GDT_LIMIT, idtrBase: 0n, idtrLimit: 0,
      });
      cpu.interruptShadow = 0;
    }
    cpu.setGuestControls(GUEST_CONTROLS);
    v.processor = i;
    v.dirtyCpu = i;
    v.domain.dirtyCpumask.add(i);
    this.sched.running(i, v, cpu.instructions, last);
    this.platform.unpark(i);
    if (this.platform.timeline.on) this.platform.timeline.emit({ kind: "vcpu-load", cpu: i, vcpu: `d${v.domain.domid}v${v.vcpuId}` });
  }

  /** Takes vCPU v off pCPU cpu, keeping its registers. */
  private save(cpu: X86Cpu, v: VCpu): void {
    if (this.platform.timeline.on) this.platform.timeline.emit({ kind: "vcpu-save", cpu: cpu.index, vcpu: `d${v.domain.domid}v${v.vcpuId}` });
    const r = cpu.registers;
    this.saved.set(v, {
      state: cpu.state,
      registers: { cr0: r.cr0, cr2: r.cr2, cr3: r.cr3, cr4: r.cr4, efer: r.efer, pat: r.pat, pkru: r.pkru },
      // Taken off the pCPU: an event injected for this vCPU must not reach the next one there.
      injection: cpu.takeInjection(),
      // And its STI / MOV SS interrupt shadow goes with it, as the VMCS's guest interruptibility state does.
      shadow: cpu.interruptShadow,
    });
    this.sched.stopped(cpu.index);
    cpu.setGuestMode(false);
    this.platform.park(cpu.index);
  }

  // ── VM exits ───────────────────────────────────────────────────────────────

  private *vmexit(cpu: X86Cpu, v: VCpu, exit: X86GuestExit): Generator<StepLabel, Handled | undefined, void> {
    switch (exit.reason) {
      case "vmcall": {
        const nr = cpu.gprAt(GPR.rax);
        const args = hypercallArgs(cpu);
        if (this.platform.timeline.on) this.platform.timeline.emit({ kind: "hypercall", cpu: cpu.index, name: HYPERCALL_NAMES[Number(nr)] ?? `#${nr}` });
        const rax = yield* this.hv.hypercall(v.domain, v, nr, args);
        this.logHypercall(cpu, v, nr, args, rax);
        cpu.setRipRax(exit.rip + BigInt(exit.instructionLength), rax);
        return this.afterHypercall(cpu, v);
      }
      case "exception": {
        if (exit.vector !== X86_PF) {
          yield { what: `exception ${exit.vector}: reflect it to the guest` };
          cpu.inject({ vector: exit.vector, ...(exit.errorCode !== undefined ? { errorCode: exit.errorCode } : {}) });
          return { kind: "done" };
        }
        const va = exit.address ?? 0n;
        const errorCode = exit.errorCode ?? 0;
        yield { what: `do_page_fault: #PF at 0x${va.toString(16)}, error code ${errorCode}` };
        const cr3Mfn = Number((cpu.registers.cr3 >> 12n) & 0xff_ffff_ffffn);
        if ((yield* spuriousPageFault(this.hv.on(v), va, errorCode, cr3Mfn)) === "spurious") {
          // The access would succeed now: only the faulting vCPU's stale entry was in the way.
          this.spuriousFaults++;
          cpu.invvpid(InvvpidType.Address, this.vpids.get(v)!, va);
          return { kind: "done" };
        }
        cpu.inject({ vector: X86_PF, errorCode, cr2: va });
        return { kind: "done" };
      }
      case "cr-access": {
        if (exit.cr !== 3) {
          yield { what: `MOV to CR${exit.cr}: #GP` };
          injectGp(cpu);
          return { kind: "done" };
        }
        const rc = yield* this.hv.newBaseptr(v, exit.value & 0x000f_ffff_ffff_f000n);
        if (rc !== 0) injectGp(cpu);
        else {
          // As MOV to CR3 with CR4.PCIDE=0: the vCPU's non-global entries go.
          cpu.movToCr3(exit.value & 0x000f_ffff_ffff_f000n);
          pastTheInstruction(cpu, exit);
        }
        return { kind: "done" };
      }
      case "invlpg":
        yield* this.hv.invlpg(v, exit.address);
        pastTheInstruction(cpu, exit);
        return { kind: "done" };
      case "hlt":
        pastTheInstruction(cpu, exit);
        return yield* this.reschedule(cpu, v, { what: `d${v.domain.domid}v${v.vcpuId}: HLT, the vCPU yields`, yields: true });
      case "triple-fault":
        yield { what: `domain_crash: d${v.domain.domid} triple fault` };
        return this.domainShutdown(cpu, v.domain, SHUTDOWN.crash);
      case "io":
        if (isAnnotationPort(exit.port)) {
          yield { what: `guest annotation: ${exit.write ? "out" : "in"} port 0x${exit.port.toString(16)}` };
          this.annotation(cpu, v, exit);
          pastTheInstruction(cpu, exit);
          return { kind: "done" };
        }
        yield { what: `${exit.reason}: #GP(0), a PV kernel may not` };
        injectGp(cpu);
        return { kind: "done" };
      default:
        yield { what: `${exit.reason}: #GP(0), a PV kernel may not` };
        injectGp(cpu);
        return { kind: "done" };
    }
  }

  /**
   * An annotation (docs/annotations.md) from a PV kernel. Its page tables
   * hold machine frames, so the frames it names are MFNs; one its domain
   * does not own is a bad annotation (a warning, as any other).
   */
  private annotation(cpu: X86Cpu, v: VCpu, exit: Extract<X86GuestExit, { reason: "io" }>): void {
    const frames = this.hv.frames;
    const owned = (mfn: bigint) => (frames.valid(mfn) && frames.page(Number(mfn)).owner === v.domain ? mfn : undefined);
    const value = annotationPortIo(this.platform.annotations, cpu.index, exit, owned, `d${v.domain.domid}v${v.vcpuId}`);
    if (value !== undefined) cpu.setState({ rax: raxAfterIn(cpu.gpr("rax"), exit.size, value) });
    if (exit.write) this.count("annotations");
  }

  /** After a hypercall: the domain may have shut down, the vCPU gone down, yielded or blocked. */
  private *afterHypercallSteps(cpu: X86Cpu, v: VCpu): Generator<StepLabel, Handled | undefined, void> {
    const gone = v.down || v.domain.shutdownReason !== undefined;
    if (!gone) return yield* this.reschedule(cpu, v, this.yieldLabel(v));
    yield { what: `d${v.domain.domid}v${v.vcpuId} leaves the pCPU${v.down ? " (down)" : ""}` };
    this.save(cpu, v);
    if (!v.down) this.sched.enqueue(v);
    return yield* this.schedule(cpu);
  }

  private afterHypercall(cpu: X86Cpu, v: VCpu): Handled | undefined {
    const d = v.domain;
    if (d.shutdownReason !== undefined) return this.domainShutdown(cpu, d, d.shutdownReason);
    // Xen's schedule() with nothing else runnable lets the vCPU go on: with
    // an empty run queue a yield switches nothing and has no step.
    if (!v.down && !v.blocked && this.sched.runq.length === 0 && this.yielded.delete(v)) return YIELDED;
    if (v.down || v.blocked || this.yielded.delete(v)) {
      v.blocked = false;
      return { kind: "continue", routine: this.afterHypercallSteps(cpu, v) };
    }
    return { kind: "done" };
  }

  private readonly yielded = new Set<VCpu>();

  /** The step of a vCPU giving its pCPU up after a hypercall (made once per vCPU: walkers spin through it). */
  private yieldLabel(v: VCpu): StepLabel {
    let label = this.yieldLabels.get(v);
    if (!label) this.yieldLabels.set(v, (label = { what: `d${v.domain.domid}v${v.vcpuId} yields the pCPU`, yields: true }));
    return label;
  }

  private readonly yieldLabels = new Map<VCpu, StepLabel>();

  /** A domain shut down: its vCPUs leave the pCPUs; when every domain has, the run ends. */
  private domainShutdown(cpu: X86Cpu, d: Domain, reason: number): Handled {
    d.shutdownReason ??= reason;
    this.sched.pcpus.forEach((p, at) => {
      if (p.current?.domain === d) this.save(this.cpus[at]!, p.current);
    });
    for (const v of d.vcpus) this.sched.remove(v);
    const all = [...this.hv.domains.values()];
    if (all.some((x) => x.shutdownReason === undefined)) return { kind: "done" };
    const failed = all.find((x) => x.shutdownReason !== SHUTDOWN.poweroff);
    const end: RunEnd = {
      kind: "shutdown", cpu: cpu.index, status: failed ? 1 : (RESULT_STATUS[reason] ?? 1),
      reason: all.map((x) => `d${x.domid} ${shutdownName(x.shutdownReason!)}`).join(", "),
    };
    return { kind: "end", end };
  }

  // ── Flushes ────────────────────────────────────────────────────────────────

  /**
   * flush_area_local's hardware part on pCPU i: one page of every VPID that
   * may have entries there (the vCPUs that last ran on it), or all of the
   * pCPU's entries.
   */
  private flushLocal(i: number, va: bigint | undefined, flags: number): void {
    const cpu = this.cpus[i]!;
    if (!(flags & FLUSH_ORDER_MASK && va !== undefined) || flags & FLUSH_TLB_GLOBAL) {
      cpu.invvpid(InvvpidType.AllContext, 0);
      return;
    }
    for (const [v, vpid] of this.vpids) if (v.dirtyCpu === i) cpu.invvpid(InvvpidType.Address, vpid, va);
  }

  // ── The debugger ───────────────────────────────────────────────────────────

  /** The REPL's frame, domain and hypercalls commands. */
  inspect(command: string, args: readonly string[]): string[] {
    const hex = (v: bigint | number) => `0x${v.toString(16)}`;
    const num = (text: string | undefined, what: string): number => {
      if (text === undefined || !/^(0x[0-9a-f]+|[0-9]+)$/i.test(text) || Number(text) > Number.MAX_SAFE_INTEGER) throw new ShootdownError(`${command}: ${what} must be a number, not '${text ?? ""}'`);
      return Number(text);
    };
    if (command === "p2m" || command === "vcpu") {
      // The Arm hypervisor's commands: a PV guest has no stage 2, and `domain` lists its vCPUs.
      throw new ShootdownError(`${command}: the x86 PV hypervisor has no ${command === "p2m" ? "stage-2 p2m (a PV guest's tables hold machine frames; frame MFN)" : "set/way state (domain lists the vCPUs)"}`);
    }
    if (command === "shared") throw new ShootdownError("shared: memory sharing is between HVM domains (--hv --hvm)");
    if (command === "frame") {
      const mfn = num(args[0], "MFN");
      const f = frameInfo(this.hv, mfn);
      if (!f) return [`MFN ${hex(mfn)} is not a frame the hypervisor manages (${hex(this.hv.frames.firstMfn)} to ${hex(this.hv.frames.endMfn - 1)})`];
      const flags = [f.allocated && "allocated", f.validated && "validated", f.pinned && "pinned", f.locked && "locked", f.free && "free"].filter(Boolean).join(" ") || "-";
      return [
        `MFN ${hex(f.mfn)}: owner ${f.owner === undefined ? "none" : f.owner === 0x7ff2 ? "dom_xen" : `d${f.owner}`}, PFN ${f.pfn === undefined ? "none" : hex(f.pfn)}`,
        `  type ${f.type}, type count ${f.typeCount}, count ${f.count}, ${flags}, TLB-flush stamp ${f.tlbflushTimestamp}`,
        ...(f.mappers.length ? f.mappers.map((m) => `  mapped by L${m.level} MFN ${hex(m.tableMfn)} slot ${m.slot}: ${hex(m.entry)}`) : ["  no validated table maps it"]),
      ];
    }
    if (command === "domain") {
      const ids = args[0] === undefined ? [...this.hv.domains.keys()] : [num(args[0], "domain id")];
      return ids.flatMap((id) => {
        const d = this.hv.domains.get(id);
        if (!d) return [`no domain ${id}`];
        const pinned = [...d.pageList].filter((m) => this.hv.frames.lookup(BigInt(m))?.pinned).map((m) => hex(m));
        return [
          `d${d.domid}: ${d.totPages} of ${d.maxPages} pages${d.shutdownReason === undefined ? "" : `, shut down (${shutdownName(d.shutdownReason)})`}; pinned tables ${pinned.join(" ") || "none"}`,
          ...d.vcpus.map((v) => {
            const on = this.sched.where(v);
            const where = on >= 0 ? `running on pCPU ${on}` : v.down ? "down" : this.sched.runq.includes(v) ? "runnable, waiting for a pCPU" : "off the pCPUs";
            return `  vCPU ${v.vcpuId}: ${where}; VPID ${this.vpids.get(v)}; L4 MFN ${hex(v.guestTable)}${v.dirtyCpu === undefined ? "" : `; last on pCPU ${v.dirtyCpu}`}`;
          }),
        ];
      });
    }
    const n = args[0] === undefined ? 10 : num(args[0], "count");
    const last = this.log.slice(-Math.min(n, HYPERCALL_LOG));
    if (!last.length) return ["no hypercall yet"];
    return last.map((h) => {
      const name = HYPERCALL_NAMES[Number(h.nr)] ?? `#${h.nr}`;
      const rc = BigInt.asIntN(64, h.result);
      return `pCPU ${h.cpu} d${h.domid}v${h.vcpuId}: ${name}(${h.args.map(hex).join(", ")}) = ${rc < 0n ? `-${errnoName(Number(-rc))}` : rc}`;
    });
  }

  // ── The debugger's vCPUs (vcpu-view.ts) ────────────────────────────────────

  private vcpuView: PvVcpuView | undefined;

  /** The guests' vCPUs as the debugger's threads: where each runs, and the registers kept of those off every pCPU. */
  vcpus(): PvVcpuView {
    return (this.vcpuView ??= new PvVcpuView({
      domains: () => this.hv.domains.values(),
      pcpuOf: (v) => {
        const at = this.sched.where(v);
        return at < 0 ? undefined : at;
      },
      runnable: (v) => this.sched.runq.includes(v),
      saved: this.saved,
      start: { cr0: CR0_PV, cr4: CR4_PV, efer: EFER_PV, gdtrBase: GDT_VIRT_START, gdtrLimit: GDT_LIMIT },
    }));
  }

  // ── The summary ────────────────────────────────────────────────────────────

  summary(): Record<string, unknown> {
    const s = this.hv.stats;
    const hypercalls: Record<string, Record<string, number>> = {};
    for (const [name, results] of s.hypercalls) hypercalls[name] = Object.fromEntries(results);
    return {
      domains: [...this.hv.domains.values()].map((d) => ({
        domid: d.domid, vcpus: d.vcpus.length, pages: d.totPages, maxPages: d.maxPages,
        shutdown: d.shutdownReason === undefined ? null : shutdownName(d.shutdownReason),
      })),
      hypercalls,
      typeTransitions: Object.fromEntries(s.typeTransitions),
      pins: s.pins, unpins: s.unpins,
      flushes: Object.fromEntries(s.flushes),
      frames: { allocated: s.framesAllocated, freed: s.framesFreed, scrubbed: s.framesScrubbed },
      migrations: this.sched.migrations,
      preemptions: this.sched.preemptions,
      exits: Object.fromEntries([...this.exitCounts].sort()),
      flushPaths: Object.fromEntries(s.flushPaths),
      ipisSent: s.ipisSent,
      pcpusSparedByClock: s.pcpusSpared,
      spuriousPageFaults: this.spuriousFaults,
      flushMode: !this.hv.nested ? "IPIs" : !this.hv.l0Assist ? "nested (no L0 assist, --no-l0-assist: IPIs)"
        : this.hv.forceIpi ? "nested (assisted flush, FLUSH_NO_ASSIST honoured)" : "nested (assisted flush, --no-force-ipi)",
      violations: this.hv.sanitizer.violations.length,
    };
  }
}

const SHUTDOWN_NAMES = Object.fromEntries(Object.entries(SHUTDOWN).map(([k, v]) => [v, k]));
const shutdownName = (reason: number) => SHUTDOWN_NAMES[reason] ?? `reason ${reason}`;
