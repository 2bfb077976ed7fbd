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
import { ENOSYS, EINVAL } from "../../common/errno.ts";
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

/** A flush the ABI layer asks the host to execute (viridian.ts's HvmFlushRequest has these fields). */
export interface FlushOrder {
  /** The hypercall that asked: a TLFS call name, or "HVMOP_flush_tlbs". */
  readonly call: string;
  /** The VP indexes (vCPU ids) to flush. */
  readonly vps: readonly number[];
  readonly addresses: "all" | readonly { readonly va: bigint; readonly pages: number }[];
  /** HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY. */
  readonly nonGlobalOnly: boolean;
}

/** Pages a list flush invalidates one by one; a longer list flushes the vCPU's whole TLB, as Linux asks for past its own limit. */
export const MAX_PAGES_BY_ADDRESS = 512;

function vcpuFlushOf(order: FlushOrder): VcpuFlush {
  if (order.addresses === "all") return order.nonGlobalOnly ? { kind: "non-global" } : { kind: "all" };
  const total = order.addresses.reduce((n, r) => n + r.pages, 0);
  if (total > MAX_PAGES_BY_ADDRESS) return { kind: "all" };
  const vas: bigint[] = [];
  for (const r of order.addresses) for (let k = 0; k < r.pages; k++) vas.push(BigInt.asUintN(64, r.va + BigInt(k) * 4096n));
  return { kind: "pages", vas };
}

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
    yield { what: `hvm_do_hypercall from ${a.name}: RAX 0x${rax.toString(16)}` };
    const o = this.decode(cpu);
    if (o.flush) {
      const done = yield* this.execute(a, o.flush);
      if (!done) {
        this.record(o.call, "-ERESTART (retried)");
        return { rax, restart: true };
      }
    }
    this.record(o.call, o.result);
    return { rax: o.rax, restart: false };
  }

  /** The ABI's decision for the registers: the call's name, RAX's value, and the flush to execute first, if any. */
  private decode(cpu: X86Cpu): { call: string; result: string; rax: bigint; flush?: FlushOrder } {
    const rax = cpu.gpr("rax");
    if (rax & VIRIDIAN_HYPERCALL_BIT) {
      const code = Number(cpu.gpr("rcx") & 0xffffn);
      return { call: `hyperv 0x${code.toString(16).padStart(4, "0")}`, result: "HV_STATUS_INVALID_HYPERCALL_CODE", rax: HV_STATUS_INVALID_HYPERCALL_CODE };
    }
    const op = cpu.gpr("rdi");
    if (rax !== BigInt(HYPERCALL_HVM_OP)) return { call: `#${rax}`, result: "-ENOSYS", rax: errno(ENOSYS) };
    if (op !== BigInt(HVMOP_FLUSH_TLBS)) return { call: `hvm_op ${op}`, result: "-ENOSYS", rax: errno(ENOSYS) };
    // HVMOP_flush_tlbs takes no argument: a non-null handle is -EINVAL (do_hvm_op).
    if (cpu.gpr("rsi") !== 0n) return { call: "hvm_op HVMOP_flush_tlbs", result: "-EINVAL", rax: errno(EINVAL) };
    const vps = this.host.vcpuList.map((v) => v.vcpu.vcpuId);
    return { call: "hvm_op HVMOP_flush_tlbs", result: "0", rax: 0n, flush: { call: "HVMOP_flush_tlbs", vps, addresses: "all", nonGlobalOnly: false } };
  }

  /**
   * Executes a flush the ABI asked for before the caller resumes: false when
   * it must be retried (hvm_flush_vcpu_tlb's trylock failed).
   */
  *execute(a: HvmVcpu, order: FlushOrder): Generator<StepLabel, boolean, void> {
    const targets = order.vps.map((k) => this.host.vcpuList[k]).filter((v): v is HvmVcpu => v !== undefined);
    if (order.call === "HVMOP_flush_tlbs") return yield* this.hvmFlushVcpuTlb(a, targets);
    // A Hyper-V flush: every named vCPU at once, like an L0-assisted flush, whatever its interrupt state.
    yield { what: `${order.call} from ${a.name}: flush ${targets.map((v) => v.name).join(" ") || "nobody"} at once` };
    this.flushVcpus(targets, vcpuFlushOf(order));
    return true;
  }

  /**
   * hvm_flush_vcpu_tlb (xen/arch/x86/hvm/hvm.c) of the target vCPUs: false
   * when another vCPU holds the lock (the caller restarts).
   */
  *hvmFlushVcpuTlb(a: HvmVcpu, targets: readonly HvmVcpu[]): Generator<StepLabel, boolean, void> {
    yield { what: `hvm_flush_vcpu_tlb: ${a.name} tries hypercall_deadlock_mutex` };
    if (this.deadlockMutex) {
      this.host.count("HVMOP_flush_tlbs: trylock failed");
      return false;
    }
    this.deadlockMutex = a;
    const others = targets.filter((v) => v !== a);
    yield { what: `hvm_flush_vcpu_tlb: ${a.name} pauses ${others.map((v) => v.name).join(" ") || "nobody"}` };
    for (const v of others) {
      v.paused++;
      this.host.kickOff(v);
    }
    // Wait until none of them is running: each must leave its pCPU (a VM exit, whatever its IF).
    while (others.some((v) => this.host.pcpuOf(v) >= 0)) {
      yield { what: `hvm_flush_vcpu_tlb: ${a.name} waits for the paused vCPUs to leave their pCPUs`, wait: true };
    }
    yield { what: `hvm_flush_vcpu_tlb: ${a.name} unlocks, flushes the vCPUs' pCPUs` };
    this.deadlockMutex = undefined;
    this.flushVcpus(targets, { kind: "all" });
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

