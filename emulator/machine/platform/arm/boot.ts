// SPDX-License-Identifier: MIT
//
// The AArch64 boot protocol of `shootdown run` (docs/boot.md, "Boot
// protocol (AArch64)"): QEMU virt's conventions, so that one image runs on both.
// RAM is one range at 0x4000_0000; the ELF is loaded at its physical
// addresses; CPU 0 starts at the entry at EL1h with the MMU and caches off
// and every other CPU is off until PSCI CPU_ON. shootdown also writes a
// boot-information block in the last 8 KiB of RAM and passes its address in
// x0 (QEMU does not: images meant for both must not need it).

import type { Machine } from "../../core/machine.ts";
import { planElf, loadSegments, writeBootInfo, type LoadPlan } from "../../core/elf-load.ts";

export const ARM_RAM_BASE = 0x4000_0000n;
/** The loader's area at the top of RAM: the block, then the command line at +0x100. */
export const ARM_RESERVED_BYTES = 0x2000n;
export const ARM_CMDLINE_OFFSET = 0x100n;

export function armBootInfoAddress(ramBytes: bigint): bigint {
  return ARM_RAM_BASE + ramBytes - ARM_RESERVED_BYTES;
}

/** Reads and checks an AArch64 image for `ramBytes` of RAM at 0x4000_0000. */
export function planArmLoad(image: Uint8Array, ramBytes: bigint): LoadPlan {
  const info = armBootInfoAddress(ramBytes);
  return planElf(image, {
    arch: "aarch64", ramBase: ARM_RAM_BASE, ramBytes,
    reserved: { start: info, end: info + ARM_RESERVED_BYTES, what: "boot information and command line" },
  });
}

/** Loads a checked image and powers CPU 0 on at the entry; the others stay off. */
export function bootArm(m: Machine<"aarch64">, plan: LoadPlan, params: { cmdline: string }): void {
  const ramBytes = m.memory.ranges().reduce((n, r) => (r.base === ARM_RAM_BASE ? r.size : n), 0n);
  loadSegments(m, plan);
  const info = armBootInfoAddress(ramBytes);
  writeBootInfo(m, info, info + ARM_CMDLINE_OFFSET, ramBytes, params.cmdline);
  for (const cpu of m.cpus) cpu.powerOff();
  m.cpu(0).powerOn(plan.elf.entry, info);
}
