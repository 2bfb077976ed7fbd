// SPDX-License-Identifier: MIT
//
// PSCI (Arm DEN 0022), the firmware interface QEMU's virt machine offers
// over HVC when it has no EL2 or EL3: the calls a bare-metal kernel uses to
// start and stop CPUs and to power the machine off. shootdown answers them
// as QEMU 7.2 does, so that one image runs the same on both.
//
// The function ID is in w0, the arguments in x1–x3, the result goes to x0.

/** Function IDs (SMC32 0x84…, SMC64 0xC4…). */
export const PSCI = {
  VERSION: 0x8400_0000,
  CPU_SUSPEND: 0xc400_0001,
  CPU_OFF: 0x8400_0002,
  CPU_ON: 0xc400_0003,
  AFFINITY_INFO: 0xc400_0004,
  MIGRATE_INFO_TYPE: 0x8400_0006,
  SYSTEM_OFF: 0x8400_0008,
  SYSTEM_RESET: 0x8400_0009,
  FEATURES: 0x8400_000a,
} as const;

/** Return codes. */
export const PSCI_RET = {
  SUCCESS: 0n,
  NOT_SUPPORTED: -1n,
  INVALID_PARAMETERS: -2n,
  ALREADY_ON: -4n,
} as const;

/** PSCI_VERSION's answer: major in bits 31:16, minor in 15:0. QEMU 7.2's virt reports 1.1. */
export const PSCI_VERSION_VALUE = 0x0001_0001n;
/** AFFINITY_INFO: the target is on / off. */
export const AFFINITY_ON = 0n;
export const AFFINITY_OFF = 1n;
/** MIGRATE_INFO_TYPE: no trusted OS, migration not required. */
export const MIGRATE_NOT_REQUIRED = 2n;

/** Whether an HVC's function ID is in PSCI's ranges (SMC32 and SMC64 standard-service calls 0x00–0x1F). */
export function isPsciCall(fn: number): boolean {
  const base = (fn & ~0x1f) >>> 0;
  return base === 0x8400_0000 || base === 0xc400_0000;
}

/** What a PSCI call asks of the machine. */
export type PsciAction =
  | { kind: "return"; x0: bigint }
  | { kind: "cpu-on"; target: number; entry: bigint; contextId: bigint }
  | { kind: "cpu-off" }
  | { kind: "system-off" }
  | { kind: "system-reset" };

/** What PSCI needs to know of the CPUs. */
export interface PsciMachine {
  cpus: number;
  isOn(index: number): boolean;
}

/**
 * The CPU an MPIDR names: Aff0 = index, every other bit 0. A value with bits
 * outside the affinity fields (bit 31 of MPIDR_EL1 included) names no CPU, as
 * on QEMU, where CPU_ON 0x80000001 is INVALID_PARAMETERS.
 */
export function cpuOfMpidr(mpidr: bigint, cpus: number): number | undefined {
  if (mpidr >> 8n) return undefined;
  const i = Number(mpidr);
  return i < cpus ? i : undefined;
}

const s64 = (v: bigint) => BigInt.asUintN(64, v);

/** Decides a PSCI call from the caller's registers. Results are 64-bit two's complement. */
export function psciCall(fn: number, x1: bigint, x2: bigint, x3: bigint, m: PsciMachine): PsciAction {
  const ret = (v: bigint): PsciAction => ({ kind: "return", x0: s64(v) });
  switch (fn) {
    case PSCI.VERSION:
      return ret(PSCI_VERSION_VALUE);
    case PSCI.CPU_ON: {
      const target = cpuOfMpidr(x1, m.cpus);
      if (target === undefined) return ret(PSCI_RET.INVALID_PARAMETERS);
      if (m.isOn(target)) return ret(PSCI_RET.ALREADY_ON);
      return { kind: "cpu-on", target, entry: x2, contextId: x3 };
    }
    case PSCI.CPU_OFF:
      return { kind: "cpu-off" };
    case PSCI.AFFINITY_INFO: {
      // Only level 0 (a single CPU) is meaningful on this machine.
      const target = cpuOfMpidr(x1, m.cpus);
      if (target === undefined || x2 !== 0n) return ret(PSCI_RET.INVALID_PARAMETERS);
      return ret(m.isOn(target) ? AFFINITY_ON : AFFINITY_OFF);
    }
    case PSCI.CPU_SUSPEND:
      // A power state the CPU may leave at once: it returns as if woken (DEN 0022 5.4).
      return ret(PSCI_RET.SUCCESS);
    case PSCI.MIGRATE_INFO_TYPE:
      return ret(MIGRATE_NOT_REQUIRED);
    case PSCI.SYSTEM_OFF:
      return { kind: "system-off" };
    case PSCI.SYSTEM_RESET:
      return { kind: "system-reset" };
    case PSCI.FEATURES: {
      const asked = Number(x1 & 0xffff_ffffn);
      const known = [PSCI.VERSION, PSCI.CPU_SUSPEND, PSCI.CPU_OFF, PSCI.CPU_ON, PSCI.AFFINITY_INFO, PSCI.MIGRATE_INFO_TYPE, PSCI.SYSTEM_OFF, PSCI.SYSTEM_RESET, PSCI.FEATURES];
      return ret(known.includes(asked as never) ? PSCI_RET.SUCCESS : PSCI_RET.NOT_SUPPORTED);
    }
    default:
      return ret(PSCI_RET.NOT_SUPPORTED);
  }
}
