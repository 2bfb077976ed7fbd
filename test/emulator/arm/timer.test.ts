// SPDX-License-Identifier: MIT
//
// The generic timer: the counter is the cycle count the CPU passes in;
// TVAL is a signed 32-bit view of CVAL - count; a timer whose condition holds,
// enabled and unmasked, drives its PPI (27 virtual, 30 physical) as a level
// into the CPU's redistributor; the run loop asks when the next one fires.

import { describe, expect, it } from "vitest";
import type { ArmGic } from "../../../emulator/machine/index.ts";
import { gicRig, bringUp, GICR_ISPENDR0, GICR_ICPENDR0, GICR_ICFGR1 } from "../../helpers/gic.ts";

const CNTV = 27;
const CNTP = 30;
const ENABLE = 1n;
const IMASK = 2n;
const ISTATUS = 4n;

const rig = (cpus = 2) => gicRig(cpus);

/** CPU `cpu` ready to take the timer PPIs: group 1, enabled, PMR open. */
const enablePpis = (gic: ArmGic, cpu: number) => bringUp(gic, cpu, { enable: (1n << BigInt(CNTV)) | (1n << BigInt(CNTP)) });

const pendingBits = (gic: ArmGic, cpu: number) => gic.read(cpu, gic.sgiBase(cpu) + GICR_ISPENDR0);

describe("the counter", () => {
  it("reads QEMU 7.2's frequency and the CPU's cycle count", () => {
    const gic = rig(1);
    expect(gic.readTimer(0, "CNTFRQ_EL0", 0n)).toBe(62_500_000n);
    expect(gic.readTimer(0, "CNTVCT_EL0", 123_456_789_012n)).toBe(123_456_789_012n);
    expect(gic.readTimer(0, "CNTPCT_EL0", 42n)).toBe(42n);
    gic.writeTimer(0, "CNTVCT_EL0", 5n, 42n); // read-only
    expect(gic.readTimer(0, "CNTVCT_EL0", 43n)).toBe(43n);
  });
});

describe("CVAL, TVAL and ISTATUS", () => {
  it("shows the condition in ISTATUS only while enabled, masked or not", () => {
    const gic = rig(1);
    gic.writeTimer(0, "CNTV_CVAL_EL0", 1000n, 0n);
    gic.writeTimer(0, "CNTV_CTL_EL0", ENABLE, 0n);
    expect(gic.readTimer(0, "CNTV_CTL_EL0", 999n)).toBe(ENABLE);
    expect(gic.readTimer(0, "CNTV_CTL_EL0", 1000n)).toBe(ENABLE | ISTATUS);
    gic.writeTimer(0, "CNTV_CTL_EL0", ENABLE | IMASK | ISTATUS, 1000n); // ISTATUS is read-only
    expect(gic.readTimer(0, "CNTV_CTL_EL0", 1000n)).toBe(ENABLE | IMASK | ISTATUS);
    gic.writeTimer(0, "CNTV_CTL_EL0", 0n, 1000n);
    expect(gic.readTimer(0, "CNTV_CTL_EL0", 5000n)).toBe(0n);
  });

  it("reads TVAL as CVAL - count in 32 bits, upper half zero", () => {
    const gic = rig(1);
    gic.writeTimer(0, "CNTP_CVAL_EL0", 0x1_0000_1000n, 0n);
    expect(gic.readTimer(0, "CNTP_TVAL_EL0", 0x1_0000_0f9cn)).toBe(100n);
    expect(gic.readTimer(0, "CNTP_TVAL_EL0", 0x1_0000_1064n)).toBe(0xffff_ff9cn); // -100
    expect(gic.readTimer(0, "CNTP_TVAL_EL0", 0x1000n)).toBe(0n); // 2^32 ago: truncated
  });

  it("writes CVAL = count + SignExtend(TVAL<31:0>)", () => {
    const gic = rig(1);
    gic.writeTimer(0, "CNTV_TVAL_EL0", 0xffff_ffffn, 5000n);
    expect(gic.readTimer(0, "CNTV_CVAL_EL0", 5000n)).toBe(4999n);
    gic.writeTimer(0, "CNTV_TVAL_EL0", 0x7fff_ffffn, 5000n);
    expect(gic.readTimer(0, "CNTV_CVAL_EL0", 5000n)).toBe(5000n + 0x7fff_ffffn);
    gic.writeTimer(0, "CNTV_TVAL_EL0", 0xffff_ffff_8000_0000n, 1n << 40n);
    expect(gic.readTimer(0, "CNTV_CVAL_EL0", 0n)).toBe((1n << 40n) - 0x8000_0000n);
    gic.writeTimer(0, "CNTV_TVAL_EL0", 0x1_0000_0010n, 5000n); // bits 63:32 are ignored
    expect(gic.readTimer(0, "CNTV_CVAL_EL0", 0n)).toBe(5016n);
    // A negative TVAL from a small count wraps CVAL below zero, as the 64-bit sum does.
    gic.writeTimer(0, "CNTV_TVAL_EL0", 0xffff_ff00n, 0x10n);
    expect(gic.readTimer(0, "CNTV_CVAL_EL0", 0n)).toBe((1n << 64n) - 0xf0n);
  });

  it("keeps the two timers and the CPUs apart", () => {
    const gic = rig(2);
    gic.writeTimer(0, "CNTV_CVAL_EL0", 10n, 0n);
    gic.writeTimer(0, "CNTP_CVAL_EL0", 20n, 0n);
    gic.writeTimer(1, "CNTV_CVAL_EL0", 30n, 0n);
    expect(gic.readTimer(0, "CNTV_CVAL_EL0", 0n)).toBe(10n);
    expect(gic.readTimer(0, "CNTP_CVAL_EL0", 0n)).toBe(20n);
    expect(gic.readTimer(1, "CNTV_CVAL_EL0", 0n)).toBe(30n);
    expect(gic.readTimer(1, "CNTP_CVAL_EL0", 0n)).toBe(0n);
  });

  it("keeps CNTKCTL_EL1's defined fields", () => {
    const gic = rig(1);
    gic.writeTimer(0, "CNTKCTL_EL1", 0xffff_ffffn, 0n);
    expect(gic.readTimer(0, "CNTKCTL_EL1", 0n)).toBe(0x2_03ffn);
  });
});

