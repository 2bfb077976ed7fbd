// SPDX-License-Identifier: MIT
//
// The x86-64 run loop and the integer instructions.
//
// One step: take any interrupt that is due (system.ts), make sure the fetch
// window covers RIP, find the instruction in the decoded-instruction cache
// (decoding it on a miss), set RIP to the next instruction and run the
// handler. A handler that faults raises the exception and changes nothing;
// the loop puts RIP back and delivers it. Branches overwrite RIP.

import { C } from "../../cpu";
import {
  X86_RIP, X86_INSTRUCTIONS, X86_CYCLES, X86_STOPPED, X86_HALTED, X86_SHADOW, X86_EVENTS, X86_EXIT_REASON,
  X86_FETCH_PA, X86_FETCH_HOST, X86_BREAKPOINT_COUNT, X86_BREAKPOINTS, X86_RESUME_FROM, CPU_RFLAGS, CNT_DECODE,
  EXIT_BUDGET, EXIT_HLT, EXIT_STOPPED, EXIT_BREAKPOINT,
} from "../../layout";
import { count } from "../../cpu";
import {
  D_OP, D_LEN, D_FLAGS, D_OSIZE, D_REG, D_RM, D_SUB, D_IMM, F_CL, F_CROSS, RM_MEM,
  OP_UD, OP_ALU_EG, OP_ALU_GE, OP_ALU_EI, OP_TEST_EG, OP_TEST_EI, OP_MOV_EG, OP_MOV_GE, OP_MOV_EI, OP_MOV_RI,
  OP_LEA, OP_MOVZX, OP_MOVSX, OP_XCHG, OP_CMPXCHG, OP_XADD, OP_INC, OP_DEC, OP_NEG, OP_NOT, OP_SHIFT, OP_MUL,
  OP_IMUL1, OP_DIV, OP_IDIV, OP_IMUL_GE, OP_IMUL_GEI, OP_BT_G, OP_BT_I, OP_SETCC, OP_CMOV, OP_PUSH_R, OP_POP_R,
  OP_PUSH_I, OP_PUSH_E, OP_POP_E, OP_JCC, OP_JMP, OP_CALL, OP_JMP_E, OP_CALL_E, OP_RET, OP_NOP, OP_PAUSE, OP_CBW,
  OP_CWD, OP_FLAGOP, OP_PUSHF, OP_POPF, OP_GP_LONG, OP_LEAVE,
  ALU_CMP, BT_BT, BT_BTS, BT_BTR, FLAGOP_CLC, FLAGOP_STC, FLAGOP_CMC, FLAGOP_CLD,
} from "./ops";
import { decode } from "./decode";
import { decodedEntry, decodedTag, markCode, checkCodeWrite } from "./code";
import { windowHolds, refillWindow } from "./fetch";
import { faulted, clearFault, raise, raiseUD, raiseGP, excVector, VEC_DE, VEC_EXIT } from "./fault";
import { gpr, setGpr, readReg, writeReg, sizeMask, signBit, signExtend, RAX, RDX, RSP, RCX } from "./state";
import {
  condition, carry, materialize, setArithFlags, resultFlags, setLazy, FLAG_CF, FLAG_DF, FLAG_OF, FLAG_ZF,
} from "./flags";
import { alu, inc, dec, neg, shift, mulHigh, imulHigh, mulFlags } from "./alu";
import { effectiveAddress, readE, writeE, isMemOperand } from "./operands";
import { readMem, writeMem, resolveRmw, loadSized, storeSized, dataKind, setStackAccess, loadFast, storeFast } from "./mem";
import { timerDeadline } from "./apic";
import { LAZY_SUB } from "../../layout";
import { executeGeneral } from "./general";
import { executeSystem, deliverException, serviceEvents, popFlags, pushFlagsValue } from "./system";

// ── Read-modify-write operands ───────────────────────────────────────────────

/** Host address of the current RMW memory operand, or -2 when it crosses a page. */
let rmwHost: i64 = 0;
let rmwVa: u64 = 0;

/** Reads the E operand for a read-modify-write (a memory operand is translated for a write first). */
function rmwRead(d: usize, size: u32, nextRip: u64): u64 {
  const rm = <u32>load<u8>(d, D_RM);
  if (rm != <u32>RM_MEM) return readReg(rm, size);
  rmwVa = effectiveAddress(d, nextRip);
  rmwHost = resolveRmw(rmwVa, size);
  if (rmwHost >= 0) return loadSized(<usize>rmwHost, size);
  if (rmwHost == -1) return 0;
  return readMem(rmwVa, size, dataKind(true));
}

