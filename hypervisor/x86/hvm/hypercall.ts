// SPDX-License-Identifier: MIT
//
// VMCALL from an HVM guest (Xen's hvm_do_hypercall with its Viridian
// support), and the execution of the two paravirtual remote flushes.
//
// Dispatch, as Xen's viridian hypercall page tells them apart (it does
// `or $0x80000000, %eax` before VMCALL):
//
//   EAX bit 31 set   a Hyper-V hypercall (viridian_hypercall): RCX the input
//                    value, RDX the input GPA, R8 the output GPA; RAX ← the
//                    result value (status, reps completed)
//   otherwise        RAX a Xen hypercall number, arguments RDI, RSI, RDX,
//                    R10, R8; only hvm_op (34) HVMOP_flush_tlbs (5) is
//                    offered, anything else is -ENOSYS
//
// The flushes (mechanisms §1.4, §2.2). A Hyper-V flush acts at once, like an
// L0-assisted flush: the named vCPUs' entries (their VPIDs) are invalidated
// on the pCPUs that may hold them, in one step, with nobody interrupted or
// waited for, so when control returns to the caller the flush has taken
// effect on every named vCPU whatever its interrupt state (TLFS 12.4).
// HVMOP_flush_tlbs is Xen's hvm_flush_vcpu_tlb, as steps: take the domain's
// hypercall_deadlock_mutex with a trylock (a caller that finds it held gets
// -ERESTART, and the guest re-executes the VMCALL, Xen's hypercall
// continuation), pause every other vCPU (vcpu_pause_nosync: a running one
// is kicked off its pCPU at its next decision, again whatever its IF), wait
// until none of them runs, unlock, flush the pCPUs their entries may be on,
// unpause them.

import type { X86Cpu } from "../../../emulator/machine/cpu/x86-cpu.ts";
import { InvvpidType } from "../../../emulator/machine/cpu/x86-cpu.ts";
import type { StepLabel } from "../../../emulator/machine/core/exits.ts";
import { ENOSYS, EINVAL, resultName } from "../../common/errno.ts";
import type { HvmVcpu } from "./vcpu.ts";

export const HYPERCALL_HVM_OP = 34;
export const HVMOP_FLUSH_TLBS = 5;
/** Xen's internal "restart the hypercall" (ERESTART); it never reaches the guest. */
export const ERESTART = 85;
/** EAX bit 31: the Viridian hypercall page's mark of a Hyper-V hypercall. */
export const VIRIDIAN_HYPERCALL_BIT = 1n << 31n;
/** HV_STATUS_INVALID_HYPERCALL_CODE (TLFS): returned for every Hyper-V call code not offered. */
const HV_STATUS_INVALID_HYPERCALL_CODE = 2n;

/** What the hypercalls need of the host. */
export interface HvmHypercallHost {
  readonly vcpuList: readonly HvmVcpu[];
  readonly cpus: readonly X86Cpu[];
  /** The pCPU a vCPU runs on, or -1. */
  pcpuOf(a: HvmVcpu): number;
  /** Takes a paused vCPU off its pCPU at that pCPU's next decision (vcpu_pause_nosync's kick). */
  kickOff(a: HvmVcpu): void;
  /** A vCPU no longer paused goes back to the run queue if it is runnable and off every pCPU. */
  unpaused(a: HvmVcpu): void;
  count(what: string): void;
}

/** Which entries a flush of one vCPU drops. */
export type VcpuFlush =
  | { kind: "all" }
  /** HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY: the non-global ones (INVVPID single-context retaining globals). */
  | { kind: "non-global" }
  /** These pages (HvCallFlushVirtualAddressList: each GVA entry with its extra pages). */
  | { kind: "pages"; vas: readonly bigint[] };

const errno = (e: number) => BigInt.asUintN(64, BigInt(-e));

export class HvmHypercalls {
  /** The domain's hypercall_deadlock_mutex: held by the vCPU in hvm_flush_vcpu_tlb, if any. */
  private deadlockMutex: HvmVcpu | undefined;
  private readonly calls = new Map<string, Map<string, number>>();

  constructor(private readonly host: HvmHypercallHost) {}

  private record(name: string, result: string): void {
    let m = this.calls.get(name);
    if (!m) this.calls.set(name, (m = new Map()));
    m.set(result, (m.get(result) ?? 0) + 1);
  }

