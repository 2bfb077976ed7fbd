// SPDX-License-Identifier: MIT
//
// What both hypervisors (x86/ and arm/) tell the debugger of their vCPUs
// (Platform.vcpus, emulator/debug/): each vCPU's name, the pCPU it runs on
// and, off every pCPU, where it is in words. Only the registers kept of a
// vCPU differ by architecture (x86/vcpu-view.ts, arm/vcpu-view.ts).
//
// vCPUs are numbered domain by domain, in domid order, then by vcpu_id:
// with D domains of V vCPUs, d{i}v{j} is number (i - 1) * V + j.

import type { VcpuInfo } from "../../emulator/machine/core/platform.ts";
import type { Domain, VCpu } from "./domain.ts";

/** What a view reads of the hypervisor's scheduler. */
export interface SchedulerState {
  domains(): Iterable<Domain>;
  /** The pCPU a vCPU runs on, or undefined. */
  pcpuOf(v: VCpu): number | undefined;
  /** Is it in the run queue, waiting for a pCPU? */
  runnable(v: VCpu): boolean;
}

/** Xen's %pv: "d1v0". */
export const vcpuName = (v: VCpu): string => `d${v.domain.domid}v${v.vcpuId}`;

/** Every vCPU in the debugger's order. */
export function allVcpus(s: SchedulerState): VCpu[] {
  return [...s.domains()].sort((a, b) => a.domid - b.domid).flatMap((d) => d.vcpus);
}

/** The debugger's list: the name, the pCPU, or where it waits. */
export function vcpuInfos(s: SchedulerState): VcpuInfo[] {
  return allVcpus(s).map((v) => {
    const pcpu = s.pcpuOf(v);
    return { name: vcpuName(v), pcpu, state: pcpu !== undefined ? "running" : vcpuWhere(v, s.runnable(v)) };
  });
}

/** Where a vCPU off every pCPU is, in words. */
export function vcpuWhere(v: VCpu, runnable: boolean): string {
  if (v.domain.shutdownReason !== undefined) return "shut down";
  if (v.down) return "down";
  if (runnable) return "runnable";
  if (v.blocked) return "blocked";
  // Between leaving a pCPU and joining the run queue, within one hypervisor routine.
  return "off the pCPUs";
}