/** Writes the E operand read by rmwRead. */
function rmwWrite(d: usize, size: u32, v: u64): void {
  const rm = <u32>load<u8>(d, D_RM);
  if (rm != <u32>RM_MEM) {
    writeReg(rm, size, v);
    return;
  }
  if (rmwHost >= 0) {
    checkCodeWrite(<usize>rmwHost, size);
    storeSized(<usize>rmwHost, size, v);
  } else {
    writeMem(rmwVa, size, v, dataKind(true));
  }
}

// ── The stack ────────────────────────────────────────────────────────────────

/** Pushes `size` bytes; RSP changes only if the write succeeds. */
export function push(v: u64, size: u32): void {
  const rsp = gpr(RSP) - <u64>size;
  setStackAccess(true);
  writeMem(rsp, size, v, dataKind(true));
  if (!faulted()) setGpr(RSP, rsp);
}

/** Pops `size` bytes; RSP changes only if the read succeeds (the caller commits). */
export function peekPop(size: u32): u64 {
  setStackAccess(true);
  return readMem(gpr(RSP), size, dataKind(false));
}

// ── Division ─────────────────────────────────────────────────────────────────

/** Unsigned 128 ÷ 64 (hi:lo ÷ d) when the quotient fits 64 bits; false otherwise. */
let divQuotient: u64 = 0;
let divRemainder: u64 = 0;

function divide128(hi: u64, lo: u64, d: u64): bool {
  if (hi >= d) return false;
  if (hi == 0) {
    divQuotient = lo / d;
    divRemainder = lo % d;
    return true;
  }
  // Restoring division, one bit at a time: only for 64-bit DIV with a
  // dividend above 2^64, which is rare.
  let r = hi;
  let q: u64 = 0;
  for (let i = 63; i >= 0; i--) {
    const carryOut = r >> 63;
    r = (r << 1) | ((lo >> <u64>i) & 1);
    if (carryOut != 0 || r >= d) {
      r -= d;
      q |= <u64>1 << <u64>i;
    }
  }
  divQuotient = q;
  divRemainder = r;
  return true;
}

/** DIV r/m: RDX:RAX (or AX, DX:AX, EDX:EAX) ÷ operand; #DE on zero or overflow. Flags are undefined and left. */
function div(size: u32, divisor: u64): void {
  if (divisor == 0) {
    raise(VEC_DE, 0, false);
    return;
  }
  if (size == 1) {
    const dividend = gpr(RAX) & 0xFFFF;
    const q = dividend / divisor;
    if (q > 0xFF) {
      raise(VEC_DE, 0, false);
      return;
    }
    writeReg(RAX, 2, ((dividend % divisor) << 8) | q);
    return;
  }
  const mask = sizeMask(size);
  const bits = <u64>size << 3;
  let hi = gpr(RDX) & mask;
  let lo = gpr(RAX) & mask;
  if (size < 8) {
    lo = (hi << bits) | lo;
    hi = 0;
  }
  if (!divide128(hi, lo, divisor) || divQuotient > mask) {
    raise(VEC_DE, 0, false);
    return;
  }
  writeReg(RAX, size, divQuotient);
  writeReg(RDX, size, divRemainder);
}

/** IDIV r/m: signed; the quotient is truncated toward zero and must fit the operand size. */
function idiv(size: u32, divisorIn: u64): void {
  const mask = sizeMask(size);
  if ((divisorIn & mask) == 0) {
    raise(VEC_DE, 0, false);
    return;
  }
  const divisor = <i64>signExtend(divisorIn, size);
  if (size == 1) {
    const dividend = <i64>signExtend(gpr(RAX) & 0xFFFF, 2);
    const q = dividend / divisor;
    if (q > 127 || q < -128) {
      raise(VEC_DE, 0, false);
      return;
    }
    writeReg(RAX, 2, ((<u64>(dividend % divisor) & 0xFF) << 8) | (<u64>q & 0xFF));
    return;
  }
  if (size < 8) {
    const bits = <u64>size << 3;
    const dividend = <i64>(((gpr(RDX) & mask) << bits) | (gpr(RAX) & mask));
    // size 4: a 64-bit dividend; size 2: 32 bits (sign-extend it).
    const dv = size == 2 ? <i64>signExtend(<u64>dividend, 4) : dividend;
    if (size == 4 && dv == i64.MIN_VALUE && divisor == -1) {
      raise(VEC_DE, 0, false);
      return;
    }
    const q = dv / divisor;
    const lim = <i64>1 << (bits - 1);
    if (q >= lim || q < -lim) {
      raise(VEC_DE, 0, false);
      return;
    }
    writeReg(RAX, size, <u64>q);
    writeReg(RDX, size, <u64>(dv % divisor));
    return;
  }
  // 128-bit signed dividend RDX:RAX.
  const hi = gpr(RDX);
  const lo = gpr(RAX);
  const negative = <i64>hi < 0;
  let ahi = hi;
  let alo = lo;
  if (negative) {
    alo = ~lo + 1;
    ahi = ~hi + (alo == 0 ? 1 : 0);
  }
  const dneg = divisor < 0;
  const ad = dneg ? <u64>(-divisor) : <u64>divisor;
  if (!divide128(ahi, alo, ad)) {
    raise(VEC_DE, 0, false);
    return;
  }
  const qneg = negative != dneg;
  if (qneg ? divQuotient > (<u64>1 << 63) : divQuotient >= (<u64>1 << 63)) {
    raise(VEC_DE, 0, false);
    return;
  }
  setGpr(RAX, qneg ? 0 - divQuotient : divQuotient);
  setGpr(RDX, negative ? 0 - divRemainder : divRemainder);
}

