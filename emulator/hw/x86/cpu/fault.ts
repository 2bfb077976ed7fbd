// SPDX-License-Identifier: MIT
//
// The exception an instruction raised. An instruction that faults calls
// raise() and returns; the run loop sees `excVector` and delivers it
// (system.ts) before the next instruction. Nothing the instruction would
// have written after the fault is written: handlers read every operand and
// check for a fault before they change any state.

import { C } from "../../cpu";
import { CPU_FAULT_CODE, CPU_FAULT_ADDR } from "../../layout";
import { XLATE_PF, XLATE_GP, XLATE_BUS } from "../paging/result";
import { XLATE_EPT_VIOLATION, XLATE_EPT_MISCONFIG } from "../ept";
import { recordEptExit } from "../guest/exits";

// Exception vectors (SDM Vol.3A 6.3.1).
export const VEC_DE: i32 = 0;
export const VEC_DB: i32 = 1;
export const VEC_BP: i32 = 3;
export const VEC_UD: i32 = 6;
export const VEC_DF: i32 = 8;
export const VEC_TS: i32 = 10;
export const VEC_NP: i32 = 11;
export const VEC_SS: i32 = 12;
export const VEC_GP: i32 = 13;
export const VEC_PF: i32 = 14;
/** Not a vector: an access outside RAM, which stops the CPU. */
export const VEC_BUS: i32 = 256;
/** Not a vector: the instruction left to TypeScript (an exit), with RIP already past it. */
export const VEC_EXIT: i32 = 257;
/** Not a vector: a VM exit (guest/exits.ts recorded why), with the guest's state as at the instruction. */
export const VEC_VMEXIT: i32 = 258;

/** The pending exception (-1: none), its error code and whether it has one. */
export let excVector: i32 = -1;
export let excCode: u32 = 0;
export let excHasCode: bool = false;
/** A bus error's physical address. */
export let excAddress: u64 = 0;
/** Set when the fault is an external event (not the instruction): an interrupt being delivered. */
export let excSoftware: bool = false;

@inline export function faulted(): bool {
  return excVector >= 0;
}

export function clearFault(): void {
  excVector = -1;
  excCode = 0;
  excHasCode = false;
  excSoftware = false;
}

export function raise(vector: i32, code: u32, hasCode: bool): void {
  excVector = vector;
  excCode = code;
  excHasCode = hasCode;
}

export function raiseUD(): void {
  raise(VEC_UD, 0, false);
}

export function raiseGP(code: u32): void {
  raise(VEC_GP, code, true);
}

export function raiseBus(pa: u64): void {
  excVector = VEC_BUS;
  excAddress = pa;
}

/** Marks that the instruction ended in an exit to TypeScript. */
export function raiseExit(): void {
  excVector = VEC_EXIT;
}

/** Marks that the instruction (or the event being delivered) caused a VM exit. */
export function raiseVmExit(): void {
  excVector = VEC_VMEXIT;
}

/**
 * Raises what a failed translation means for an access: #PF with the error
 * code the walk recorded (CR2 is already set, unless the #PF exits), #GP(0) —
 * #SS(0) for a stack access — for a non-canonical address, a bus error, or
 * a VM exit for an EPT violation or misconfiguration (never a fault inside
 * the guest: SDM Vol.3C 29.3.3).
 */
export function raiseTranslation(status: u32, stack: bool): void {
  if (status == XLATE_PF) raise(VEC_PF, load<u32>(C + CPU_FAULT_CODE), true);
  else if (status == XLATE_GP) raise(stack ? VEC_SS : VEC_GP, 0, true);
  else if (status == XLATE_BUS) raiseBus(load<u64>(C + CPU_FAULT_ADDR));
  else if (status == XLATE_EPT_VIOLATION || status == XLATE_EPT_MISCONFIG) {
    recordEptExit(status);
    raiseVmExit();
  } else raise(VEC_GP, 0, true);
}
