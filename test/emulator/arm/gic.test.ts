// SPDX-License-Identifier: MIT
//
// The GICv3 of QEMU's virt machine: the registers software reads, against
// what QEMU 7.2 answered to the same accesses (test/golden/gic/), then the
// behaviours a bare-metal kernel relies on: bring-up, SGIs between CPUs,
// acknowledge and end of interrupt, masking by PMR and running priority.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ArmGic, GICD_BASE, ShootdownError, type IccRegister, type TimerRegister } from "../../../emulator/machine/index.ts";
import {
  gicRig, bringUp as kernelBringUp, GICD_CTLR, GICD_TYPER, GICR_TYPER, GICR_WAKER, GICR_IGROUPR0, GICR_ISENABLER0,
  GICR_ICENABLER0, GICR_ISPENDR0, GICR_ISACTIVER0, GICR_IPRIORITYR,
} from "../../helpers/gic.ts";
import { packageRoot } from "../../../emulator/machine/core/wasm.ts";

const GICD_ISENABLER1 = GICD_BASE + 0x104n;
const GICD_IGROUPR1 = GICD_BASE + 0x84n;
const GICD_ISPENDR1 = GICD_BASE + 0x204n;
const GICD_IPRIORITYR = GICD_BASE + 0x400n;
const GICD_IROUTER = GICD_BASE + 0x6000n;
const SPURIOUS = 1023n;

function rig(cpus = 4) {
  return { gic: gicRig(cpus) };
}

const bringUp = (gic: ArmGic, cpu: number, pmr?: bigint) => kernelBringUp(gic, cpu, { pmr });

/** ICC_SGI1R_EL1 for SGI `intid` to the CPUs in `targets` (Aff0) of Aff1 `aff1`. */
const sgi1r = (intid: number, targets: number[], aff1 = 0) =>
  (BigInt(intid) << 24n) | (BigInt(aff1) << 16n) | BigInt(targets.reduce((m, t) => m | (1 << t), 0));
const IRM = 1n << 40n;

function setPriority(gic: ArmGic, cpu: number, intid: number, prio: number): void {
  gic.write(cpu, gic.sgiBase(cpu) + GICR_IPRIORITYR + BigInt(intid), BigInt(prio), 1);
}