// ── Breakpoints ──────────────────────────────────────────────────────────────

function atBreakpoint(rip: u64): bool {
  const n = load<u32>(C + X86_BREAKPOINT_COUNT);
  for (let i: u32 = 0; i < n; i++) {
    if (load<u64>(C + X86_BREAKPOINTS + (<usize>i << 3)) == rip) return true;
  }
  return false;
}

// ── The run loop ─────────────────────────────────────────────────────────────
//
// The loop keeps RIP, the step count and the fetch window in locals and
// writes them back to the CPU block only when something outside the hot
// instructions may read them: a boundary with events (X86_EVENTS), an
// instruction handled out of line, an exception, an exit. The common
// instructions are handled in the loop itself, with their register and
// memory operands inline; every other one goes to executeSlow with RIP in
// the CPU block, as the system instructions expect it.

/** How many more steps may run before the timer is due (the loop then stops at a boundary for it). */
@inline function stepsToTimer(cycles: u64): u64 {
  const deadline = timerDeadline();
  return deadline == u64.MAX_VALUE ? u64.MAX_VALUE : deadline > cycles ? deadline - cycles : 0;
}

/**
 * The step of this run at which the timer is due, `steps` having run and the
 * clock at `cycles`; never (u64's end) when no timer is armed. The sum must
 * not wrap: steps + "never" would be a step already passed, and the loop
 * would then stop at every instruction's boundary to look for events.
 */
@inline function timerStep(steps: u64, cycles: u64): u64 {
  const left = stepsToTimer(cycles);
  return left == u64.MAX_VALUE ? u64.MAX_VALUE : steps + left;
}

