// SPDX-License-Identifier: MIT
import { describe, it, expect } from "vitest";
import { psciCall, isPsciCall, cpuOfMpidr, PSCI, PSCI_RET, PSCI_VERSION_VALUE } from "../../emulator/machine/platform/arm/psci.ts";

const u = (v: bigint) => BigInt.asUintN(64, v);

describe("PSCI calls", () => {
  const machine = (on: number[]) => ({ cpus: 4, isOn: (i: number) => on.includes(i) });

  it("recognises the standard-service function ranges only", () => {
    expect(isPsciCall(PSCI.VERSION)).toBe(true);
    expect(isPsciCall(PSCI.CPU_ON)).toBe(true);
    expect(isPsciCall(0x8400_001f)).toBe(true);
    expect(isPsciCall(0x8400_0020)).toBe(false);
    expect(isPsciCall(0x8600_0000)).toBe(false);
    expect(isPsciCall(0)).toBe(false);
  });

  it("maps MPIDR Aff0 to a CPU and refuses other affinities, bit 31 (as QEMU does) or missing CPUs", () => {
    expect(cpuOfMpidr(0x8000_0002n, 4)).toBeUndefined();
    expect(cpuOfMpidr(2n, 4)).toBe(2);
    expect(cpuOfMpidr(4n, 4)).toBeUndefined();
    expect(cpuOfMpidr(0x100n, 4)).toBeUndefined();
    expect(cpuOfMpidr(1n << 32n, 4)).toBeUndefined();
  });

  it("CPU_ON starts an off CPU, refuses one that is on and an unknown target", () => {
    expect(psciCall(PSCI.CPU_ON, 3n, 0x4008_0000n, 7n, machine([0]))).toEqual({ kind: "cpu-on", target: 3, entry: 0x4008_0000n, contextId: 7n });
    expect(psciCall(PSCI.CPU_ON, 0n, 0x4008_0000n, 0n, machine([0]))).toEqual({ kind: "return", x0: u(PSCI_RET.ALREADY_ON) });
    expect(psciCall(PSCI.CPU_ON, 9n, 0x4008_0000n, 0n, machine([0]))).toEqual({ kind: "return", x0: u(PSCI_RET.INVALID_PARAMETERS) });
  });

  it("AFFINITY_INFO says on or off at level 0", () => {
    expect(psciCall(PSCI.AFFINITY_INFO, 1n, 0n, 0n, machine([0, 1]))).toEqual({ kind: "return", x0: 0n });
    expect(psciCall(PSCI.AFFINITY_INFO, 2n, 0n, 0n, machine([0, 1]))).toEqual({ kind: "return", x0: 1n });
    expect(psciCall(PSCI.AFFINITY_INFO, 2n, 1n, 0n, machine([0, 1]))).toEqual({ kind: "return", x0: u(PSCI_RET.INVALID_PARAMETERS) });
  });

  it("version, power and unknown functions", () => {
    expect(psciCall(PSCI.VERSION, 0n, 0n, 0n, machine([0]))).toEqual({ kind: "return", x0: PSCI_VERSION_VALUE });
    expect(psciCall(PSCI.CPU_OFF, 0n, 0n, 0n, machine([0]))).toEqual({ kind: "cpu-off" });
    expect(psciCall(PSCI.SYSTEM_OFF, 0n, 0n, 0n, machine([0]))).toEqual({ kind: "system-off" });
    expect(psciCall(PSCI.SYSTEM_RESET, 0n, 0n, 0n, machine([0]))).toEqual({ kind: "system-reset" });
    expect(psciCall(0x8400_001f, 0n, 0n, 0n, machine([0]))).toEqual({ kind: "return", x0: u(PSCI_RET.NOT_SUPPORTED) });
    expect(psciCall(PSCI.FEATURES, BigInt(PSCI.CPU_ON), 0n, 0n, machine([0]))).toEqual({ kind: "return", x0: 0n });
    expect(psciCall(PSCI.FEATURES, BigInt(PSCI.CPU_SUSPEND), 0n, 0n, machine([0]))).toEqual({ kind: "return", x0: 0n });
    expect(psciCall(PSCI.CPU_SUSPEND, 0n, 0n, 0n, machine([0]))).toEqual({ kind: "return", x0: 0n });
    expect(psciCall(PSCI.FEATURES, 0x8400_001fn, 0n, 0n, machine([0]))).toEqual({ kind: "return", x0: u(PSCI_RET.NOT_SUPPORTED) });
  });
});