describe("the GIC's registers against QEMU 7.2 (-M virt,gic-version=3 -cpu max -smp 4)", () => {
  const dir = join(packageRoot(), "test", "golden", "gic");
  const steps = JSON.parse(readFileSync(join(dir, "probe-steps.json"), "utf8")) as string[][];
  const golden = new Map(
    readFileSync(join(dir, "qemu-7.2-gicv3.txt"), "utf8").split("\n").filter((l) => l.includes("="))
      .map((l) => [l.split("=")[0]!, BigInt(`0x${l.split("=")[1]}`)] as const),
  );
  /**
   * Where shootdown knowingly differs: it has no LPIs, so GICD_TYPER.LPIS
   * (bit 17), GICR_TYPER.PLPIS (bit 0) and GICR_CTLR.EnableLPIs (bit 0) are
   * 0; and ICC_PMR_EL1 bits 63:8 are RES0, where QEMU keeps what was written.
   */
  const DIFFERS: Record<string, bigint> = {
    GICD_TYPER: 1n << 17n, GICR0_TYPER: 1n, GICR1_TYPER: 1n, GICR3_TYPER: 1n, GICR0_CTLR_FF: 1n, ICC_PMR_FF: ~0xffn,
  };

  it("reads what QEMU read, step by step, apart from the LPI bits and PMR's RES0 bits", () => {
    const { gic } = rig(4);
    const cycles = 1_000_000n;
    const mismatches: string[] = [];
    let compared = 0;
    for (const [op, a, b] of steps) {
      const isTimer = (name: string) => name.startsWith("CNT");
      let got: bigint | undefined;
      if (op === "rd32") got = gic.read(0, BigInt(b!), 4);
      else if (op === "rd64") got = gic.read(0, BigInt(b!), 8);
      else if (op === "wr32") gic.write(0, BigInt(a!), BigInt(b!), 4);
      else if (op === "mrs") got = isTimer(b!) ? gic.readTimer(0, b as TimerRegister, cycles) : gic.readSysreg(0, b as IccRegister);
      else if (op === "msr") {
        if (isTimer(a!)) gic.writeTimer(0, a as TimerRegister, BigInt(b!), cycles);
        else gic.writeSysreg(0, a as IccRegister, BigInt(b!));
      } else throw new Error(`unknown step ${op}`);
      if (got === undefined) continue;
      const want = golden.get(a!);
      if (want === undefined) throw new Error(`no QEMU value for ${a}`);
      compared++;
      const expected = want & ~(DIFFERS[a!] ?? 0n);
      if (got !== expected) mismatches.push(`${a}: QEMU 0x${want.toString(16)}, shootdown 0x${got.toString(16)}`);
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBe(golden.size);
  });

  it("says where it differs from QEMU: no LPIs", () => {
    const { gic } = rig(4);
    expect(gic.read(0, GICD_TYPER) & (1n << 17n)).toBe(0n);
    expect(golden.get("GICD_TYPER")! & (1n << 17n)).not.toBe(0n);
  });
});

describe("bring-up as a bare-metal kernel does it", () => {
  it("resets with affinity routing on, a single security state and groups disabled", () => {
    const { gic } = rig(2);
    expect(gic.read(0, GICD_CTLR)).toBe(0x50n); // ARE (4) | DS (6)
    gic.write(0, GICD_CTLR, 0xffff_ffffn);
    expect(gic.read(0, GICD_CTLR)).toBe(0x53n); // only the group enables are writable
  });

  it("wakes a redistributor: ChildrenAsleep follows ProcessorSleep", () => {
    const { gic } = rig(2);
    const waker = gic.redistributor(1) + GICR_WAKER;
    expect(gic.read(1, waker)).toBe(6n);
    gic.write(1, waker, 0n);
    expect(gic.read(1, waker)).toBe(0n);
    expect(gic.read(0, gic.redistributor(0) + GICR_WAKER)).toBe(6n); // the other CPU's is still asleep
    gic.write(1, waker, 2n);
    expect(gic.read(1, waker)).toBe(6n);
  });

  it("numbers the redistributors by affinity and marks the last one", () => {
    const { gic } = rig(3);
    const typer = [0, 1, 2].map((c) => gic.read(0, gic.redistributor(c) + GICR_TYPER, 8));
    expect(typer.map((t) => t >> 32n)).toEqual([0n, 1n, 2n]); // Aff0 = CPU index
    expect(typer.map((t) => (t >> 8n) & 0xffffn)).toEqual([0n, 1n, 2n]); // Processor_Number
    expect(typer.map((t) => (t >> 4n) & 1n)).toEqual([0n, 0n, 1n]); // Last
    expect(gic.owns(gic.redistributor(2) + 0x1_fffcn)).toBe(true);
    expect(gic.owns(gic.redistributor(2) + 0x2_0000n)).toBe(false);
  });

  it("reads unknown offsets as zero and ignores writes to them", () => {
    const { gic } = rig(1);
    gic.write(0, GICD_BASE + 0x5000n, 0xdeadn);
    expect(gic.read(0, GICD_BASE + 0x5000n)).toBe(0n);
    expect(gic.read(0, gic.sgiBase(0) + 0x900n)).toBe(0n);
    gic.write(0, GICD_TYPER, 0n);
    expect(gic.read(0, GICD_TYPER)).toBe(0x0378_0007n);
  });

  it("keeps SGIs and PPIs out of the distributor's registers (affinity routing)", () => {
    const { gic } = rig(1);
    gic.write(0, GICD_BASE + 0x100n, 0xffff_ffffn); // GICD_ISENABLER0
    expect(gic.read(0, GICD_BASE + 0x100n)).toBe(0n);
    expect(gic.read(0, gic.sgiBase(0) + GICR_ISENABLER0)).toBe(0n);
  });
});

describe("SGIs", () => {
  it("go from CPU 0 to CPU 2 by TargetList and nowhere else", () => {
    const { gic } = rig(4);
    for (let c = 0; c < 4; c++) bringUp(gic, c);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(5, [2]));
    expect([0, 1, 2, 3].map((c) => gic.pendingIrq(c, 0n))).toEqual([false, false, true, false]);
    expect(gic.read(0, gic.sgiBase(2) + GICR_ISPENDR0)).toBe(1n << 5n);
    expect(gic.readSysreg(2, "ICC_IAR1_EL1")).toBe(5n);
    expect(gic.pendingIrq(2, 0n)).toBe(false);
  });

  it("go to every CPU but the sender with IRM", () => {
    const { gic } = rig(4);
    for (let c = 0; c < 4; c++) bringUp(gic, c);
    gic.writeSysreg(1, "ICC_SGI1R_EL1", IRM | (3n << 24n));
    expect([0, 1, 2, 3].map((c) => gic.pendingIrq(c, 0n))).toEqual([true, false, true, true]);
    expect([0, 2, 3].map((c) => gic.readSysreg(c, "ICC_IAR1_EL1"))).toEqual([3n, 3n, 3n]);
  });

  it("reach no CPU when the affinity names none", () => {
    const { gic } = rig(4);
    for (let c = 0; c < 4; c++) bringUp(gic, c);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(1, [0, 1, 2, 3], 1)); // Aff1 = 1: CPUs 16–19
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(1, [0]) | (1n << 32n)); // Aff2 = 1
    expect([0, 1, 2, 3].map((c) => gic.pendingIrq(c, 0n))).toEqual([false, false, false, false]);
  });

  it("reach CPUs of the second cluster through Aff1 (CPU 17 is Aff1 1, Aff0 1)", () => {
    const { gic } = rig(18);
    bringUp(gic, 0);
    bringUp(gic, 17);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(4, [1], 1));
    expect(gic.pendingIrq(17, 0n)).toBe(true);
    expect(gic.pendingIrq(1, 0n)).toBe(false);
    expect(gic.read(0, gic.redistributor(17) + GICR_TYPER, 8) >> 32n).toBe(0x101n);
  });

  it("are dropped by a target that has that SGI in group 0 (SGI1R generates group 1)", () => {
    const { gic } = rig(2);
    bringUp(gic, 0);
    bringUp(gic, 1);
    gic.write(1, gic.sgiBase(1) + GICR_IGROUPR0, 0xffff_ffffn & ~(1n << 6n));
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(6, [1]));
    expect(gic.read(1, gic.sgiBase(1) + GICR_ISPENDR0)).toBe(0n);
    gic.writeSysreg(0, "ICC_SGI0R_EL1", sgi1r(6, [1]));
    expect(gic.read(1, gic.sgiBase(1) + GICR_ISPENDR0)).toBe(1n << 6n);
    expect(gic.readSysreg(1, "ICC_HPPIR1_EL1")).toBe(SPURIOUS); // group 0 is not enabled at the CPU
  });
});

