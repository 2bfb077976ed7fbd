// SPDX-License-Identifier: MIT
//
// Synchronous exceptions, IRQs and exception return for the A64 interpreter
// (DDI0487 D1.10 "Exception entry", D1.11 "Exception return"; the pseudocode
// AArch64.TakeException and AArch64.ExceptionReturn).
//
// An instruction that faults calls raiseSync() (or one of its wrappers) and
// returns without changing any state; the run loop sees `pending` and takes
// the exception, with the faulting instruction's address as the preferred
// return address. An instruction that leaves the hot path (HVC, MMIO, a trap
// to EL2) calls raiseExit() the same way. Exceptions are always taken to
// EL1: EL2 exists only as state, so whatever would be taken to EL2 is an exit.

import { C, count, selectedCpu } from "../../cpu";
import {
  A64_PC, A64_ELR_EL1, A64_SPSR_EL1, A64_ESR_EL1, A64_FAR_EL1, A64_VBAR_EL1, A64_ESR_EL2, A64_FAR_EL2,
  A64_HPFAR_EL2, A64_EXIT_REASON, A64_EXIT_PC, A64_EXIT_ESR, A64_EXIT_ADDRESS, A64_EXIT_DETAIL, A64_OFF,
  A64_CNT_EC, A64_CNT_EXIT, A64_EXCL_PA, A64_EXCL_NONE, ARM_SCTLR_EL1, CPU_FAULT_CODE, CPU_FAULT_FLAGS,
  CPU_FAULT_IPA, FAULT_STAGE2, FAULT_S1PTW, CNT_EXCEPTION, CNT_INTERRUPT, EXIT_EXCEPTION_LOOP, EXIT_TRAP,
  EXIT_BUS_ERROR, TRAP_ABORT, A64_LAST_FAULT_PC, A64_LAST_FAULT_ESR, A64_NO_FAULT,
} from "../../layout";
import { armReg, SCTLR_SPAN } from "../regs";
import { pstate, setPstate, currentEl, PSTATE_DAIF, PSTATE_M, PSTATE_PAN_BIT, PSTATE_IL, SPSR_MASK } from "./state";

// Exception classes (ESR_ELx.EC, DDI0487 D19.2.37).
export const EC_UNKNOWN: u32 = 0x00;
export const EC_WFX: u32 = 0x01;
export const EC_FP_ACCESS: u32 = 0x07;
export const EC_ILLEGAL_STATE: u32 = 0x0E;
export const EC_SVC: u32 = 0x15;
export const EC_HVC: u32 = 0x16;
export const EC_SMC: u32 = 0x17;
export const EC_SYSREG: u32 = 0x18;
export const EC_IABT_LOWER: u32 = 0x20;
export const EC_IABT_SAME: u32 = 0x21;
export const EC_PC_ALIGN: u32 = 0x22;
export const EC_DABT_LOWER: u32 = 0x24;
export const EC_DABT_SAME: u32 = 0x25;
export const EC_SP_ALIGN: u32 = 0x26;
export const EC_BRK: u32 = 0x3C;

/** ESR_ELx.IL: every instruction here is 32 bits. */
const ESR_IL: u64 = 1 << 25;

// Data and instruction abort ISS fields.
export const ISS_WNR: u32 = 1 << 6;
export const ISS_S1PTW: u32 = 1 << 7;
export const ISS_CM: u32 = 1 << 8;
/** Instruction syndrome valid, access size (23:22), sign extension, register (20:16), 64-bit register. */
export const ISS_ISV: u32 = 1 << 24;
export const ISS_SSE: u32 = 1 << 21;
export const ISS_SF: u32 = 1 << 15;
/** Fault status codes that are not translation faults. */
export const FSC_EXTERNAL: u32 = 0x10;
export const FSC_ALIGNMENT: u32 = 0x21;

// Vector offsets from VBAR_EL1 (DDI0487 D1.10.2).
const VEC_CURRENT_SP0: u64 = 0x000;
const VEC_CURRENT_SPX: u64 = 0x200;
const VEC_LOWER_A64: u64 = 0x400;
const VEC_IRQ: u64 = 0x080;

/** What the current instruction left for the run loop. */
export const PEND_NONE: u32 = 0;
export const PEND_SYNC: u32 = 1;
export const PEND_EXIT: u32 = 2;
export let pending: u32 = PEND_NONE;
let excSyndrome: u64 = 0;
let excFar: u64 = 0;
let excHasFar: bool = false;
/** The preferred return address: the faulting instruction, or the one after an SVC. */
let excReturn: u64 = 0;
/** Where the CPU resumes after an exit: past the instruction or at it. */
export let exitResumePc: u64 = 0;
/** The address of the instruction being executed (the run loop sets it). */
export let curPc: u64 = 0;

export function setCurPc(pc: u64): void {
  curPc = pc;
}

export function clearPending(): void {
  pending = PEND_NONE;
}

@inline export function syndrome(ec: u32, iss: u32): u64 {
  return (<u64>ec << 26) | ESR_IL | <u64>(iss & 0x1FF_FFFF);
}

