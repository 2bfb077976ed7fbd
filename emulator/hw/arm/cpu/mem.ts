// SPDX-License-Identifier: MIT
//
// Data accesses of the A64 interpreter: VA → PA through the CPU's MMU and
// TLBs (arm/translate.ts), then RAM through the data caches (arm/access.ts),
// the GIC's registers, or an MMIO exit to the host.
//
// - An access that crosses a 64-byte line is split into bytes, each
//   translated; a store translates its last byte first, so a fault leaves
//   memory unchanged.
// - Alignment: with SCTLR_EL1.A every access must be aligned to its size;
//   exclusives, load-acquire/store-release and atomics always must
//   (DDI0487 B2.5.2). A misaligned access raises an Alignment fault (DFSC 0x21).
// - Only single-register loads and stores may reach a device (`mmio` ≥ 0
//   names the register a read completes into); anything else outside RAM and
//   the GIC is a bus error that stops the CPU.
// - The exclusive monitor holds the 64-byte granule (CTR_EL0.ERG = 4) of the
//   PA an LDXR read; any store by any CPU to that granule clears it, so a
//   STXR after an intervening store fails (the local monitor may be cleared
//   by the PE's own stores, DDI0487 B2.9.3).

import { C, cpuCount } from "../../cpu";
import {
  cpuBlocks, CPU_SIZE, A64_EXCL_PA, A64_EXCL_NONE, A64_EXIT_ADDRESS, A64_EXIT_SIZE, A64_EXIT_WRITE, A64_EXIT_VALUE,
  A64_EXIT_DETAIL, ARM_SCTLR_EL1, ARM_HCR_EL2, EXIT_MMIO, MMIO_SIGNED, MMIO_W, MMIO_WB,
} from "../../layout";
import { XLATE_FAILED, MICRO_MISS, microLookup } from "../../tlb/micro";
import { physHost, rangeCacheBase, rangeCacheLimit8, rangeCacheDelta } from "../../phys/ram";
import { pageWrite } from "../../phys/pages";
import { a64CodeWritten } from "./decoded";
import { cachesOn } from "../cache";
import { armReg, SCTLR_A, SCTLR_M, HCR_VM } from "../regs";
import { armTranslate } from "../translate";
import { annotOn, annotDataLoad } from "../../common/annotate";
import { armPhysRead, armPhysWrite, cachedQuickHost, loadSized, storeSized, noteAccessVa } from "../access";
import { ARM_ACC_WRITE } from "../vmsa/permissions";
import { gicOwns, gicMmioRead, gicMmioWrite } from "../gic";
import { privKind } from "./state";
import {
  pending, curPc, raiseAbort, raiseDataFault, raiseBusError, raiseExit, cpuIndex, FSC_ALIGNMENT, PEND_NONE, ISS_ISV, ISS_SSE, ISS_SF,
} from "./exception";

/** Not an MMIO-capable access. */
export const NO_MMIO: i32 = -1;

/** Set by a GIC register write: the CPU must look at its interrupts again. */
export let gicTouched: bool = false;

export function clearGicTouched(): void {
  gicTouched = false;
}

/** Is some CPU's monitor open? Stores skip the monitor check while none is. */
let anyMonitor: bool = false;

/**
 * The PA of a data access when it needs no walk: a micro-TLB hit, or VA = PA
 * with stage 1 off and no stage 2 (the micro-TLB holds nothing then);
 * MICRO_MISS otherwise.
 */
@inline function quickPa(va: u64, kind: u32): u64 {
  const pa = microLookup(va, kind);
  if (pa != MICRO_MISS) return pa;
  if ((armReg(ARM_SCTLR_EL1) & SCTLR_M) || (armReg(ARM_HCR_EL2) & HCR_VM)) return MICRO_MISS;
  // With annotations made, every load takes the full path, where event (a) is checked.
  if (annotOn) return MICRO_MISS;
  return va;
}

/** The PA of the last access quickHost let through. */
let quickPaDone: u64 = 0;

/**
 * The fast path of a data access, which the run loop also takes inline: the
 * host address of an aligned access that needs no walk: in the last RAM range
 * used with no caches modelled; with them, in this CPU's L1 or RAM as
 * access.ts's cachedQuickHost decides; -1 otherwise (readData/writeData then
 * do the rest). A store through it calls quickStoreDone. For a store to RAM
 * itself the page is marked written here (phys/pages.ts); a store to an L1
 * line reaches RAM only when the line is written back, which marks it then.
 */
