// SPDX-License-Identifier: MIT
//
// The domain's vCPUs as the debugger sees them (`shootdown repl|gdb IMAGE
// --hv` on AArch64): gdb threads and the REPL's `cpu N`, listed and named
// as common/vcpu-list.ts does for both hypervisors. A vCPU that runs on a
// pCPU is read from that pCPU (the debugger does that itself); one that is
// off every pCPU is read from the context ArmHost keeps of it
// (ArmVcpu.saved, taken by ctxt_switch_from), with the EL2 registers that
// load() (ctxt_switch_to, p2m_restore_state) puts on a pCPU with it: its
// own HCR_EL2, and the domain's VTTBR_EL2 and VTCR_EL2. With those, the
// debugger translates its addresses through its own stage 1 and the
// domain's stage 2, as its pCPU would.

import type { ArmVcpuContext } from "../../emulator/machine/cpu/arm-cpu.ts";
import type { VcpuAccess, VcpuInfo } from "../../emulator/machine/core/platform.ts";
import type { VCpu } from "../common/domain.ts";
import { allVcpus, vcpuInfos, type SchedulerState } from "../common/vcpu-list.ts";
import type { ArmVcpu } from "./vcpu.ts";

export interface ArmSchedulerState extends SchedulerState {
  /** What ArmHost keeps of each vCPU. */
  arm(v: VCpu): ArmVcpu;
  /** The EL2 registers load() gives every vCPU of the domain. */
  vttbr(): bigint;
  readonly vtcr: bigint;
}

export class ArmVcpuView implements VcpuAccess<ArmVcpuContext> {
  constructor(private readonly s: ArmSchedulerState) {}

  list(): VcpuInfo[] {
    return vcpuInfos(this.s);
  }

  /** vCPU k off every pCPU (undefined when it runs, or when it has no context). */
  private off(k: number): ArmVcpu | undefined {
    const v = allVcpus(this.s)[k];
    if (!v || this.s.pcpuOf(v) !== undefined) return undefined;
    const a = this.s.arm(v);
    return a.saved ? a : undefined;
  }

  saved(k: number): ArmVcpuContext | undefined {
    const a = this.off(k);
    if (!a) return undefined;
    const c = a.saved!;
    return { ...c, state: { ...c.state, x: c.state.x.slice(), hcr_el2: a.hcr, vttbr_el2: this.s.vttbr(), vtcr_el2: this.s.vtcr } };
  }

  /**
   * Writes the saved registers. HCR_EL2, VTTBR_EL2 and VTCR_EL2 are the
   * hypervisor's, which load() sets whatever the context holds: a change
   * to them could not be kept, so it is refused and nothing changes.
   */
  setSaved(k: number, file: ArmVcpuContext): boolean {
    const a = this.off(k);
    if (!a) return false;
    const s = file.state;
    if (s.hcr_el2 !== a.hcr || s.vttbr_el2 !== this.s.vttbr() || s.vtcr_el2 !== this.s.vtcr) return false;
    a.saved = { ...a.saved!, state: { ...s, x: s.x.slice() } };
    return true;
  }
}
