// SPDX-License-Identifier: MIT
//
// The hardware module's AArch64 exports: the MMU's registers, translation,
// AT, TLBI, DC and IC, the A64 CPUs, the GICv3 and the generic timer, and the
// benchmark loop of the AArch64 walk. Each entry point selects its CPU first.

import { C, select } from "../cpu";
import {
  CPU_RES_PA, CPU_AC_KIND, ARM_CSSELR_EL1, A64_PC, A64_PSTATE, A64_CYCLES, A64_EXIT_REASON, A64_EXIT_DETAIL,
  A64_EXIT_SIZE, A64_CNT_EC, A64_OFF, A64_BREAKPOINT_COUNT, A64_BREAKPOINTS, A64_BREAKPOINT_MAX, EXIT_MMIO,
  MMIO_SIGNED, MMIO_W,
} from "../layout";
import { flushAll, microFlush } from "../tlb/floors";
import { XLATE_FAILED } from "../tlb/micro";
import { armReg, setArmReg } from "./regs";
import { armTranslate, armTranslateSlow, armAt, armSyncDerivedState } from "./translate";
import { armTlbi } from "./tlbi";
import { run as a64RunLoop, skipClockTo } from "./cpu/execute";
import { extendLoaded } from "./cpu/load-store";
import { setPstate, setX } from "./cpu/state";
import { a64ExecReset } from "./cpu/reset";
import { gicCpuReset } from "./gic";
import { ccsidr, clidr, cachesOn, dcByAddress, pageMatchesRam, lineDirtyAnywhere, DC_CLEAN, DC_INVALIDATE } from "./cache";
import { physHost } from "../phys/ram";
import { armDataAccess, armDc, armIcInvalidateAll, loadedValue } from "./access";
import { benchOffset } from "../common/bench";

// The GICv3 and the generic timer: the functions the A64 CPU calls, exported as they are for tests and tools.
export {
  gicOwns, gicMmioRead, gicMmioWrite, gicIsSysreg, gicSysregAccess, gicSysregRead, gicSysregWrite, gicPendingIrq,
  gicReset, gicCpuReset, gicBlock, gicDistBlock, gicHash,
} from "./gic";
export { timerIsSysreg, timerSysregRead, timerSysregWrite, timerNextDeadline } from "./timer";

/** Raw register load (no side effects but re-deriving the context); index ARM_*. */
export function armSetRegister(cpu: u32, index: u32, value: u64): void {
  select(cpu);
  setArmReg(index, value);
  armSyncDerivedState();
  // The micro-TLB is not architectural: whatever it held may not outlive a register change (SCTLR_EL1.M).
  microFlush();
}

export function armGetRegister(cpu: u32, index: u32): u64 {
  select(cpu);
  return armReg(index);
}

/** Translates va for an access of `kind` (ARM_ACC_*; PSTATE.PAN is folded in here). 0 or a fault status. */
export function armTranslateVa(cpu: u32, va: u64, kind: u32): u32 {
  select(cpu);
  const pa = armTranslate(va, kind | load<u32>(C + CPU_AC_KIND));
  if (pa & XLATE_FAILED) return <u32>pa;
  store<u64>(C + CPU_RES_PA, pa);
  return 0;
}

/** Translation with MODE_* flags (peek, no cache). */
export function armTranslateMode(cpu: u32, va: u64, kind: u32, mode: u32): u32 {
  select(cpu);
  const pa = armTranslateSlow(va, kind | load<u32>(C + CPU_AC_KIND), mode);
  if (pa & XLATE_FAILED) return <u32>pa;
  store<u64>(C + CPU_RES_PA, pa);
  return 0;
}

/** AT with AT_* flags; returns (and writes) PAR_EL1. */
export function armAtOp(cpu: u32, va: u64, op: u32): u64 {
  select(cpu);
  return armAt(va, op);
}

/** TLBI op[|TLBI_IS], Xt; 1 for an unknown operation. */
export function armTlbiOp(cpu: u32, op: u32, xt: u64): u32 {
  select(cpu);
  return armTlbi(op, xt) ? 0 : 1;
}

/**
 * A data access of 1, 2, 4 or 8 bytes (naturally aligned) through the MMU and
 * the caches: kind is ARM_ACC_* (PSTATE.PAN is folded in here). 0 or a fault
 * status; a load's value is then in armLoadedValue().
 */
export function armAccess(cpu: u32, va: u64, size: u32, kind: u32, value: u64): u32 {
  select(cpu);
  return armDataAccess(va, size, kind | load<u32>(C + CPU_AC_KIND), value);
}

export function armLoadedValue(): u64 {
  return loadedValue;
}

/** DC <op>, Xt (DC_* of arm/access.ts); el0 for an EL0 DC by address. */
export function armDcOp(cpu: u32, op: u32, xt: u64, el0: u32): u32 {
  select(cpu);
  return armDc(op, xt, el0 != 0);
}

/**
 * The hypervisor's own DC CIVAC of one 4 KiB page of machine memory, by its
 * physical address (EL2 maps RAM flat): every line of it cleaned to RAM and
 * invalidated in every L1 and the system cache (Xen's
 * flush_page_to_ram / clean_and_invalidate_dcache_va_range). Returns whether
 * some cache held a line of it that may differ from RAM (for the sanitizer).
 */
