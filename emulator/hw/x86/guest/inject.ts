// SPDX-License-Identifier: MIT
//
// Event injection (SDM Vol.3C 27.6, "Event Injection"): the hypervisor sets
// an event, and the CPU delivers it through the guest's IDT at the boundary
// before the guest's next instruction, exactly as it delivers an event of its
// own (gate checks, the privilege and stack switch, the error code push),
// without consulting the exception bitmap (SDM Vol.3C 27.6.1.1). A software
// interrupt or exception returns past the instruction (RIP + the entry
// instruction length) and is checked against the gate's DPL as INT n is.
//
// A fault while delivering the injected event is handled as one during the
// delivery of any event: it exits if its bitmap bit is set (with the injected
// event as IDT-vectoring information), else it pairs with an injected
// exception as SDM Vol.3A table 6-5 says (#DF, or a triple fault when #DF
// was injected).
//
// Two conveniences where the SDM would fail the VM entry instead: an external
// interrupt injected while RFLAGS.IF is 0 (or in an STI shadow) waits until
// the guest opens an interrupt window, as an interrupt-window exit followed
// by an injection would make it; and CR2 can be written with a #PF, as a
// hypervisor writes the guest's CR2 before VM entry.

import { C, count } from "../../cpu";
import {
  CPU_CR2, CPU_RFLAGS, X86_RIP, X86_HALTED, X86_EVENTS, X86_ENTRY_INTR_INFO, X86_ENTRY_INTR_ERROR,
  X86_ENTRY_INSTRUCTION_LENGTH, X86_ENTRY_WRITE_CR2, X86_ENTRY_CR2, CNT_EXCEPTION, CNT_INTERRUPT,
  INTR_INFO_VECTOR_MASK, INTR_INFO_TYPE_SHIFT, INTR_INFO_DELIVER_CODE, INTR_TYPE_EXTERNAL_INTERRUPT,
  INTR_TYPE_HARDWARE_EXCEPTION, INTR_TYPE_SOFTWARE_INTERRUPT, INTR_TYPE_SOFTWARE_EXCEPTION,
} from "../../layout";
import { deliverThroughIdt, deliverException } from "../cpu/system";
import { FLAG_IF } from "../cpu/flags";
import { interruptionInfo } from "./exits";

export const INJECT_OK: u32 = 0;
/** Not an interruption type shootdown injects (external interrupt, hardware or software exception, software interrupt). */
export const INJECT_BAD_TYPE: u32 = 1;
/** A hardware or software exception's vector must be below 32; an error code goes only with a hardware exception. */
export const INJECT_BAD_VECTOR: u32 = 2;

/**
 * Sets the event to inject at the next run (the VM-entry interruption-
 * information, error-code and instruction-length fields), replacing one that
 * is still pending. Returns INJECT_*.
 */
export function setInjection(vector: u32, type: u32, hasCode: bool, code: u32, instructionLength: u32, writeCr2: bool, cr2: u64): u32 {
  if (type != INTR_TYPE_EXTERNAL_INTERRUPT && type != INTR_TYPE_HARDWARE_EXCEPTION
    && type != INTR_TYPE_SOFTWARE_INTERRUPT && type != INTR_TYPE_SOFTWARE_EXCEPTION) return INJECT_BAD_TYPE;
  if (vector > 255) return INJECT_BAD_VECTOR;
  const exception = type == INTR_TYPE_HARDWARE_EXCEPTION || type == INTR_TYPE_SOFTWARE_EXCEPTION;
  if ((exception && vector >= 32) || (hasCode && type != INTR_TYPE_HARDWARE_EXCEPTION)) return INJECT_BAD_VECTOR;
  store<u32>(C + X86_ENTRY_INTR_INFO, interruptionInfo(vector, type, hasCode));
  store<u32>(C + X86_ENTRY_INTR_ERROR, code);
  store<u32>(C + X86_ENTRY_INSTRUCTION_LENGTH, instructionLength);
  store<u32>(C + X86_ENTRY_WRITE_CR2, writeCr2 ? 1 : 0);
  store<u64>(C + X86_ENTRY_CR2, cr2);
  store<u32>(C + X86_EVENTS, 1);
  return INJECT_OK;
}

/**
 * Delivers the pending injected event at an instruction boundary
 * (`shadowed`: in an STI shadow). Returns an exit, or 0 to run on (also when
 * an external interrupt waits for IF).
 */
export function injectPending(shadowed: bool): u32 {
  const info = load<u32>(C + X86_ENTRY_INTR_INFO);
  const vector = info & INTR_INFO_VECTOR_MASK;
  const type = (info >> INTR_INFO_TYPE_SHIFT) & 7;
  const external = type == INTR_TYPE_EXTERNAL_INTERRUPT;
  // Still pending: setFlags and STI set X86_EVENTS when IF becomes 1.
  if (external && (shadowed || !(load<u64>(C + CPU_RFLAGS) & FLAG_IF))) return 0;
  store<u32>(C + X86_ENTRY_INTR_INFO, 0);
  if (load<u32>(C + X86_ENTRY_WRITE_CR2)) store<u64>(C + CPU_CR2, load<u64>(C + X86_ENTRY_CR2));
  // An injected event ends the HLT state (SDM Vol.3C 27.6.1: the activity state becomes active).
  store<u32>(C + X86_HALTED, 0);
  const rip = load<u64>(C + X86_RIP);
  const software = type == INTR_TYPE_SOFTWARE_INTERRUPT || type == INTR_TYPE_SOFTWARE_EXCEPTION;
  const returnRip = software ? rip + <u64>load<u32>(C + X86_ENTRY_INSTRUCTION_LENGTH) : rip;
  const hasCode = (info & INTR_INFO_DELIVER_CODE) != 0;
  count(external ? CNT_INTERRUPT : CNT_EXCEPTION);
  if (deliverThroughIdt(vector, load<u32>(C + X86_ENTRY_INTR_ERROR), hasCode, software, external, returnRip)) return 0;
  return deliverException(rip, type == INTR_TYPE_HARDWARE_EXCEPTION ? <i32>vector : -1);
}
