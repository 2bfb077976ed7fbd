// SPDX-License-Identifier: MIT
//
// Where a debugger thread (session.ts DebugThread) is, for a target of
// either architecture: thread i is CPU i, or under a hypervisor vCPU i
// (Platform.vcpus), followed by the pCPUs themselves. A vCPU on a pCPU is
// read from that pCPU; one off every pCPU from the registers the
// hypervisor keeps of it, which a target wraps in its architecture's
// off-CPU view (off-cpu.ts, arm-off-cpu.ts).

import type { Platform, VcpuInfo } from "../machine/core/platform.ts";

/** A vCPU off every pCPU: what the hypervisor says of it, its saved registers (undefined: none yet), and how to replace them. */
export interface OffCpuThread<R> {
  info: VcpuInfo;
  file: R | undefined;
  write(file: R): boolean;
}

export class Threads<R> {
  constructor(private readonly platform: Platform) {}

  /** The pCPU thread i runs on: i itself without a hypervisor; undefined for a vCPU off every pCPU. */
  pcpuOf(i: number): number | undefined {
    const list = this.platform.vcpus()?.list();
    if (!list) return i;
    return i >= list.length ? i - list.length : list[i]!.pcpu;
  }

  /** Thread i when it is a vCPU off every pCPU; undefined when it runs on a CPU. */
  off(i: number): OffCpuThread<R> | undefined {
    const vcpus = this.platform.vcpus();
    const info = vcpus?.list()[i];
    if (!vcpus || !info || info.pcpu !== undefined) return undefined;
    return { info, file: vcpus.saved(i) as R | undefined, write: (file: R) => vcpus.setSaved(i, file) };
  }
}
