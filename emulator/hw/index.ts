// SPDX-License-Identifier: MIT
//
// The hardware module's exports. The host writes the config block, calls
// init(), then drives CPUs by index; each entry point selects its CPU first.
// Calls that do work in bulk (the benchmark loops) take counts, never one call
// per item.

import {
  cfgBase, cpuBlocks, cpuArrays, cpuArraysSize, ramHostBase, ramTable, eventRing, layoutConfig, ensureMemory, align,
  CFG_CPUS, CFG_ARCH, CFG_MAXPHYADDR, CFG_FEATURES, CFG_SETS, CFG_WAYS, CFG_MICRO_ENTRIES, CFG_CHAOS_SEED,
  CFG_L1_SETS, CFG_L1_WAYS, CFG_SC_SETS, CFG_SC_WAYS, FEATURE_CACHES, systemCache, ARM_CSSELR_EL1,
  decodeCache, codeBitmap, DECODE_ENTRIES, DECODE_ENTRY_SIZE, CODE_BITMAP_BYTES,
  CPU_SIZE, CPU_STRUCTS, DESC_SIZE, DESC_BASE, DESC_SET_MASK, DESC_WAYS, DESC_SHIFT, DESC_SRC, DESC_SET_BYTES, ENTRY_SIZE,
  SRC_SIZE, STRUCT_COUNT, MAX_CPUS, MICRO_ENTRY_SIZE, CPU_CLOCK, CPU_MICRO_EPOCH,
  CPU_PAT, CPU_COUNTERS, COUNTER_COUNT, FEATURE_DETECT, FEATURE_CHAOS, ARCH_X86_64, ARCH_AARCH64, CPU_RES_PA,
  CPU_AC_KIND, CPU_RFLAGS, CPU_CR0, CPU_X86, X86_END, X86_EVENTS, X86_GPR, X86_LAZY_RES, X86_CPL, X86_EXIT_REASON, X86_APIC_ID, X86_LAZY_OP, X86_APIC_BASE, LAZY_NONE,
  CPU_ARM, ARM_REG_COUNT, ARM_SCTLR_EL1, CPU_A64, A64_END, A64_PC, A64_PSTATE, A64_MPIDR, A64_EXCL_PA, A64_EXCL_NONE, A64_BREAKPOINT_COUNT, A64_BREAKPOINTS, A64_BREAKPOINT_MAX, A64_LAST_FAULT_PC, A64_NO_FAULT,
  A64_OFF, A64_CYCLES, A64_EXIT_REASON, A64_EXIT_DETAIL, A64_EXIT_SIZE, A64_CNT_EC, EXIT_MMIO, MMIO_SIGNED, MMIO_W,
} from "./layout";
import { select, setMachineShape, A, C, ARR_MICRO, disableMicro, cpuCount } from "./cpu";
import { ramReset, ramAdd, physHostSlow, ramSetMaxPhysAddr, ramRangeCount, hashRam } from "./phys/ram";
import { run as x86RunLoop } from "./x86/cpu/execute";
import { request as apicRequest, apicWrite, apicReset, APIC_BASE_ADDRESS, APIC_BASE_EN, APIC_BASE_EXTD, APIC_BASE_BSP } from "./x86/cpu/apic";
import { flushDecoded, codeReset, checkCodeWrite } from "./x86/cpu/code";
import { dropFetchWindow } from "./x86/cpu/fetch";
import { materialize } from "./x86/cpu/flags";
import { prngSeed } from "./common/prng";
import { detectorReset, eventsPending, eventsFirst, eventsConsume, eventsDroppedCount } from "./common/detector";
import { chaosRearm } from "./tlb/chaos";
import { flushAll, mapClear, setStage2ByVtag, microFlush } from "./tlb/floors";
import { PAT_RESET } from "./x86/regs";
import { translate, translateSlow } from "./x86/translate";
import { XLATE_FAILED } from "./tlb/micro";
import { armReg, setArmReg } from "./arm/regs";
import { armTranslate, armTranslateSlow, armAt, armSyncDerivedState } from "./arm/translate";
import { armTlbi } from "./arm/tlbi";
import { run as a64RunLoop, skipClockTo } from "./arm/cpu/execute";
import { extendLoaded } from "./arm/cpu/load-store";
import { setPstate, setX } from "./arm/cpu/state";
import { PSTATE_RESET, SCTLR_EL1_RESET } from "./arm/cpu/reset";
import { gicReset, gicCpuReset } from "./arm/gic";
import { setCacheGeometry, l1Bytes, ccsidr, clidr } from "./arm/cache";
import { armDataAccess, armDc, armIcInvalidateAll, loadedValue } from "./arm/access";
import { setVmxContext, invept, invvpid } from "./x86/vmx";
import { setGuestControls } from "./x86/guest/controls";
import { setInjection } from "./x86/guest/inject";

