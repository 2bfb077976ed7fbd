// SPDX-License-Identifier: MIT
//
// The A64 run loop, the top-level decode (DDI0487 C4.1 "A64 instruction set
// encoding") and the branches, exception-generating and system instructions
// (C4.1.87); data processing is in data-processing.ts, loads and stores in
// load-store.ts. Each instruction is decoded from its 32-bit word every time
// it runs.
//
// One step: take an IRQ that is due (the GIC says so, PSTATE.I clear), fetch
// the word at PC through the MMU, execute it. An instruction that faults
// raises the exception (exception.ts) and changes nothing; the loop then
// takes it with PC at the instruction. PC, the step count and the fetch
// window stay in locals; the CPU block is written when the loop returns.

import { C, selectedCpu, count } from "../../cpu";
import {
  A64_PC, A64_INSTRUCTIONS, A64_CYCLES, A64_OFF, A64_RESUME_FROM, A64_WAITING, A64_WAIT_WFE, A64_EVENT, A64_EXIT_REASON, A64_EXIT_PC, A64_EXIT_VALUE, A64_EXIT_DETAIL,
  A64_BREAKPOINT_COUNT, A64_BREAKPOINTS, ARM_HCR_EL2, ARM_SCTLR_EL1, CPU_MICRO_EPOCH, CPU_RES_INFO, EXIT_BUDGET, EXIT_STOPPED, EXIT_OFF, EXIT_WFI,
  EXIT_BREAKPOINT, EXIT_HVC, EXIT_SMC, EXIT_TRAP, CNT_DECODE,
} from "../../layout";
import { XLATE_FAILED } from "../../tlb/micro";
import { setWindowPage } from "../../tlb/floors";
import { physHost } from "../../phys/ram";
import { armReg, SCTLR_I, SCTLR_M } from "../regs";
import { mairIsCacheable } from "../vmsa/attrs";
import { ARM_INFO_ATTR_SHIFT } from "../vmsa/walk";
import { armTranslate } from "../translate";
import { cachesOn, cacheEpoch, coherentRead64, pageMatchesRam } from "../cache";
import { ARM_ACC_FETCH, ARM_ACC_EL0, ARM_ACC_WRITE } from "../vmsa/permissions";
import { loadSized, storeSized } from "../access";
import { gicPendingIrq } from "../gic";
import { timerNextDeadline } from "../timer";
import { pstate, currentEl, privKind, xr, setX, xsp, setXsp, conditionHolds, PSTATE_I, PSTATE_IL } from "./state";
import {
  pending, curPc, exitResumePc, irqRecheck, setIrqRecheck, setNowCycles, setCurPc, clearPending, raiseSync, raiseSyncFar,
  raiseUndef, raiseSvc, raiseExit, raiseAbort, takeSync, takeIrq, exceptionReturn, countExit, PEND_NONE, PEND_SYNC,
  EC_PC_ALIGN, EC_IABT_LOWER, EC_IABT_SAME, EC_BRK, EC_ILLEGAL_STATE, FSC_EXTERNAL,
} from "./exception";
import { sext, extendReg } from "./alu";
import { addSubSetFlags } from "./data-processing";
import { gicTouched, clearGicTouched, quickHost, quickStoreDone, readData, writeData } from "./mem";
import { mrs, msr, msrImmediate, hint, barrier, sys, simdFp } from "./sysreg";
import {
  dataProcessingImmediate, dataProcessingRegister, addSubImmediate, addSubShifted, logicalImmediate, logicalShifted,
} from "./data-processing";
import { loadStore } from "./load-store";
import {
  a64Entry, a64Decode, D_TAG, D_INSN, D_FORM, D_RD, D_RN, D_RM, D_IMM, D_SIZE, F_WORD, F_ADD_IMM, F_SUBS_IMM, F_ADDS_IMM,
  F_AND_IMM, F_ORR_IMM, F_EOR_IMM, F_ADD_REG, F_SUB_REG, F_SUBS_REG, F_AND_REG, F_ORR_REG, F_EOR_REG, F_LOAD_IMM, F_STORE_IMM,
  F_LOAD_REG, F_STORE_REG, F_B, F_BL, F_B_COND, F_CBZ, F_CBNZ, F_TBZ, F_TBNZ,
} from "./decoded";
import { decodedTag } from "../../x86/cpu/code";
import { pageMarkCode } from "../../phys/pages";