/** Runs the selected CPU for up to `budget` instructions; returns EXIT_*. */
export function run(budget: u64): u32 {
  if (load<u32>(C + X86_STOPPED)) return EXIT_STOPPED;
  const cycles0 = load<u64>(C + X86_CYCLES);
  const retired0 = load<u64>(C + X86_INSTRUCTIONS);
  const firstRip = load<u64>(C + X86_RIP);
  let rip = firstRip;
  let steps: u64 = 0;
  let retired: u64 = 0;
  // Cycles skipped while halted (the timer wait) are added by serviceEvents; track them apart from steps.
  let cycleSkew: u64 = 0;
  let timer = timerStep(0, cycles0);
  let winVa: u64 = 1;
  let winPa: u64 = 0;
  let kindRead = dataKind(false);
  let kindWrite = dataKind(true);
  for (;;) {
    if (steps >= budget) break;
    if (steps >= timer) {
      store<u32>(C + X86_EVENTS, 1);
      timer = u64.MAX_VALUE;
    }
    if (load<u32>(C + X86_EVENTS)) {
      // Everything the boundary may look at goes back to the CPU block first.
      store<u64>(C + X86_RIP, rip);
      store<u64>(C + X86_CYCLES, cycles0 + cycleSkew + steps);
      store<u64>(C + X86_INSTRUCTIONS, retired0 + retired);
      const exit = serviceEvents();
      cycleSkew = load<u64>(C + X86_CYCLES) - cycles0 - steps;
      if (exit) return exit;
      if (excVector >= 0) clearFault();
      rip = load<u64>(C + X86_RIP);
      if (load<u32>(C + X86_BREAKPOINT_COUNT)) {
        store<u32>(C + X86_EVENTS, 1);
        // Per CPU: the breakpoint this CPU stopped at last is stepped over once, when its next run starts there.
        if (atBreakpoint(rip) && (rip + 1 != load<u64>(C + X86_RESUME_FROM) || steps > 0 || rip != firstRip)) {
          store<u64>(C + X86_RESUME_FROM, rip + 1);
          store<u32>(C + X86_EXIT_REASON, EXIT_BREAKPOINT);
          return EXIT_BREAKPOINT;
        }
      }
      store<u64>(C + X86_RESUME_FROM, 0);
      winVa = 1;
      kindRead = dataKind(false);
      kindWrite = dataKind(true);
      timer = timerStep(steps, cycles0 + cycleSkew + steps);
    }
    steps++;
    // The fetch window: RIP's page, translated for a fetch at this privilege.
    if ((rip & ~<u64>0xFFF) != winVa) {
      if (!windowHolds(rip) && !refillWindow(rip)) {
        const exit = deliverAt(rip, cycles0 + cycleSkew + steps, retired0 + retired);
        if (exit) return exit;
        rip = load<u64>(C + X86_RIP);
        winVa = 1;
        kindRead = dataKind(false);
        kindWrite = dataKind(true);
        continue;
      }
      winVa = rip & ~<u64>0xFFF;
      winPa = load<u64>(C + X86_FETCH_PA);
    }
    const offset = <u32>rip & 0xFFF;
    const pa = winPa + offset;
    const d = decodedEntry(pa);
    if (load<u64>(d) != decodedTag(pa)) {
      count(CNT_DECODE);
      const host = <usize>load<u64>(C + X86_FETCH_HOST);
      if (!decode(rip, host + offset, 4096 - offset, d)) {
        store<u64>(d, 0);
        const exit = deliverAt(rip, cycles0 + cycleSkew + steps, retired0 + retired);
        if (exit) return exit;
        rip = load<u64>(C + X86_RIP);
        winVa = 1;
        kindRead = dataKind(false);
        kindWrite = dataKind(true);
        continue;
      }
      if (load<u8>(d, D_FLAGS) & F_CROSS) {
        store<u64>(d, 0);
      } else {
        store<u64>(d, decodedTag(pa));
        markCode(host);
      }
    }
    const nextRip = rip + <u64>load<u8>(d, D_LEN);
    const op = load<u16>(d, D_OP);
    const size = <u32>load<u8>(d, D_OSIZE);
    const reg = <u32>load<u8>(d, D_REG);
    const rm = <u32>load<u8>(d, D_RM);
    let newRip = nextRip;
    switch (op) {
      case OP_MOV_GE: {
        const v = rm != <u32>RM_MEM ? readReg(rm, size) : loadFast(effectiveAddress(d, nextRip), size, kindRead);
        if (excVector < 0) writeReg(reg, size, v);
        break;
      }
      case OP_MOV_EG: {
        const v = readReg(reg, size);
        if (rm != <u32>RM_MEM) writeReg(rm, size, v);
        else storeFast(effectiveAddress(d, nextRip), size, v, kindWrite);
        break;
      }
      case OP_MOV_RI:
        writeReg(reg, size, load<u64>(d, D_IMM));
        break;
      case OP_LEA:
        writeReg(reg, size, effectiveAddress(d, nextRip));
        break;
      case OP_ALU_EG:
      case OP_ALU_EI:
      case OP_ALU_GE: {
        const sub = <u32>load<u8>(d, D_SUB);
        if (rm != <u32>RM_MEM) {
          if (op == OP_ALU_GE) {
            const r = alu(sub, size, readReg(reg, size), readReg(rm, size));
            if (sub != ALU_CMP) writeReg(reg, size, r);
          } else {
            const b = op == OP_ALU_EG ? readReg(reg, size) : load<u64>(d, D_IMM);
            const r = alu(sub, size, readReg(rm, size), b);
            if (sub != ALU_CMP) writeReg(rm, size, r);
          }
          break;
        }
        const va = effectiveAddress(d, nextRip);
        if (op == OP_ALU_GE || sub == ALU_CMP) {
          const m = loadFast(va, size, kindRead);
          if (excVector >= 0) break;
          if (op == OP_ALU_GE) {
            const r = alu(sub, size, readReg(reg, size), m);
            if (sub != ALU_CMP) writeReg(reg, size, r);
          } else {
            alu(sub, size, m, op == OP_ALU_EG ? readReg(reg, size) : load<u64>(d, D_IMM));
          }
          break;
        }
        // A read-modify-write of memory: translated for the write first.
        store<u64>(C + X86_RIP, nextRip);
        executeSlow(d, rip, nextRip);
        break;
      }
      case OP_TEST_EG:
      case OP_TEST_EI: {
        const a = rm != <u32>RM_MEM ? readReg(rm, size) : loadFast(effectiveAddress(d, nextRip), size, kindRead);
        if (excVector < 0) alu(4, size, a, op == OP_TEST_EG ? readReg(reg, size) : load<u64>(d, D_IMM));
        break;
      }
      case OP_INC:
      case OP_DEC:
        if (rm != <u32>RM_MEM) {
          const a = readReg(rm, size);
          writeReg(rm, size, op == OP_INC ? inc(size, a) : dec(size, a));
          break;
        }
        store<u64>(C + X86_RIP, nextRip);
        executeSlow(d, rip, nextRip);
        break;
      case OP_JCC:
        if (condition(<u32>load<u8>(d, D_SUB))) newRip = nextRip + load<u64>(d, D_IMM);
        break;
      case OP_JMP:
        newRip = nextRip + load<u64>(d, D_IMM);
        break;
      case OP_CALL: {
        const rsp = gpr(RSP) - 8;
        setStackAccess(true);
        storeFast(rsp, 8, nextRip, kindWrite);
        if (excVector < 0) {
          setGpr(RSP, rsp);
          newRip = nextRip + load<u64>(d, D_IMM);
        }
        break;
      }
      case OP_RET: {
        const rsp = gpr(RSP);
        setStackAccess(true);
        const target = loadFast(rsp, 8, kindRead);
        if (excVector < 0) {
          setGpr(RSP, rsp + 8 + load<u64>(d, D_IMM));
          newRip = target;
        }
        break;
      }
      case OP_PUSH_R: {
        const rsp = gpr(RSP) - <u64>size;
        setStackAccess(true);
        storeFast(rsp, size, readReg(reg, size), kindWrite);
        if (excVector < 0) setGpr(RSP, rsp);
        break;
      }
      case OP_POP_R: {
        const rsp = gpr(RSP);
        setStackAccess(true);
        const v = loadFast(rsp, size, kindRead);
        if (excVector < 0) {
          setGpr(RSP, rsp + <u64>size);
          writeReg(reg, size, v);
        }
        break;
      }
      case OP_MOVZX:
      case OP_MOVSX: {
        const src = <u32>load<u8>(d, D_SUB);
        const v = rm != <u32>RM_MEM ? readReg(rm, src) : loadFast(effectiveAddress(d, nextRip), src, kindRead);
        if (excVector < 0) writeReg(reg, size, op == OP_MOVSX ? signExtend(v, src) : v);
        break;
      }
      case OP_NOP:
      case OP_PAUSE:
        break;
      default: {
        // Out of line, with RIP and the counts where the system instructions read them.
        store<u64>(C + X86_RIP, nextRip);
        store<u64>(C + X86_CYCLES, cycles0 + cycleSkew + steps);
        store<u64>(C + X86_INSTRUCTIONS, retired0 + retired);
        executeSlow(d, rip, nextRip);
        newRip = load<u64>(C + X86_RIP);
        // The instruction may have changed the privilege, the address space, AC or the timer.
        winVa = 1;
        kindRead = dataKind(false);
        kindWrite = dataKind(true);
        timer = timerStep(steps, cycles0 + cycleSkew + steps);
      }
    }
    if (excVector >= 0) {
      if (excVector == VEC_EXIT) {
        clearFault();
        store<u64>(C + X86_RIP, newRip);
        return finish(load<u32>(C + X86_EXIT_REASON), cycles0 + cycleSkew + steps, retired0 + retired + 1);
      }
      const exit = deliverAt(rip, cycles0 + cycleSkew + steps, retired0 + retired);
      if (exit) return exit;
      rip = load<u64>(C + X86_RIP);
      winVa = 1;
      kindRead = dataKind(false);
      kindWrite = dataKind(true);
      continue;
    }
    rip = newRip;
    retired++;
  }
  store<u64>(C + X86_RIP, rip);
  store<u32>(C + X86_EXIT_REASON, EXIT_BUDGET);
  return finish(EXIT_BUDGET, cycles0 + cycleSkew + steps, retired0 + retired);
}

