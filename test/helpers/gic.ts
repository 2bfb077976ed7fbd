// SPDX-License-Identifier: MIT
//
// Setup for GIC and generic-timer tests: an AArch64 machine with its GIC, the
// register offsets software programs (IHI0069 12.9–12.11), and the bring-up a
// bare-metal kernel does before it can take SGIs and PPIs.

import { expect } from "vitest";
import { Machine, ArmGic, GICD_BASE } from "../../emulator/machine/index.ts";

export const GICD_CTLR = GICD_BASE;
export const GICD_TYPER = GICD_BASE + 4n;
/** RD_base offsets. */
export const GICR_TYPER = 0x8n;
export const GICR_WAKER = 0x14n;
/** SGI_base offsets. */
export const GICR_IGROUPR0 = 0x80n;
export const GICR_ISENABLER0 = 0x100n;
export const GICR_ICENABLER0 = 0x180n;
export const GICR_ISPENDR0 = 0x200n;
export const GICR_ICPENDR0 = 0x280n;
export const GICR_ISACTIVER0 = 0x300n;
export const GICR_IPRIORITYR = 0x400n;
export const GICR_ICFGR1 = 0xc04n;

export function gicRig(cpus: number): ArmGic {
  const machine = new Machine({ arch: "aarch64", cpus });
  return new ArmGic(machine.hw, cpus);
}

/**
 * What a bare-metal kernel does on each CPU: GICD_CTLR.EnableGrp1 (once is enough),
 * wake the redistributor and wait for ChildrenAsleep to clear, INTIDs 0–31
 * group 1, enable `enable` (the SGIs unless told), open the PMR, IGRPEN1.
 */
export function bringUp(gic: ArmGic, cpu: number, opts: { pmr?: bigint; enable?: bigint } = {}): void {
  gic.write(cpu, GICD_CTLR, gic.read(cpu, GICD_CTLR) | 2n);
  const rd = gic.redistributor(cpu);
  gic.write(cpu, rd + GICR_WAKER, gic.read(cpu, rd + GICR_WAKER) & ~2n);
  for (let i = 0; (gic.read(cpu, rd + GICR_WAKER) & 4n) !== 0n; i++) expect(i).toBeLessThan(10);
  const sgi = gic.sgiBase(cpu);
  gic.write(cpu, sgi + GICR_IGROUPR0, 0xffff_ffffn);
  gic.write(cpu, sgi + GICR_ISENABLER0, opts.enable ?? 0xffffn);
  gic.writeSysreg(cpu, "ICC_PMR_EL1", opts.pmr ?? 0xf0n);
  gic.writeSysreg(cpu, "ICC_IGRPEN1_EL1", 1n);
}