/** The x2APIC EOI register (SDM Vol.3A 11.12.1.2). */
const MSR_X2APIC_EOI: u32 = 0x80B;
import { rebuildWalkParamsAll, walkTrace, walkLevel } from "./x86/paging/walk";
import {
  invlpg, invpcid, movToCr0, movToCr3, movToCr4, writeEfer, writePkru, writeRflags, syncDerivedState,
} from "./x86/invalidate";

export * from "./layout";
// The GICv3 and the generic timer: the functions the A64 CPU calls, exported as they are for tests and tools.
export {
  gicOwns, gicMmioRead, gicMmioWrite, gicIsSysreg, gicSysregAccess, gicSysregRead, gicSysregWrite, gicPendingIrq,
  gicReset, gicCpuReset, gicBlock, gicDistBlock, gicHash,
} from "./arm/gic";
export { timerIsSysreg, timerSysregRead, timerSysregWrite, timerNextDeadline } from "./arm/timer";
export { ramReset, ramAdd, ramRangeCount, eventsPending, eventsFirst, eventsConsume, eventsDroppedCount };
export { tlbEntriesLive, cacheLine } from "./debug";

/** The lg of each TLB structure's region: 4 KiB, 2 MiB, 1 GiB pages; PDE, PDPTE, PML4E, PML5E caches. */
const STRUCT_SHIFTS: u64 = 0x30_27_1E_15_1E_15_0C; // 12, 21, 30, 21, 30, 39, 48 in bytes

export const INIT_OK: u32 = 0;
export const INIT_ERR_CPUS: u32 = 1;
export const INIT_ERR_MAXPHYADDR: u32 = 2;
export const INIT_ERR_GEOMETRY: u32 = 3;
export const INIT_ERR_MICRO: u32 = 4;
export const INIT_ERR_MEMORY: u32 = 5;
export const INIT_ERR_ARCH: u32 = 6;

layoutConfig();
ensureMemory(cpuBlocks);

/** ARCH_X86_64 or ARCH_AARCH64, from the config. */
let arch: u32 = ARCH_X86_64;

export function configBlock(): usize {
  return cfgBase;
}

function isPow2(x: u32): bool {
  return x != 0 && (x & (x - 1)) == 0;
}

