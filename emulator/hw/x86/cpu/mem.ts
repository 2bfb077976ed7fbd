// SPDX-License-Identifier: MIT
//
// Data accesses of the selected CPU: linear address → physical (through the
// micro-TLB, the TLBs or a walk, with the access kind the privilege and
// RFLAGS.AC give) → host memory. An access that crosses a page translates
// both pages before it touches either, so a fault leaves memory unchanged.
// Every store checks whether it writes decoded code (code.ts).
//
// On a fault the access raises it (fault.ts) and returns 0; callers check
// faulted() before they change any state.

import { C } from "../../cpu";
import { CPU_RFLAGS } from "../../layout";
import { translate } from "../translate";
import { XLATE_FAILED } from "../../tlb/micro";
import { physHost, rangeCacheBase, rangeCacheLimit8, rangeCacheDelta } from "../../phys/ram";
import { microLookup, MICRO_MISS } from "../../tlb/micro";
import { ACC_READ, ACC_WRITE, ACC_USER, ACC_IMPLICIT, ACC_AC, ACC_FETCH } from "../paging/permissions";
import { annotOn, annotDataLoad } from "../../common/annotate";
import { raiseTranslation, raiseBus } from "./fault";
import { checkCodeWrite } from "./code";
import { cpl } from "./state";
import { FLAG_AC } from "./flags";

/** The access kind of a data access at the current privilege. */
@inline export function dataKind(write: bool): u32 {
  let kind: u32 = write ? ACC_WRITE : ACC_READ;
  if (cpl() == 3) kind |= ACC_USER;
  if (load<u64>(C + CPU_RFLAGS) & FLAG_AC) kind |= ACC_AC;
  return kind;
}

/** An implicit supervisor-mode access (descriptor tables, the TSS, the stack of an interrupt). */
export const KIND_SYSTEM_READ: u32 = ACC_READ | ACC_IMPLICIT;
export const KIND_SYSTEM_WRITE: u32 = ACC_WRITE | ACC_IMPLICIT;

/** Is the next access a stack access (#SS rather than #GP for a non-canonical address)? */
let stackAccess = false;

export function setStackAccess(stack: bool): void {
  stackAccess = stack;
}

/** Host address of `va` for an access of `kind`, or -1 with the fault raised. */
function hostFor(va: u64, kind: u32): i64 {
  const pa = translate(va, kind);
  if (pa & XLATE_FAILED) {
    raiseTranslation(<u32>pa & 0xFF, stackAccess);
    return -1;
  }
  const host = physHost(pa, 1);
  if (host < 0) raiseBus(pa);
  else if (annotOn && !(kind & (ACC_WRITE | ACC_FETCH))) annotDataLoad(va, pa);
  return host;
}

/**
 * Host address of a `size`-byte access at `va` that does not cross a page,
 * -1 on a fault, or -2 when it crosses a page (use the byte-wise path).
 */
@inline export function resolve(va: u64, size: u32, kind: u32): i64 {
  if ((<u32>va & 0xFFF) > 4096 - size) return -2;
  return hostFor(va, kind);
}

/**
 * The fast path of a read: a micro-TLB hit in the cached RAM range, all
 * inline; anything else goes to readMem.
 */
@inline export function loadFast(va: u64, size: u32, kind: u32): u64 {
  if ((<u32>va & 0xFFF) <= 4096 - size) {
    const pa = microLookup(va, kind);
    if (pa != MICRO_MISS && pa - rangeCacheBase() <= rangeCacheLimit8()) {
      return loadSized(<usize>(pa + rangeCacheDelta()), size);
    }
  }
  return readMem(va, size, kind);
}

/** The fast path of a write (the store still checks for decoded code). */
@inline export function storeFast(va: u64, size: u32, v: u64, kind: u32): void {
  if ((<u32>va & 0xFFF) <= 4096 - size) {
    const pa = microLookup(va, kind);
    if (pa != MICRO_MISS && pa - rangeCacheBase() <= rangeCacheLimit8()) {
      const h = <usize>(pa + rangeCacheDelta());
      checkCodeWrite(h, size);
      storeSized(h, size, v);
      return;
    }
  }
  writeMem(va, size, v, kind);
}

/** Reads `size` bytes (1, 2, 4, 8) at `va`, zero-extended. */
export function readMem(va: u64, size: u32, kind: u32): u64 {
  const h = resolve(va, size, kind);
  if (h >= 0) return loadSized(<usize>h, size);
  if (h == -1) return 0;
  return readCrossing(va, size, kind);
}

/** Writes the low `size` bytes of v at `va`. */
export function writeMem(va: u64, size: u32, v: u64, kind: u32): void {
  const h = resolve(va, size, kind);
  if (h >= 0) {
    checkCodeWrite(<usize>h, size);
    storeSized(<usize>h, size, v);
    return;
  }
  if (h == -2) writeCrossing(va, size, v, kind);
}

@inline export function loadSized(h: usize, size: u32): u64 {
  if (size == 8) return load<u64>(h);
  if (size == 4) return <u64>load<u32>(h);
  if (size == 2) return <u64>load<u16>(h);
  return <u64>load<u8>(h);
}

@inline export function storeSized(h: usize, size: u32, v: u64): void {
  if (size == 8) store<u64>(h, v);
  else if (size == 4) store<u32>(h, <u32>v);
  else if (size == 2) store<u16>(h, <u16>v);
  else store<u8>(h, <u8>v);
}

/** The bytes before the page boundary, then the rest from the next page. */
function readCrossing(va: u64, size: u32, kind: u32): u64 {
  const first: u32 = 4096 - (<u32>va & 0xFFF);
  const h1 = hostFor(va, kind);
  if (h1 < 0) return 0;
  const h2 = hostFor(va + first, kind);
  if (h2 < 0) return 0;
  let v: u64 = 0;
  for (let i: u32 = size; i-- > 0;) {
    const b = i < first ? load<u8>(<usize>h1 + i) : load<u8>(<usize>h2 + (i - first));
    v = (v << 8) | b;
  }
  return v;
}

function writeCrossing(va: u64, size: u32, v: u64, kind: u32): void {
  const first: u32 = 4096 - (<u32>va & 0xFFF);
  const h1 = hostFor(va, kind);
  if (h1 < 0) return;
  const h2 = hostFor(va + first, kind);
  if (h2 < 0) return;
  checkCodeWrite(<usize>h1, first);
  checkCodeWrite(<usize>h2, size - first);
  for (let i: u32 = 0; i < size; i++) {
    const b = <u8>(v >> (<u64>i << 3));
    if (i < first) store<u8>(<usize>h1 + i, b);
    else store<u8>(<usize>h2 + (i - first), b);
  }
}

/**
 * A read-modify-write operand: the host address of a `size`-byte access
 * translated for a write (so a fault happens before the read), -1 on a
 * fault, -2 when it crosses a page (use readMem and writeMem, both for a
 * write).
 */
export function resolveRmw(va: u64, size: u32): i64 {
  return resolve(va, size, dataKind(true));
}