describe("acknowledge and end of interrupt", () => {
  it("acknowledges the highest priority first and makes it active and the running priority", () => {
    const { gic } = rig(1);
    bringUp(gic, 0);
    setPriority(gic, 0, 1, 0x60);
    setPriority(gic, 0, 2, 0x40);
    setPriority(gic, 0, 3, 0x40);
    for (const i of [1, 3, 2]) gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(i, [0]));
    expect(gic.readSysreg(0, "ICC_HPPIR1_EL1")).toBe(2n); // equal priorities: the lower INTID
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(2n);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0x40n);
    expect(gic.read(0, gic.sgiBase(0) + GICR_ISACTIVER0)).toBe(1n << 2n);
    expect(gic.read(0, gic.sgiBase(0) + GICR_ISPENDR0)).toBe((1n << 1n) | (1n << 3n));
    // 3 has the same group priority as the running one: it cannot preempt.
    expect(gic.pendingIrq(0, 0n)).toBe(false);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(SPURIOUS);
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 2n);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0xffn);
    expect(gic.read(0, gic.sgiBase(0) + GICR_ISACTIVER0)).toBe(0n);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(3n);
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 3n);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(1n);
  });

  it("lets a higher group priority preempt, and drops priorities innermost first", () => {
    const { gic } = rig(1);
    bringUp(gic, 0);
    setPriority(gic, 0, 8, 0x80);
    setPriority(gic, 0, 9, 0x20);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(8, [0]));
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(8n);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(9, [0]));
    expect(gic.pendingIrq(0, 0n)).toBe(true);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(9n);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0x20n);
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 9n);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0x80n);
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 8n);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0xffn);
  });

  it("uses only the group priority to preempt: with BPR1 = 7 nothing preempts", () => {
    const { gic } = rig(1);
    bringUp(gic, 0);
    setPriority(gic, 0, 8, 0x40);
    setPriority(gic, 0, 9, 0x10);
    gic.writeSysreg(0, "ICC_BPR1_EL1", 7n);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(8, [0]));
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(8n);
    // The active priority is the group priority at acknowledge: with no group bits, 0.
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0n);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(9, [0]));
    expect(gic.pendingIrq(0, 0n)).toBe(false);
    gic.writeSysreg(0, "ICC_BPR1_EL1", 0n); // clamps to the minimum, 3
    expect(gic.readSysreg(0, "ICC_BPR1_EL1")).toBe(3n);
    expect(gic.pendingIrq(0, 0n)).toBe(false); // the running priority stays what it was
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 8n);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(9n);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0x10n);
  });

  it("compares group priorities with the binary point in force when it compares", () => {
    const { gic } = rig(1);
    bringUp(gic, 0);
    setPriority(gic, 0, 8, 0x48);
    setPriority(gic, 0, 9, 0x40);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(8, [0]));
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(8n);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0x48n);
    gic.writeSysreg(0, "ICC_BPR1_EL1", 5n); // group priority is now bits 7:5: 0x40 and 0x48 are one group
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(9, [0]));
    expect(gic.pendingIrq(0, 0n)).toBe(false);
    gic.writeSysreg(0, "ICC_BPR1_EL1", 3n);
    expect(gic.pendingIrq(0, 0n)).toBe(true);
  });

  it("ignores EOIR of a special INTID and EOIR with nothing active", () => {
    const { gic } = rig(1);
    bringUp(gic, 0);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(4, [0]));
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(4n);
    gic.writeSysreg(0, "ICC_EOIR1_EL1", SPURIOUS);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0n);
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 4n);
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 4n);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0xffn);
  });

  it("splits priority drop and deactivation with EOImode 1 (ICC_DIR_EL1 deactivates)", () => {
    const { gic } = rig(1);
    bringUp(gic, 0);
    gic.writeSysreg(0, "ICC_CTLR_EL1", 2n);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(7, [0]));
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(7n);
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 7n);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0xffn);
    expect(gic.read(0, gic.sgiBase(0) + GICR_ISACTIVER0)).toBe(1n << 7n);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(7, [0]));
    expect(gic.pendingIrq(0, 0n)).toBe(false); // still active: not a candidate
    gic.writeSysreg(0, "ICC_DIR_EL1", 7n);
    expect(gic.read(0, gic.sgiBase(0) + GICR_ISACTIVER0)).toBe(0n);
    expect(gic.pendingIrq(0, 0n)).toBe(true);
  });
});