/** Lays out and resets the machine described by the config block. */
export function init(): u32 {
  const cpus = load<u32>(cfgBase + CFG_CPUS);
  const maxPhys = load<u32>(cfgBase + CFG_MAXPHYADDR);
  const feat = load<u32>(cfgBase + CFG_FEATURES);
  const microEntries = load<u32>(cfgBase + CFG_MICRO_ENTRIES);
  const archCfg = load<u32>(cfgBase + CFG_ARCH);
  if (archCfg != ARCH_X86_64 && archCfg != ARCH_AARCH64) return INIT_ERR_ARCH;
  arch = archCfg;
  setStage2ByVtag(arch == ARCH_AARCH64);
  if (cpus == 0 || cpus > MAX_CPUS) return INIT_ERR_CPUS;
  if (maxPhys < 32 || maxPhys > 52) return INIT_ERR_MAXPHYADDR;
  if (microEntries != 0 && (!isPow2(microEntries) || microEntries > 65536)) return INIT_ERR_MICRO;

  // Offsets inside one CPU's array region, in 64 bits until they are known to fit.
  let off: u64 = <u64>ARR_MICRO + <u64>(microEntries == 0 ? 1 : microEntries) * MICRO_ENTRY_SIZE;
  const bases = memory.data(4 * 7);
  const srcs = memory.data(4 * 7);
  for (let s: u32 = 0; s < STRUCT_COUNT; s++) {
    const sets = load<u32>(cfgBase + CFG_SETS + (s << 2));
    const ways = load<u32>(cfgBase + CFG_WAYS + (s << 2));
    if (!isPow2(sets) || ways == 0 || ways > 64 || <u64>sets * ways > (1 << 20)) return INIT_ERR_GEOMETRY;
    store<u32>(bases + (s << 2), <u32>off);
    off += <u64>sets * ways * ENTRY_SIZE;
  }
  for (let s: u32 = 0; s < STRUCT_COUNT; s++) {
    store<u32>(srcs + (s << 2), <u32>off);
    if (feat & FEATURE_DETECT) {
      off += <u64>load<u32>(cfgBase + CFG_SETS + (s << 2)) * load<u32>(cfgBase + CFG_WAYS + (s << 2)) * SRC_SIZE;
    }
  }
  // The data caches: an L1 per CPU in its array region, the system cache after all of them.
  const caches = (feat & FEATURE_CACHES) != 0;
  const l1Sets = load<u32>(cfgBase + CFG_L1_SETS);
  const l1Ways = load<u32>(cfgBase + CFG_L1_WAYS);
  const scSets = load<u32>(cfgBase + CFG_SC_SETS);
  const scWays = load<u32>(cfgBase + CFG_SC_WAYS);
  if (caches && (!isPow2(l1Sets) || !isPow2(scSets) || l1Ways == 0 || l1Ways > 64 || scWays == 0 || scWays > 64)) {
    return INIT_ERR_GEOMETRY;
  }
  const l1Offset = off;
  if (caches) off += <u64>l1Sets * <u64>l1Ways * 80;
  // Sizes are checked in 64 bits before anything is placed, so nothing wraps.
  const arraysSize64: u64 = (<u64>off + 63) & ~<u64>63;
  const scBytes: u64 = caches ? <u64>scSets * <u64>scWays * 80 : 0;
  const codeBytes: u64 = <u64>DECODE_ENTRIES * DECODE_ENTRY_SIZE + CODE_BITMAP_BYTES;
  const end64 = <u64>align(cpuBlocks + <usize>cpus * CPU_SIZE, 64) + <u64>cpus * arraysSize64 + scBytes + codeBytes;
  if (off > 0xC000_0000 || end64 > 0xC000_0000) return INIT_ERR_MEMORY;
  cpuArraysSize = <usize>arraysSize64;
  cpuArrays = align(cpuBlocks + <usize>cpus * CPU_SIZE, 64);
  systemCache = cpuArrays + <usize>cpus * cpuArraysSize;
  decodeCache = align(systemCache + <usize>scBytes, 64);
  codeBitmap = decodeCache + <usize>DECODE_ENTRIES * DECODE_ENTRY_SIZE;
  ramHostBase = align(<usize>end64, 4096);
  if (!ensureMemory(ramHostBase)) return INIT_ERR_MEMORY;
  codeReset();

  setMachineShape(cpus, microEntries, feat);
  setCacheGeometry(caches, <usize>l1Offset, l1Sets, l1Ways, scSets, scWays);
  if (feat & (FEATURE_DETECT | FEATURE_CHAOS)) disableMicro();
  ramSetMaxPhysAddr(maxPhys);
  ramReset();
  detectorReset();
  memory.fill(cpuBlocks, 0, ramHostBase - cpuBlocks);
  for (let cpu: u32 = 0; cpu < cpus; cpu++) {
    select(cpu);
    for (let s: u32 = 0; s < STRUCT_COUNT; s++) {
      const d = C + CPU_STRUCTS + <usize>s * DESC_SIZE;
      store<u32>(d, <u32>(A + <usize>load<u32>(bases + (s << 2))), DESC_BASE);
      store<u32>(d, load<u32>(cfgBase + CFG_SETS + (s << 2)) - 1, DESC_SET_MASK);
      store<u32>(d, load<u32>(cfgBase + CFG_WAYS + (s << 2)), DESC_WAYS);
      store<u32>(d, <u32>((STRUCT_SHIFTS >> (s * 8)) & 0xFF), DESC_SHIFT);
      store<u32>(d, <u32>(A + <usize>load<u32>(srcs + (s << 2))), DESC_SRC);
      store<u32>(d, load<u32>(cfgBase + CFG_WAYS + (s << 2)) * ENTRY_SIZE, DESC_SET_BYTES);
    }
    resetCpuState(cpu);
  }
  gicReset();
  return INIT_OK;
}

/**
 * Registers to their reset values, counters zero, TLBs empty. The TLBs are
 * emptied as a flush empties them, by raising every floor past every stamp,
 * so a reset costs no time in the size of the TLBs.
 */