/**
 * Delivers the exception pending for the instruction at rip (a fault in its
 * fetch, its decoding or its execution), with RIP and the counts in the CPU
 * block where delivery and a triple fault's report read them. Returns the
 * exit when delivery ends the run, else 0 with the handler's RIP in the block.
 */
function deliverAt(rip: u64, cycles: u64, retired: u64): u32 {
  store<u64>(C + X86_RIP, rip);
  finish(0, cycles, retired);
  return deliverException(rip);
}

/** Writes the counts back and returns the exit. */
function finish(exit: u32, cycles: u64, retired: u64): u32 {
  store<u64>(C + X86_CYCLES, cycles);
  store<u64>(C + X86_INSTRUCTIONS, retired);
  return exit;
}

// ── The integer instructions ─────────────────────────────────────────────────

/** Every instruction, with RIP in the CPU block already past it (the loop's out-of-line path). */
function executeSlow(d: usize, rip: u64, nextRip: u64): void {
  const op = load<u16>(d, D_OP);
  const size = <u32>load<u8>(d, D_OSIZE);
  const reg = <u32>load<u8>(d, D_REG);
  switch (op) {
    case OP_MOV_GE: {
      const v = readE(d, size, nextRip);
      if (!faulted()) writeReg(reg, size, v);
      return;
    }
    case OP_MOV_EG:
      writeE(d, size, readReg(reg, size), nextRip);
      return;
    case OP_MOV_RI:
      writeReg(reg, size, load<u64>(d, D_IMM));
      return;
    case OP_MOV_EI:
      writeE(d, size, load<u64>(d, D_IMM), nextRip);
      return;
    case OP_LEA: {
      const a = effectiveAddress(d, nextRip);
      writeReg(reg, size, a);
      return;
    }
    case OP_ALU_EG:
    case OP_ALU_EI: {
      const sub = <u32>load<u8>(d, D_SUB);
      const b = op == OP_ALU_EG ? readReg(reg, size) : load<u64>(d, D_IMM);
      if (sub == ALU_CMP) {
        const a = readE(d, size, nextRip);
        if (!faulted()) alu(sub, size, a, b);
        return;
      }
      const a = rmwRead(d, size, nextRip);
      if (faulted()) return;
      rmwWrite(d, size, alu(sub, size, a, b));
      return;
    }
    case OP_ALU_GE: {
      const sub = <u32>load<u8>(d, D_SUB);
      const b = readE(d, size, nextRip);
      if (faulted()) return;
      const r = alu(sub, size, readReg(reg, size), b);
      if (sub != ALU_CMP) writeReg(reg, size, r);
      return;
    }
    case OP_TEST_EG:
    case OP_TEST_EI: {
      const a = readE(d, size, nextRip);
      if (faulted()) return;
      const b = op == OP_TEST_EG ? readReg(reg, size) : load<u64>(d, D_IMM);
      alu(4, size, a, b);
      return;
    }
    case OP_JCC:
      if (condition(<u32>load<u8>(d, D_SUB))) store<u64>(C + X86_RIP, nextRip + load<u64>(d, D_IMM));
      return;
    case OP_JMP:
      store<u64>(C + X86_RIP, nextRip + load<u64>(d, D_IMM));
      return;
    case OP_CALL:
      push(nextRip, 8);
      if (!faulted()) store<u64>(C + X86_RIP, nextRip + load<u64>(d, D_IMM));
      return;
    case OP_RET: {
      const target = peekPop(8);
      if (faulted()) return;
      setGpr(RSP, gpr(RSP) + 8 + load<u64>(d, D_IMM));
      store<u64>(C + X86_RIP, target);
      return;
    }
    case OP_JMP_E: {
      const target = readE(d, 8, nextRip);
      if (!faulted()) store<u64>(C + X86_RIP, target);
      return;
    }
    case OP_CALL_E: {
      const target = readE(d, 8, nextRip);
      if (faulted()) return;
      push(nextRip, 8);
      if (!faulted()) store<u64>(C + X86_RIP, target);
      return;
    }
    case OP_PUSH_R:
      push(readReg(reg, size), size);
      return;
    case OP_POP_R: {
      const v = peekPop(size);
      if (faulted()) return;
      setGpr(RSP, gpr(RSP) + <u64>size);
      writeReg(reg, size, v);
      return;
    }
    case OP_PUSH_I:
      push(load<u64>(d, D_IMM), size);
      return;
    case OP_PUSH_E: {
      const v = readE(d, size, nextRip);
      if (!faulted()) push(v, size);
      return;
    }
    case OP_POP_E: {
      // The destination's address uses RSP after the pop (SDM Vol.2B POP).
      const v = peekPop(size);
      if (faulted()) return;
      const old = gpr(RSP);
      setGpr(RSP, old + <u64>size);
      writeE(d, size, v, nextRip);
      if (faulted()) setGpr(RSP, old);
      return;
    }
    case OP_INC:
    case OP_DEC:
    case OP_NEG:
    case OP_NOT: {
      const a = rmwRead(d, size, nextRip);
      if (faulted()) return;
      const r = op == OP_INC ? inc(size, a) : op == OP_DEC ? dec(size, a) : op == OP_NEG ? neg(size, a) : ~a;
      rmwWrite(d, size, r);
      return;
    }
    case OP_SHIFT: {
      const n: u32 = load<u8>(d, D_FLAGS) & F_CL ? <u32>gpr(RCX) & 0xFF : <u32>load<u64>(d, D_IMM);
      const a = rmwRead(d, size, nextRip);
      if (faulted()) return;
      const r = shift(<u32>load<u8>(d, D_SUB), size, a, n);
      rmwWrite(d, size, r);
      return;
    }
    case OP_XCHG: {
      const a = rmwRead(d, size, nextRip);
      if (faulted()) return;
      const b = readReg(reg, size);
      rmwWrite(d, size, b);
      writeReg(reg, size, a);
      return;
    }
    case OP_XADD: {
      const a = rmwRead(d, size, nextRip);
      if (faulted()) return;
      const b = readReg(reg, size);
      const r = alu(0, size, a, b);
      writeReg(reg, size, a);
      rmwWrite(d, size, r);
      return;
    }
    case OP_CMPXCHG: {
      // Compares the accumulator with the destination; the destination is written either way (SDM Vol.2A CMPXCHG).
      const a = rmwRead(d, size, nextRip);
      if (faulted()) return;
      const acc = readReg(RAX, size);
      alu(ALU_CMP, size, acc, a);
      if ((acc & sizeMask(size)) == (a & sizeMask(size))) {
        rmwWrite(d, size, readReg(reg, size));
      } else {
        // The write-back on failure is the memory write cycle of SDM Vol.2A CMPXCHG; a register
        // destination is not written, so a 32-bit one is not zero-extended (as hardware does; the
        // differential test against the host checks it).
        if (isMemOperand(d)) rmwWrite(d, size, a);
        if (!faulted()) writeReg(RAX, size, a);
      }
      return;
    }
    case OP_MOVZX: {
      const v = readE(d, <u32>load<u8>(d, D_SUB), nextRip);
      if (!faulted()) writeReg(reg, size, v);
      return;
    }
    case OP_MOVSX: {
      const src = <u32>load<u8>(d, D_SUB);
      const v = readE(d, src, nextRip);
      if (!faulted()) writeReg(reg, size, signExtend(v, src));
      return;
    }
    case OP_SETCC: {
      writeE(d, 1, condition(<u32>load<u8>(d, D_SUB)) ? 1 : 0, nextRip);
      return;
    }
    case OP_CMOV: {
      // The source is read (and may fault) whether or not the condition holds; a 32-bit CMOV always zero-extends.
      const v = readE(d, size, nextRip);
      if (faulted()) return;
      if (condition(<u32>load<u8>(d, D_SUB))) writeReg(reg, size, v);
      else if (size == 4) writeReg(reg, 4, readReg(reg, 4));
      return;
    }
    case OP_BT_G:
    case OP_BT_I: {
      bitTest(d, size, op == OP_BT_G, reg, nextRip);
      return;
    }
    case OP_MUL:
    case OP_IMUL1: {
      const b = readE(d, size, nextRip);
      if (faulted()) return;
      oneOperandMultiply(op == OP_IMUL1, size, b);
      return;
    }
    case OP_IMUL_GE:
    case OP_IMUL_GEI: {
      const a = readE(d, size, nextRip);
      if (faulted()) return;
      const b = op == OP_IMUL_GE ? readReg(reg, size) : load<u64>(d, D_IMM);
      writeReg(reg, size, truncatingMultiply(size, a, b));
      return;
    }
    case OP_DIV:
    case OP_IDIV: {
      const b = readE(d, size, nextRip);
      if (faulted()) return;
      if (op == OP_DIV) div(size, b & sizeMask(size));
      else idiv(size, b);
      return;
    }
    case OP_CBW: {
      // CBW / CWDE / CDQE: sign-extend the lower half of the accumulator into it.
      const half = size >> 1;
      writeReg(RAX, size, signExtend(gpr(RAX), half));
      return;
    }
    case OP_CWD: {
      // CWD / CDQ / CQO: RDX becomes the sign of the accumulator.
      writeReg(RDX, size, gpr(RAX) & signBit(size) ? u64.MAX_VALUE : 0);
      return;
    }
    case OP_NOP:
    case OP_PAUSE:
      return;
    case OP_FLAGOP: {
      const sub = load<u8>(d, D_SUB);
      if (sub == FLAGOP_CLD || sub == 4) {
        const f = load<u64>(C + CPU_RFLAGS);
        store<u64>(C + CPU_RFLAGS, sub == FLAGOP_CLD ? f & ~FLAG_DF : f | FLAG_DF);
        return;
      }
      const f = materialize();
      const cf = sub == FLAGOP_CLC ? 0 : sub == FLAGOP_STC ? FLAG_CF : (f & FLAG_CF) ^ FLAG_CF;
      setArithFlags((f & ~FLAG_CF) | cf);
      return;
    }
    case OP_PUSHF:
      push(pushFlagsValue(), size);
      return;
    case OP_POPF: {
      const v = peekPop(size);
      if (faulted()) return;
      setGpr(RSP, gpr(RSP) + <u64>size);
      popFlags(v, size);
      return;
    }
    case OP_UD:
      raiseUD();
      return;
    case OP_GP_LONG:
      raiseGP(0);
      return;
    default:
      if (op >= OP_LEAVE) executeGeneral(op, d, size, rip, nextRip);
      else executeSystem(op, d, rip, nextRip);
  }
}

