// SPDX-License-Identifier: MIT
//
// An HVM vCPU: what Xen's struct hvm_vcpu keeps besides the common vCPU —
// its VPID, its virtual local APIC, the register file saved while it is off
// every pCPU (the VMCS guest-state area), its clock, and whether it sleeps
// in HLT.

import type { X86Event, X86Registers, X86State } from "../../../emulator/machine/cpu/x86-cpu.ts";
import type { VCpu } from "../../common/domain.ts";
import { Vlapic } from "./vlapic.ts";

/** The guest state of a vCPU off every pCPU (what VMCLEAR leaves in its VMCS). */
export interface HvmSaved {
  state: X86State;
  registers: X86Registers;
  /** An injected interrupt the CPU still held, waiting for the guest's IF. */
  injection: X86Event | null;
  /** Instructions left in its STI / MOV SS interrupt shadow (the VMCS's guest interruptibility state). */
  shadow: number;
}

/**
 * Why a vCPU is off every pCPU without being runnable: asleep in HLT with
 * interrupts on until an interrupt for it (vcpu_block), or in HLT with
 * interrupts off, which nothing but an NMI (not modelled) ends, as on the
 * bare machine.
 */
export type HvmSleep = "none" | "hlt" | "hlt-forever";

export class HvmVcpu {
  readonly name: string;
  readonly vlapic: Vlapic;
  /** The registers it runs with; always set while it is off every pCPU. */
  saved: HvmSaved | undefined;
  sleep: HvmSleep = "none";
  /** How many pauses hold it off every pCPU (v->pause_count: vcpu_pause_nosync, vcpu_unpause). */
  paused = 0;
  /**
   * Its clock when it left its last pCPU. On a pCPU the vCPU's clock (its
   * TSC and its APIC timer's time base) is that pCPU's cycle count, which
   * load() moves on to this when it is behind: a vCPU's clock never goes
   * back across a migration, as a bare CPU's never does.
   */
  lastCycles = 0n;

  constructor(
    readonly vcpu: VCpu,
    /** Its VPID (VMCS VIRTUAL_PROCESSOR_ID): every TLB entry it makes is tagged with it. */
    readonly vpid: number,
    saved: HvmSaved,
  ) {
    this.name = `d${vcpu.domain.domid}v${vcpu.vcpuId}`;
    this.vlapic = new Vlapic(vcpu.vcpuId);
    this.saved = saved;
  }
}