function resetCpuState(cpu: u32): void {
  select(cpu);
  const clock = load<u32>(C + CPU_CLOCK);
  const epoch = load<u32>(C + CPU_MICRO_EPOCH);
  memory.fill(C, 0, CPU_STRUCTS);
  memory.fill(C + CPU_COUNTERS, 0, COUNTER_COUNT * 8);
  store<u64>(C + CPU_PAT, PAT_RESET);
  store<u32>(C + CPU_CLOCK, clock);
  store<u32>(C + CPU_MICRO_EPOCH, epoch);
  mapClear();
  flushAll();
  prngSeed(load<u64>(cfgBase + CFG_CHAOS_SEED), cpu);
  chaosRearm();
  if (arch == ARCH_AARCH64) {
    a64ExecReset(cpu);
    armSyncDerivedState();
  } else {
    syncDerivedState();
    x86ExecReset(cpu);
  }
}

export function cpuReset(cpu: u32): void {
  resetCpuState(cpu);
}

export function cpuBlock(cpu: u32): usize {
  return cpuBlocks + <usize>cpu * CPU_SIZE;
}

export function regionRamTable(): usize {
  return ramTable;
}

export function regionEvents(): usize {
  return eventRing;
}

/** Changes MAXPHYADDR; forgets all RAM. */
export function setMaxPhysAddr(bits: u32): u32 {
  if (bits < 32 || bits > 52) return INIT_ERR_MAXPHYADDR;
  ramSetMaxPhysAddr(bits);
  ramReset();
  if (arch == ARCH_X86_64) rebuildWalkParamsAll();
  return INIT_OK;
}

/** Host offset of guest-physical [pa, pa+len) for the host's own views, or -1. */
export function ramHost(pa: u64, len: u32): i64 {
  return physHostSlow(pa, len);
}

// ── x86-64 ───────────────────────────────────────────────────────────────────

/** Translates va for an access of `kind` (ACC_*; RFLAGS.AC is folded in here). 0 or XLATE_* status. */
export function x86Translate(cpu: u32, va: u64, kind: u32): u32 {
  select(cpu);
  const pa = translate(va, kind | load<u32>(C + CPU_AC_KIND));
  if (pa & XLATE_FAILED) return <u32>pa;
  store<u64>(C + CPU_RES_PA, pa);
  return 0;
}

/** Translation with MODE_* flags (peek, no cache); kind without ACC_AC. */
export function x86TranslateMode(cpu: u32, va: u64, kind: u32, mode: u32): u32 {
  select(cpu);
  return translateSlow(va, kind | load<u32>(C + CPU_AC_KIND), mode);
}

/**
 * The debugger's walk of memory for va: no TLB, cache or side effect. Returns
 * STOP_* (0 leaf, 1 bus error, 2 not present, 3 reserved bit); the levels
 * read are in the CPU's walk trace from the top level down to walkStopLevel().
 */
export function x86WalkTrace(cpu: u32, va: u64): u32 {
  select(cpu);
  return walkTrace(va);
}

export function walkStopLevel(): u32 {
  return walkLevel;
}

/** Raw register load (no invalidation side effects); registers are CPU_* / 8. */
export function x86SetRegister(cpu: u32, index: u32, value: u64): void {
  select(cpu);
  if ((<u32>index << 3) == CPU_RFLAGS) store<u32>(C + X86_LAZY_OP, LAZY_NONE);
  store<u64>(C + (<usize>index << 3), value);
  syncDerivedState();
  dropFetchWindow();
}

export function x86GetRegister(cpu: u32, index: u32): u64 {
  select(cpu);
  return load<u64>(C + (<usize>index << 3));
}

export function x86Invlpg(cpu: u32, va: u64): void {
  select(cpu);
  invlpg(va);
}

export function x86Invpcid(cpu: u32, type: u32, pcid: u64, va: u64): u32 {
  select(cpu);
  return invpcid(type, pcid, va);
}

export function x86MovToCr0(cpu: u32, value: u64): u32 {
  select(cpu);
  return movToCr0(value);
}

export function x86MovToCr3(cpu: u32, value: u64): u32 {
  select(cpu);
  return movToCr3(value);
}

export function x86MovToCr4(cpu: u32, value: u64): u32 {
  select(cpu);
  return movToCr4(value);
}

export function x86WriteEfer(cpu: u32, value: u64): u32 {
  select(cpu);
  return writeEfer(value);
}

