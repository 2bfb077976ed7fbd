// SPDX-License-Identifier: MIT
//
// An AArch64 vCPU that is off every pCPU, as the debugger reads it (the
// twin of off-cpu.ts for x86-64): its registers are the context the
// hypervisor keeps (Platform.vcpus, hypervisor/arm/vcpu-view.ts), and its
// addresses are translated through its own stage 1 (SCTLR_EL1, TCR_EL1,
// TTBR0/1_EL1, MAIR_EL1) and its domain's stage 2 (HCR_EL2.VM, VTTBR_EL2,
// VTCR_EL2), never through those of whatever runs on a pCPU now. The walk
// is the hardware's own, on a pCPU the view borrows (ArmCpu.lookThrough),
// from the tables in memory only: the vCPU's TLB entries are not there.

import type { ArmAccess, ArmCpu, ArmRegisters, ArmState, ArmTranslation, ArmVcpuContext } from "../machine/cpu/arm-cpu.ts";
import { OffCpuView } from "./off-cpu.ts";

/** The registers that decide a translation (DDI0487 D8.1: the EL1&0 regime's, with stage 2's), and PSTATE for PAN. */
const TRANSLATION_REGISTERS = ["sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1", "mair_el1", "hcr_el2", "vttbr_el2", "vtcr_el2"] as const;

export class ArmOffCpuVcpu extends OffCpuView<ArmVcpuContext, ArmCpu> {

  get registers(): ArmRegisters {
    const s = this.file.state;
    return { ...this.translation(), par_el1: s.par_el1, csselr_el1: s.csselr_el1 };
  }

  private translation(): Omit<ArmRegisters, "par_el1" | "csselr_el1"> {
    const s = this.file.state;
    const out = { pstate: s.pstate } as Omit<ArmRegisters, "par_el1" | "csselr_el1">;
    for (const name of TRANSLATION_REGISTERS) out[name] = s[name];
    return out;
  }

  /** As ArmCpu.peek, always from the tables in memory. */
  peek(va: bigint, access: ArmAccess, _opts: { memoryOnly?: boolean } = {}): ArmTranslation {
    return this.borrowed.lookThrough(this.translation(), () => this.borrowed.peek(va, access, { memoryOnly: true }));
  }

  /**
   * Writes the saved registers; false when the hypervisor cannot keep the
   * change (its own EL2 registers), or when PSTATE names a mode the CPU
   * does not have (as ArmCpu.setState refuses it).
   */
  setState(update: Partial<ArmState>): boolean {
    const m = update.pstate === undefined ? 0n : update.pstate & 0x1fn;
    if (m !== 0n && m !== 4n && m !== 5n) return false;
    return this.write({ ...this.file, state: { ...this.file.state, ...update } });
  }
}
