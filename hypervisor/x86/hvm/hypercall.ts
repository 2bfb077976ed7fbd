// SPDX-License-Identifier: MIT
//
// VMCALL from an HVM guest (Xen's hvm_do_hypercall with its Viridian
// support), and the execution of the two paravirtual remote flushes.
//
// Dispatch is the ABI layer's (hvm-op.ts hvmHypercall, viridian.ts), as Xen's
// viridian hypercall page tells the two apart (it does `or $0x80000000,
// %eax` before VMCALL); this file runs what it decides:
//
//   EAX bit 31 set   a Hyper-V hypercall (viridian_hypercall): RCX the input
//                    value, RDX the input GPA, R8 the output GPA; RAX ← the
//                    result value (status, reps completed)
//   otherwise        RAX a Xen hypercall number, arguments RDI, RSI, RDX,
//                    R10, R8; hvm_op (34) HVMOP_flush_tlbs (5), and
//                    memory_op (12) XENMEM_sharing_op (22) where the host
//                    offers memory sharing; anything else is -ENOSYS
//   CPL > 0          -EPERM, before either
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
import type { HvmVcpu } from "./vcpu.ts";
import { hvmHypercall, HYPERVISOR_memory_op } from "./hvm-op.ts";
import { cpuidViridianLeaves, newViridianDomain, rdmsrViridian, wrmsrViridian, type HvmGuest, type ViridianDomain } from "./viridian.ts";

/** The guest-physical address width the guest sees (CPUID.80000008H:EAX[7:0] of the bare machine). */
const PHYS_ADDR_BITS = 46;

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
  /** Guest-physical memory through the EPT: undefined (or false) when any byte is not the domain's RAM. */
  readGuestPhys(gpa: bigint, length: number): Uint8Array | undefined;
  writeGuestPhys(gpa: bigint, bytes: Uint8Array): boolean;
  /** memory_op (cmd in RDI, the guest handle in RSI) as steps, or undefined where the host offers none (then -ENOSYS). */
  memoryOp?(a: HvmVcpu, cmd: bigint, arg: bigint): Generator<StepLabel, bigint, void> | undefined;
}

/** Which entries a flush of one vCPU drops. */
export type VcpuFlush =
  | { kind: "all" }
  /** HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY: the non-global ones (INVVPID single-context retaining globals). */
  | { kind: "non-global" }
  /** These pages (HvCallFlushVirtualAddressList: each GVA entry with its extra pages). */
  | { kind: "pages"; vas: readonly bigint[] };

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

/** Where Xen's CPUID leaves are when Viridian's hold 0x40000000 (xen/arch/x86/cpuid.c). */
export const XEN_CPUID_BASE = 0x4000_0100;
/** XEN_CPUID_MAX_NUM_LEAVES: Xen's leaves are base to base + 5. */
const XEN_CPUID_LEAVES = 5;
/** Leaf 5 (base + 4) EAX: EBX holds the vCPU id, ECX the domain id (public/arch-x86/cpuid.h). */
const XEN_HVM_CPUID_VCPU_ID_PRESENT = 1 << 3;
const XEN_HVM_CPUID_DOMID_PRESENT = 1 << 4;
/** The Xen version leaf 1 reports (4.17, the release the model follows). */
const XEN_VERSION = (4 << 16) | 17;

/**
 * One of Xen's hypervisor leaves (cpuid_hypervisor_leaves): 0 the highest
 * leaf and "XenVMMXenVMM"; 1 the version; 2 no hypercall pages (a guest
 * makes its calls by VMCALL directly, as the PV ABI here does), their MSR
 * base Xen's 0x40000200; 4 (Xen's "leaf 5", HVM features) the caller's vCPU
 * id in EBX and domain id in ECX, flagged present in EAX, as Xen always
 * gives them; the rest zero.
 */
