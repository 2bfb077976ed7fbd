// SPDX-License-Identifier: MIT
//
// What the Arm hypervisor keeps of each vCPU besides common/domain.ts's VCpu
// (Xen's struct arch_vcpu on Arm): its HCR_EL2, the set/way state of
// mechanisms §4.4, and its context while it is off every pCPU.

import type { ArmVcpuContext } from "../../emulator/machine/cpu/arm-cpu.ts";
import type { VCpu } from "../common/domain.ts";
import { vcpuName } from "../common/vcpu-list.ts";

// HCR_EL2 (DDI0487 D19.2.48).
export const HCR_VM = 1n << 0n;
export const HCR_SWIO = 1n << 1n;
export const HCR_FMO = 1n << 3n;
export const HCR_IMO = 1n << 4n;
export const HCR_AMO = 1n << 5n;
export const HCR_TWI = 1n << 13n;
export const HCR_TWE = 1n << 14n;
export const HCR_TSC = 1n << 19n;
export const HCR_TSW = 1n << 22n;
export const HCR_TVM = 1n << 26n;
export const HCR_RW = 1n << 31n;

/**
 * The HCR_EL2 every vCPU starts with, as Xen's vcpu_initialise/p2m_restore_state
 * build it: stage 2 on (VM), set/way invalidation upgraded to clean and
 * invalidate (SWIO), set/way operations trapped (TSW), interrupts and
 * SErrors routed to EL2 (IMO, FMO, AMO: the guest's GIC CPU interface is
 * the virtual one), SMC trapped (TSC), EL1 in AArch64 (RW). WFI and WFE are
 * not trapped (TWI, TWE clear): a vCPU's WFI sleeps its pCPU with its own
 * GIC context, which its interrupts wake (Xen's vwfi=native); the
 * scheduler takes a sleeping vCPU off when another waits for the pCPU.
 * TVM is set per vCPU by the set/way emulation.
 */
export const HCR_GUEST = HCR_VM | HCR_SWIO | HCR_TSW | HCR_IMO | HCR_FMO | HCR_AMO | HCR_TSC | HCR_RW;

export class ArmVcpu {
  /** Its HCR_EL2 (v->arch.hcr_el2); TVM comes and goes with the set/way emulation. */
  hcr = HCR_GUEST;
  /** Must the domain's RAM be cleaned to the point of coherency before this vCPU runs guest code again (v->arch.need_flush_to_ram)? */
  needFlushToRam = false;
  /** Its registers, GIC context and timer while it is off every pCPU; undefined while it runs. */
  saved: ArmVcpuContext | undefined;
  /** The cycle count of the pCPU it left: its virtual counter never goes back when it lands on a pCPU whose clock is behind. */
  lastCycles = 0n;
  /** Where a p2m_flush_vm that gave the pCPU up goes on (the saved `start` of -ERESTART); undefined when none is under way. */
  flushResumeGfn: number | undefined;
  /** The last exception injected into it: where, for which trap, and the pCPU's instruction count then (an injection loop repeats all three). */
  lastInjection: { pc: bigint; syndrome: bigint; instructions: bigint } | undefined;

  constructor(
    readonly vcpu: VCpu,
    /** Its MPIDR_EL1 (VMPIDR_EL2): Aff0 its number, bit 31 RES1. */
    readonly mpidr: bigint,
  ) {}

  get name(): string {
    return vcpuName(this.vcpu);
  }
}