// ── The fetch window ─────────────────────────────────────────────────────────
//
// The page PC is in, translated once for a fetch at the current EL, with its
// host address, kept in the run loop's locals: valid until PC leaves the
// page, the EL changes, or a TLB invalidation (or a write to SCTLR, TTBR0/1
// or TCR) starts a new micro-TLB epoch. Only what the loop calls out of line
// can change those, so the loop looks again after such a call, not at every
// instruction. With the data caches modelled and the fetch cacheable, a
// fetch reads the freshest copy (instruction fetches are coherent with data
// here: instruction caches are not modelled), which is RAM itself while the
// page has no line that differs from RAM (cache.ts); so the window holds such
// a page too, and is dropped when cacheEpoch says a page's count left 0.
// Otherwise every fetch from the page goes through fetch().

/** No page: a window tag has bits 11:2 clear, and so has any aligned PC with its page bits. */
const NO_WINDOW: u64 = 0xFFC;
/** The page of the last fetch() when the window may hold it, else NO_WINDOW; with its host address. */
let fetchedPage: u64 = NO_WINDOW;
let fetchedHost: usize = 0;
let fetchedPa: u64 = 0;

/** A fetch outside the window, through the MMU; 0 with the abort raised. */
function fetch(pc: u64): u32 {
  fetchedPage = NO_WINDOW;
  if (pc & 3) {
    raiseSyncFar(EC_PC_ALIGN, 0, pc);
    return 0;
  }
  const el0 = currentEl() == 0;
  const pa = armTranslate(pc, ARM_ACC_FETCH | (el0 ? ARM_ACC_EL0 : 0));
  if (pa & XLATE_FAILED) {
    raiseAbort(pc, true, false, false);
    return 0;
  }
  // A whole page is in RAM or none of it is (ranges are page-aligned).
  const h = physHost(pa & ~<u64>0xFFF, 8);
  if (h < 0) {
    // A fetch from outside RAM: a synchronous External abort on the fetch.
    raiseSyncFar(el0 ? EC_IABT_LOWER : EC_IABT_SAME, FSC_EXTERNAL, pc);
    return 0;
  }
  if (cachesOn && !pageMatchesRam(<usize>h) && fetchCacheable()) return <u32>(coherentRead64(pa & ~<u64>7) >> ((pa & 4) << 3));
  fetchedPage = pc & ~<u64>0xFFF;
  fetchedHost = <usize>h;
  fetchedPa = pa & ~<u64>0xFFF;
  setWindowPage(fetchedPage);
  return load<u32>(<usize>h + <usize>(pa & 0xFFF));
}

/**
 * A miss in the decoded-instruction cache for an instruction in the fetch
 * window, whose page holds what RAM holds: decodes the word into entry d,
 * tags it, and marks the page as holding code, so that a write to it makes
 * the entry stale (decoded.ts).
 */
function decodeFromWindow(d: usize, pa: u64, host: usize): void {
  count(CNT_DECODE);
  a64Decode(d, load<u32>(host));
  store<u64>(d, decodedTag(pa), D_TAG);
  pageMarkCode(host);
}

/**
 * Is the last fetch's translation cacheable for instructions (DDI0487
 * D8.2.10)? Only with SCTLR_EL1.I: with the MMU off the fetch is then Normal
 * Write-Through, with it on the memory type decides. A Non-cacheable fetch
 * reads memory, as a Non-cacheable data access does.
 */
function fetchCacheable(): bool {
  const sctlr = armReg(ARM_SCTLR_EL1);
  if (!(sctlr & SCTLR_I)) return false;
  if (!(sctlr & SCTLR_M)) return true;
  return mairIsCacheable(<u32>(load<u64>(C + CPU_RES_INFO) >> ARM_INFO_ATTR_SHIFT) & 0xFF);
}

// ── Run loop ─────────────────────────────────────────────────────────────────

function atBreakpoint(pc: u64): bool {
  const n = load<u32>(C + A64_BREAKPOINT_COUNT);
  for (let i: u32 = 0; i < n; i++) {
    if (load<u64>(C + A64_BREAKPOINTS + (<usize>i << 3)) == pc) return true;
  }
  return false;
}

