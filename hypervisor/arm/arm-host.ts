// SPDX-License-Identifier: MIT
//
// The Arm hypervisor on the emulated machine: the first handler of every
// pCPU's exit chain. The machine's CPUs are its pCPUs, and it plays EL2 for
// one domain built from an AArch64 image (boot.ts): it schedules the
// domain's vCPUs onto the pCPUs, switches their contexts, and turns each
// trap to EL2 into hypervisor work (traps.ts) run as a continuation, so its
// steps interleave with guest instructions on the other pCPUs under the
// run's seed and are recorded in its schedule.
//
// Scheduling (common/vcpu-sched.ts, as every host's). Runnable vCPUs wait
// in one run queue; a parked pCPU takes a seeded random one. At the end of a time slice a vCPU gives its pCPU up
// when another waits; and at each such scheduling decision it moves to
// another pCPU with probability --migrate (it leaves, and the pCPU it left
// may not take it back at once). A vCPU asleep in WFI gives its pCPU up
// when another waits. Each pCPU keeps its caches, so the lines a vCPU
// dirtied stay on the pCPU it left, as on hardware.
//
// TLBs. The domain has one VMID (VTTBR_EL2), which tags every stage-1 and
// stage-2 entry. Its vCPUs share it, so, as Xen's p2m_restore_state does, a
// pCPU that last ran another vCPU of the domain drops the VMID's entries
// (TLBI VMALLS12E1 with the VMID loaded) before it runs this one: entries
// that vCPU left may predate invalidations it made elsewhere with a local
// TLBI.
//
// The way back to the guest. Every exit's routine ends in
// leaveHypervisorToGuest (Xen's leave_hypervisor_to_guest), where
// check_for_vcpu_work runs what the vCPU must do before guest code again;
// the set/way emulation puts its deferred p2m flush there.

import type { ArmCpu, ArmExit, ArmVcpuContext } from "../../emulator/machine/cpu/arm-cpu.ts";
import type { ArmPlatform } from "../../emulator/machine/platform/arm/platform.ts";
import type { Continuation, ExitHandler, Handled, MachineEvent, StepLabel } from "../../emulator/machine/core/exits.ts";
import { Xoshiro128 } from "../../emulator/machine/core/scheduler.ts";
import { VcpuScheduler } from "../common/vcpu-sched.ts";
import { psciCall, PSCI_RET } from "../../emulator/machine/platform/arm/psci.ts";
import { annotationCall } from "../../emulator/machine/core/annotations.ts";
import { ShootdownError } from "../../emulator/machine/core/errors.ts";
import { Domain, type VCpu } from "../common/domain.ts";
import { P2m, P2M_VTCR, p2mIsValid } from "./p2m.ts";
import { maddr } from "../common/memory.ts";
import { ArmVcpu, HCR_TSW, HCR_TVM } from "./vcpu.ts";
import { Vgic, vcpuMpidr, type GicHome } from "./vgic.ts";
import { injectUndef } from "./inject.ts";
import { trapHvc, trapSmc, trapStage2Abort, trapSysreg, isPl011, type TrapContext } from "./traps.ts";
import { p2mSetWayFlush, p2mToggleCache, p2mFlushVm, checkForVcpuWork, type SetWayContext } from "./set-way.ts";
import { finish } from "../common/routine.ts";
import { ArmSanitizer } from "./sanitizer.ts";
import { ArmVcpuView } from "./vcpu-view.ts";
import { vcpuWhere } from "../common/vcpu-list.ts";

export interface ArmHostOptions {
  domain: Domain;
  p2m: P2m;
  /** The context every vCPU starts from (a CPU just powered on), its PC and X0 set at PSCI CPU_ON. */
  resetContext: ArmVcpuContext;
  /** vCPU 0's entry and X0 (the boot-information block). */
  entry: bigint;
  x0: bigint;
  seed: bigint;
  /** The chance per scheduling decision that a vCPU moves to another pCPU. */
  migrate: number;
  /** --set-way: how the guest's set/way operations are handled (set-way.ts). */
  setWay: SetWayPolicy;
}

