// SPDX-License-Identifier: MIT
//
// An HVM domain's vCPUs as the debugger sees them (`shootdown repl|gdb IMAGE
// --hv --hvm`): gdb threads and the REPL's `cpu N`, listed and named as
// common/vcpu-list.ts does for every hypervisor. A vCPU that runs on a pCPU
// is read from that pCPU (the debugger does that itself); one that is off
// every pCPU from the guest state HvmHost keeps of it (HvmVcpu.saved, what
// save() took at its last VM exit, or the boot protocol's registers before
// it first runs: the VMCS guest-state area after VMCLEAR), with what load()
// (vmx_do_resume) puts on a pCPU besides: its VPID and its domain's EPTP.
// With --domains the vCPUs are numbered domain by domain (d1v0, d1v1, d2v0 …).
// With those the debugger translates its addresses through its own page
// tables and the EPT, as its pCPU would.

import type { X86RegisterFile } from "../../../emulator/machine/cpu/x86-cpu.ts";
import type { VcpuAccess, VcpuInfo } from "../../../emulator/machine/core/platform.ts";
import type { VCpu } from "../../common/domain.ts";
import type { VcpuScheduler } from "../../common/vcpu-sched.ts";
import { allVcpus, vcpuInfos, type SchedulerState } from "../../common/vcpu-list.ts";
import type { Ept } from "./ept.ts";
import type { HvmVcpu } from "./vcpu.ts";

/** What the view reads of the HVM host (hvm-host.ts). */
export interface HvmViewHost {
  /** Every vCPU of every domain. */
  readonly vcpuList: readonly HvmVcpu[];
  readonly sched: VcpuScheduler<HvmVcpu>;
  /** The domain of a vCPU: its EPT, and the code it wrote to its debug-exit port when it is over. */
  dom(a: HvmVcpu): { readonly ept: Ept; readonly exitCode: bigint | undefined };
}

/** Where a vCPU off every pCPU and out of the run queue is, in HVM's words (vcpuWhere does not know HLT, pauses or a domain that is over). */
function hvmWhere(a: HvmVcpu, exitCode: bigint | undefined): string | undefined {
  if (exitCode !== undefined) return `over (its domain wrote ${exitCode} to its debug-exit port)`;
  if (a.paused) return "paused";
  if (a.sleep === "hlt") return "blocked in HLT";
  if (a.sleep === "hlt-forever") return "halted with interrupts off";
  return undefined;
}

export class HvmVcpuView implements VcpuAccess<X86RegisterFile> {
  private readonly s: SchedulerState;

  constructor(private readonly host: HvmViewHost) {
    this.s = {
      domains: () => new Set(host.vcpuList.map((a) => a.vcpu.domain)),
      pcpuOf: (v) => {
        const at = host.sched.where(this.of(v));
        return at < 0 ? undefined : at;
      },
      runnable: (v) => host.sched.runq.includes(this.of(v)),
    };
  }

  private of(v: VCpu): HvmVcpu {
    return this.host.vcpuList.find((a) => a.vcpu === v)!;
  }

  list(): VcpuInfo[] {
    const all = allVcpus(this.s);
    return vcpuInfos(this.s).map((info, k) => {
      if (info.pcpu !== undefined || info.state === "runnable") return info;
      const a = this.of(all[k]!);
      return { ...info, state: hvmWhere(a, this.host.dom(a).exitCode) ?? info.state };
    });
  }

  /** vCPU k off every pCPU (undefined when it runs, or does not exist). */
  private off(k: number): HvmVcpu | undefined {
    const v = allVcpus(this.s)[k];
    if (!v || this.s.pcpuOf(v) !== undefined) return undefined;
    const a = this.of(v);
    return a.saved ? a : undefined;
  }

  /** What load() gives its pCPU besides the saved registers. */
  private vmx(a: HvmVcpu): { vpid: number; eptp: bigint } {
    return { vpid: a.vpid, eptp: this.host.dom(a).ept.eptp };
  }

  saved(k: number): X86RegisterFile | undefined {
    const a = this.off(k);
    if (!a) return undefined;
    const s = a.saved!;
    return { state: { ...s.state }, registers: { ...s.registers }, vmx: this.vmx(a) };
  }

  /**
   * Writes the saved registers, which the vCPU runs with at its next VM
   * entry. Its VPID and EPTP are the hypervisor's, which load() sets
   * whatever the file holds: a change to them could not be kept, so it is
   * refused and nothing changes. An event still waiting for injection stays.
   */
  setSaved(k: number, file: X86RegisterFile): boolean {
    const a = this.off(k);
    if (!a) return false;
    const own = this.vmx(a);
    if (file.vmx && (file.vmx.vpid !== own.vpid || file.vmx.eptp !== own.eptp)) return false;
    a.saved = { ...a.saved!, state: { ...file.state }, registers: { ...file.registers } };
    return true;
  }
}