/**
 * Runs the selected CPU for up to `budget` instructions; returns EXIT_*.
 *
 * The loop keeps PC, the counts and the fetch window in locals and looks at
 * its boundary work (the budget, IRQs, the timer's deadline, breakpoints,
 * PSTATE.IL) only when `steps` reaches `limit`; whatever may need it sooner
 * sets `limit` to 0. The hottest encodings run inline in the dispatch on
 * op0, with no call unless a memory access misses the micro-TLB or a logical
 * immediate needs DecodeBitMasks (V8 keeps no register live across a
 * WebAssembly call); everything else goes through execute(). After any call out of line the loop checks what
 * that code may have changed: a pending exception or exit, the IRQ flags,
 * the micro-TLB epoch and the EL (the fetch window).
 */
/** Moves the CPU's clock on to `cycles` (never back); returns the clock. */
export function skipClockTo(cycles: u64): u64 {
  const now = load<u64>(C + A64_CYCLES);
  if (cycles <= now) return now;
  store<u64>(C + A64_CYCLES, cycles);
  return cycles;
}

export function run(budget: u64): u32 {
  const off = load<u32>(C + A64_OFF);
  if (off) return off == 1 ? EXIT_OFF : EXIT_STOPPED;
  const cpu = selectedCpu;
  const waiting = load<u32>(C + A64_WAITING);
  if (waiting) {
    // WFI wakes on a pending interrupt, masked or not; WFE also on an event (SEV), which waking consumes.
    const event = waiting == A64_WAIT_WFE && load<u32>(C + A64_EVENT) != 0;
    if (!event && !gicPendingIrq(cpu, load<u64>(C + A64_CYCLES))) {
      // Asleep until the timer, if it is armed: the clock moves on to its deadline (as x86-64's HLT does).
      const deadline = timerNextDeadline(cpu);
      if (deadline == u64.MAX_VALUE || !gicPendingIrq(cpu, skipClockTo(deadline))) {
        store<u32>(C + A64_EXIT_REASON, EXIT_WFI);
        return EXIT_WFI;
      }
    }
    if (event) store<u32>(C + A64_EVENT, 0);
    store<u32>(C + A64_WAITING, 0);
  }
  const cycles0 = load<u64>(C + A64_CYCLES);
  const retired0 = load<u64>(C + A64_INSTRUCTIONS);
  const firstPc = load<u64>(C + A64_PC);
  let pc = firstPc;
  let steps: u64 = 0;
  let retired: u64 = 0;
  let reason: u32 = EXIT_BUDGET;
  let deadline: u64 = 0;
  let limit: u64 = 0;
  let illegal = false;
  // Breakpoints change only between runs.
  const breakpoints = load<u32>(C + A64_BREAKPOINT_COUNT) != 0;
  let winPage: u64 = NO_WINDOW;
  let winHost: usize = 0;
  let winPa: u64 = 0;
  let winEpoch: u32 = 0;
  let winEl: u32 = 0;
  let winCaches: u32 = 0;
  clearPending();
  setIrqRecheck(true);
  for (;;) {
    if (steps >= limit) {
      if (steps >= budget) break;
      const now = cycles0 + steps;
      if (irqRecheck || gicTouched || now >= deadline) {
        setIrqRecheck(false);
        clearGicTouched();
        // With HCR_EL2.IMO the interrupts of this CPU's GIC context are the
        // running vCPU's virtual IRQs: the hypervisor switches the whole
        // context (redistributor, CPU interface, timer) with the vCPU, as
        // Xen switches its list registers, so they are taken at EL1 under
        // PSTATE.I like any virtual IRQ (DDI0487 D1.3.6) and never reach EL2.
        if (gicPendingIrq(cpu, now) && currentEl() < 2) {
          if (!(pstate() & PSTATE_I)) {
            takeIrq(pc);
            pc = load<u64>(C + A64_PC);
            winPage = NO_WINDOW;
          }
        }
        deadline = timerNextDeadline(cpu);
        // A condition that already holds was taken or is masked; unmasking rechecks.
        if (deadline <= now) deadline = u64.MAX_VALUE;
        // PSTATE.IL is set only by an exception return, which also asks for this check.
        illegal = (pstate() & PSTATE_IL) != 0;
      }
      if (breakpoints) {
        // Per CPU: the breakpoint this CPU stopped at last is stepped over once, when its next run starts there.
        if (atBreakpoint(pc) && !(steps == 0 && pc + 1 == load<u64>(C + A64_RESUME_FROM) && pc == firstPc)) {
          store<u64>(C + A64_RESUME_FROM, pc + 1);
          store<u64>(C + A64_EXIT_PC, pc);
          reason = EXIT_BREAKPOINT;
          break;
        }
        store<u64>(C + A64_RESUME_FROM, 0);
      }
      // deadline > now here, so this does not wrap.
      limit = deadline - cycles0;
      if (budget < limit) limit = budget;
      if (breakpoints) limit = steps + 1;
    }
    steps++;
    let next = pc + 4;
    let insn: u32 = 0;
    let form: u32 = F_WORD;
    let d: usize = 0;
    // Did this instruction call out of line (and so may have raised or changed what the loop keeps)?
    let called = false;
    if (illegal) {
      // After an illegal exception return (DDI0487 D1.4.4).
      setCurPc(pc);
      raiseSync(EC_ILLEGAL_STATE, 0);
      illegal = false;
      called = true;
    } else if ((pc & ~NO_WINDOW) == winPage) {
      // From the window: the decoded-instruction cache (decoded.ts).
      const pa = winPa | (pc & 0xFFF);
      d = a64Entry(pa);
      if (load<u64>(d, D_TAG) != decodedTag(pa)) decodeFromWindow(d, pa, winHost + (<usize>pc & 0xFFF));
      form = load<u8>(d, D_FORM);
      insn = load<u32>(d, D_INSN);
    } else {
      setCurPc(pc);
      setNowCycles(cycles0 + steps - 1);
      insn = fetch(pc);
      form = F_WORD;
      called = true;
      winPage = fetchedPage;
      winHost = fetchedHost;
      winPa = fetchedPa;
      winEpoch = load<u32>(C + CPU_MICRO_EPOCH);
      winEl = currentEl();
      winCaches = cacheEpoch;
    }
    if (pending == PEND_NONE) {
      // The forms the decoded-instruction cache took apart (decoded.ts), then
      // the dispatch on op0 (bits 28:25, C4.1) of the word, which V8 compiles
      // to jump tables; a form not handled inline goes to execute().
      let slow = false;
      let word = false;
      switch (form) {
        case F_ADD_IMM:
          setXsp(load<u8>(d, D_RD), xsp(load<u8>(d, D_RN)) + load<u64>(d, D_IMM));
          break;
        case F_SUBS_IMM:
          setX(load<u8>(d, D_RD), addSubSetFlags(xsp(load<u8>(d, D_RN)), load<u64>(d, D_IMM), true, true));
          break;
        case F_ADDS_IMM:
          setX(load<u8>(d, D_RD), addSubSetFlags(xsp(load<u8>(d, D_RN)), load<u64>(d, D_IMM), false, true));
          break;
        case F_AND_IMM:
          setXsp(load<u8>(d, D_RD), xr(load<u8>(d, D_RN)) & load<u64>(d, D_IMM));
          break;
        case F_ORR_IMM:
          setXsp(load<u8>(d, D_RD), xr(load<u8>(d, D_RN)) | load<u64>(d, D_IMM));
          break;
        case F_EOR_IMM:
          setXsp(load<u8>(d, D_RD), xr(load<u8>(d, D_RN)) ^ load<u64>(d, D_IMM));
          break;
        case F_ADD_REG:
          setX(load<u8>(d, D_RD), xr(load<u8>(d, D_RN)) + (xr(load<u8>(d, D_RM)) << load<u32>(d, D_SIZE)));
          break;
        case F_SUB_REG:
          setX(load<u8>(d, D_RD), xr(load<u8>(d, D_RN)) - (xr(load<u8>(d, D_RM)) << load<u32>(d, D_SIZE)));
          break;
        case F_SUBS_REG:
          setX(load<u8>(d, D_RD), addSubSetFlags(xr(load<u8>(d, D_RN)), xr(load<u8>(d, D_RM)) << load<u32>(d, D_SIZE), true, true));
          break;
        case F_AND_REG:
          setX(load<u8>(d, D_RD), xr(load<u8>(d, D_RN)) & (xr(load<u8>(d, D_RM)) << load<u32>(d, D_SIZE)));
          break;
        case F_ORR_REG:
          setX(load<u8>(d, D_RD), xr(load<u8>(d, D_RN)) | (xr(load<u8>(d, D_RM)) << load<u32>(d, D_SIZE)));
          break;
        case F_EOR_REG:
          setX(load<u8>(d, D_RD), xr(load<u8>(d, D_RN)) ^ (xr(load<u8>(d, D_RM)) << load<u32>(d, D_SIZE)));
          break;
        case F_LOAD_IMM: case F_STORE_IMM: case F_LOAD_REG: case F_STORE_REG: {
          const rn = <u32>load<u8>(d, D_RN);
          const base = xsp(rn);
          if (rn == 31 && (base & 15)) {
            // SP alignment checking (SCTLR_EL1.SA/SA0) is execute()'s.
            slow = true;
            break;
          }
          const bytes = load<u32>(d, D_SIZE);
          const va = base + (form <= F_STORE_IMM ? load<u64>(d, D_IMM) : xr(load<u8>(d, D_RM)) << load<u64>(d, D_IMM));
          const rt = <u32>load<u8>(d, D_RD);
          const isLoad = form == F_LOAD_IMM || form == F_LOAD_REG;
          const host = quickHost(va, bytes, isLoad ? privKind() : ARM_ACC_WRITE | privKind());
          if (host >= 0) {
            if (isLoad) setX(rt, loadSized(<usize>host, bytes));
            else {
              storeSized(<usize>host, bytes, xr(rt));
              quickStoreDone(<usize>host);
            }
            break;
          }
          setCurPc(pc);
          setNowCycles(cycles0 + steps - 1);
          if (isLoad) {
            const v = readData(va, bytes, <i32>rt, false);
            if (pending == PEND_NONE) setX(rt, v);
          } else writeData(va, bytes, xr(rt), <i32>rt, false);
          called = true;
          break;
        }
        case F_B:
          next = pc + load<u64>(d, D_IMM);
          break;
        case F_BL:
          setX(30, pc + 4);
          next = pc + load<u64>(d, D_IMM);
          break;
        case F_B_COND:
          if (conditionHolds(load<u8>(d, D_RM))) next = pc + load<u64>(d, D_IMM);
          break;
        case F_CBZ: case F_CBNZ: {
          const v = load<u32>(d, D_SIZE) ? xr(load<u8>(d, D_RD)) : xr(load<u8>(d, D_RD)) & 0xFFFF_FFFF;
          if ((v != 0) == (form == F_CBNZ)) next = pc + load<u64>(d, D_IMM);
          break;
        }
        case F_TBZ: case F_TBNZ: {
          const set = (xr(load<u8>(d, D_RD)) >> load<u8>(d, D_RM)) & 1;
          if ((set != 0) == (form == F_TBNZ)) next = pc + load<u64>(d, D_IMM);
          break;
        }
        default:
          word = true;
          break;
      }
      if (word) switch ((insn >> 25) & 15) {
        case 0b1000: case 0b1001: {
          // Data processing (immediate): ADD/SUB (immediate) and logical (immediate).
          const group = (insn >> 23) & 7;
          if (group == 0b010) addSubImmediate(insn);
          else slow = group != 0b100 || !logicalImmediate(insn);
          break;
        }
        case 0b0101: case 0b1101:
          // Data processing (register): bits 28:24 0b01010 logical (shifted
          // register), 0b01011 ADD/SUB with bit 21 clear (shifted register).
          if (insn & (1 << 28)) slow = true;
          else if (!(insn & (1 << 24))) slow = !logicalShifted(insn);
          else slow = (insn & (1 << 21)) != 0 || !addSubShifted(insn);
          break;
        case 0b0100: case 0b0110: case 0b1100: case 0b1110: {
          // Loads and stores: LDR/STR/LDRB/STRB/LDRH/STRH with an unsigned
          // offset (bits 29:24 0b111001) or a register offset (0b111000).
          const opc = (insn >> 22) & 3;
          if ((insn & 0x3E00_0000) != 0x3800_0000 || opc > 1 || (!(insn & (1 << 24)) && (insn & 0x0020_4C00) != 0x0020_4800)) {
            slow = true;
            break;
          }
          const rn = (insn >> 5) & 31;
          const base = xsp(rn);
          if (rn == 31 && (base & 15)) {
            // SP alignment checking (SCTLR_EL1.SA/SA0) is execute()'s.
            slow = true;
            break;
          }
          const size = insn >> 30;
          const bytes: u32 = 1 << size;
          const va = base + (insn & (1 << 24)
            ? <u64>((insn >> 10) & 0xFFF) << size
            : extendReg(xr((insn >> 16) & 31), (insn >> 13) & 7, (insn >> 12) & 1 ? size : 0));
          const rt = insn & 31;
          const host = quickHost(va, bytes, opc ? privKind() : ARM_ACC_WRITE | privKind());
          if (host >= 0) {
            if (opc) setX(rt, loadSized(<usize>host, bytes));
            else {
              storeSized(<usize>host, bytes, xr(rt));
              quickStoreDone(<usize>host);
            }
            break;
          }
          // A miss: the whole access through mem.ts, which may walk, fault or exit (MMIO).
          setCurPc(pc);
          setNowCycles(cycles0 + steps - 1);
          if (opc) {
            const v = readData(va, bytes, <i32>rt, false);
            if (pending == PEND_NONE) setX(rt, v);
          } else writeData(va, bytes, xr(rt), <i32>rt, false);
          called = true;
          break;
        }
        case 0b1010: case 0b1011:
          // Branches: the immediate ones here; the system and exception-generating instructions and BR/RET in execute().
          if ((insn & 0xFF00_0010) == 0x5400_0000) next = conditionalBranch(insn, pc);
          else if ((insn & 0x7E00_0000) == 0x3400_0000) next = compareAndBranch(insn, pc);
          else if ((insn & 0x7C00_0000) == 0x1400_0000) next = branchImmediate(insn, pc);
          else if ((insn & 0x7E00_0000) == 0x3600_0000) next = testAndBranch(insn, pc);
          else slow = true;
          break;
        default:
          slow = true;
          break;
      }
      if (slow) {
        setCurPc(pc);
        setNowCycles(cycles0 + steps - 1);
        next = execute(insn, pc);
        called = true;
      }
    }
    if (called) {
      if (pending != PEND_NONE) {
        if (pending == PEND_SYNC) {
          const loop = takeSync(pc);
          if (loop) {
            reason = loop;
            break;
          }
          pc = load<u64>(C + A64_PC);
          winPage = NO_WINDOW;
          continue;
        }
        clearPending();
        reason = load<u32>(C + A64_EXIT_REASON);
        pc = exitResumePc;
        // The instruction completed unless it was trapped (PC still at it) or stopped the CPU.
        if (reason != EXIT_TRAP && !load<u32>(C + A64_OFF)) retired++;
        break;
      }
      if (irqRecheck || gicTouched) limit = 0;
      if (load<u32>(C + CPU_MICRO_EPOCH) != winEpoch || currentEl() != winEl || cacheEpoch != winCaches) winPage = NO_WINDOW;
    }
    retired++;
    pc = next;
  }
  if (steps && reason != EXIT_BREAKPOINT) store<u64>(C + A64_RESUME_FROM, 0);
  store<u64>(C + A64_PC, pc);
  store<u64>(C + A64_CYCLES, cycles0 + steps);
  store<u64>(C + A64_INSTRUCTIONS, retired0 + retired);
  store<u32>(C + A64_EXIT_REASON, reason);
  countExit(reason);
  return reason;
}

