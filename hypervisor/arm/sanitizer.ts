// SPDX-License-Identifier: MIT
//
// The Arm hypervisor's sanitizer (mechanisms §4.6): what Xen would ASSERT
// about its set/way emulation, checked as the run goes, each violation a
// machine event that ends the run with status 4 unless --keep-going.
//
//   (b) a vCPU executed guest instructions while its need_flush_to_ram was
//       set: the deferred flush did not finish before the vCPU went back
//       to the guest (mechanisms §4.5);
//   (c) p2m_cache_flush_range skipped a page because a valid bit on its
//       path is 0 while some cache holds dirty lines of it: the valid-bit
//       tracking let a touched page go uncleaned.
//
// Event (a), a non-cacheable read returning something other than the last
// value written, is the hardware's own check (--check-stale-reads,
// emulator/hw/arm/cache.ts): boot.ts asks the machine for it, and the
// platform turns each "stale-read" event into a violation named by IPA
// through the domain's M2P (staleReadViolation). It is off unless asked,
// as bare: a correct guest may poll with its caches off a flag another
// vCPU wrote and has not cleaned yet, which the check would call stale.

import type { ArmCpu } from "../../emulator/machine/cpu/arm-cpu.ts";
import type { MachineEvent } from "../../emulator/machine/core/exits.ts";
import type { Timeline } from "../../emulator/machine/core/timeline.ts";
import type { HwExports } from "../../emulator/machine/core/wasm.ts";
import { maddr } from "../common/memory.ts";
import type { P2m } from "./p2m.ts";
import type { ArmVcpu } from "./vcpu.ts";

export class ArmSanitizer {
  /** Violations not yet taken by the engine. */
  private readonly pending: MachineEvent[] = [];
  /** Every violation found. */
  count = 0;
  /** vCPUs already reported for (b), so that one stretch is one report. */
  private readonly ranWithFlushPending = new Set<ArmVcpu>();

  constructor(private readonly hw: HwExports, private readonly p2m: P2m, private readonly timeline: Timeline) {}

  private violation(cpu: number, rule: string, message: string, detail: Record<string, unknown>): void {
    this.count++;
    this.timeline.emit({ kind: "violation", cpu, message });
    this.pending.push({ kind: "violation", cpu, message, detail: { rule, step: this.timeline.step, ...detail } });
  }

  takeEvents(): MachineEvent[] {
    return this.pending.splice(0);
  }

  eventsPending(): boolean {
    return this.pending.length > 0;
  }

  /** (b): vCPU a reached an exit on pCPU cpu, so it ran guest code; it must not have with its flush owed. */
  ranGuest(cpu: ArmCpu, a: ArmVcpu): void {
    if (!a.needFlushToRam || this.ranWithFlushPending.has(a)) return;
    this.ranWithFlushPending.add(a);
    this.violation(cpu.index, "need_flush_to_ram",
      `${a.name} executed guest instructions on pCPU ${cpu.index} while its need_flush_to_ram was set (before p2m_flush_vm finished)`, { vcpu: a.name });
  }

  /** (c): p2m_cache_flush_range for vCPU a skipped GFNs [first, first + n) because of a valid bit 0 on their path. */
  skipped(cpu: ArmCpu, a: ArmVcpu, first: number, n: number): void {
    for (let gfn = first; gfn < first + n; gfn++) {
      const e = this.p2m.lookup(gfn);
      if (!e) continue;
      const dirty = this.hw.armPageDirtyLines(maddr(e.mfn));
      if (!dirty) continue;
      const ipa = `0x${(BigInt(gfn) << 12n).toString(16)}`;
      this.violation(cpu.index, "skipped-dirty-page",
        `p2m_cache_flush_range for ${a.name} on pCPU ${cpu.index} skipped IPA ${ipa} (MFN 0x${e.mfn.toString(16)}) because its valid bit is 0, while ${dirty} dirty line${dirty === 1 ? "" : "s"} of it sit in a cache`,
        { vcpu: a.name, ipa, mfn: e.mfn, dirtyLines: dirty });
    }
  }
}