/** BT, BTS, BTR, BTC: a register bit offset may reach outside the addressed operand in memory (SDM Vol.2A BT). */
function bitTest(d: usize, size: u32, byRegister: bool, reg: u32, nextRip: u64): void {
  const sub = <u32>load<u8>(d, D_SUB);
  const bits = <u64>size << 3;
  let offset: u64 = byRegister ? readReg(reg, size) : load<u64>(d, D_IMM);
  let bit: u64;
  let a: u64;
  let va: u64 = 0;
  const inMemory = isMemOperand(d);
  if (inMemory && byRegister) {
    // The bit string starts at the operand's address: a signed bit offset, operand-sized units.
    const signed = <i64>signExtend(offset, size);
    const unit = signed >> <i64>(size == 8 ? 6 : size == 4 ? 5 : 4);
    va = effectiveAddress(d, nextRip) + <u64>(unit * <i64>size);
    bit = <u64>signed & (bits - 1);
  } else {
    bit = offset & (bits - 1);
    if (inMemory) va = effectiveAddress(d, nextRip);
  }
  if (inMemory) {
    const kind = dataKind(sub != BT_BT);
    a = readMem(va, size, kind);
    if (faulted()) return;
    const old = (a >> bit) & 1;
    const f = materialize();
    setArithFlags((f & ~FLAG_CF) | old);
    if (sub == BT_BT) return;
    const r = sub == BT_BTS ? a | (<u64>1 << bit) : sub == BT_BTR ? a & ~(<u64>1 << bit) : a ^ (<u64>1 << bit);
    writeMem(va, size, r, kind);
    return;
  }
  const rm = <u32>load<u8>(d, D_RM);
  a = readReg(rm, size);
  const old = (a >> bit) & 1;
  const f = materialize();
  setArithFlags((f & ~FLAG_CF) | old);
  if (sub == BT_BT) return;
  const r = sub == BT_BTS ? a | (<u64>1 << bit) : sub == BT_BTR ? a & ~(<u64>1 << bit) : a ^ (<u64>1 << bit);
  writeReg(rm, size, r);
}