function xenLeaf(k: number, vcpuId: number, domid: number): [number, number, number, number] {
  const ascii4 = (t: string) => (t.charCodeAt(0) | (t.charCodeAt(1) << 8) | (t.charCodeAt(2) << 16) | (t.charCodeAt(3) << 24)) >>> 0;
  switch (k) {
    case 0: return [XEN_CPUID_BASE + XEN_CPUID_LEAVES, ascii4("XenV"), ascii4("MMXe"), ascii4("nVMM")];
    case 1: return [XEN_VERSION, 0, 0, 0];
    case 2: return [0, 0x4000_0200, 0, 0];
    case 4: return [XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT, vcpuId, domid, 0];
    default: return [0, 0, 0, 0];
  }
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
  /** The partition-wide Viridian state: the guest OS ID and the hypercall page MSR. */
  readonly viridian: ViridianDomain = newViridianDomain();

  constructor(private readonly host: HvmHypercallHost) {}

  /** The calling vCPU's view of its domain, as the ABI layer reads it. */
  private guest(a: HvmVcpu): HvmGuest {
    return {
      vcpuCount: this.host.vcpuList.length,
      vpIndex: a.vcpu.vcpuId,
      physAddrBits: PHYS_ADDR_BITS,
      readGuestPhys: (gpa, length) => this.host.readGuestPhys(gpa, length),
      writeGuestPhys: (gpa, bytes) => this.host.writeGuestPhys(gpa, bytes),
    };
  }

  private record(name: string, result: string): void {
    let m = this.calls.get(name);
    if (!m) this.calls.set(name, (m = new Map()));
    m.set(result, (m.get(result) ?? 0) + 1);
  }

  /** hvm_do_hypercall: the value for RAX, and whether the VMCALL must run again (a continuation). */
  *vmcall(cpu: X86Cpu, a: HvmVcpu): Generator<StepLabel, { rax: bigint; restart: boolean }, void> {
    const rax = cpu.gpr("rax");
    yield { what: `hvm_do_hypercall from ${a.name}: RAX 0x${rax.toString(16)}` };
    if (rax === BigInt(HYPERVISOR_memory_op) && cpu.state.cpl === 0) {
      const op = this.host.memoryOp?.(a, cpu.gpr("rdi"), cpu.gpr("rsi"));
      if (op) {
        const r = yield* op;
        this.record(`memory_op ${cpu.gpr("rdi")}`, r === 0n ? "0" : `${BigInt.asIntN(64, r)}`);
        return { rax: r, restart: false };
      }
    }
    const o = this.decode(cpu, a);
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

  /** The ABI's decision for the registers (hvm-op.ts hvmHypercall): the call's name, its result, RAX, and the flush to execute first. */
  private decode(cpu: X86Cpu, a: HvmVcpu): { call: string; result: string; rax: bigint; flush?: FlushOrder } {
    const o = hvmHypercall({
      rax: cpu.gpr("rax"), rcx: cpu.gpr("rcx"), rdx: cpu.gpr("rdx"), rsi: cpu.gpr("rsi"), rdi: cpu.gpr("rdi"),
      r8: cpu.gpr("r8"), r10: cpu.gpr("r10"), cpl: cpu.state.cpl,
    }, this.guest(a));
    const call = o.abi === "viridian" ? o.call : o.call.replace(/^hvm_op:/, "hvm_op ");
    return { call, result: o.resultName, rax: o.rax, ...(o.flush ? { flush: o.flush } : {}) };
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

  /** The Hyper-V MSRs (guest_rdmsr_viridian, guest_wrmsr_viridian): the value read (0 for a write), "#GP", or undefined for an MSR that is not one. */
  msr(a: HvmVcpu, msr: number, write: boolean, value: bigint): bigint | "#GP" | undefined {
    const r = write ? wrmsrViridian(msr, value, this.viridian, this.guest(a)) : rdmsrViridian(msr, this.viridian, this.guest(a));
    if (r === undefined) return undefined;
    if (r.kind === "gp") {
      this.host.count("Hyper-V MSR #GP");
      return "#GP";
    }
    if (r.warning) this.host.count("Hyper-V MSR warnings");
    return write ? 0n : r.value;
  }

  /**
   * CPUID leaves the hypervisor answers: 0x40000000–0x400000FF are Viridian's
   * (cpuid_viridian_leaves), and Xen's own move to 0x40000100 as Xen's
   * cpuid_hypervisor_leaves puts them when it also offers Viridian, where
   * Linux's hypervisor_cpuid_base finds them. Undefined: the bare CPU's answer.
   */
  cpuid(leaf: number, a: HvmVcpu): [number, number, number, number] | undefined {
    if (leaf >= XEN_CPUID_BASE && leaf <= XEN_CPUID_BASE + 0xff) return xenLeaf(leaf - XEN_CPUID_BASE, a.vcpu.vcpuId, a.vcpu.domain.domid);
    const l = cpuidViridianLeaves(leaf, this.viridian, { vcpuCount: this.host.vcpuList.length });
    return l && [l.eax, l.ebx, l.ecx, l.edx];
  }

  summary(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.calls].map(([k, m]) => [k, Object.fromEntries(m)]));
  }
}