export function raiseSync(ec: u32, iss: u32): void {
  pending = PEND_SYNC;
  excSyndrome = syndrome(ec, iss);
  excHasFar = false;
  excReturn = curPc;
}

/** SVC #imm: the preferred return address is the next instruction (DDI0487 D1.10.1). */
export function raiseSvc(imm: u32): void {
  raiseSync(EC_SVC, imm);
  excReturn = curPc + 4;
}

export function raiseSyncFar(ec: u32, iss: u32, far: u64): void {
  raiseSync(ec, iss);
  excFar = far;
  excHasFar = true;
}

/** UNDEFINED (EC 0): an encoding outside the subset, or not allowed at this EL. */
export function raiseUndef(): void {
  raiseSync(EC_UNKNOWN, 0);
}

/** Leaves the run loop with `reason` (fields set by the caller), resuming at `resume`. */
export function raiseExit(reason: u32, resume: u64): void {
  pending = PEND_EXIT;
  exitResumePc = resume;
  store<u32>(C + A64_EXIT_REASON, reason);
  store<u64>(C + A64_EXIT_PC, curPc);
}

/** A trap to EL2 that leaves as an exit, PC at the instruction; ESR_EL2 gets the syndrome. */
export function raiseTrap(kind: u32, esr: u64): void {
  store<u64>(C + A64_ESR_EL2, esr);
  store<u64>(C + A64_EXIT_ESR, esr);
  store<u32>(C + A64_EXIT_DETAIL, kind);
  raiseExit(EXIT_TRAP, curPc);
}

/** An access outside RAM that cannot be an MMIO exit: the CPU stops. */
export function raiseBusError(pa: u64): void {
  store<u64>(C + A64_EXIT_ADDRESS, pa);
  store<u32>(C + A64_OFF, 2);
  raiseExit(EXIT_BUS_ERROR, curPc);
}

/**
 * Raises what a failed translation of va means: a data or instruction abort
 * with the fault record's status, taken to EL1; or, for a stage-2 fault, a
 * trap exit with ESR_EL2, FAR_EL2 and HPFAR_EL2 set as EL2 would see them;
 * `instrSyndrome` (ISV and the fields it validates) goes only into ESR_EL2, as
 * EL1's aborts here report none.
 */
export function raiseAbort(va: u64, fetch: bool, write: bool, cm: bool, instrSyndrome: u32 = 0): void {
  const fsc = load<u32>(C + CPU_FAULT_CODE);
  const flags = load<u32>(C + CPU_FAULT_FLAGS);
  let iss: u32 = fsc & 0x3F;
  if (flags & FAULT_S1PTW) iss |= ISS_S1PTW;
  if (!fetch) {
    if (cm) iss |= ISS_CM | ISS_WNR;
    else if (write) iss |= ISS_WNR;
  }
  if (flags & FAULT_STAGE2) {
    const ipa = load<u64>(C + CPU_FAULT_IPA);
    store<u64>(C + A64_FAR_EL2, va);
    store<u64>(C + A64_HPFAR_EL2, (ipa >> 12) << 4);
    store<u64>(C + A64_EXIT_ADDRESS, ipa);
    raiseTrap(TRAP_ABORT, syndrome(fetch ? EC_IABT_LOWER : EC_DABT_LOWER, fetch || cm ? iss : iss | instrSyndrome));
    return;
  }
  const lower = currentEl() == 0;
  const ec = fetch ? (lower ? EC_IABT_LOWER : EC_IABT_SAME) : (lower ? EC_DABT_LOWER : EC_DABT_SAME);
  raiseSyncFar(ec, iss, va);
}

/** A data abort with a status that is not a translation fault's (alignment, external). */
export function raiseDataFault(va: u64, fsc: u32, write: bool): void {
  const ec = currentEl() == 0 ? EC_DABT_LOWER : EC_DABT_SAME;
  raiseSyncFar(ec, fsc | (write ? ISS_WNR : 0), va);
}

/** The vector for an exception taken to EL1 from the current state. */
function vectorBase(): u64 {
  const vbar = load<u64>(C + A64_VBAR_EL1);
  const p = pstate();
  if (currentEl() == 0) return vbar + VEC_LOWER_A64;
  return vbar + (p & 1 ? VEC_CURRENT_SPX : VEC_CURRENT_SP0);
}

/** Exception entry to EL1h (AArch64.TakeException): SPSR, ELR, PSTATE, the monitor, the vector. */
function enterEl1(preferred: u64, vector: u64): void {
  const p = pstate();
  store<u64>(C + A64_SPSR_EL1, p & SPSR_MASK);
  store<u64>(C + A64_ELR_EL1, preferred);
  let np = (p & ~(PSTATE_M | PSTATE_IL)) | PSTATE_DAIF | 0b0101;
  // SCTLR_EL1.SPAN = 0: PSTATE.PAN is set on taking an exception to EL1.
  if (!(armReg(ARM_SCTLR_EL1) & SCTLR_SPAN)) np |= PSTATE_PAN_BIT;
  setPstate(np);
  store<u64>(C + A64_EXCL_PA, A64_EXCL_NONE);
  store<u64>(C + A64_PC, vector);
}

