// SPDX-License-Identifier: MIT
//
// What the hypervisor does with each trap of a vCPU to EL2
// (xen/arch/arm/traps.c, do_trap_guest_sync, by ESR_EL2.EC):
//
//   EC     trap                     handler here (Xen's)
//   0x16   HVC #0                   SMCCC: PSCI, shootdown's guest annotations
//                                   (IPA frames → MFNs), else UNDEF (do_trap_hvc_smccc)
//          HVC #0xEA1               a Xen hypercall: -ENOSYS (do_trap_hypercall)
//          other HVC                UNDEF (do_trap_hypercall: "Invalid HVC imm")
//   0x17   SMC                      PSCI through the SMC conduit, else UNDEF (do_trap_smc)
//   0x18   MSR ICC_SGI*R_EL1        the SGI to its target vCPUs (vgic_to_sgi)
//          MSR <TVM register>       the write, then p2m_toggle_cache (HCR_EL2.TVM)
//          DC ISW/CSW/CISW          p2m_set_way_flush (HCR_EL2.TSW)
//   0x20   instruction abort        stage 2: p2m_resolve_translation_fault, else a
//   0x24   data abort                 device (try_handle_mmio), else an abort
//                                     injected (do_trap_stage2_abort_guest)
//
// Whatever the guest does, the machine goes on: a trap nobody handles
// becomes an exception injected into the guest, and is counted.

import type { ArmCpu } from "../../emulator/machine/cpu/arm-cpu.ts";
import { isPsciCall } from "../../emulator/machine/platform/arm/psci.ts";
import { PL011_BASE, PL011_SIZE } from "../../emulator/machine/platform/arm/devices.ts";
import { ENOSYS } from "../common/errno.ts";
import { PAGE_SHIFT } from "../common/memory.ts";
import { EC, injectAbort, injectUndef } from "./inject.ts";
import { ICC_ASGI1R_EL1, ICC_SGI0R_EL1, ICC_SGI1R_EL1 } from "./vgic.ts";

/** XEN_HYPERCALL_TAG: the HVC immediate of a Xen hypercall. */
export const XEN_HYPERCALL_TAG = 0xea1;

/** The registers HCR_EL2.TVM traps writes of (DDI0487 D19.2.48), by system-register key, with what the CPU calls them. */
export const TVM_REGISTERS: ReadonlyMap<number, string> = new Map([
  [0xc080, "sctlr_el1"], [0xc100, "ttbr0_el1"], [0xc101, "ttbr1_el1"], [0xc102, "tcr_el1"], [0xc290, "esr_el1"],
  [0xc300, "far_el1"], [0xc288, "afsr0_el1"], [0xc289, "afsr1_el1"], [0xc510, "mair_el1"], [0xc518, "amair_el1"],
  [0xc681, "contextidr_el1"],
]);

/** An ESR_EL2 for EC 0x18, decoded (ISS: Op0 21:20, Op2 19:17, Op1 16:14, CRn 13:10, Rt 9:5, CRm 4:1, Direction 0). */
export interface SysregAccess {
  /** op0:op1:CRn:CRm:op2, as the hardware keys its registers. */
  key: number;
  rt: number;
  read: boolean;
}