@inline export function quickHost(va: u64, size: u32, kind: u32): i64 {
  if (va & (size - 1)) return -1;
  const pa = quickPa(va, kind);
  if (pa == MICRO_MISS) return -1;
  quickPaDone = pa;
  if (cachesOn) return cachedQuickHost(pa, size, (kind & ARM_ACC_WRITE) != 0);
  if (pa - rangeCacheBase() > rangeCacheLimit8()) return -1;
  const host = pa + rangeCacheDelta();
  if ((kind & ARM_ACC_WRITE) && pageWrite(<usize>host)) a64CodeWritten(pa, size);
  return <i64>host;
}

/** After a store through quickHost: a store clears the exclusive monitors that hold its granule. */
@inline export function quickStoreDone(host: usize): void {
  if (anyMonitor) clearMonitors(quickPaDone);
}

/**
 * The instruction syndrome of a data abort (DDI0487 D19.2.40, ISS encoding
 * for a Data Abort: ISV, SAS, SSE, SRT, SF) for a single-register load or
 * store that does not write its base back; 0 (ISV clear) otherwise. A
 * hypervisor emulates an MMIO access from it without decoding the
 * instruction.
 */
function accessSyndrome(size: u32, mmio: i32): u32 {
  if (mmio == NO_MMIO || (mmio & MMIO_WB)) return 0;
  const signed = (mmio & MMIO_SIGNED) != 0;
  const x = size == 8 || (signed && !(mmio & MMIO_W));
  const sas: u32 = size == 8 ? 3 : size == 4 ? 2 : size == 2 ? 1 : 0;
  return ISS_ISV | (sas << 22) | (signed ? ISS_SSE : 0) | ((<u32>mmio & 31) << 16) | (x ? ISS_SF : 0);
}

/** Translates va for a data access; XLATE_FAILED with the abort raised (with `syndrome` when stage 2 faulted). */
function translateData(va: u64, write: bool, syndrome: u32 = 0): u64 {
  noteAccessVa(va);
  const pa = armTranslate(va, (write ? ARM_ACC_WRITE : 0) | privKind());
  if (pa & XLATE_FAILED) raiseAbort(va, false, write, false, syndrome);
  else if (annotOn && !write) annotDataLoad(va, pa);
  return pa;
}

/** Raises an alignment fault when the access must be aligned and is not. */
@inline function misaligned(va: u64, size: u32, mustAlign: bool, write: bool): bool {
  if (!(va & (size - 1))) return false;
  if (!mustAlign && !(armReg(ARM_SCTLR_EL1) & SCTLR_A)) return false;
  raiseDataFault(va, FSC_ALIGNMENT, write);
  return true;
}

/**
 * Reads `size` bytes at va, zero-extended; 0 with `pending` set on a fault or
 * an exit. `mmio` is the MMIO_* detail of an MMIO read, or NO_MMIO.
 */
export function readData(va: u64, size: u32, mmio: i32, mustAlign: bool): u64 {
  const host = quickHost(va, size, privKind());
  if (host >= 0) return loadSized(<usize>host, size);
  if (misaligned(va, size, mustAlign, false)) return 0;
  if ((<u32>va & 63) + size > 64) return readBytes(va, size);
  const pa = translateData(va, false, accessSyndrome(size, mmio));
  if (pa & XLATE_FAILED) return 0;
  if (physHost(pa, size) >= 0) return armPhysRead(pa, size);
  if (gicOwns(pa)) return gicMmioRead(cpuIndex(), pa, size);
  if (mmio == NO_MMIO) {
    raiseBusError(pa);
    return 0;
  }
  mmioExit(pa, size, false, 0, <u32>mmio);
  return 0;
}

