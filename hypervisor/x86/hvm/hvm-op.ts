// SPDX-License-Identifier: MIT
//
// Xen's hypercalls for an HVM guest, as far as issue 18 needs them: the
// VMCALL exit's split between the two ABIs (hvm_hypercall,
// xen/arch/x86/hvm/hypercall.c: a hypercall from guest user mode is -EPERM;
// bit 31 of EAX set is a Viridian hypercall, as Xen's hypercall page sets
// it, viridian.ts; anything else is a Xen hypercall), the dispatch by Xen
// hypercall number (call_handlers_hvm64, generated from
// xen/include/hypercall-defs.c) and hvm_op's HVMOP_flush_tlbs (do_hvm_op,
// hvmop_flush_tlb_all in xen/arch/x86/hvm/hvm.c). A Xen
// hypercall from a 64-bit HVM guest has its number in RAX and its arguments
// in RDI, RSI, RDX, R10 and R8, and returns a long in RAX (a negative errno
// as two's complement).
//
// Only hvm_op is offered; every other number is -ENOSYS, as Xen answers a
// number it has no HVM handler for, and so is every hvm_op other than
// HVMOP_flush_tlbs (Xen's do_hvm_op default). That the domain is HVM, which
// hvmop_flush_tlb_all checks first, always holds here.
//
// The host calls hvmHypercall for a guest in 64-bit mode, which is the only
// mode the guests of this project make hypercalls in, then puts rax in RAX,
// executes the flush if there is one (before the caller resumes), and
// advances RIP past the VMCALL.

import { EINVAL, ENOSYS, EPERM, resultName } from "../../common/errno.ts";
import { hvStatusName } from "./hyperv-tlfs.ts";
import { viridianHypercall, type HvmFlushRequest, type HvmGuest } from "./viridian.ts";

/** __HYPERVISOR_hvm_op (xen/include/public/xen.h). */
export const HYPERVISOR_hvm_op = 34;
/** __HYPERVISOR_memory_op: XENMEM_sharing_op where the host offers memory sharing (hypercall.ts), else -ENOSYS here. */
export const HYPERVISOR_memory_op = 12;
/** HVMOP_flush_tlbs (xen/include/public/hvm/hvm_op.h): flush every vCPU's TLB; the argument must be NULL. */
export const HVMOP_flush_tlbs = 5;

/** A Xen hypercall's outcome: the long it returns (rc) and, for HVMOP_flush_tlbs, the flush to execute before the caller resumes. */
export interface XenHvmOutcome {
  /** "hvm_op:HVMOP_flush_tlbs", "hvm_op:7", "hypercall 12". */
  readonly call: string;
  readonly rc: number;
  /** rc as RAX: BigInt.asUintN(64, rc). */
  readonly rax: bigint;
  readonly flush?: HvmFlushRequest;
}

/** The registers of a 64-bit Xen hypercall: the number in RAX, the arguments in RDI, RSI, RDX, R10, R8. */
export interface XenHvmRegs {
  readonly rax: bigint;
  readonly rdi: bigint;
  readonly rsi: bigint;
  readonly rdx?: bigint;
  readonly r10?: bigint;
  readonly r8?: bigint;
}

/** call_handlers_hvm64: hvm_op, or -ENOSYS for every other number (the whole 64 bits of RAX are the number). */
export function xenHvmHypercall(regs: XenHvmRegs, g: Pick<HvmGuest, "vcpuCount">): XenHvmOutcome {
  const nr = BigInt.asUintN(64, regs.rax);
  if (nr !== BigInt(HYPERVISOR_hvm_op)) return xenOutcome(`hypercall ${nr}`, -ENOSYS);
  const op = BigInt.asUintN(64, regs.rdi);
  const r = doHvmOp(op, BigInt.asUintN(64, regs.rsi), g);
  const name = op === BigInt(HVMOP_flush_tlbs) ? "hvm_op:HVMOP_flush_tlbs" : `hvm_op:${op}`;
  return xenOutcome(name, r.rc, r.flush);
}