describe("group 0", () => {
  it("is acknowledged through ICC_IAR0_EL1 only, and is never an IRQ (it would be an FIQ)", () => {
    const { gic } = rig(1);
    bringUp(gic, 0);
    gic.write(0, GICD_CTLR, 3n); // EnableGrp0 | EnableGrp1
    gic.writeSysreg(0, "ICC_IGRPEN0_EL1", 1n);
    gic.write(0, gic.sgiBase(0) + GICR_IGROUPR0, 0xffff_fffen); // SGI 0 in group 0
    gic.writeSysreg(0, "ICC_SGI0R_EL1", sgi1r(0, [0]));
    expect(gic.readSysreg(0, "ICC_HPPIR0_EL1")).toBe(0n);
    expect(gic.readSysreg(0, "ICC_HPPIR1_EL1")).toBe(SPURIOUS);
    expect(gic.pendingIrq(0, 0n)).toBe(false);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(SPURIOUS);
    expect(gic.readSysreg(0, "ICC_IAR0_EL1")).toBe(0n);
    expect(gic.readSysreg(0, "ICC_AP0R0_EL1")).toBe(1n); // priority 0: group priority 0 active
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 0n); // the wrong group: ignored
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0n);
    gic.writeSysreg(0, "ICC_EOIR0_EL1", 0n);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0xffn);
    expect(gic.read(0, gic.sgiBase(0) + GICR_ISACTIVER0)).toBe(0n);
  });

  it("shares BPR0 with group 1 when ICC_CTLR_EL1.CBPR is set", () => {
    const { gic } = rig(1);
    gic.writeSysreg(0, "ICC_BPR0_EL1", 5n);
    gic.writeSysreg(0, "ICC_CTLR_EL1", 1n);
    expect(gic.readSysreg(0, "ICC_CTLR_EL1")).toBe(0x8c01n);
    expect(gic.readSysreg(0, "ICC_BPR1_EL1")).toBe(6n);
    gic.writeSysreg(0, "ICC_BPR1_EL1", 4n); // ignored while CBPR is set
    gic.writeSysreg(0, "ICC_CTLR_EL1", 0n);
    expect(gic.readSysreg(0, "ICC_BPR1_EL1")).toBe(3n);
  });
});