  /** hvm_do_hypercall: the value for RAX, and whether the VMCALL must run again (a continuation). */
  *vmcall(cpu: X86Cpu, a: HvmVcpu): Generator<StepLabel, { rax: bigint; restart: boolean }, void> {
    const rax = cpu.gpr("rax");
    if (rax & VIRIDIAN_HYPERCALL_BIT) {
      yield { what: `viridian_hypercall from ${a.name}: input 0x${cpu.gpr("rcx").toString(16)}` };
      const code = Number(cpu.gpr("rcx") & 0xffffn);
      this.record(`hyperv 0x${code.toString(16).padStart(4, "0")}`, "HV_STATUS_INVALID_HYPERCALL_CODE");
      return { rax: HV_STATUS_INVALID_HYPERCALL_CODE, restart: false };
    }
    const nr = rax;
    const args = [cpu.gpr("rdi"), cpu.gpr("rsi"), cpu.gpr("rdx"), cpu.gpr("r10"), cpu.gpr("r8")];
    yield { what: `hvm_do_hypercall #${nr} from ${a.name}` };
    if (nr !== BigInt(HYPERCALL_HVM_OP)) {
      this.record(`#${nr}`, "-ENOSYS");
      return { rax: errno(ENOSYS), restart: false };
    }
    if (args[0] !== BigInt(HVMOP_FLUSH_TLBS)) {
      this.record(`hvm_op ${args[0]}`, "-ENOSYS");
      return { rax: errno(ENOSYS), restart: false };
    }
    // HVMOP_flush_tlbs takes no argument: a non-null handle is -EINVAL (do_hvm_op).
    if (args[1] !== 0n) {
      this.record("hvm_op HVMOP_flush_tlbs", "-EINVAL");
      return { rax: errno(EINVAL), restart: false };
    }
    const done = yield* this.hvmFlushVcpuTlb(a);
    if (!done) {
      this.record("hvm_op HVMOP_flush_tlbs", "-ERESTART (retried)");
      return { rax, restart: true };
    }
    this.record("hvm_op HVMOP_flush_tlbs", "0");
    return { rax: 0n, restart: false };
  }

  /**
   * hvm_flush_vcpu_tlb (xen/arch/x86/hvm/hvm.c) for every vCPU of the
   * domain: false when another vCPU holds the lock (the caller restarts).
   */
  *hvmFlushVcpuTlb(a: HvmVcpu): Generator<StepLabel, boolean, void> {
    yield { what: `hvm_flush_vcpu_tlb: ${a.name} tries hypercall_deadlock_mutex` };
    if (this.deadlockMutex) {
      this.host.count("HVMOP_flush_tlbs: trylock failed");
      return false;
    }
    this.deadlockMutex = a;
    const others = this.host.vcpuList.filter((v) => v !== a);
    yield { what: `hvm_flush_vcpu_tlb: ${a.name} pauses the other vCPUs` };
    for (const v of others) {
      v.paused++;
      this.host.kickOff(v);
    }
    // Wait until none of them is running: each must leave its pCPU (a VM exit, whatever its IF).
    while (others.some((v) => this.host.pcpuOf(v) >= 0)) {
      yield { what: `hvm_flush_vcpu_tlb: ${a.name} waits for the paused vCPUs to leave their pCPUs`, wait: true };
    }
    yield { what: `hvm_flush_vcpu_tlb: ${a.name} unlocks, flushes every vCPU's pCPU` };
    this.deadlockMutex = undefined;
    this.flushVcpus(this.host.vcpuList, { kind: "all" });
    yield { what: `hvm_flush_vcpu_tlb: ${a.name} unpauses the other vCPUs` };
    for (const v of others) {
      v.paused--;
      if (!v.paused) this.host.unpaused(v);
    }
    return true;
  }

  /**
   * The flush of a set of vCPUs, at once: each one's VPID entries on the
   * pCPU that may hold them (the one it runs on or last ran on; any other
   * is invalidated when the vCPU lands there, hvm-host.ts load).
   */
  flushVcpus(targets: readonly HvmVcpu[], what: VcpuFlush): void {
    for (const v of targets) {
      const at = v.vcpu.dirtyCpu;
      if (at === undefined) continue;
      const cpu = this.host.cpus[at]!;
      if (what.kind === "all") cpu.invvpid(InvvpidType.SingleContext, v.vpid);
      else if (what.kind === "non-global") cpu.invvpid(InvvpidType.SingleContextRetainingGlobals, v.vpid);
      else for (const va of what.vas) cpu.invvpid(InvvpidType.Address, v.vpid, va);
      this.host.count("vCPU TLB flushes");
    }
  }

  /** The Hyper-V MSRs (viridian), or undefined for an MSR that is not one: the value read, "ok" … or "#GP". */
  msr(_a: HvmVcpu, _msr: number, _write: boolean, _value: bigint): bigint | "#GP" | undefined {
    return undefined;
  }

  /** CPUID leaves the hypervisor answers itself (0x40000000 and up, viridian), or undefined for the bare CPU's answer. */
  cpuid(_leaf: number): [number, number, number, number] | undefined {
    return undefined;
  }

  summary(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.calls].map(([k, m]) => [k, Object.fromEntries(m)]));
  }
}

export { resultName };
