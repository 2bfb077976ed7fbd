// SPDX-License-Identifier: MIT
//
// The VMCALL exit of an HVM guest (Xen's hvm_hypercall,
// xen/arch/x86/hvm/hypercall.c): a hypercall from guest user mode is -EPERM;
// bit 31 of EAX set is a Viridian (Hyper-V) hypercall, as Xen's hypercall
// page sets it (viridian.ts); anything else is a Xen hypercall (hvm-op.ts).
// The host calls this for a guest in 64-bit mode, which is the only mode the
// guests of this project run hypercalls in, then puts rax in RAX, executes
// the flush if there is one (before the caller resumes), and advances RIP
// past the VMCALL.

import { EPERM, resultName } from "../../common/errno.ts";
import { hvStatusName } from "./hyperv-tlfs.ts";
import { xenHvmHypercall } from "./hvm-op.ts";
import { viridianHypercall, type HvmFlushRequest, type HvmGuest } from "./viridian.ts";

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
