// SPDX-License-Identifier: MIT
//
// The A64 run loop and the decode and execution of the integer, branch and
// load/store instructions (DDI0487 C4 "A64 Instruction Set Encoding"). Each
// instruction is decoded from its 32-bit word every time it runs.
//
// One step: take an IRQ that is due (the GIC says so, PSTATE.I clear), fetch
// the word at PC through the MMU, execute it. An instruction that faults
// raises the exception (exception.ts) and changes nothing; the loop then
// takes it with PC at the instruction. PC, the step count and the fetch
// window stay in locals and module globals; the CPU block is written when the
// loop returns.

import { C, selectedCpu } from "../../cpu";
import {
  A64_PC, A64_INSTRUCTIONS, A64_CYCLES, A64_OFF, A64_EXIT_REASON, A64_EXIT_PC, A64_EXIT_VALUE, A64_EXIT_DETAIL,
  A64_BREAKPOINT_COUNT, A64_BREAKPOINTS, A64_PLAIN, PLAIN_CPACR_EL1, ARM_HCR_EL2, ARM_SCTLR_EL1, CPU_MICRO_EPOCH, EXIT_BUDGET, EXIT_STOPPED,
  EXIT_OFF, EXIT_BREAKPOINT, EXIT_HVC, EXIT_SMC, EXIT_TRAP, TRAP_IRQ, MMIO_SIGNED, MMIO_W,
} from "../../layout";
import { XLATE_FAILED } from "../../tlb/micro";
import { physHost } from "../../phys/ram";
import { armReg, HCR_IMO } from "../regs";
import { armTranslate } from "../translate";
import { cachesOn, coherentRead64 } from "../cache";
import { ARM_ACC_FETCH, ARM_ACC_EL0 } from "../vmsa/permissions";
import { gicPendingIrq } from "../gic";
import { timerNextDeadline } from "../timer";
import {
  pstate, setPstate, currentEl, xr, setX, xsp, setXsp, setXs, conditionHolds, setNzcv, PSTATE_I, PSTATE_IL,
} from "./state";
import {
  pending, curPc, exitResumePc, irqRecheck, setIrqRecheck, setNowCycles, setCurPc, clearPending, raiseSync, raiseSyncFar,
  raiseUndef, raiseSvc, raiseExit, raiseAbort, takeSync, takeIrq, exceptionReturn, countExit, PEND_NONE, PEND_SYNC,
  EC_FP_ACCESS, EC_PC_ALIGN, EC_IABT_LOWER, EC_IABT_SAME, EC_BRK, EC_SP_ALIGN, EC_ILLEGAL_STATE, FSC_EXTERNAL,
} from "./exception";
import {
  addWithCarry, logicFlags, nzcvOut, shiftReg, extendReg, decodeBitMasks, wmask, tmask, rorN, ones, datasizeMask,
  reverseBits, rev16, rev32, countLeadingSign, sdiv, udiv, SHIFT_ROR,
} from "./alu";
import { mulHigh, imulHigh } from "../../common/mul128";
import {
  readData, writeData, probeWrite, atomicPa, atomicRead, atomicWrite, setMonitor, takeMonitor, gicTouched,
  clearGicTouched, NO_MMIO,
} from "./mem";
import { mrs, msr, msrImmediate, hint, barrier, sys } from "./sysreg";

@inline function sext(v: u64, bits: u32): u64 {
  return <u64>((<i64>(v << (64 - bits))) >> (64 - bits));
}

// ── The fetch window ─────────────────────────────────────────────────────────
//
// The page PC is in, translated once for a fetch at the current EL, with its
// host address; valid until PC leaves the page, the EL changes (the loop and
// ERET drop it), or a TLB
// invalidation starts a new micro-TLB epoch. With the data caches modelled,
// every fetch reads the freshest copy instead (instruction fetches are
// coherent with data here: instruction caches are not modelled).

let winPage: u64 = 1;
let winHost: usize = 0;
let winEpoch: u32 = 0;

