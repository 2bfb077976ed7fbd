// SPDX-License-Identifier: MIT
//
// Setup for AArch64 MMU tests: a machine with RAM low and high, stage-1
// tables for a 48-bit VA space, optional stage-2 tables, and registers.

import { Machine, type MachineOptions, type ArmCpu, type ArmTranslation } from "../../emulator/machine/index.ts";
import { ArmPageTables, S1, S2 } from "../../emulator/machine/platform/arm/page-tables.ts";

export { S1, S2, ArmPageTables };

export const PAGE = 4096n;
export const BLOCK_2M = 1n << 21n;
export const BLOCK_1G = 1n << 30n;

/** MAIR_EL1: Attr0 Normal WB (0xff), Attr1 Device-nGnRnE (0x00), Attr2 Normal NC (0x44). */
export const MAIR = 0x44_00_ffn;
/** SCTLR_EL1 with M and C set. */
export const SCTLR = 0x30d0_1805n;
export const SCTLR_WXN = 1n << 19n;

/**
 * TCR_EL1: T0SZ=T1SZ=16 (48-bit), 4 KiB granules, IPS 48 bits, 16-bit ASIDs,
 * plus `extra` (e.g. HA, HD).
 */
export function tcr(extra = 0n): bigint {
  return 16n | (16n << 16n) | (2n << 30n) | (5n << 32n) | (1n << 36n) | extra;
}
export const TCR_A1 = 1n << 22n;
export const TCR_HA = 1n << 39n;
export const TCR_HD = 1n << 40n;
export const TCR_TBI0 = 1n << 37n;
export const TCR_HPD0 = 1n << 41n;
export const TCR_E0PD0 = 1n << 55n;

export const HCR_VM = 1n;
/** VTCR_EL2: T0SZ=16 (48-bit IPA), SL0=2 (level 0), 4 KiB, PS 48 bits, 16-bit VMID. */
export const VTCR = 16n | (2n << 6n) | (5n << 16n) | (1n << 19n);

export const RAM_LOW = { base: 0n, size: 8n << 20n };
export const RAM_HIGH = { base: 0x80_0000_0000n, size: 32n << 20n };
export const POOL = { base: RAM_HIGH.base, limit: RAM_HIGH.base + (16n << 20n) };
export const S2_POOL = { base: RAM_HIGH.base + (16n << 20n), limit: RAM_HIGH.base + RAM_HIGH.size };

/** The ASID field of a TTBR. */
export const asid = (a: number) => BigInt(a) << 48n;
/** The VMID field of VTTBR_EL2. */
export const vmid = (v: number) => BigInt(v) << 48n;
/** Xt for TLBI by VA: VA[55:12] in bits 43:0, ASID in 63:48. */
export const tlbiVa = (va: bigint, a = 0) => ((va >> 12n) & ((1n << 44n) - 1n)) | asid(a);

export interface ArmRig {
  m: Machine<"aarch64">;
  pt: ArmPageTables;
  cpu: ArmCpu;
}

export function armRig(opts: Omit<MachineOptions, "arch"> & { tcr?: bigint; sctlr?: bigint } = {}): ArmRig {
  const { tcr: tcrValue = tcr(), sctlr = SCTLR, ...machineOptions } = opts;
  const m = new Machine({ arch: "aarch64", maxPhysAddr: 48, ram: [RAM_LOW, RAM_HIGH], ...machineOptions });
  const pt = new ArmPageTables(m.memory, POOL, 48);
  for (const cpu of m.cpus) {
    cpu.setRegisters({ sctlr_el1: sctlr, tcr_el1: tcrValue, ttbr0_el1: pt.root, ttbr1_el1: pt.root, mair_el1: MAIR });
  }
  return { m, pt, cpu: m.cpu(0) };
}

/** Normal WB, inner shareable, AF set: the usual page bits, plus extra. */
export const NORMAL = (extra = 0n) => S1.attrIndx(0) | S1.sh(3) | S1.AF | extra;

export const read = { op: "read", priv: "kernel" } as const;
export const write = { op: "write", priv: "kernel" } as const;
export const fetch = { op: "fetch", priv: "kernel" } as const;
export const userRead = { op: "read", priv: "user" } as const;
export const userWrite = { op: "write", priv: "user" } as const;

/** The PA, or "type@level" (with " s2" and " ptw" when stage 2 raised it) for a fault. */
export function out(t: ArmTranslation): bigint | string {
  if (t.ok) return t.pa;
  const f = t.fault;
  return `${f.type}@${f.level}${f.stage2 ? " s2" : ""}${f.s1ptw ? " ptw" : ""}`;
}