export function x86WritePkru(cpu: u32, value: u32): void {
  select(cpu);
  writePkru(value);
}

export function x86WriteRflags(cpu: u32, value: u64): void {
  select(cpu);
  writeRflags(value);
}

/** Translate for a guest: VPID and EPTP (0: no EPT). VPID 0, EPTP 0 is the host. */
export function x86SetVmx(cpu: u32, vpid: u32, eptp: u64): void {
  select(cpu);
  setVmxContext(vpid, eptp);
}

export function x86Invept(cpu: u32, type: u32, eptp: u64): u32 {
  select(cpu);
  return invept(type, eptp);
}

export function x86Invvpid(cpu: u32, type: u32, vpid: u32, la: u64): u32 {
  select(cpu);
  return invvpid(type, vpid, la);
}

/** Drops every TLB and paging-structure-cache entry of one CPU (INVPCID type 2 without the count). */
export function x86FlushAll(cpu: u32): void {
  select(cpu);
  flushAll();
}

// ── AArch64 ──────────────────────────────────────────────────────────────────

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

// ── Benchmark loops (run by bench/, never by tests for timing) ──────────────

/** The address of the i-th access of a benchmark: a scrambled page, a moving offset. */
@inline function benchOffset(i: u32, lgPages: u32): u64 {
  const page = lgPages == 0 ? 0 : (i * 0x9E3779B1) >> (32 - lgPages);
  return (<u64>page << 12) | (<u64>(i & 511) << 3);
}

/** `count` supervisor reads through the TLB over 2^lgPages pages from vaBase; returns a checksum. */
export function benchTranslate(cpu: u32, vaBase: u64, lgPages: u32, count: u32): u64 {
  select(cpu);
  let sum: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    sum += translate(vaBase + benchOffset(i, lgPages), 0);
  }
  return sum;
}

/** The baseline: `count` plain loads over the same pattern of offsets from a host address. */
export function benchLoad(host: usize, lgPages: u32, count: u32): u64 {
  let sum: u64 = 0;
  for (let i: u32 = 0; i < count; i++) sum += load<u64>(host + <usize>benchOffset(i, lgPages));
  return sum;
}

/** `count` full walks: every translation starts with empty TLBs and paging-structure caches. */
export function benchWalk(cpu: u32, vaBase: u64, lgPages: u32, count: u32): u64 {
  select(cpu);
  let sum: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    flushAll();
    sum += translate(vaBase + benchOffset(i, lgPages), 0);
  }
  return sum;
}

// ── 64-bit interop probes (bench/ measures bigint against the `long` package) ─

let echoHigh: u32 = 0;

/** An i64 crossing the boundary as a JavaScript bigint, both ways. */
export function i64Echo(x: u64): u64 {
  return x + 1;
}

/** The same value as two u32 halves, as the `long` package would pass it. */
export function i64EchoParts(lo: u32, hi: u32): u32 {
  const x = ((<u64>hi << 32) | lo) + 1;
  echoHigh = <u32>(x >> 32);
  return <u32>x;
}

export function i64EchoHigh(): u32 {
  return echoHigh;
}

// ── x86-64 CPUs ──────────────────────────────────────────────────────────────

/** Runs CPU `cpu` for up to `budget` instructions; returns EXIT_* (details in the CPU block). */
export function x86Run(cpu: u32, budget: u64): u32 {
  select(cpu);
  return x86RunLoop(budget);
}

/** Guest mode on or off, its controls (GC_*) and exception bitmap (guest/controls.ts); 1 for an unknown control. */
export function x86SetGuestControls(cpu: u32, guest: u32, controls: u32, exceptionBitmap: u32): u32 {
  select(cpu);
  return setGuestControls(guest != 0, controls, exceptionBitmap);
}

/** An event to inject at the CPU's next run (guest/inject.ts); INJECT_* (0 for accepted). */
export function x86Inject(cpu: u32, vector: u32, type: u32, hasCode: u32, code: u32, instructionLength: u32, writeCr2: u32, cr2: u64): u32 {
  select(cpu);
  return setInjection(vector, type, hasCode != 0, code, instructionLength, writeCr2 != 0, cr2);
}

/** An EOI to the CPU's local APIC, as the hypervisor ends an interrupt it took on a VM exit. */
export function x86EndOfInterrupt(cpu: u32): void {
  select(cpu);
  apicWrite(MSR_X2APIC_EOI, 0);
}