describe("the timer PPIs", () => {
  it("asserts the virtual timer's PPI 27 as a level and the CPU takes it", () => {
    const gic = rig(2);
    enablePpis(gic, 1);
    gic.writeTimer(1, "CNTV_CVAL_EL0", 1000n, 0n);
    gic.writeTimer(1, "CNTV_CTL_EL0", ENABLE, 0n);
    expect(gic.pendingIrq(1, 999n)).toBe(false);
    expect(pendingBits(gic, 1)).toBe(0n);
    expect(gic.pendingIrq(1, 1000n)).toBe(true);
    expect(pendingBits(gic, 1)).toBe(1n << 27n);
    expect(gic.pendingIrq(0, 1000n)).toBe(false); // another CPU's timer
    expect(gic.readSysreg(1, "ICC_IAR1_EL1")).toBe(27n);
    expect(gic.pendingIrq(1, 1001n)).toBe(false); // active
    // The handler masks the timer: the line drops, nothing is pending after EOI.
    gic.writeTimer(1, "CNTV_CTL_EL0", ENABLE | IMASK, 1002n);
    expect(pendingBits(gic, 1)).toBe(0n);
    gic.writeSysreg(1, "ICC_EOIR1_EL1", 27n);
    expect(gic.pendingIrq(1, 1003n)).toBe(false);
    // Unmasked again with the condition still true: pending again.
    gic.writeTimer(1, "CNTV_CTL_EL0", ENABLE, 1004n);
    expect(gic.pendingIrq(1, 1004n)).toBe(true);
  });

  it("re-signals a level that is still high after EOI, and not once the handler moves CVAL", () => {
    const gic = rig(1);
    enablePpis(gic, 0);
    gic.writeTimer(0, "CNTP_CVAL_EL0", 50n, 0n);
    gic.writeTimer(0, "CNTP_CTL_EL0", ENABLE, 0n);
    expect(gic.pendingIrq(0, 60n)).toBe(true);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(30n);
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 30n);
    expect(gic.pendingIrq(0, 61n)).toBe(true);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(30n);
    gic.writeTimer(0, "CNTP_TVAL_EL0", 1000n, 62n);
    gic.writeSysreg(0, "ICC_EOIR1_EL1", 30n);
    expect(gic.pendingIrq(0, 63n)).toBe(false);
    expect(gic.pendingIrq(0, 1062n)).toBe(true);
  });

  it("cannot be cleared by ICPENDR while the line is high (level-sensitive)", () => {
    const gic = rig(1);
    enablePpis(gic, 0);
    gic.writeTimer(0, "CNTV_CVAL_EL0", 0n, 0n);
    gic.writeTimer(0, "CNTV_CTL_EL0", ENABLE, 10n);
    gic.write(0, gic.sgiBase(0) + GICR_ICPENDR0, 1n << 27n);
    expect(pendingBits(gic, 0)).toBe(1n << 27n);
  });

  it("latches a rising edge when the PPI is configured edge-triggered", () => {
    const gic = rig(1);
    enablePpis(gic, 0);
    gic.write(0, gic.sgiBase(0) + GICR_ICFGR1, 2n << BigInt(2 * (CNTV - 16)));
    gic.writeTimer(0, "CNTV_CVAL_EL0", 100n, 0n);
    gic.writeTimer(0, "CNTV_CTL_EL0", ENABLE, 0n);
    expect(gic.pendingIrq(0, 100n)).toBe(true);
    gic.writeTimer(0, "CNTV_CTL_EL0", 0n, 101n); // the line drops, the latch stays
    expect(pendingBits(gic, 0)).toBe(1n << 27n);
    expect(gic.readSysreg(0, "ICC_IAR1_EL1")).toBe(27n);
    expect(pendingBits(gic, 0)).toBe(0n);
  });

  it("is not signalled when the PPI is disabled, though it shows pending", () => {
    const gic = rig(1);
    enablePpis(gic, 0);
    gic.write(0, gic.sgiBase(0) + 0x180n, 1n << 30n); // GICR_ICENABLER0
    gic.writeTimer(0, "CNTP_CVAL_EL0", 5n, 0n);
    gic.writeTimer(0, "CNTP_CTL_EL0", ENABLE, 0n);
    expect(gic.pendingIrq(0, 10n)).toBe(false);
    expect(pendingBits(gic, 0)).toBe(1n << 30n);
  });
});