describe("masking", () => {
  it("by the PMR: only priorities strictly higher (numerically lower) than it are signalled", () => {
    const { gic } = rig(1);
    bringUp(gic, 0, 0x40n);
    setPriority(gic, 0, 1, 0x40);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(1, [0]));
    expect(gic.readSysreg(0, "ICC_HPPIR1_EL1")).toBe(1n); // HPPIR ignores the PMR
    expect(gic.pendingIrq(0, 0n)).toBe(false);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(SPURIOUS);
    gic.writeSysreg(0, "ICC_PMR_EL1", 0x48n);
    expect(gic.pendingIrq(0, 0n)).toBe(true);
    gic.writeSysreg(0, "ICC_PMR_EL1", 0xffn);
    expect(gic.readSysreg(0, "ICC_PMR_EL1")).toBe(0xf8n); // five priority bits
  });

  it("by the running priority", () => {
    const { gic } = rig(1);
    bringUp(gic, 0);
    setPriority(gic, 0, 1, 0x30);
    setPriority(gic, 0, 2, 0x50);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(1, [0]));
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(1n);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(2, [0]));
    expect(gic.pendingIrq(0, 0n)).toBe(false);
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 1n);
    expect(gic.pendingIrq(0, 0n)).toBe(true);
  });

  it("disabled interrupts stay pending but are never signalled", () => {
    const { gic } = rig(1);
    bringUp(gic, 0);
    gic.write(0, gic.sgiBase(0) + GICR_ICENABLER0, 1n << 9n);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(9, [0]));
    expect(gic.read(0, gic.sgiBase(0) + GICR_ISPENDR0)).toBe(1n << 9n);
    expect(gic.pendingIrq(0, 0n)).toBe(false);
    expect(gic.readSysreg(0, "ICC_HPPIR1_EL1")).toBe(SPURIOUS);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(SPURIOUS);
    gic.write(0, gic.sgiBase(0) + GICR_ISENABLER0, 1n << 9n);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(9n);
  });

  it("by the group enables: ICC_IGRPEN1_EL1 and GICD_CTLR.EnableGrp1", () => {
    const { gic } = rig(1);
    bringUp(gic, 0);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(2, [0]));
    gic.writeSysreg(0, "ICC_IGRPEN1_EL1", 0n);
    expect(gic.pendingIrq(0, 0n)).toBe(false);
    gic.writeSysreg(0, "ICC_IGRPEN1_EL1", 1n);
    gic.write(0, GICD_CTLR, 0n);
    expect(gic.pendingIrq(0, 0n)).toBe(false);
    gic.write(0, GICD_CTLR, 2n);
    expect(gic.pendingIrq(0, 0n)).toBe(true);
  });

  it("an idle GIC has nothing: IAR reads 1023, RPR 0xff", () => {
    const { gic } = rig(1);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(SPURIOUS);
    expect(gic.readSysreg(0, "ICC_RPR_EL1")).toBe(0xffn);
    expect(gic.readSysreg(0, "ICC_SRE_EL1")).toBe(7n);
  });
});