export function armCleanInvalidatePage(pa: u64): u32 {
  if (!cachesOn) return 0;
  const page = pa & ~<u64>0xFFF;
  const host = physHost(page, 4096);
  if (host < 0) return 0;
  const held = !pageMatchesRam(<usize>host);
  for (let line: u64 = 0; line < 4096; line += 64) dcByAddress(page + line, DC_CLEAN | DC_INVALIDATE);
  return held ? 1 : 0;
}

/**
 * How many lines of the 4 KiB page at pa are dirty in some L1 or in the
 * system cache (nothing changes): the copies a clean to PoC would write
 * back, which RAM does not have. For the hypervisor's sanitizer.
 */
export function armPageDirtyLines(pa: u64): u32 {
  if (!cachesOn) return 0;
  const page = pa & ~<u64>0xFFF;
  const host = physHost(page, 4096);
  if (host < 0 || pageMatchesRam(<usize>host)) return 0;
  let n: u32 = 0;
  for (let line: u64 = 0; line < 4096; line += 64) if (lineDirtyAnywhere(page + line)) n++;
  return n;
}

export function armIcOp(cpu: u32): void {
  select(cpu);
  armIcInvalidateAll();
}

/** CLIDR_EL1, or CCSIDR_EL1 for the cache CSSELR_EL1 selects (0 when none: level 1 is the only one). */
export function armCacheIdRegister(cpu: u32, ccsidrWanted: u32): u64 {
  select(cpu);
  if (!ccsidrWanted) return clidr();
  return armReg(ARM_CSSELR_EL1) == 0 ? ccsidr() : 0;
}

// ── A64 CPUs ─────────────────────────────────────────────────────────────────

/** Runs CPU `cpu` for up to `budget` instructions; returns EXIT_* (details in the CPU block). */
export function a64Run(cpu: u32, budget: u64): u32 {
  select(cpu);
  return a64RunLoop(budget);
}

/**
 * Powers a CPU on at `entry` in its reset state (PSCI CPU_ON, or the boot
 * CPU), x0 = contextId, and resets its GIC CPU state (gicCpuReset, as the
 * contract has it for CPU_ON). The TLBs and caches are not touched, and the
 * cycle count goes on from where it was.
 */
export function a64PowerOn(cpu: u32, entry: u64, contextId: u64): void {
  select(cpu);
  const cycles = load<u64>(C + A64_CYCLES);
  // The counts and the debugger's breakpoints outlive a power cycle.
  const counts = memory.data(64 * 8 + 16 * 8);
  memory.copy(counts, C + A64_CNT_EC, 64 * 8 + 16 * 8);
  const breakpoints = memory.data(8 + 8 * 16);
  memory.copy(breakpoints, C + A64_BREAKPOINT_COUNT, A64_BREAKPOINTS + A64_BREAKPOINT_MAX * 8 - A64_BREAKPOINT_COUNT);
  a64ExecReset(cpu);
  memory.copy(C + A64_CNT_EC, counts, 64 * 8 + 16 * 8);
  memory.copy(C + A64_BREAKPOINT_COUNT, breakpoints, A64_BREAKPOINTS + A64_BREAKPOINT_MAX * 8 - A64_BREAKPOINT_COUNT);
  store<u64>(C + A64_CYCLES, cycles);
  store<u64>(C + A64_PC, entry);
  setX(0, contextId);
  armSyncDerivedState();
  gicCpuReset(cpu);
}

export function a64PowerOff(cpu: u32): void {
  select(cpu);
  store<u32>(C + A64_OFF, 1);
}

/** The host's value for the MMIO read a64Run exited for: written to its register, extended as the load says. */
export function a64CompleteMmioRead(cpu: u32, value: u64): u32 {
  select(cpu);
  if (load<u32>(C + A64_EXIT_REASON) != EXIT_MMIO) return 1;
  const detail = load<u32>(C + A64_EXIT_DETAIL);
  const size = load<u32>(C + A64_EXIT_SIZE);
  const v = size == 8 ? value : value & ((<u64>1 << (<u64>size << 3)) - 1);
  setX(detail & 31, extendLoaded(v, size, (detail & MMIO_SIGNED) != 0, (detail & MMIO_W) != 0));
  store<u32>(C + A64_EXIT_REASON, 0);
  return 0;
}

/** The host changed the CPU's registers: re-derive what the MMU reads from PSTATE. */
export function a64RegistersChanged(cpu: u32): void {
  select(cpu);
  setPstate(load<u64>(C + A64_PSTATE));
  armSyncDerivedState();
}

/** Time passes while the CPU waits (WFI): its cycle count moves on to `cycles` (never back). */
export function a64SkipTo(cpu: u32, cycles: u64): void {
  select(cpu);
  skipClockTo(cycles);
}

// ── Benchmark loops (run by bench/, never by tests for timing) ──────────────

/** `count` AArch64 stage-1 (or, with HCR_EL2.VM, combined) walks with cold TLBs and walk caches. */
export function benchArmWalk(cpu: u32, vaBase: u64, lgPages: u32, count: u32): u64 {
  select(cpu);
  let sum: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    flushAll();
    sum += armTranslate(vaBase + benchOffset(i, lgPages), 0);
  }
  return sum;
}