/**
 * Takes the pending synchronous exception of the instruction at pc. Returns 0,
 * or EXIT_EXCEPTION_LOOP when pc is the very vector the exception goes to
 * (VBAR_EL1 unset, or a vector that itself faults) or the fault repeats the
 * last one (repeatsLastFault): the CPU stops there,
 * with ESR_EL1/ELR_EL1 still describing the exception that led to the loop.
 */
export function takeSync(pc: u64): u32 {
  pending = PEND_NONE;
  const vector = vectorBase();
  count(CNT_EXCEPTION);
  const ec = <u32>(excSyndrome >> 26) & 0x3F;
  const p = C + A64_CNT_EC + (<usize>ec << 3);
  store<u64>(p, load<u64>(p) + 1);
  if (vector == pc || repeatsLastFault(pc, ec)) {
    store<u64>(C + A64_EXIT_ESR, excSyndrome);
    store<u64>(C + A64_EXIT_ADDRESS, vector);
    store<u64>(C + A64_EXIT_PC, pc);
    store<u32>(C + A64_EXIT_REASON, EXIT_EXCEPTION_LOOP);
    store<u32>(C + A64_OFF, 2);
    store<u64>(C + A64_PC, pc);
    return EXIT_EXCEPTION_LOOP;
  }
  store<u64>(C + A64_ESR_EL1, excSyndrome);
  if (excHasFar) store<u64>(C + A64_FAR_EL1, excFar);
  enterEl1(excReturn, vector);
  return 0;
}

/**
 * The same fault (an undefined instruction, an abort, a misalignment, an
 * illegal state) at the same PC as the last one, with no ERET in between:
 * nothing can change before it happens again, so the CPU would loop for
 * ever (a handler that faults, a vector table that is not there). Calls
 * (SVC, HVC, SMC, BRK) are left out: a handler may branch back to one
 * without ERET. Records the fault otherwise.
 */
function repeatsLastFault(pc: u64, ec: u32): bool {
  const fault = ec == EC_UNKNOWN || ec == EC_ILLEGAL_STATE || ec == EC_IABT_LOWER || ec == EC_IABT_SAME || ec == EC_PC_ALIGN
    || ec == EC_DABT_LOWER || ec == EC_DABT_SAME || ec == EC_SP_ALIGN;
  if (!fault) return false;
  if (load<u64>(C + A64_LAST_FAULT_PC) == pc && load<u64>(C + A64_LAST_FAULT_ESR) == excSyndrome) return true;
  store<u64>(C + A64_LAST_FAULT_PC, pc);
  store<u64>(C + A64_LAST_FAULT_ESR, excSyndrome);
  return false;
}

/** Takes an IRQ before the instruction at pc (ESR and FAR are not written). */
export function takeIrq(pc: u64): void {
  count(CNT_INTERRUPT);
  enterEl1(pc, vectorBase() + VEC_IRQ);
}

/**
 * ERET from EL1 (AArch64.ExceptionReturn): PC from ELR_EL1, PSTATE from
 * SPSR_EL1. A return to a higher EL, to EL2/EL3 (not modelled) or to AArch32
 * is an illegal exception return: PSTATE.IL is set and the EL kept, so the
 * next instruction takes an Illegal Execution state exception.
 */
export function exceptionReturn(): u64 {
  const spsr = load<u64>(C + A64_SPSR_EL1);
  const target = <u32>(spsr >> 2) & 3;
  const m = <u32>spsr & 0x1F;
  let np = spsr & SPSR_MASK;
  // M = 0b0001 (EL0 with SP_ELx) is reserved, as are EL2 and above and AArch32.
  if (target > 1 || (m & 0x10) || m == 0b0001 || (m & 2)) {
    np = (pstate() & PSTATE_M) | (spsr & ~PSTATE_M & SPSR_MASK) | PSTATE_IL;
  }
  setPstate(np);
  store<u64>(C + A64_EXCL_PA, A64_EXCL_NONE);
  store<u64>(C + A64_LAST_FAULT_PC, A64_NO_FAULT);
  return load<u64>(C + A64_ELR_EL1);
}

export function countExit(reason: u32): void {
  const p = C + A64_CNT_EXIT + (<usize>(reason & 15) << 3);
  store<u64>(p, load<u64>(p) + 1);
}

/** The CPU index, for the GIC and timer calls. */
@inline export function cpuIndex(): u32 {
  return selectedCpu;
}

/** Set when something may have changed whether an IRQ is due (DAIF, ERET, GIC or timer registers). */
export let irqRecheck: bool = false;
/** The cycle count at the current instruction (the timer reads it). */
export let nowCycles: u64 = 0;

export function setIrqRecheck(v: bool): void {
  irqRecheck = v;
}

export function setNowCycles(v: u64): void {
  nowCycles = v;
}