export type SetWayPolicy = "trap" | "trap-inline" | "trap-xen" | "passthrough";

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export class ArmHost implements ExitHandler<ArmCpu, ArmExit> {
  readonly name = "hypervisor";
  readonly domain: Domain;
  readonly p2m: P2m;
  readonly vcpuList: ArmVcpu[];
  readonly vgic: Vgic;
  private readonly cpus: readonly ArmCpu[];
  /** The run queue, which vCPU each pCPU runs, time slices and --migrate. */
  private readonly sched: VcpuScheduler<ArmVcpu>;
  /** The vCPU of the domain that ran on each pCPU last (p2m->last_vcpu_ran[cpu]). */
  private readonly lastVcpuRan: (ArmVcpu | undefined)[];
  private readonly ofVcpu = new Map<VCpu, ArmVcpu>();
  /** Exits by reason, trap outcomes by kind, and the other figures of the summary. */
  private readonly exits = new Map<string, number>();
  private readonly outcomes = new Map<string, number>();
  private tlbFlushesOnSwitch = 0;
  private readonly traps: TrapContext;
  private readonly setWay: SetWayContext;

  constructor(private readonly platform: ArmPlatform, private readonly o: ArmHostOptions) {
    const m = platform.m;
    this.cpus = m.cpus;
    this.domain = o.domain;
    this.p2m = o.p2m;
    this.sched = new VcpuScheduler<ArmVcpu>(m.cpus.length, new Xoshiro128(o.seed ^ 0x6172_6d68_6f73_74n), { rate: o.migrate });
    this.vcpuList = o.domain.vcpus.map((v) => new ArmVcpu(v, vcpuMpidr(v.vcpuId)));
    for (const a of this.vcpuList) this.ofVcpu.set(a.vcpu, a);
    this.vgic = new Vgic({ hw: m.hw, cpus: this.cpus, nrVcpus: this.vcpuList.length, home: (k) => this.gicHome(k) });
    this.lastVcpuRan = m.cpus.map(() => undefined);
    // Every vCPU has a context from the start, off ones included: its redistributor exists (and takes SGIs) before CPU_ON.
    for (const a of this.vcpuList) {
      this.startVcpu(a, 0n, 0n);
      a.vcpu.down = true;
    }
    const v0 = this.vcpuList[0]!;
    this.startVcpu(v0, o.entry, o.x0);
    this.sched.enqueue(v0);
    this.sanitizer = new ArmSanitizer(m.hw, this.p2m, platform.timeline);
    this.traps = this.trapContext();
    this.setWay = {
      p2m: this.p2m, cpus: this.cpus, count: (what) => bump(this.outcomes, what),
      clearing: o.setWay === "trap-xen" ? "root-at-end" : "per-chunk",
      cleanPage: (mfn) => m.hw.armCleanInvalidatePage(maddr(mfn)) !== 0,
      softirqPending: (cpu, a) => this.softirqPending(cpu, a),
      skipped: (cpu, a, first, count) => this.sanitizer.skipped(cpu, a, first, count),
      cleaned: (cpu, pages, skipped, tlbis) => platform.timeline.emit({ kind: "cache-clean", cpu: cpu.index, pages, skipped, tlbis }),
    };
    // passthrough: set/way operations are not trapped (Xen before f253e88bec).
    if (o.setWay === "passthrough") for (const a of this.vcpuList) a.hcr &= ~HCR_TSW;
    for (const cpu of m.cpus) platform.park(cpu.index);
  }

  /** Where vCPU k's GIC context is: on the pCPU it runs on, or in what was saved of it. */
  private gicHome(k: number): GicHome {
    const a = this.vcpuList[k]!;
    const at = this.sched.where(a);
    return at >= 0 ? { pcpu: at } : { saved: a.saved!.gic };
  }

  /** Gives a vCPU the reset context at `entry` with X0 = x0 (PSCI CPU_ON), keeping its redistributor's state. */
  private startVcpu(a: ArmVcpu, entry: bigint, x0: bigint): void {
    const r = this.o.resetContext;
    const gic = r.gic.slice();
    const L = this.platform.m.layout;
    // The redistributor belongs to the GIC, not to the CPU's reset domain: it keeps its state (as gicCpuReset does).
    if (a.saved) {
      gic.set(a.saved.gic.subarray(0, L.GICC_PMR), 0);
      gic.set(a.saved.gic.subarray(L.GICR_PRIO, L.TIMER_CNTV_CTL), L.GICR_PRIO);
    }
    const x = r.state.x.map(() => 0n);
    x[0] = x0;
    a.saved = { ...r, state: { ...r.state, x, pc: entry, mpidr_el1: a.mpidr }, plain: r.plain.slice(), gic };
    a.vcpu.down = false;
  }

  private count(what: string): void {
    bump(this.exits, what);
  }

  // ── Exits ──────────────────────────────────────────────────────────────────

  handle(cpu: ArmCpu, exit: ArmExit): Handled | undefined {
    if (exit.reason === "parked") return this.sched.hasWork(cpu.index) ? this.go(this.schedule(cpu)) : { kind: "done" };
    const a = this.sched.pcpus[cpu.index]!.current;
    if (!a) return undefined;
    // To reach this exit the vCPU ran guest code, which it must not while its p2m waits to be cleaned.
    this.sanitizer.ranGuest(cpu, a);
    switch (exit.reason) {
      case "budget":
        return this.sliceEnd(cpu, a);
      case "wfi":
        // Asleep with nothing to wake it: a vCPU that can run may have the pCPU meanwhile. When none can,
        // the pCPU sleeps with this one, so that a machine whose every vCPU waits for nothing is a deadlock.
        if (!this.sched.runq.some((r) => this.mayRun(r))) return undefined;
        this.count("wfi: yield");
        return this.go(this.yieldAsleep(cpu, a));
      case "hvc":
      case "smc":
      case "trap": {
        const reason = exit.reason === "trap" ? `trap ${exit.kind}` : exit.reason;
        this.count(reason);
        this.platform.timeline.emit({ kind: "vmexit", cpu: cpu.index, reason });
        return this.go(this.guestTrap(cpu, a, exit));
      }
      default:
        return undefined;
    }
  }

  private go(routine: Continuation): Handled {
    return { kind: "continue", routine };
  }

  /**
   * The scheduling decision Xen's timer makes once a vCPU has run its time
   * slice (at the end of a budget, or on the way back from a trap): go on,
   * give the pCPU to a waiting vCPU, or, with probability --migrate, move
   * to another pCPU.
   */
  private decide(cpu: ArmCpu): "stay" | "preempt" | "migrate" {
    return this.sched.decide(cpu.index, cpu.progress.instructions);
  }

  private sliceEnd(cpu: ArmCpu, a: ArmVcpu): Handled | undefined {
    const d = this.decide(cpu);
    if (d === "stay") return undefined;
    return this.go(d === "migrate" ? this.migrateAway(cpu, a) : this.reschedule(cpu, a, { what: `schedule: ${a.name}'s time slice is over` }));
  }

  /** The trap's handler, then the way back to the guest. */
  private *guestTrap(cpu: ArmCpu, a: ArmVcpu, exit: ArmExit): Continuation {
    let outcome: string;
    const pc = "pc" in exit ? exit.pc : cpu.state.pc;
    if (exit.reason === "hvc") {
      yield { what: `do_trap_hvc: HVC #${exit.imm} from ${a.name}` };
      outcome = trapHvc(this.traps, cpu, exit.imm, exit.pc);
    } else if (exit.reason === "smc") {
      yield { what: `do_trap_smc: SMC #${exit.imm} from ${a.name}` };
      outcome = trapSmc(this.traps, cpu, exit.pc);
    } else if (exit.reason === "trap" && exit.kind === "abort") {
      yield { what: `do_trap_stage2_abort_guest: IPA 0x${exit.ipa!.toString(16)} from ${a.name}` };
      outcome = trapStage2Abort(this.traps, cpu, exit.esr, exit.pc, exit.ipa!);
    } else if (exit.reason === "trap" && (exit.kind === "sysreg" || exit.kind === "set-way")) {
      yield { what: `do_sysreg: ${exit.kind === "set-way" ? "DC by set/way" : "MSR"} from ${a.name}` };
      outcome = trapSysreg(this.traps, cpu, exit.esr, exit.pc, exit.kind === "set-way");
    } else {
      // A trap this hypervisor does not ask for (HCR_EL2.TWI is clear): UNDEFINED to the guest.
      yield { what: `${exit.reason}: injected as UNDEFINED` };
      injectUndef(cpu, pc);
      bump(this.outcomes, `undef: ${exit.reason}`);
      outcome = "undef";
    }
    if (outcome === "undef" || outcome === "abort") {
      const loop = this.injectionLoop(cpu, a, pc, "esr" in exit ? exit.esr : "imm" in exit ? BigInt(exit.imm) : 0n);
      if (loop) return loop;
    }
    return yield* this.afterTrap(cpu, a);
  }

  /**
   * An exception injected again at the same PC, for the same trap, with no
   * guest instruction retired since the last one (a vector outside RAM, say,
   * whose fetch faults to itself): the guest can never leave it. The bare
   * machine stops such a CPU as an exception loop; so does this one, rather
   * than spinning in EL2 for ever.
   */
  private injectionLoop(cpu: ArmCpu, a: ArmVcpu, pc: bigint, syndrome: bigint): Handled | undefined {
    const n = cpu.progress.instructions;
    const last = a.lastInjection;
    a.lastInjection = { pc, syndrome, instructions: n };
    if (!last || last.pc !== pc || last.syndrome !== syndrome || last.instructions !== n) return undefined;
    const message = `CPU ${cpu.index}: exception loop: ${a.name} takes the exception the hypervisor injects for PC 0x${pc.toString(16)} (syndrome 0x${syndrome.toString(16)}) at that very PC again and again (VBAR_EL1 0x${cpu.state.vbar_el1.toString(16)})`;
    return { kind: "end", end: { kind: "crash", reason: "exception-loop", cpu: cpu.index, pc, message } };
  }

  /** What a trap left: the run's end, the vCPU gone down, or the way back to the guest. */
  private *afterTrap(cpu: ArmCpu, a: ArmVcpu): Continuation {
    if (this.ended) return { kind: "end", end: this.ended };
    if (a.vcpu.down) {
      yield { what: `${a.name} is off (PSCI CPU_OFF): it leaves the pCPU` };
      this.save(cpu, a);
      return yield* this.schedule(cpu);
    }
    const d = this.decide(cpu);
    if (d === "migrate") return yield* this.migrateAway(cpu, a);
    if (d === "preempt") return yield* this.reschedule(cpu, a, { what: `schedule: ${a.name}'s time slice is over` });
    return yield* this.leaveHypervisorToGuest(cpu, a);
  }

  /**
   * leave_hypervisor_to_guest: check_for_vcpu_work until nothing is left,
   * then back to the guest. The vCPU never runs guest code while work is
   * pending for it (the set/way flush, mechanisms §4.5).
   */
  private *leaveHypervisorToGuest(cpu: ArmCpu, a: ArmVcpu): Continuation {
    const timeline = this.platform.timeline;
    for (;;) {
      // The deferred flush is a span of its own in traces: one per stretch on a pCPU, so its preemptions show as gaps.
      const flushing = a.needFlushToRam;
      if (flushing) timeline.emit({ kind: "routine-begin", cpu: cpu.index, name: `p2m_flush_vm ${a.name}` });
      const work = yield* checkForVcpuWork(this.setWay, cpu, a);
      if (flushing) timeline.emit({ kind: "routine-end", cpu: cpu.index, name: `p2m_flush_vm ${a.name}` });
      if (work === "none") break;
      if (work === "preempted") {
        // do_softirq: SCHEDULE_SOFTIRQ takes the pCPU; the vCPU waits, its flush half done, and goes on where it lands.
        timeline.emit({ kind: "mark", cpu: cpu.index, name: `p2m_flush_vm ${a.name} preempted`, args: { vcpu: a.name, resumeGfn: `0x${a.flushResumeGfn!.toString(16)}` } });
        yield { what: `do_softirq: ${a.name} gives pCPU ${cpu.index} up in p2m_flush_vm` };
        this.save(cpu, a);
        this.sched.enqueue(a);
        return yield* this.schedule(cpu);
      }
    }
    this.applyHcr(cpu, a);
    this.platform.timeline.emit({ kind: "vmentry", cpu: cpu.index });
    return { kind: "done" };
  }

  private applyHcr(cpu: ArmCpu, a: ArmVcpu): void {
    if (cpu.registers.hcr_el2 !== a.hcr) cpu.setRegisters({ hcr_el2: a.hcr });
  }

  private ended: { kind: "power-off"; reset: boolean; cpu: number } | undefined;

  private trapContext(): TrapContext {
    const uart = this.platform.mmio.uart;
    const vcpuOn = (cpu: ArmCpu) => this.sched.pcpus[cpu.index]!.current!;
    return {
      psci: (cpu) => this.psci(cpu, vcpuOn(cpu)),
      // The guest names IPA frames; the sanitizer knows machine frames (docs/annotations.md).
      annotation: (cpu, fn, x1) => annotationCall(this.platform.annotations, cpu.index, fn, x1, (gfn) => {
        const e = gfn <= 0xffff_ffffn ? this.p2m.lookup(Number(gfn)) : undefined;
        return e === undefined ? undefined : BigInt(e.mfn);
      }, vcpuOn(cpu).name),
      resolveTranslationFault: (gfn) => this.p2m.resolveTranslationFault(gfn),
      mmioOwns: (ipa) => isPl011(ipa) || this.vgic.owns(ipa),
      mmioRead: (cpu, ipa, size) => {
        if (isPl011(ipa)) return uart.read(ipa & 0xfffn);
        return this.vgic.owns(ipa) ? this.vgic.read(cpu.index, ipa, size) : undefined;
      },
      mmioWrite: (cpu, ipa, size, value) => {
        if (isPl011(ipa)) return void uart.write(ipa & 0xfffn, value), true;
        if (!this.vgic.owns(ipa)) return false;
        this.vgic.write(cpu.index, ipa, size, value);
        return true;
      },
      sendSgi: (cpu, key, value) => {
        // vcpu_kick: a target asleep in WFI in its saved context wakes (its SGI is pending; a spurious wake-up is allowed).
        for (const t of this.vgic.sendSgi(cpu.index, vcpuOn(cpu).vcpu.vcpuId, key, value)) {
          const saved = this.vcpuList[t]!.saved;
          if (saved) saved.waiting = 0;
        }
      },
      setWay: (cpu) => {
        p2mSetWayFlush(this.setWay, vcpuOn(cpu));
        this.flushInline(cpu, vcpuOn(cpu));
      },
      tvmWrite: (cpu, register, value) => {
        p2mToggleCache(this.setWay, cpu, vcpuOn(cpu), register, value);
        this.flushInline(cpu, vcpuOn(cpu));
      },
      count: (what) => bump(this.outcomes, what),
    };
  }

  /** --set-way trap-inline: the flush done in the trap handler itself, to its end, in one step with no preemption point. */
  private flushInline(cpu: ArmCpu, a: ArmVcpu): void {
    if (this.o.setWay !== "trap-inline" || !a.needFlushToRam) return;
    const name = `p2m_flush_vm ${a.name} (inline)`;
    this.platform.timeline.emit({ kind: "routine-begin", cpu: cpu.index, name });
    finish(p2mFlushVm(this.setWay, cpu, a, false));
    this.platform.timeline.emit({ kind: "routine-end", cpu: cpu.index, name });
  }

  /**
   * softirq_pending at a p2m flush's check: SCHEDULE_SOFTIRQ is raised when
   * another vCPU waits for a pCPU, or, with probability --migrate (a
   * scheduling decision), to move the vCPU to another pCPU.
   */
  private softirqPending(cpu: ArmCpu, a: ArmVcpu): boolean {
    if (this.sched.rollMigrate()) {
      this.sched.migratingFrom(a, cpu.index);
      return true;
    }
    return this.sched.runq.length > 0;
  }

  // ── The sanitizer (sanitizer.ts) ──────────────────────────────────────────

  readonly sanitizer: ArmSanitizer;

  takeEvents(): MachineEvent[] {
    return this.sanitizer.takeEvents();
  }

  eventsPending(): boolean {
    return this.sanitizer.eventsPending();
  }

  // ── PSCI (the bare platform's answers, psci.ts, for the domain's vCPUs) ────

  private psci(cpu: ArmCpu, a: ArmVcpu): string {
    const s = cpu.state;
    const fn = Number(s.x[0]! & 0xffff_ffffn);
    const vcpus = this.vcpuList;
    const action = psciCall(fn, s.x[1]!, s.x[2]!, s.x[3]!, { cpus: vcpus.length, isOn: (k) => !vcpus[k]!.vcpu.down });
    const setX0 = (v: bigint) => {
      const x = cpu.state.x.slice();
      x[0] = v;
      cpu.setState({ x });
    };
    switch (action.kind) {
      case "return":
        setX0(action.x0);
        return "psci";
      case "cpu-on": {
        const t = vcpus[action.target]!;
        this.startVcpu(t, action.entry, action.contextId);
        this.sched.enqueue(t);
        setX0(PSCI_RET.SUCCESS);
        return "cpu-on";
      }
      case "cpu-off":
        a.vcpu.down = true;
        return "cpu-off";
      case "system-off":
      case "system-reset":
        this.ended = { kind: "power-off", reset: action.kind === "system-reset", cpu: cpu.index };
        return "end";
    }
  }

  // ── Scheduling ─────────────────────────────────────────────────────────────

  /** A parked pCPU takes a runnable vCPU (not one just migrated away from it). */
  private *schedule(cpu: ArmCpu): Continuation {
    yield { what: "schedule: take a vCPU from the run queue" };
    if (this.sched.pcpus[cpu.index]!.current) return { kind: "done" };
    const a = this.sched.take(cpu.index);
    if (!a) return { kind: "done" };
    this.load(cpu, a);
    return yield* this.leaveHypervisorToGuest(cpu, a);
  }

  /**
   * schedule() on a pCPU whose vCPU gives it up (its slice ended, or it
   * sleeps in WFI): one step picks the next among the runnable vCPUs and a
   * itself; when that is a, nothing is switched.
   */
  private *reschedule(cpu: ArmCpu, a: ArmVcpu, label: StepLabel): Continuation {
    yield label;
    const next = this.sched.pickNext();
    if (!next) {
      this.sched.restartSlice(cpu.index, cpu.progress.instructions);
      return yield* this.leaveHypervisorToGuest(cpu, a);
    }
    this.save(cpu, a);
    this.sched.enqueue(a);
    this.load(cpu, next);
    return yield* this.leaveHypervisorToGuest(cpu, next);
  }

  /** A vCPU in the run queue that can make progress: not asleep, or asleep with its timer armed (its deadline will come). */
  private mayRun(a: ArmVcpu): boolean {
    const c = a.saved;
    if (!c || !c.waiting) return true;
    const L = this.platform.m.layout;
    const view = new DataView(c.gic.buffer, c.gic.byteOffset, c.gic.byteLength);
    const armed = (ctl: number) => (ctl & 1) !== 0 && (ctl & 2) === 0;
    return armed(view.getUint32(L.TIMER_CNTV_CTL, true)) || armed(view.getUint32(L.TIMER_CNTP_CTL, true));
  }

  /** A vCPU asleep in WFI gives its pCPU to one of the run queue that can run, and waits asleep in its saved context. */
  private *yieldAsleep(cpu: ArmCpu, a: ArmVcpu): Continuation {
    yield { what: `${a.name} sleeps in WFI: it gives the pCPU up`, yields: true };
    const next = this.sched.take(undefined, (r) => this.mayRun(r));
    if (!next) return { kind: "done" };
    this.save(cpu, a);
    this.sched.enqueue(a);
    this.load(cpu, next);
    return yield* this.leaveHypervisorToGuest(cpu, next);
  }

  /** --migrate: a leaves this pCPU for another; this pCPU takes someone else, or parks. */
  private *migrateAway(cpu: ArmCpu, a: ArmVcpu): Continuation {
    yield { what: `schedule: ${a.name} migrates off pCPU ${cpu.index}` };
    this.save(cpu, a);
    this.sched.enqueue(a, cpu.index, true);
    return yield* this.schedule(cpu);
  }

  /** Puts vCPU a on pCPU cpu (ctxt_switch_to, p2m_restore_state). */
  private load(cpu: ArmCpu, a: ArmVcpu): void {
    const i = cpu.index;
    const last = a.vcpu.dirtyCpu;
    if (last !== undefined && last !== i) {
      this.platform.timeline.emit({ kind: "mark", cpu: i, name: `migrate ${a.name} from pCPU ${last}`, args: { vcpu: a.name, from: last, to: i } });
    }
    cpu.loadContext(a.saved!);
    a.saved = undefined;
    // The virtual counter is the pCPU's cycle count: it must not go back for the vCPU.
    if (cpu.progress.cycles < a.lastCycles) cpu.skipTo(a.lastCycles);
    cpu.setRegisters({ hcr_el2: a.hcr, vttbr_el2: this.p2m.vttbr, vtcr_el2: P2M_VTCR });
    const lastRan = this.lastVcpuRan[i];
    if (lastRan !== undefined && lastRan !== a) {
      // p2m_restore_state: another vCPU of the domain ran here; its entries carry the same VMID.
      cpu.tlbi("VMALLS12E1");
      this.tlbFlushesOnSwitch++;
    }
    this.lastVcpuRan[i] = a;
    a.vcpu.processor = i;
    a.vcpu.dirtyCpu = i;
    this.domain.dirtyCpumask.add(i);
    this.sched.running(i, a, cpu.progress.instructions, last);
    this.platform.unpark(i);
    this.platform.timeline.emit({ kind: "vcpu-load", cpu: i, vcpu: a.name });
  }

  /** Takes vCPU a off pCPU cpu (ctxt_switch_from), keeping its context. */
  private save(cpu: ArmCpu, a: ArmVcpu): void {
    this.platform.timeline.emit({ kind: "vcpu-save", cpu: cpu.index, vcpu: a.name });
    a.saved = cpu.saveContext();
    // A vCPU asleep in WFE wakes when it runs again: an SEV another vCPU sends meanwhile reaches the pCPUs, not
    // saved contexts, and WFE may complete at any time (DDI0487 D1.6.1), as Xen's trapped WFE (vcpu_yield) returns.
    if (a.saved.waiting === this.platform.m.layout.A64_WAIT_WFE) a.saved.waiting = 0;
    a.lastCycles = cpu.progress.cycles;
    this.sched.stopped(cpu.index);
    this.platform.park(cpu.index);
  }

  // ── The debugger (vcpu-view.ts) ───────────────────────────────────────────

  private vcpuView: ArmVcpuView | undefined;

  /** The domain's vCPUs as the debugger's threads: where each runs, and the context kept of those off every pCPU. */
  vcpus(): ArmVcpuView {
    return (this.vcpuView ??= new ArmVcpuView({
      domains: () => [this.domain],
      pcpuOf: (v) => {
        const at = this.sched.pcpus.findIndex((p) => p.current?.vcpu === v);
        return at < 0 ? undefined : at;
      },
      runnable: (v) => this.sched.runq.includes(this.ofVcpu.get(v)!),
      arm: (v) => this.ofVcpu.get(v)!,
      vttbr: () => this.p2m.vttbr,
      vtcr: P2M_VTCR,
    }));
  }

  // ── The summary ────────────────────────────────────────────────────────────

  summary(): Record<string, unknown> {
    return {
      domains: [{ domid: this.domain.domid, vcpus: this.vcpuList.length, pages: this.domain.totPages, vmid: this.p2m.vmid }],
      exits: Object.fromEntries([...this.exits].sort()),
      trapOutcomes: Object.fromEntries([...this.outcomes].sort()),
      injected: [...this.outcomes].filter(([k]) => k.startsWith("undef") || k.startsWith("abort")).reduce((n, [, c]) => n + c, 0),
      p2mFaultsResolved: this.p2m.faultsResolved,
      sgis: { sent: this.vgic.stats.sgisSent, dropped: this.vgic.stats.sgisDropped },
      gicMmio: { reads: this.vgic.stats.mmioReads, writes: this.vgic.stats.mmioWrites },
      migrations: this.sched.migrations,
      preemptions: this.sched.preemptions,
      tlbFlushesOnSwitch: this.tlbFlushesOnSwitch,
      migrate: this.o.migrate,
      setWay: this.o.setWay,
      violations: this.sanitizer.count,
    };
  }

  /** The debugger's `p2m IPA` and `vcpu` (or `domain`) commands; the x86 ones have nothing to show here. */
  inspect(command: string, args: readonly string[]): string[] {
    const hex = (v: bigint | number) => `0x${v.toString(16)}`;
    if (command === "shared") throw new ShootdownError("shared: memory sharing is between x86-64 HVM domains (--hv --hvm)");
    if (command === "p2m") {
      const text = args[0] ?? "";
      if (args.length !== 1 || !/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new ShootdownError(`p2m: the IPA must be a number, not '${args.join(" ")}' (usage: p2m IPA)`);
      const ipa = BigInt(text);
      const steps = ipa >> 64n ? [] : this.p2m.walk(Number(ipa >> 12n));
      if (!steps.length) throw new ShootdownError(`p2m: IPA ${hex(ipa)} is outside the domain's ${2 ** 39 / 2 ** 30} GiB IPA space`);
      const e = this.p2m.lookup(Number(ipa >> 12n));
      // p2m_is_valid (the entry's type) says whether the GFN is mapped; the hardware valid bit whether the walker may use it.
      const state = (pte: bigint) => (!p2mIsValid(pte) ? "not mapped" : pte & 1n ? "valid" : "valid bit 0 (the next access faults; p2m_resolve_translation_fault sets it)");
      return [
        `p2m: IPA ${hex(ipa)} (VMID ${this.p2m.vmid}, root MFN ${hex(this.p2m.root)})`,
        ...steps.map((s) => `  L${s.level} entry at ${hex(s.at)}: ${hex(s.pte)} ${state(s.pte)}`),
        e ? `  → MFN ${hex(e.mfn)}, machine address ${hex((BigInt(e.mfn) << 12n) | (ipa & 0xfffn))}` : "  → not mapped (not the domain's RAM)",
      ];
    }
    if (command !== "vcpu" && command !== "domain") throw new ShootdownError(`${command}: the Arm hypervisor keeps no ${command === "frame" ? "frame table types" : "hypercall log"}; see p2m IPA and vcpu`);
    if (args.length) throw new ShootdownError(`${command} takes no argument on the Arm hypervisor (one domain, d${this.domain.domid})`);
    return [
      `d${this.domain.domid}: ${this.domain.totPages} pages, VMID ${this.p2m.vmid}; --set-way ${this.o.setWay}`,
      ...this.vcpuList.map((a) => {
        const on = this.sched.where(a);
        const where = on >= 0 ? `running on pCPU ${on}` : vcpuWhere(a.vcpu, this.sched.runq.includes(a));
        const last = a.vcpu.dirtyCpu === undefined ? "" : `; last on pCPU ${a.vcpu.dirtyCpu}`;
        const flush = a.flushResumeGfn === undefined ? "" : `; p2m_flush_vm under way, resumes at GFN ${hex(a.flushResumeGfn)}`;
        return `  ${a.name}: ${where}; need_flush_to_ram ${a.needFlushToRam}; TVM ${(a.hcr & HCR_TVM) !== 0n}; TSW ${(a.hcr & HCR_TSW) !== 0n}${last}${flush}`;
      }),
    ];
  }
}