export function decodeSysreg(esr: bigint): SysregAccess {
  const iss = Number(esr & 0x1ff_ffffn);
  const op0 = (iss >> 20) & 3, op2 = (iss >> 17) & 7, op1 = (iss >> 14) & 7, crn = (iss >> 10) & 15, crm = (iss >> 1) & 15;
  return { key: (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2, rt: (iss >> 5) & 31, read: (iss & 1) === 1 };
}

/** The data-abort ISS fields a device access needs (ISV 24, SAS 23:22, SSE 21, SRT 20:16, SF 15, WnR 6, DFSC 5:0). */
export interface AbortSyndrome {
  isv: boolean;
  size: 1 | 2 | 4 | 8;
  signExtend: boolean;
  rt: number;
  sf: boolean;
  write: boolean;
  s1ptw: boolean;
  /** DFSC/IFSC. */
  fsc: number;
}

export function decodeAbort(esr: bigint): AbortSyndrome {
  const iss = Number(esr & 0x1ff_ffffn);
  return {
    isv: ((iss >> 24) & 1) === 1, size: (1 << ((iss >> 22) & 3)) as 1 | 2 | 4 | 8, signExtend: ((iss >> 21) & 1) === 1,
    rt: (iss >> 16) & 31, sf: ((iss >> 15) & 1) === 1, write: ((iss >> 6) & 1) === 1, s1ptw: ((iss >> 7) & 1) === 1, fsc: iss & 0x3f,
  };
}

/** A translation fault at any level (DFSC 0b0001LL). */
const isTranslationFault = (fsc: number) => (fsc & 0x3c) === 0x04;

/** What the trap handlers need of the hypervisor around them. */
export interface TrapContext {
  /** PSCI for this vCPU (w0 the function); what it did, in words, for the statistics. */
  psci(cpu: ArmCpu): string;
  /**
   * A guest annotation (docs/annotations.md) when function ID `fn` is one:
   * carried out with its frame translated through the p2m, and X0's answer
   * returned; undefined when `fn` is not one.
   */
  annotation(cpu: ArmCpu, fn: number, x1: bigint): bigint | undefined;
  /** p2m_resolve_translation_fault for the domain; true when it made the GFN valid again. */
  resolveTranslationFault(gfn: number): boolean;
  /** The emulated devices: does one own the IPA, and its read and write (vgic, PL011). */
  mmioOwns(ipa: bigint): boolean;
  mmioRead(cpu: ArmCpu, ipa: bigint, size: number): bigint | undefined;
  mmioWrite(cpu: ArmCpu, ipa: bigint, size: number, value: bigint): boolean;
  /** vgic_to_sgi for a trapped SGI generation register write. */
  sendSgi(cpu: ArmCpu, key: number, value: bigint): void;
  /** A trapped DC ISW/CSW/CISW (p2m_set_way_flush) and a trapped TVM register write (its p2m_toggle_cache). */
  setWay(cpu: ArmCpu): void;
  tvmWrite(cpu: ArmCpu, register: string, value: bigint): void;
  /** Counts one trap outcome for the summary ("undef: smc", "abort: data outside RAM" …). */
  count(what: string): void;
}

const xReg = (cpu: ArmCpu, rt: number): bigint => (rt === 31 ? 0n : cpu.state.x[rt]!);

function setX(cpu: ArmCpu, rt: number, value: bigint): void {
  if (rt === 31) return;
  const x = cpu.state.x.slice();
  x[rt] = BigInt.asUintN(64, value);
  cpu.setState({ x });
}

const past = (cpu: ArmCpu, pc: bigint) => cpu.setState({ pc: pc + 4n });

/** HVC (PC is already past it): do_trap_hvc_smccc and do_trap_hypercall. */
export function trapHvc(t: TrapContext, cpu: ArmCpu, imm: number, pc: bigint): string {
  const fn = Number(cpu.state.x[0]! & 0xffff_ffffn);
  if (imm === 0 && isPsciCall(fn)) return t.psci(cpu);
  if (imm === 0) {
    const x0 = t.annotation(cpu, fn, cpu.state.x[1]!);
    if (x0 !== undefined) {
      setX(cpu, 0, x0);
      t.count("annotation");
      return "annotation";
    }
  }
  if (imm === XEN_HYPERCALL_TAG) {
    // No Xen hypercall is offered to an Arm guest here: arm_hypercall_table's "nr out of range" answer.
    setX(cpu, 0, BigInt(-ENOSYS));
    t.count("hypercall: -ENOSYS");
    return "hypercall -ENOSYS";
  }
  // The preferred return of an HVC is the next instruction: the guest's handler returns past it.
  injectUndef(cpu, pc + 4n);
  t.count(imm === 0 ? "undef: HVC outside PSCI" : "undef: HVC with an unknown immediate");
  return "undef";
}

/** SMC (PC is past it; HCR_EL2.TSC's trap is taken at the SMC itself, so ELR_EL1 is the SMC): do_trap_smc. */
export function trapSmc(t: TrapContext, cpu: ArmCpu, pc: bigint): string {
  if (isPsciCall(Number(cpu.state.x[0]! & 0xffff_ffffn))) return t.psci(cpu);
  cpu.setState({ pc });
  injectUndef(cpu, pc);
  t.count("undef: SMC");
  return "undef";
}

/** EC 0x18, a trapped MSR/MRS or a trapped set/way operation (PC at the instruction). */
export function trapSysreg(t: TrapContext, cpu: ArmCpu, esr: bigint, pc: bigint, setWay: boolean): string {
  if (setWay) {
    t.setWay(cpu);
    past(cpu, pc);
    return "set/way";
  }
  const a = decodeSysreg(esr);
  if (!a.read && (a.key === ICC_SGI1R_EL1 || a.key === ICC_SGI0R_EL1 || a.key === ICC_ASGI1R_EL1)) {
    t.sendSgi(cpu, a.key, xReg(cpu, a.rt));
    past(cpu, pc);
    return "sgi";
  }
  const tvm = TVM_REGISTERS.get(a.key);
  if (!a.read && tvm) {
    t.tvmWrite(cpu, tvm, xReg(cpu, a.rt));
    past(cpu, pc);
    return "tvm";
  }
  // Nothing else is trapped by the controls this hypervisor sets: an access it cannot explain is UNDEFINED to the guest.
  injectUndef(cpu, pc);
  t.count("undef: unexpected system-register trap");
  return "undef";
}

/** EC 0x20/0x24 from stage 2 (PC at the instruction): do_trap_stage2_abort_guest. */
export function trapStage2Abort(t: TrapContext, cpu: ArmCpu, esr: bigint, pc: bigint, ipa: bigint): string {
  const prefetch = Number((esr >> 26n) & 0x3fn) === EC.IABT_LOWER;
  const s = decodeAbort(esr);
  const far = cpu.state.far_el2;
  if (isTranslationFault(s.fsc) && t.resolveTranslationFault(Number(ipa >> BigInt(PAGE_SHIFT)))) return "p2m fault resolved";
  if (!prefetch && !s.s1ptw) {
    // try_handle_mmio: only with a valid instruction syndrome (Xen decodes a few forms itself; none of ours need it).
    if (s.isv) {
      if (s.write) {
        if (t.mmioWrite(cpu, ipa, s.size, BigInt.asUintN(8 * s.size, xReg(cpu, s.rt)))) {
          past(cpu, pc);
          return "mmio write";
        }
      } else {
        const v = t.mmioRead(cpu, ipa, s.size);
        if (v !== undefined) {
          const bits = 8 * s.size;
          let value = BigInt.asUintN(bits, v);
          if (s.signExtend) value = BigInt.asIntN(bits, value);
          setX(cpu, s.rt, s.sf ? BigInt.asUintN(64, value) : BigInt.asUintN(32, value));
          past(cpu, pc);
          return "mmio read";
        }
      }
    } else if (t.mmioOwns(ipa)) {
      t.count("abort: device access without an instruction syndrome");
      injectAbort(cpu, false, far, pc);
      return "abort";
    }
  }
  t.count(prefetch ? "abort: instruction fetch outside RAM" : s.s1ptw ? "abort: stage-1 table outside RAM" : "abort: data access outside RAM and devices");
  injectAbort(cpu, prefetch, far, pc);
  return "abort";
}

/** Does the IPA belong to the PL011? */
export const isPl011 = (ipa: bigint) => ipa >= PL011_BASE && ipa < PL011_BASE + PL011_SIZE;