describe("SPIs", () => {
  it("can be set pending by software and reach the CPU GICD_IROUTER names", () => {
    const { gic } = rig(2);
    bringUp(gic, 0);
    bringUp(gic, 1);
    gic.write(0, GICD_IGROUPR1, 1n << 8n); // INTID 40
    gic.write(0, GICD_ISENABLER1, 1n << 8n);
    gic.write(0, GICD_IPRIORITYR + 40n, 0x20n, 1);
    gic.write(0, GICD_IROUTER + 40n * 8n, 1n, 8); // Aff0 = 1
    gic.write(0, GICD_ISPENDR1, 1n << 8n);
    expect(gic.pendingIrq(0, 0n)).toBe(false);
    expect(gic.readSysreg(1, "ICC_IAR1_EL1")).toBe(40n);
    expect(gic.read(0, GICD_BASE + 0x304n)).toBe(1n << 8n); // GICD_ISACTIVER1
    gic.writeSysreg(1, "ICC_EOIR1_EL1", 40n);
    expect(gic.read(0, GICD_BASE + 0x304n)).toBe(0n);
  });
});

describe("CPU reset (PSCI CPU_ON)", () => {
  it("resets the CPU interface and keeps the redistributor's state", () => {
    const { gic } = rig(2);
    bringUp(gic, 1);
    gic.writeSysreg(0, "ICC_SGI1R_EL1", sgi1r(3, [1]));
    gic.resetCpu(1);
    expect(gic.readSysreg(1, "ICC_PMR_EL1")).toBe(0n);
    expect(gic.readSysreg(1, "ICC_IGRPEN1_EL1")).toBe(0n);
    expect(gic.read(1, gic.sgiBase(1) + GICR_ISPENDR0)).toBe(1n << 3n);
    expect(gic.read(1, gic.sgiBase(1) + GICR_IGROUPR0)).toBe(0xffff_ffffn);
  });
});

describe("the TypeScript wrapper", () => {
  it("rejects bad arguments with a ShootdownError", () => {
    const { gic } = rig(2);
    expect(() => gic.read(2, GICD_CTLR)).toThrow(ShootdownError);
    expect(() => gic.read(0, 0x0900_0000n)).toThrow(/not a GIC register/);
    expect(() => gic.read(0, GICD_CTLR + 2n, 4)).toThrow(/aligned/);
    expect(() => gic.read(0, GICD_CTLR, 3 as 4)).toThrow(/size/);
    expect(() => gic.readSysreg(0, "ICC_NOPE_EL1" as IccRegister)).toThrow(ShootdownError);
    expect(() => gic.writeSysreg(0, "ICC_PMR_EL1", -1n)).toThrow(ShootdownError);
    expect(() => gic.pendingIrq(-1, 0n)).toThrow(ShootdownError);
  });
});
