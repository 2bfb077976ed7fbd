// SPDX-License-Identifier: MIT
//
// The string instructions MOVS, CMPS, STOS, LODS and SCAS, with and without
// REP / REPE / REPNE (SDM Vol.2B "MOVS/MOVSB/...", "REP/REPE/REPZ/REPNE/REPNZ").
//
// The source is [RSI] in DS (an FS or GS override adds its base); the
// destination is [RDI] in ES, which no prefix overrides. Each element moves
// RSI and RDI by the operand size, down when RFLAGS.DF is set. With 0x67 the
// instruction uses ESI, EDI and ECX, and writing them clears their upper
// halves as any 32-bit register write does.
//
// A repeated instruction runs element by element: the count register goes
// down after each one, and CMPS / SCAS stop when ZF says (REPE while equal,
// REPNE while not equal). A fault in element k leaves RCX, RSI and RDI as
// they are after element k-1 and RIP at the instruction, so the handler can
// fix the fault and return to finish the rest (SDM Vol.2B REP: "the
// instruction can be restarted"). The CPU also stops after CHUNK elements
// with RIP still at the instruction, which hardware may do at any element
// boundary; interrupts and the timer are then looked at before it goes on.

import { C } from "../../cpu";
import { X86_RIP, X86_FS_BASE, X86_GS_BASE, CPU_RFLAGS } from "../../layout";
import { D_SUB, D_SEG, D_FLAGS, F_REP, F_ADDR32, SEG_FS, SEG_GS, STR_MOVS, STR_CMPS, STR_STOS, STR_LODS, STR_SCAS, STR_REPNE, ALU_CMP } from "./ops";
import { readReg, writeReg, sizeMask, RAX, RCX, RSI, RDI } from "./state";
import { faulted } from "./fault";
import { alu } from "./alu";
import { FLAG_DF } from "./flags";
import { loadFast, storeFast, storeSized, dataKind, setStackAccess } from "./mem";
import { microLookup, MICRO_MISS } from "../../tlb/micro";
import { rangeCacheBase, rangeCacheLimit8, rangeCacheDelta } from "../../phys/ram";
import { checkCodeWrite } from "./code";
import { addCount } from "../../cpu";
import { CNT_TLB_HIT } from "../../layout";

/** Elements a repeated string instruction does before it lets the CPU look at interrupts. */
const CHUNK: u32 = 4096;

/** OP_STRING: one string instruction, all of its repetitions or the next CHUNK of them. */
export function executeString(d: usize, size: u32, rip: u64): void {
  const sub = <u32>load<u8>(d, D_SUB);
  const kind = sub & 7;
  const repne = (sub & <u32>STR_REPNE) != 0;
  const flags = load<u8>(d, D_FLAGS);
  const repeated = (flags & F_REP) != 0;
  // The registers are 32 bits wide with 0x67: read through the mask, written with writeReg's zero-extension.
  const asize: u32 = flags & F_ADDR32 ? 4 : 8;
  const seg = load<u8>(d, D_SEG);
  const srcBase: u64 = seg == SEG_FS ? load<u64>(C + X86_FS_BASE) : seg == SEG_GS ? load<u64>(C + X86_GS_BASE) : 0;
  const step: u64 = load<u64>(C + CPU_RFLAGS) & FLAG_DF ? 0 - <u64>size : <u64>size;
  const readKind = dataKind(false);
  const writeKind = dataKind(true);
  setStackAccess(false);
  let left: u64 = repeated ? readReg(RCX, asize) : 1;
  // REP STOS and REP MOVS forward with 64-bit addresses go a page at a time where they can (pageRun).
  const runs = repeated && step == <u64>size && asize == 8 && (kind == <u32>STR_STOS || kind == <u32>STR_MOVS);
  for (let n: u32 = 0; left != 0; n++) {
    if (n == CHUNK) {
      // Not finished: come back to this instruction after the boundary.
      store<u64>(C + X86_RIP, rip);
      return;
    }
    if (runs && left > 1) {
      const done = pageRun(kind, size, srcBase, left, CHUNK - n, readKind, writeKind);
      if (done) {
        left -= done;
        writeReg(RCX, 8, left);
        n += done - 1;
        continue;
      }
    }
    const si = readReg(RSI, asize);
    const di = readReg(RDI, asize);
    let equal = false;
    if (kind == <u32>STR_MOVS) {
      const v = loadFast(srcBase + si, size, readKind);
      if (faulted()) return;
      storeFast(di, size, v, writeKind);
      if (faulted()) return;
      writeReg(RSI, asize, si + step);
      writeReg(RDI, asize, di + step);
    } else if (kind == <u32>STR_STOS) {
      storeFast(di, size, readReg(RAX, size), writeKind);
      if (faulted()) return;
      writeReg(RDI, asize, di + step);
    } else if (kind == <u32>STR_LODS) {
      const v = loadFast(srcBase + si, size, readKind);
      if (faulted()) return;
      writeReg(RAX, size, v);
      writeReg(RSI, asize, si + step);
    } else if (kind == <u32>STR_CMPS) {
      // CMPS compares the source with the destination: flags of [RSI] - [RDI].
      const a = loadFast(srcBase + si, size, readKind);
      if (faulted()) return;
      const b = loadFast(di, size, readKind);
      if (faulted()) return;
      alu(ALU_CMP, size, a, b);
      equal = (a & sizeMask(size)) == (b & sizeMask(size));
      writeReg(RSI, asize, si + step);
      writeReg(RDI, asize, di + step);
    } else {
      // SCAS: flags of the accumulator - [RDI].
      const b = loadFast(di, size, readKind);
      if (faulted()) return;
      const a = readReg(RAX, size);
      alu(ALU_CMP, size, a, b);
      equal = a == (b & sizeMask(size));
      writeReg(RDI, asize, di + step);
    }
    if (!repeated) return;
    left = (left - 1) & sizeMask(asize);
    writeReg(RCX, asize, left);
    // REPE / REPNE end a compare on the first element that breaks the condition (SDM Vol.2B REP, Table 4-13).
    if (kind == <u32>STR_CMPS || kind == <u32>STR_SCAS) {
      if (repne == equal) return;
    }
  }
}