/** do_hvm_op: op in RDI (an unsigned long), the guest handle in RSI. */
export function doHvmOp(op: bigint, arg: bigint, g: Pick<HvmGuest, "vcpuCount">): { readonly rc: number; readonly flush?: HvmFlushRequest } {
  if (op !== BigInt(HVMOP_flush_tlbs)) return { rc: -ENOSYS };
  // HVMOP_flush_tlbs takes no argument: any handle but NULL is -EINVAL (guest_handle_is_null).
  if (arg !== 0n) return { rc: -EINVAL };
  return { rc: 0, flush: hvmopFlushTlbAll(g) };
}

/**
 * hvmop_flush_tlb_all → paging_flush_tlb(NULL): every vCPU of the domain,
 * the caller too, every translation of every address space, global ones
 * included. The host executes it as hvm_flush_vcpu_tlb did: pause the other
 * vCPUs, flush each (a new VPID), unpause them, all before the caller
 * resumes and whatever the guest's interrupt flags.
 */
function hvmopFlushTlbAll(g: Pick<HvmGuest, "vcpuCount">): HvmFlushRequest {
  return {
    call: "HVMOP_flush_tlbs",
    vps: Array.from({ length: g.vcpuCount }, (_, i) => i),
    addresses: "all",
    nonGlobalOnly: false,
    allAddressSpaces: true,
    addressSpace: 0n,
  };
}

function xenOutcome(call: string, rc: number, flush?: HvmFlushRequest): XenHvmOutcome {
  const rax = BigInt.asUintN(64, BigInt(rc));
  return flush ? { call, rc, rax, flush } : { call, rc, rax };
}

/** The registers a VMCALL exit hands over, and the caller's CPL (SS.DPL). */
export interface HvmHypercallRegs {
  readonly rax: bigint;
  readonly rcx: bigint;
  readonly rdx: bigint;
  readonly rsi: bigint;
  readonly rdi: bigint;
  readonly r8: bigint;
  readonly r10: bigint;
  readonly cpl: number;
}

/** What the host does with a hypercall: put rax in RAX and, if flush is set, execute it before the caller resumes. */
export interface HvmHypercallOutcome {
  readonly abi: "viridian" | "xen";
  /** The call's name, for statistics and traces. */
  readonly call: string;
  /** "HV_STATUS_SUCCESS", "-EINVAL", "0" … */
  readonly resultName: string;
  readonly rax: bigint;
  readonly flush?: HvmFlushRequest;
  /** For a refused call, what was wrong and where. */
  readonly why?: string;
}

/** Xen's mark of a Viridian hypercall: bit 31 of EAX, reserved in the Viridian convention. */
const VIRIDIAN_CALL_BIT = 0x8000_0000n;

/** hvm_hypercall for a 64-bit caller. Never throws on any register values or guest memory contents. */
export function hvmHypercall(regs: HvmHypercallRegs, g: HvmGuest): HvmHypercallOutcome {
  const viridian = (regs.rax & VIRIDIAN_CALL_BIT) !== 0n;
  // Xen refuses hypercalls from CPL > 0 before it looks at which ABI they use (hvm_get_cpl).
  if (regs.cpl !== 0) {
    return {
      abi: viridian ? "viridian" : "xen",
      call: "refused",
      resultName: resultName(-EPERM),
      rax: BigInt.asUintN(64, BigInt(-EPERM)),
      why: `hypercall from CPL ${regs.cpl}: only CPL 0 may make hypercalls`,
    };
  }
  if (viridian) {
    const o = viridianHypercall(regs, g);
    const base = { abi: "viridian" as const, call: o.call, resultName: hvStatusName(o.result.status), rax: o.rax };
    return o.flush ? { ...base, flush: o.flush } : o.why ? { ...base, why: o.why } : base;
  }
  const o = xenHvmHypercall(regs, g);
  const base = { abi: "xen" as const, call: o.call, resultName: resultName(o.rc), rax: o.rax };
  return o.flush ? { ...base, flush: o.flush } : base;
}