/** Writes the low `size` bytes of v at va; `pending` is set on a fault or an exit. `mmio` names the source register of an MMIO-capable store, or is NO_MMIO. */
export function writeData(va: u64, size: u32, v: u64, mmio: i32, mustAlign: bool): void {
  const host = quickHost(va, size, ARM_ACC_WRITE | privKind());
  if (host >= 0) {
    storeSized(<usize>host, size, v);
    quickStoreDone(<usize>host);
    return;
  }
  if (misaligned(va, size, mustAlign, true)) return;
  if ((<u32>va & 63) + size > 64) {
    writeBytes(va, size, v);
    return;
  }
  const pa = translateData(va, true, accessSyndrome(size, mmio));
  if (pa & XLATE_FAILED) return;
  if (physHost(pa, size) >= 0) {
    armPhysWrite(pa, size, v);
    if (anyMonitor) clearMonitors(pa);
    return;
  }
  if (gicOwns(pa)) {
    gicMmioWrite(cpuIndex(), pa, size, v);
    gicTouched = true;
    return;
  }
  if (mmio == NO_MMIO) raiseBusError(pa);
  else mmioExit(pa, size, true, v, 0);
}

function mmioExit(pa: u64, size: u32, write: bool, v: u64, detail: u32): void {
  store<u64>(C + A64_EXIT_ADDRESS, pa);
  store<u32>(C + A64_EXIT_SIZE, size);
  store<u32>(C + A64_EXIT_WRITE, write ? 1 : 0);
  store<u64>(C + A64_EXIT_VALUE, v);
  store<u32>(C + A64_EXIT_DETAIL, detail);
  raiseExit(EXIT_MMIO, curPc + 4);
}

function readBytes(va: u64, size: u32): u64 {
  let v: u64 = 0;
  for (let i: u32 = 0; i < size; i++) {
    const b = readData(va + i, 1, NO_MMIO, false);
    if (pending != PEND_NONE) return 0;
    v |= b << (<u64>i << 3);
  }
  return v;
}

function writeBytes(va: u64, size: u32, v: u64): void {
  // The last byte first: if either page faults, nothing has been written.
  if (translateData(va + size - 1, true) & XLATE_FAILED) return;
  for (let i: u32 = 0; i < size; i++) {
    writeData(va + i, 1, <u64>(v >> (<u64>i << 3)) & 0xFF, NO_MMIO, false);
    if (pending != PEND_NONE) return;
  }
}

/** Checks that a store to va would not fault (for a pair's second half); false with the abort raised. */
export function probeWrite(va: u64): bool {
  return !(translateData(va, true) & XLATE_FAILED);
}

// ── Exclusives and atomics ───────────────────────────────────────────────────

/**
 * The PA of an access that must be to RAM and aligned (exclusives, atomics),
 * translated for a write when `write`; XLATE_FAILED with the fault raised.
 * A read-modify-write (`rmw`) reports an Alignment fault as its read, WnR = 0,
 * as QEMU does.
 */
export function atomicPa(va: u64, size: u32, write: bool, rmw: bool = false): u64 {
  if (misaligned(va, size, true, write && !rmw)) return XLATE_FAILED;
  const pa = translateData(va, write);
  if (pa & XLATE_FAILED) return pa;
  if (physHost(pa, size) < 0) {
    raiseBusError(pa);
    return XLATE_FAILED;
  }
  return pa;
}

/** The read half of an atomic, at a PA from atomicPa (the translation's attributes still current). */
export function atomicRead(pa: u64, size: u32): u64 {
  return armPhysRead(pa, size);
}

export function atomicWrite(pa: u64, size: u32, v: u64): void {
  armPhysWrite(pa, size, v);
  if (anyMonitor) clearMonitors(pa);
}

/** LDXR: marks pa's granule in this CPU's monitor. */
export function setMonitor(pa: u64): void {
  store<u64>(C + A64_EXCL_PA, pa & ~<u64>63);
  anyMonitor = true;
}

/** STXR: does this CPU's monitor hold pa's granule? It is cleared either way. */
export function takeMonitor(pa: u64): bool {
  const held = load<u64>(C + A64_EXCL_PA) == (pa & ~<u64>63);
  store<u64>(C + A64_EXCL_PA, A64_EXCL_NONE);
  return held;
}

/** A store reached pa: every monitor holding its granule is cleared. */
function clearMonitors(pa: u64): void {
  const granule = pa & ~<u64>63;
  let open = false;
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    const p = cpuBlocks + <usize>cpu * CPU_SIZE + A64_EXCL_PA;
    const held = load<u64>(p);
    if (held == granule) store<u64>(p, A64_EXCL_NONE);
    else if (held != A64_EXCL_NONE) open = true;
  }
  anyMonitor = open;
}