// ── Decode ───────────────────────────────────────────────────────────────────

/** Executes one instruction at pc; returns the next PC. */
function execute(insn: u32, pc: u64): u64 {
  const op0 = (insn >> 25) & 15;
  if ((op0 & 0b1110) == 0b1000) {
    dataProcessingImmediate(insn, pc);
    return pc + 4;
  }
  if ((op0 & 0b1110) == 0b1010) return branchSystem(insn, pc);
  if ((op0 & 0b0101) == 0b0100) {
    loadStore(insn, pc);
    return pc + 4;
  }
  if ((op0 & 0b0111) == 0b0101) {
    dataProcessingRegister(insn);
    return pc + 4;
  }
  if ((op0 & 0b0111) == 0b0111) {
    simdFp();
    return pc;
  }
  raiseUndef();
  return pc;
}

// ── Branches, exception generation and system, C4.1.87 ───────────────────────

// The immediate branches run inline in the loop as well.

/** B / BL. */
@inline function branchImmediate(insn: u32, pc: u64): u64 {
  if (insn >> 31) setX(30, pc + 4);
  return pc + sext(<u64>(insn & 0x3FF_FFFF) << 2, 28);
}

/** CBZ / CBNZ. */
@inline function compareAndBranch(insn: u32, pc: u64): u64 {
  const v = insn >> 31 ? xr(insn & 31) : xr(insn & 31) & 0xFFFF_FFFF;
  const nonzero = (insn >> 24) & 1;
  if ((v != 0) == (nonzero != 0)) return pc + sext(<u64>((insn >> 5) & 0x7FFFF) << 2, 21);
  return pc + 4;
}