/** MUL and one-operand IMUL: the accumulator × operand into rDX:rAX (AX for bytes). */
function oneOperandMultiply(signed: bool, size: u32, b: u64): void {
  const mask = sizeMask(size);
  if (size == 8) {
    const a = gpr(RAX);
    const lo = a * b;
    const hi = signed ? imulHigh(a, b) : mulHigh(a, b);
    setGpr(RAX, lo);
    setGpr(RDX, hi);
    const overflow = signed ? hi != (<u64>(<i64>lo >> 63)) : hi != 0;
    mulFlags(overflow, lo, 8);
    return;
  }
  const bits = <u64>size << 3;
  let product: u64;
  if (signed) product = <u64>(<i64>signExtend(gpr(RAX), size) * <i64>signExtend(b, size));
  else product = (gpr(RAX) & mask) * (b & mask);
  const lo = product & mask;
  const hi = (product >> bits) & mask;
  if (size == 1) writeReg(RAX, 2, product & 0xFFFF);
  else {
    writeReg(RAX, size, lo);
    writeReg(RDX, size, hi);
  }
  const overflow = signed ? <i64>signExtend(lo, size) != <i64>product : hi != 0;
  mulFlags(overflow, lo, size);
}

/** Two- and three-operand IMUL: the product truncated to the operand size; CF = OF = it did not fit. */
function truncatingMultiply(size: u32, a: u64, b: u64): u64 {
  if (size == 8) {
    const lo = a * b;
    const hi = imulHigh(a, b);
    mulFlags(hi != (<u64>(<i64>lo >> 63)), lo, 8);
    return lo;
  }
  const product = <i64>signExtend(a, size) * <i64>signExtend(b, size);
  const lo = <u64>product & sizeMask(size);
  mulFlags(<i64>signExtend(lo, size) != product, lo, size);
  return lo;
}