/** A device (or the host) requests an interrupt vector on a CPU's local APIC. */
export function x86RequestInterrupt(cpu: u32, vector: u32): void {
  select(cpu);
  apicRequest(cpu, vector, false);
}

/** The host wrote [host, host+len) of linear memory (guest RAM): decoded instructions from there are stale. */
export function hostWrote(host: usize, len: u32): void {
  if (len == 0 || host < ramHostBase) return;
  for (let page = host & ~<usize>0xFFF; page < host + len; page += 4096) checkCodeWrite(page, 1);
}

/** Drops every decoded instruction: call after the host writes memory that may hold code. */
export function x86CodeChanged(): void {
  flushDecoded();
}

/** Works out the lazy arithmetic flags into RFLAGS (before the host reads or writes it). */
export function x86MaterializeFlags(cpu: u32): u64 {
  select(cpu);
  return materialize();
}

/** Drops the selected CPU's fetch window (after the host changed its registers). */
export function x86RegistersChanged(cpu: u32): void {
  select(cpu);
  dropFetchWindow();
  store<u32>(C + X86_EVENTS, 1);
}

/** The execution state after reset: 64-bit mode is the loader's job; here registers are zero, the APIC idle. */
function x86ExecReset(cpu: u32): void {
  memory.fill(C + CPU_X86, 0, X86_END - CPU_X86);
  store<u64>(C + CPU_RFLAGS, 2);
  store<u64>(C + X86_APIC_BASE, APIC_BASE_ADDRESS | APIC_BASE_EN | APIC_BASE_EXTD | (cpu == 0 ? APIC_BASE_BSP : 0));
  apicReset(cpu);
  dropFetchWindow();
}

/**
 * A 64-bit FNV-1a hash of the machine's architectural state: every CPU's
 * registers and counters of instructions and cycles, and all of RAM. Two
 * runs that did the same thing have the same hash.
 */
export function stateHash(): u64 {
  let h: u64 = 0xCBF29CE484222325;
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    select(cpu);
    if (arch == ARCH_AARCH64) {
      // The MMU's registers, then the A64 registers up to (not including) the exit record.
      h = hashBytes(h, C + CPU_ARM, ARM_REG_COUNT * 8);
      h = hashBytes(h, C + CPU_A64, A64_EXIT_REASON - CPU_A64);
      continue;
    }
    // Architectural state only: the registers, the instruction and cycle
    // counts and the local APIC. Not the lazy-flags record (the caller has
    // worked the flags out into RFLAGS), the last exit's record, an event
    // in delivery, or the fetch window, which is the emulator's own cache
    // (the missing-invalidation detector changes when it is refilled).
    h = hashBytes(h, C + CPU_CR0, 64);
    h = hashBytes(h, C + X86_GPR, X86_LAZY_RES - X86_GPR);
    h = hashBytes(h, C + X86_CPL, X86_EXIT_REASON - X86_CPL);
    h = hashBytes(h, C + X86_APIC_ID, X86_EVENTS - X86_APIC_ID);
  }
  return hashRam(h);
}

// ── A64 CPUs ─────────────────────────────────────────────────────────────────

/**
 * The A64 execution state after reset (docs/boot.md, "Boot protocol (AArch64)"): EL1h, DAIF masked,
 * SCTLR_EL1 at QEMU's reset value (MMU and caches off), registers zero,
 * MPIDR_EL1 = 0x8000_0000 | index, the CPU on.
 */
function a64ExecReset(cpu: u32): void {
  memory.fill(C + CPU_A64, 0, A64_END - CPU_A64);
  store<u64>(C + A64_MPIDR, 0x8000_0000 | <u64>cpu);
  store<u64>(C + A64_EXCL_PA, A64_EXCL_NONE);
  store<u64>(C + A64_LAST_FAULT_PC, A64_NO_FAULT);
  store<u64>(C + CPU_ARM + (<usize>ARM_SCTLR_EL1 << 3), SCTLR_EL1_RESET);
  setPstate(PSTATE_RESET);
}

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

@inline function hashBytes(hIn: u64, at: usize, n: usize): u64 {
  let h = hIn;
  for (let i: usize = 0; i + 8 <= n; i += 8) {
    h = (h ^ load<u64>(at + i)) * 0x100000001B3;
  }
  for (let i: usize = n & ~<usize>7; i < n; i++) h = (h ^ <u64>load<u8>(at + i)) * 0x100000001B3;
  return h;
}