/** TBZ / TBNZ. */
@inline function testAndBranch(insn: u32, pc: u64): u64 {
  const bit = ((insn >> 26) & 32) | ((insn >> 19) & 31);
  const set = (xr(insn & 31) >> bit) & 1;
  if (set == ((insn >> 24) & 1)) return pc + sext(<u64>((insn >> 5) & 0x3FFF) << 2, 16);
  return pc + 4;
}

/** B.cond (bit 4 clear). */
@inline function conditionalBranch(insn: u32, pc: u64): u64 {
  if (conditionHolds(insn & 15)) return pc + sext(<u64>((insn >> 5) & 0x7FFFF) << 2, 21);
  return pc + 4;
}

function branchSystem(insn: u32, pc: u64): u64 {
  if ((insn & 0x7C00_0000) == 0x1400_0000) return branchImmediate(insn, pc);
  if ((insn & 0x7E00_0000) == 0x3400_0000) return compareAndBranch(insn, pc);
  if ((insn & 0x7E00_0000) == 0x3600_0000) return testAndBranch(insn, pc);
  if ((insn & 0xFF00_0010) == 0x5400_0000) return conditionalBranch(insn, pc);
  if ((insn & 0xFF00_0000) == 0xD400_0000) {
    exceptionGeneration(insn);
    return pc + 4;
  }
  if ((insn & 0xFFC0_0000) == 0xD500_0000) {
    system(insn);
    return pc + 4;
  }
  if ((insn & 0xFE00_0000) == 0xD600_0000) return branchRegister(insn, pc);
  raiseUndef();
  return pc;
}