/**
 * The next elements of a forward REP STOS or REP MOVS (64-bit addresses)
 * that lie in one page (in one source page too, for MOVS) whose
 * translation the micro-TLB holds for the access, done at once: returns
 * how many (at most `left` and `most`), or 0 when there is no such run of
 * two or more (the element loop then takes the next element). The run does
 * what the element loop would for its elements: a TLB hit counted for each
 * element access, the page checked for decoded code as its first store
 * checks it (the same page: the later stores find it checked), RDI and RSI
 * past the run. Source and destination may not overlap (the loop's
 * element order would show in what is copied); RCX is the caller's.
 */
function pageRun(kind: u32, size: u32, srcBase: u64, left: u64, most: u32, readKind: u32, writeKind: u32): u32 {
  const di = readReg(RDI, 8);
  let count: u64 = (4096 - (di & 0xFFF)) / <u64>size;
  if (count > left) count = left;
  if (count > <u64>most) count = <u64>most;
  let si: u64 = 0;
  if (kind == <u32>STR_MOVS) {
    si = readReg(RSI, 8);
    const srcRoom = (4096 - ((srcBase + si) & 0xFFF)) / <u64>size;
    if (count > srcRoom) count = srcRoom;
  }
  if (count < 2) return 0;
  const bytes = <usize>count * size;
  let hs: usize = 0;
  if (kind == <u32>STR_MOVS) {
    const spa = microLookup(srcBase + si, readKind);
    if (spa == MICRO_MISS || spa - rangeCacheBase() > rangeCacheLimit8()) return uncount(0);
    hs = <usize>(spa + rangeCacheDelta());
  }
  const dpa = microLookup(di, writeKind);
  if (dpa == MICRO_MISS || dpa - rangeCacheBase() > rangeCacheLimit8()) return uncount(kind == <u32>STR_MOVS ? 1 : 0);
  const hd = <usize>(dpa + rangeCacheDelta());
  if (kind == <u32>STR_MOVS && hs < hd + bytes && hd < hs + bytes) return uncount(2);
  checkCodeWrite(hd, <u32>bytes);
  if (kind == <u32>STR_MOVS) {
    memory.copy(hd, hs, bytes);
    addCount(CNT_TLB_HIT, 2 * (count - 1));
    writeReg(RSI, 8, si + <u64>bytes);
  } else {
    const v = readReg(RAX, size);
    if (size == 1) memory.fill(hd, <u8>v, bytes);
    else for (let at: usize = 0; at < bytes; at += size) storeSized(hd + at, size, v);
    addCount(CNT_TLB_HIT, count - 1);
  }
  writeReg(RDI, 8, di + <u64>bytes);
  return <u32>count;
}

/**
 * No run after all: the lookups that hit were counted as TLB hits, and the
 * element loop will look them up again for its element; take those counts
 * back, so that a run declined counts as the loop alone would.
 */
function uncount(hits: u32): u32 {
  if (hits) addCount(CNT_TLB_HIT, 0 - <u64>hits);
  return 0;
}