function fetch(pc: u64): u32 {
  if (pc & 3) {
    raiseSyncFar(EC_PC_ALIGN, 0, pc);
    return 0;
  }
  // Every change of EL (exception entry, ERET) drops the window.
  if ((pc & ~<u64>0xFFF) == winPage && winEpoch == load<u32>(C + CPU_MICRO_EPOCH)) {
    return load<u32>(winHost + <usize>(pc & 0xFFF));
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
  if (cachesOn) return <u32>(coherentRead64(pa & ~<u64>7) >> ((pa & 4) << 3));
  winPage = pc & ~<u64>0xFFF;
  winHost = <usize>h;
  winEpoch = load<u32>(C + CPU_MICRO_EPOCH);
  return load<u32>(<usize>h + <usize>(pa & 0xFFF));
}

// ── Run loop ─────────────────────────────────────────────────────────────────

/** The PC a breakpoint exit stopped at: the next run starts there without stopping again. */
let resumeFrom: u64 = u64.MAX_VALUE;

function atBreakpoint(pc: u64): bool {
  const n = load<u32>(C + A64_BREAKPOINT_COUNT);
  for (let i: u32 = 0; i < n; i++) {
    if (load<u64>(C + A64_BREAKPOINTS + (<usize>i << 3)) == pc) return true;
  }
  return false;
}

/** Runs the selected CPU for up to `budget` instructions; returns EXIT_*. */
export function run(budget: u64): u32 {
  const off = load<u32>(C + A64_OFF);
  if (off) return off == 1 ? EXIT_OFF : EXIT_STOPPED;
  const cpu = selectedCpu;
  const cycles0 = load<u64>(C + A64_CYCLES);
  const retired0 = load<u64>(C + A64_INSTRUCTIONS);
  const firstPc = load<u64>(C + A64_PC);
  let pc = firstPc;
  let steps: u64 = 0;
  let retired: u64 = 0;
  let reason: u32 = EXIT_BUDGET;
  let deadline: u64 = 0;
  let illegal = false;
  // Breakpoints change only between runs.
  const breakpoints = load<u32>(C + A64_BREAKPOINT_COUNT) != 0;
  winPage = 1;
  clearPending();
  setIrqRecheck(true);
  for (;;) {
    if (steps >= budget) break;
    const now = cycles0 + steps;
    if (irqRecheck || gicTouched || now >= deadline) {
      setIrqRecheck(false);
      clearGicTouched();
      if (gicPendingIrq(cpu, now) && currentEl() < 2) {
        if (armReg(ARM_HCR_EL2) & HCR_IMO) {
          // Physical IRQs go to EL2: the hypervisor's to take.
          setCurPc(pc);
          store<u32>(C + A64_EXIT_DETAIL, TRAP_IRQ);
          raiseExit(EXIT_TRAP, pc);
          clearPending();
          reason = EXIT_TRAP;
          break;
        }
        if (!(pstate() & PSTATE_I)) {
          takeIrq(pc);
          pc = load<u64>(C + A64_PC);
          winPage = 1;
        }
      }
      deadline = timerNextDeadline(cpu);
      // A condition that already holds was taken or is masked; unmasking rechecks.
      if (deadline <= now) deadline = u64.MAX_VALUE;
      // PSTATE.IL is set only by an exception return, which also asks for this check.
      illegal = (pstate() & PSTATE_IL) != 0;
    }
    if (breakpoints && atBreakpoint(pc) && !(steps == 0 && pc == resumeFrom && pc == firstPc)) {
      resumeFrom = pc;
      store<u64>(C + A64_EXIT_PC, pc);
      reason = EXIT_BREAKPOINT;
      break;
    }
    resumeFrom = u64.MAX_VALUE;
    setNowCycles(now);
    setCurPc(pc);
    steps++;
    let next = pc + 4;
    if (illegal) {
      // After an illegal exception return (DDI0487 D1.4.4).
      raiseSync(EC_ILLEGAL_STATE, 0);
      illegal = false;
    } else {
      const insn = fetch(pc);
      if (pending == PEND_NONE) next = execute(insn, pc);
    }
    if (pending != PEND_NONE) {
      if (pending == PEND_SYNC) {
        const loop = takeSync(pc);
        if (loop) {
          reason = loop;
          break;
        }
        pc = load<u64>(C + A64_PC);
        winPage = 1;
        continue;
      }
      clearPending();
      reason = load<u32>(C + A64_EXIT_REASON);
      pc = exitResumePc;
      // The instruction completed unless it was trapped (PC still at it) or stopped the CPU.
      if (reason != EXIT_TRAP && !load<u32>(C + A64_OFF)) retired++;
      break;
    }
    retired++;
    pc = next;
  }
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

/**
 * A SIMD or floating-point instruction: none is implemented, but while
 * CPACR_EL1.FPEN traps them (its reset value 0 does, as on QEMU) they take
 * the trap (EC 0x07, ISS CV = 1, COND = 0b1110) rather than UNDEFINED.
 */
function simdFp(): void {
  const fpen = <u32>(load<u64>(C + A64_PLAIN + (<usize>PLAIN_CPACR_EL1 << 3)) >> 20) & 3;
  if (fpen == 3 || (fpen == 1 && currentEl() == 1)) raiseUndef();
  else raiseSync(EC_FP_ACCESS, 0x1E0_0000);
}

// ── Data processing (immediate), C4.1.86 ─────────────────────────────────────

function dataProcessingImmediate(insn: u32, pc: u64): void {
  const sf = (insn >> 31) != 0;
  const rd = insn & 31;
  const rn = (insn >> 5) & 31;
  const group = (insn >> 23) & 7;
  switch (group) {
    case 0b000:
    case 0b001: {
      // ADR / ADRP.
      const imm = sext((<u64>((insn >> 5) & 0x7FFFF) << 2) | <u64>((insn >> 29) & 3), 21);
      setX(rd, sf ? (pc & ~<u64>0xFFF) + (imm << 12) : pc + imm);
      return;
    }
    case 0b010: {
      // ADD/ADDS/SUB/SUBS (immediate): Rn and (unless S) Rd may be SP.
      const sub = (insn >> 30) & 1;
      const s = (insn >> 29) & 1;
      let imm = <u64>((insn >> 10) & 0xFFF);
      if (insn & (1 << 22)) imm <<= 12;
      const a = xsp(rn);
      const r = addWithCarry(a, sub ? ~imm : imm, sub, sf);
      if (s) {
        setNzcv(nzcvOut);
        setXs(rd, r, sf);
      } else setXsp(rd, sf ? r : r & 0xFFFF_FFFF);
      return;
    }
    case 0b100: {
      // Logical (immediate).
      const n = (insn >> 22) & 1;
      if (!sf && n) break;
      if (!decodeBitMasks(n, (insn >> 10) & 63, (insn >> 16) & 63, true, sf)) break;
      const a = xr(rn);
      const opc = (insn >> 29) & 3;
      let r: u64;
      if (opc == 0 || opc == 3) r = a & wmask;
      else if (opc == 1) r = a | wmask;
      else r = a ^ wmask;
      r &= datasizeMask(sf);
      if (opc == 3) {
        logicFlags(r, sf);
        setNzcv(nzcvOut);
        setX(rd, r);
      } else setXsp(rd, r);
      return;
    }
    case 0b101: {
      // MOVN / MOVZ / MOVK.
      const opc = (insn >> 29) & 3;
      const hw = (insn >> 21) & 3;
      if (opc == 1 || (!sf && hw >= 2)) break;
      const pos = <u64>hw << 4;
      const imm = <u64>((insn >> 5) & 0xFFFF) << pos;
      let r: u64;
      if (opc == 0) r = ~imm;
      else if (opc == 2) r = imm;
      else r = (xr(rd) & ~(<u64>0xFFFF << pos)) | imm;
      setXs(rd, r, sf);
      return;
    }
    case 0b110: {
      // SBFM / BFM / UBFM.
      const opc = (insn >> 29) & 3;
      const n = (insn >> 22) & 1;
      const immr = (insn >> 16) & 63;
      const imms = (insn >> 10) & 63;
      if (opc == 3 || n != (sf ? 1 : 0)) break;
      if (!sf && (immr >= 32 || imms >= 32)) break;
      if (!decodeBitMasks(n, imms, immr, false, sf)) break;
      const size: u32 = sf ? 64 : 32;
      const src = xr(rn) & datasizeMask(sf);
      const bot0 = rorN(src, immr, size) & wmask;
      let r: u64;
      if (opc == 1) {
        const dst = xr(rd);
        const bot = (dst & ~wmask) | bot0;
        r = (dst & ~tmask) | (bot & tmask);
      } else if (opc == 2) {
        r = bot0 & tmask;
      } else {
        const top = (src >> imms) & 1 ? datasizeMask(sf) : 0;
        r = (top & ~tmask) | (bot0 & tmask);
      }
      setXs(rd, r, sf);
      return;
    }
    case 0b111: {
      // EXTR (and ROR (immediate)).
      const n = (insn >> 22) & 1;
      const lsb = (insn >> 10) & 63;
      if (((insn >> 29) & 3) != 0 || (insn & (1 << 21)) || n != (sf ? 1 : 0) || (!sf && lsb >= 32)) break;
      const hi = xr(rn);
      const lo = xr((insn >> 16) & 31);
      let r: u64;
      if (sf) r = lsb == 0 ? lo : (lo >> lsb) | (hi << (64 - lsb));
      else r = ((((hi & 0xFFFF_FFFF) << 32) | (lo & 0xFFFF_FFFF)) >> lsb) & 0xFFFF_FFFF;
      setX(rd, r);
      return;
    }
    default:
      break;
  }
  raiseUndef();
}

// ── Data processing (register), C4.1.88 ──────────────────────────────────────

function dataProcessingRegister(insn: u32): void {
  const sf = (insn >> 31) != 0;
  const rd = insn & 31;
  const rn = (insn >> 5) & 31;
  const rm = (insn >> 16) & 31;
  const mask = datasizeMask(sf);
  if ((insn & 0x1F00_0000) == 0x0A00_0000) {
    // Logical (shifted register): AND BIC ORR ORN EOR EON ANDS BICS.
    const amount = (insn >> 10) & 63;
    if (!sf && amount >= 32) {
      raiseUndef();
      return;
    }
    let b = shiftReg(xr(rm), (insn >> 22) & 3, amount, sf);
    if (insn & (1 << 21)) b = ~b & mask;
    const a = xr(rn) & mask;
    const opc = (insn >> 29) & 3;
    let r: u64;
    if (opc == 0 || opc == 3) r = a & b;
    else if (opc == 1) r = a | b;
    else r = a ^ b;
    if (opc == 3) {
      logicFlags(r, sf);
      setNzcv(nzcvOut);
    }
    setX(rd, r);
    return;
  }
  if ((insn & 0x1F00_0000) == 0x0B00_0000) {
    const sub = (insn >> 30) & 1;
    const s = (insn >> 29) & 1;
    if (insn & (1 << 21)) {
      // ADD/SUB (extended register): Rn and (unless S) Rd may be SP.
      const shift = (insn >> 10) & 7;
      if (shift > 4 || ((insn >> 22) & 3) != 0) {
        raiseUndef();
        return;
      }
      const b = extendReg(xr(rm), (insn >> 13) & 7, shift);
      const r = addWithCarry(xsp(rn), sub ? ~b : b, sub, sf);
      if (s) {
        setNzcv(nzcvOut);
        setXs(rd, r, sf);
      } else setXsp(rd, r & mask);
      return;
    }
    // ADD/SUB (shifted register).
    const type = (insn >> 22) & 3;
    const amount = (insn >> 10) & 63;
    if (type == SHIFT_ROR || (!sf && amount >= 32)) {
      raiseUndef();
      return;
    }
    const b = shiftReg(xr(rm), type, amount, sf);
    const r = addWithCarry(xr(rn), sub ? ~b : b, sub, sf);
    if (s) setNzcv(nzcvOut);
    setXs(rd, r, sf);
    return;
  }
  if ((insn & 0x1F00_0000) == 0x1B00_0000) {
    dataProcessing3(insn, sf, rd, rn, rm);
    return;
  }
  const op = (insn >> 21) & 0xFF;
  if ((insn & 0x1FE0_0000) == 0x1A00_0000) {
    // ADC/ADCS/SBC/SBCS.
    if ((insn >> 10) & 63) {
      raiseUndef();
      return;
    }
    const sub = (insn >> 30) & 1;
    const b = xr(rm);
    const r = addWithCarry(xr(rn), sub ? ~b : b, (pstate() >> 29) & 1, sf);
    if ((insn >> 29) & 1) setNzcv(nzcvOut);
    setXs(rd, r, sf);
    return;
  }
  if ((insn & 0x1FE0_0000) == 0x1A40_0000) {
    // CCMN / CCMP (register or immediate).
    if (!((insn >> 29) & 1) || (insn & (1 << 10)) || (insn & (1 << 4))) {
      raiseUndef();
      return;
    }
    if (conditionHolds((insn >> 12) & 15)) {
      const b = insn & (1 << 11) ? <u64>rm : xr(rm);
      const sub = (insn >> 30) & 1;
      addWithCarry(xr(rn), sub ? ~b : b, sub, sf);
      setNzcv(nzcvOut);
    } else setNzcv(<u64>(insn & 15));
    return;
  }
  if ((insn & 0x1FE0_0000) == 0x1A80_0000) {
    // CSEL / CSINC / CSINV / CSNEG.
    const op2 = (insn >> 10) & 3;
    if ((insn >> 29) & 1 || op2 > 1) {
      raiseUndef();
      return;
    }
    let r: u64;
    if (conditionHolds((insn >> 12) & 15)) r = xr(rn);
    else {
      r = xr(rm);
      const inv = (insn >> 30) & 1;
      if (inv) r = ~r;
      if (op2 == 1) r += 1;
    }
    setXs(rd, r, sf);
    return;
  }
  if (op == 0xD6 && !((insn >> 29) & 1)) {
    const opcode = (insn >> 10) & 63;
    if (insn & (1 << 30)) {
      // Data-processing (1 source): RBIT REV16 REV32 REV CLZ CLS.
      if (rm != 0) {
        raiseUndef();
        return;
      }
      const a = xr(rn) & mask;
      let r: u64;
      switch (opcode) {
        case 0: r = reverseBits(a, sf); break;
        case 1: r = rev16(a, sf); break;
        case 2: r = sf ? rev32(a) : <u64>bswap<u32>(<u32>a); break;
        case 3:
          if (!sf) {
            raiseUndef();
            return;
          }
          r = bswap<u64>(a);
          break;
        case 4: r = sf ? <u64>clz<u64>(a) : <u64>clz<u32>(<u32>a); break;
        case 5: r = countLeadingSign(a, sf); break;
        default:
          raiseUndef();
          return;
      }
      setX(rd, r);
      return;
    }
    // Data-processing (2 source): UDIV SDIV LSLV LSRV ASRV RORV.
    const a = xr(rn);
    const b = xr(rm);
    let r: u64;
    switch (opcode) {
      case 2: r = udiv(a, b, sf); break;
      case 3: r = sdiv(a, b, sf); break;
      case 8: case 9: case 10: case 11:
        r = shiftReg(a, opcode - 8, <u32>(b & (sf ? 63 : 31)), sf);
        break;
      default:
        raiseUndef();
        return;
    }
    setXs(rd, r, sf);
    return;
  }
  raiseUndef();
}

/** MADD MSUB SMADDL SMSUBL UMADDL UMSUBL SMULH UMULH. */
function dataProcessing3(insn: u32, sf: bool, rd: u32, rn: u32, rm: u32): void {
  const op31 = (insn >> 21) & 7;
  const o0 = (insn >> 15) & 1;
  const ra = (insn >> 10) & 31;
  if ((insn >> 29) & 3) {
    raiseUndef();
    return;
  }
  const a = xr(rn);
  const b = xr(rm);
  if (op31 == 0) {
    const p = a * b;
    setXs(rd, o0 ? xr(ra) - p : xr(ra) + p, sf);
    return;
  }
  if (!sf) {
    raiseUndef();
    return;
  }
  switch (op31) {
    case 1:
    case 5: {
      const p = op31 == 1 ? <u64>(<i64>(<i32>a) * <i64>(<i32>b)) : (a & 0xFFFF_FFFF) * (b & 0xFFFF_FFFF);
      setX(rd, o0 ? xr(ra) - p : xr(ra) + p);
      return;
    }
    case 2:
      if (o0 || ra != 31) break;
      setX(rd, imulHigh(a, b));
      return;
    case 6:
      if (o0 || ra != 31) break;
      setX(rd, mulHigh(a, b));
      return;
    default:
      break;
  }
  raiseUndef();
}

// ── Branches, exception generation and system, C4.1.87 ───────────────────────

function branchSystem(insn: u32, pc: u64): u64 {
  if ((insn & 0x7C00_0000) == 0x1400_0000) {
    // B / BL.
    if (insn >> 31) setX(30, pc + 4);
    return pc + sext(<u64>(insn & 0x3FF_FFFF) << 2, 28);
  }
  if ((insn & 0x7E00_0000) == 0x3400_0000) {
    // CBZ / CBNZ.
    const v = insn >> 31 ? xr(insn & 31) : xr(insn & 31) & 0xFFFF_FFFF;
    const nonzero = (insn >> 24) & 1;
    if ((v != 0) == (nonzero != 0)) return pc + sext(<u64>((insn >> 5) & 0x7FFFF) << 2, 21);
    return pc + 4;
  }
  if ((insn & 0x7E00_0000) == 0x3600_0000) {
    // TBZ / TBNZ.
    const bit = ((insn >> 26) & 32) | ((insn >> 19) & 31);
    const set = (xr(insn & 31) >> bit) & 1;
    if (set == ((insn >> 24) & 1)) return pc + sext(<u64>((insn >> 5) & 0x3FFF) << 2, 16);
    return pc + 4;
  }
  if ((insn & 0xFF00_0010) == 0x5400_0000) {
    // B.cond.
    if (conditionHolds(insn & 15)) return pc + sext(<u64>((insn >> 5) & 0x7FFFF) << 2, 21);
    return pc + 4;
  }
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
    winPage = 1;
    return exceptionReturn();
  }
  raiseUndef();
  return pc;
}

// ── Loads and stores, C4.1.85 ────────────────────────────────────────────────

/** The base register Xn|SP of an access; with Rn = SP, SP alignment is checked (SCTLR_EL1.SA / SA0). */
function baseAddress(rn: u32): u64 {
  const base = xsp(rn);
  if (rn == 31 && (base & 15)) {
    const sctlr = armReg(ARM_SCTLR_EL1);
    if (sctlr & (currentEl() == 0 ? 0x10 : 0x8)) raiseSync(EC_SP_ALIGN, 0);
  }
  return base;
}

function loadStore(insn: u32, pc: u64): void {
  if (insn & (1 << 26)) {
    // SIMD&FP registers.
    simdFp();
    return;
  }
  if ((insn & 0x3B00_0000) == 0x1800_0000) {
    loadLiteral(insn, pc);
    return;
  }
  if ((insn & 0x3F00_0000) == 0x0800_0000) {
    exclusiveOrdered(insn);
    return;
  }
  if ((insn & 0x3A00_0000) == 0x2800_0000) {
    loadStorePair(insn);
    return;
  }
  if ((insn & 0x3B20_0000) == 0x3800_0000) {
    // Unscaled immediate, post-index, unprivileged, pre-index.
    const idx = (insn >> 10) & 3;
    if (idx == 2) {
      raiseUndef();
      return;
    }
    const off = sext(<u64>((insn >> 12) & 0x1FF), 9);
    loadStoreSingle(insn, off, idx == 1 ? 1 : idx == 3 ? 2 : 0);
    return;
  }
  if ((insn & 0x3B20_0000) == 0x3820_0000) {
    const kind = (insn >> 10) & 3;
    if (kind == 2) {
      // Register offset: Xm extended by option, scaled by the size when S.
      const option = (insn >> 13) & 7;
      if (!(option & 2)) {
        raiseUndef();
        return;
      }
      const size = insn >> 30;
      const shift = (insn >> 12) & 1 ? size : 0;
      loadStoreSingle(insn, extendReg(xr((insn >> 16) & 31), option, shift), 0);
      return;
    }
    if (kind == 0) {
      atomicMemory(insn);
      return;
    }
    raiseUndef();
    return;
  }
  if ((insn & 0x3B00_0000) == 0x3900_0000) {
    const size = insn >> 30;
    loadStoreSingle(insn, <u64>((insn >> 10) & 0xFFF) << size, 0);
    return;
  }
  raiseUndef();
}

/**
 * LDR/STR/LDRB/…/LDRSW (immediate and register forms). writeback: 0 none,
 * 1 post-index, 2 pre-index. The only loads and stores that may be MMIO.
 */
function loadStoreSingle(insn: u32, offset: u64, writeback: u32): void {
  const size = insn >> 30;
  const opc = (insn >> 22) & 3;
  const rn = (insn >> 5) & 31;
  const rt = insn & 31;
  const bytes: u32 = 1 << size;
  if (opc == 2 && size == 3) {
    // PRFM / PRFUM: a hint; the pre/post-index forms are unallocated.
    if (writeback) raiseUndef();
    return;
  }
  if (opc == 3 && size >= 2) {
    raiseUndef();
    return;
  }
  if (writeback && rn == rt && rn != 31 && opc != 0) {
    // Load with writeback to its own base: CONSTRAINED UNPREDICTABLE; UNDEFINED here.
    raiseUndef();
    return;
  }
  const base = baseAddress(rn);
  if (pending != PEND_NONE) return;
  const va = writeback == 1 ? base : base + offset;
  if (opc == 0) {
    writeData(va, bytes, xr(rt), true, false);
  } else {
    const signed = opc >= 2;
    const w = opc == 3;
    const v = readData(va, bytes, <i32>(rt | (signed ? MMIO_SIGNED : 0) | (w ? MMIO_W : 0)), false);
    if (pending == PEND_SYNC) return;
    if (pending == PEND_NONE) setX(rt, extendLoaded(v, bytes, signed, w));
  }
  if (pending == PEND_SYNC) return;
  if (writeback) setXsp(rn, base + offset);
}

/** A loaded value as the destination takes it: zero- or sign-extended to 64 bits, or to 32 for a W register. */
export function extendLoaded(v: u64, bytes: u32, signed: bool, w: bool): u64 {
  if (!signed) return v;
  const s = sext(v, bytes << 3);
  return w ? s & 0xFFFF_FFFF : s;
}

/** LDR (literal) W, X, LDRSW; PRFM (literal). */
function loadLiteral(insn: u32, pc: u64): void {
  const opc = insn >> 30;
  if (opc == 3) return;
  const va = pc + sext(<u64>((insn >> 5) & 0x7FFFF) << 2, 21);
  const rt = insn & 31;
  const bytes: u32 = opc == 0 ? 4 : opc == 1 ? 8 : 4;
  const v = readData(va, bytes, <i32>(rt | (opc == 2 ? MMIO_SIGNED : 0)), false);
  if (pending == PEND_NONE) setX(rt, opc == 2 ? sext(v, 32) : v);
}

/** LDP/STP/LDPSW/LDNP/STNP (offset, pre-index, post-index). */
function loadStorePair(insn: u32): void {
  const opc = insn >> 30;
  const load = (insn >> 22) & 1;
  const type = (insn >> 23) & 3;
  if (opc == 3 || (opc == 1 && !load)) {
    raiseUndef();
    return;
  }
  const bytes: u32 = opc == 2 ? 8 : 4;
  const signed = opc == 1;
  const offset = sext(<u64>((insn >> 15) & 0x7F), 7) << (opc == 2 ? 3 : 2);
  const rt = insn & 31;
  const rt2 = (insn >> 10) & 31;
  const rn = (insn >> 5) & 31;
  const writeback = type == 1 || type == 3;
  if (load && (rt == rt2 || (writeback && rn != 31 && (rn == rt || rn == rt2)))) {
    raiseUndef();
    return;
  }
  const base = baseAddress(rn);
  if (pending != PEND_NONE) return;
  const va = type == 1 ? base : base + offset;
  if (load) {
    const a = readData(va, bytes, NO_MMIO, false);
    if (pending != PEND_NONE) return;
    const b = readData(va + bytes, bytes, NO_MMIO, false);
    if (pending != PEND_NONE) return;
    setX(rt, signed ? sext(a, 32) : a);
    setX(rt2, signed ? sext(b, 32) : b);
  } else {
    // Both halves must be writable before either is written.
    if (!probeWrite(va + bytes * 2 - 1)) return;
    writeData(va, bytes, xr(rt), false, false);
    if (pending != PEND_NONE) return;
    writeData(va + bytes, bytes, xr(rt2), false, false);
    if (pending != PEND_NONE) return;
  }
  if (writeback) setXsp(rn, base + offset);
}

/** LDXR/STXR/LDAXR/STLXR, LDAR/STLR (and LDLAR/STLLR), CAS/CASA/CASL/CASAL. */
function exclusiveOrdered(insn: u32): void {
  const size = insn >> 30;
  const bytes: u32 = 1 << size;
  const o2 = (insn >> 23) & 1;
  const l = (insn >> 22) & 1;
  const o1 = (insn >> 21) & 1;
  const rs = (insn >> 16) & 31;
  const rt2 = (insn >> 10) & 31;
  const rn = (insn >> 5) & 31;
  const rt = insn & 31;
  if (o1 && o2) {
    if (rt2 != 31) {
      raiseUndef();
      return;
    }
    compareAndSwap(bytes, rs, rn, rt);
    return;
  }
  if (o1) {
    // Exclusive pairs and CASP: not in the subset.
    raiseUndef();
    return;
  }
  const va = baseAddress(rn);
  if (pending != PEND_NONE) return;
  if (o2) {
    // Load-acquire / store-release: ordinary accesses here, but they must be aligned.
    if (l) {
      const v = readData(va, bytes, NO_MMIO, true);
      if (pending == PEND_NONE) setX(rt, v);
    } else writeData(va, bytes, xr(rt), false, true);
    return;
  }
  if (l) {
    const pa = atomicPa(va, bytes, false);
    if (pa & XLATE_FAILED) return;
    const v = atomicRead(pa, bytes);
    setMonitor(pa);
    setX(rt, v);
    return;
  }
  const pa = atomicPa(va, bytes, true);
  if (pa & XLATE_FAILED) return;
  const v = xr(rt);
  if (takeMonitor(pa)) {
    atomicWrite(pa, bytes, v);
    setX(rs, 0);
  } else setX(rs, 1);
}

/** CAS: if [Xn] equals Rs, write Rt; Rs gets the old value either way. */
function compareAndSwap(bytes: u32, rs: u32, rn: u32, rt: u32): void {
  const va = baseAddress(rn);
  if (pending != PEND_NONE) return;
  const pa = atomicPa(va, bytes, true, true);
  if (pa & XLATE_FAILED) return;
  const mask = ones(bytes << 3);
  const old = atomicRead(pa, bytes);
  if (old == (xr(rs) & mask)) atomicWrite(pa, bytes, xr(rt) & mask);
  setX(rs, old);
}

/** LDADD LDCLR LDEOR LDSET LDSMAX LDSMIN LDUMAX LDUMIN and SWP (with A/R ordering variants). */
function atomicMemory(insn: u32): void {
  const bytes: u32 = 1 << (insn >> 30);
  const rs = (insn >> 16) & 31;
  const o3 = (insn >> 15) & 1;
  const opc = (insn >> 12) & 7;
  const rn = (insn >> 5) & 31;
  const rt = insn & 31;
  if (o3 && opc != 0) {
    raiseUndef();
    return;
  }
  const va = baseAddress(rn);
  if (pending != PEND_NONE) return;
  const pa = atomicPa(va, bytes, true, true);
  if (pa & XLATE_FAILED) return;
  const bits = bytes << 3;
  const mask = ones(bits);
  const old = atomicRead(pa, bytes);
  const s = xr(rs) & mask;
  let r: u64;
  if (o3) r = s;
  else {
    switch (opc) {
      case 0: r = old + s; break;
      case 1: r = old & ~s; break;
      case 2: r = old ^ s; break;
      case 3: r = old | s; break;
      case 4: r = <i64>sext(old, bits) > <i64>sext(s, bits) ? old : s; break;
      case 5: r = <i64>sext(old, bits) < <i64>sext(s, bits) ? old : s; break;
      case 6: r = old > s ? old : s; break;
      default: r = old < s ? old : s; break;
    }
  }
  atomicWrite(pa, bytes, r & mask);
  setX(rt, old);
}