describe("deadlines", () => {
  it("is the soonest enabled, unmasked CVAL not yet reached", () => {
    const gic = rig(2);
    expect(gic.nextDeadline(0)).toBeNull();
    gic.writeTimer(0, "CNTV_CVAL_EL0", 5000n, 0n);
    expect(gic.nextDeadline(0)).toBeNull(); // not enabled
    gic.writeTimer(0, "CNTV_CTL_EL0", ENABLE, 0n);
    expect(gic.nextDeadline(0)).toBe(5000n);
    gic.writeTimer(0, "CNTP_CVAL_EL0", 3000n, 0n);
    gic.writeTimer(0, "CNTP_CTL_EL0", ENABLE, 0n);
    expect(gic.nextDeadline(0)).toBe(3000n);
    gic.writeTimer(0, "CNTP_CTL_EL0", ENABLE | IMASK, 0n);
    expect(gic.nextDeadline(0)).toBe(5000n);
    expect(gic.nextDeadline(1)).toBeNull();
  });

  it("drops a timer once it has fired (its line is asserted)", () => {
    const gic = rig(1);
    gic.writeTimer(0, "CNTV_TVAL_EL0", 100n, 1000n);
    gic.writeTimer(0, "CNTV_CTL_EL0", ENABLE, 1000n);
    gic.writeTimer(0, "CNTP_TVAL_EL0", 500n, 1000n);
    gic.writeTimer(0, "CNTP_CTL_EL0", ENABLE, 1000n);
    expect(gic.nextDeadline(0)).toBe(1100n);
    gic.pendingIrq(0, 1100n); // the run loop stops at the deadline and samples
    expect(gic.nextDeadline(0)).toBe(1500n);
    gic.pendingIrq(0, 1500n);
    expect(gic.nextDeadline(0)).toBeNull();
    gic.writeTimer(0, "CNTV_TVAL_EL0", 100n, 1600n); // re-armed
    expect(gic.nextDeadline(0)).toBe(1700n);
  });

  it("is reset with the CPU (PSCI CPU_ON)", () => {
    const gic = rig(1);
    gic.writeTimer(0, "CNTV_CVAL_EL0", 10n, 0n);
    gic.writeTimer(0, "CNTV_CTL_EL0", ENABLE, 0n);
    gic.resetCpu(0);
    expect(gic.nextDeadline(0)).toBeNull();
    expect(gic.readTimer(0, "CNTV_CTL_EL0", 100n)).toBe(0n);
    expect(gic.readTimer(0, "CNTFRQ_EL0", 0n)).toBe(62_500_000n);
  });
});