/** SVC, HVC, SMC, BRK. */
function exceptionGeneration(insn: u32): void {
  const opc = (insn >> 21) & 7;
  const imm = (insn >> 5) & 0xFFFF;
  const ll = insn & 3;
  if ((insn >> 2) & 7) {
    raiseUndef();
    return;
  }
  const el = currentEl();
  if (opc == 0 && ll == 1) {
    raiseSvc(imm);
    return;
  }
  if (opc == 0 && (ll == 2 || ll == 3)) {
    if (el == 0) {
      raiseUndef();
      return;
    }
    store<u64>(C + A64_EXIT_VALUE, <u64>imm);
    raiseExit(ll == 2 ? EXIT_HVC : EXIT_SMC, curPc + 4);
    return;
  }
  if (opc == 1 && ll == 0) {
    raiseSync(EC_BRK, imm);
    return;
  }
  raiseUndef();
}

/** MSR/MRS, SYS, hints, barriers, MSR (immediate). */
function system(insn: u32): void {
  const l = (insn >> 21) & 1;
  const op0 = (insn >> 19) & 3;
  if (op0 >= 2) {
    const key = (insn >> 5) & 0xFFFF;
    if (l) mrs(insn, key);
    else msr(insn, key);
    return;
  }
  if (l) {
    raiseUndef();
    return;
  }
  if (op0 == 1) {
    sys(insn);
    return;
  }
  const crn = (insn >> 12) & 15;
  if ((insn & 31) != 31) {
    raiseUndef();
    return;
  }
  if (crn == 4) msrImmediate(insn);
  else if (crn == 2) hint(insn);
  else if (crn == 3) barrier(insn);
  else raiseUndef();
}

/** BR, BLR, RET, ERET. */
function branchRegister(insn: u32, pc: u64): u64 {
  const opc = (insn >> 21) & 15;
  const rn = (insn >> 5) & 31;
  if (((insn >> 16) & 31) != 31 || ((insn >> 10) & 63) != 0 || (insn & 31) != 0) {
    raiseUndef();
    return pc;
  }
  if (opc == 0 || opc == 2) return xr(rn);
  if (opc == 1) {
    const target = xr(rn);
    setX(30, pc + 4);
    return target;
  }
  if (opc == 4 && rn == 31) {
    if (currentEl() == 0) {
      raiseUndef();
      return pc;
    }
    setIrqRecheck(true);
    return exceptionReturn();
  }
  raiseUndef();
  return pc;
}
