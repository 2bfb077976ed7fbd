// SPDX-License-Identifier: MIT
//
// VM exits: what each records in the VM-exit information fields (SDM Vol.3C
// 28.2), after the checks that have priority over it (SDM Vol.3C 26.1.1:
// #UD, privilege-level #GP and I/O-permission #GP come first, so the
// instruction sites call these after their CPL checks).
//
// An instruction that exits changes nothing: the site records the exit and
// raises VEC_VMEXIT, and the run loop leaves RIP at the instruction and does
// not count it as retired (SDM Vol.3C 28.1). An exception that exits does
// not write CR2 for a #PF (paging/result.ts) and pushes nothing.
//
// IDT-vectoring information (SDM Vol.3C 28.2.4). Delivery through the IDT
// (cpu/system.ts) notes the event it is delivering in X86_DELIVERING_INFO and
// clears the note once the frame is pushed; an exit recorded while the note
// is set happened during that event's delivery and reports it. As the SDM
// says, an exit caused by the #DF that a delivery failure produced, and a
// triple fault, are not "during event delivery", and neither is a fault on
// fetching the handler's first instruction (the note is clear by then).

import { C, count } from "../../cpu";
import {
  X86_VMEXIT_REASON, X86_VMEXIT_QUALIFICATION, X86_VMEXIT_GUEST_LINEAR, X86_VMEXIT_GUEST_PHYSICAL,
  X86_VMEXIT_INTR_INFO, X86_VMEXIT_INTR_ERROR, X86_VMEXIT_IDT_VECTORING, X86_VMEXIT_IDT_VECTORING_ERROR,
  X86_VMEXIT_INSTRUCTION_LENGTH, X86_VMEXIT_INSTRUCTION_INFO, X86_DELIVERING_INFO, X86_DELIVERING_ERROR,
  X86_EXIT_REASON, X86_EXIT_DETAIL, CPU_FAULT_CODE, CPU_FAULT_ADDR, CPU_FAULT_IPA, CNT_IPI_TAKEN, EXIT_VMEXIT,
  GC_CR0_EXITING, GC_CR3_LOAD_EXITING, GC_CR4_EXITING, GC_IO_EXITING, GC_INVPCID_EXITING,
  VMX_EXIT_EXCEPTION_NMI, VMX_EXIT_EXTERNAL_INTERRUPT, VMX_EXIT_TRIPLE_FAULT, VMX_EXIT_CR_ACCESS,
  VMX_EXIT_IO_INSTRUCTION, VMX_EXIT_EPT_VIOLATION, VMX_EXIT_EPT_MISCONFIG, VMX_EXIT_INVPCID,
  INTR_INFO_TYPE_SHIFT, INTR_INFO_DELIVER_CODE, INTR_INFO_VALID, INTR_TYPE_EXTERNAL_INTERRUPT,
  INTR_TYPE_HARDWARE_EXCEPTION, INTR_TYPE_SOFTWARE_EXCEPTION, INTR_TYPE_SOFTWARE_INTERRUPT,
} from "../../layout";
import { XLATE_EPT_VIOLATION, EPTQ_LINEAR_VALID } from "../ept";
import { raiseVmExit } from "../cpu/fault";
import { acknowledge } from "../cpu/apic";
import { guestExiting } from "./controls";

/** #PF and #DF (SDM Vol.3A 6.15). */
const VECTOR_PF: u32 = 14;
const VECTOR_DF: u32 = 8;
const VECTOR_BP: u32 = 3;

/** An interruption-information word: vector, type, error code valid, valid. */
@inline export function interruptionInfo(vector: u32, type: u32, hasCode: bool): u32 {
  return (vector & 0xFF) | (type << INTR_INFO_TYPE_SHIFT) | (hasCode ? INTR_INFO_DELIVER_CODE : 0) | INTR_INFO_VALID;
}

/**
 * Notes the event delivery through the IDT is about to deliver (its
 * IDT-vectoring information, should an exit happen during it).
 */
export function noteDelivery(vector: u32, code: u32, hasCode: bool, software: bool, external: bool): void {
  const type = external ? INTR_TYPE_EXTERNAL_INTERRUPT
    : !software ? INTR_TYPE_HARDWARE_EXCEPTION
    : vector == VECTOR_BP ? INTR_TYPE_SOFTWARE_EXCEPTION : INTR_TYPE_SOFTWARE_INTERRUPT;
  store<u32>(C + X86_DELIVERING_INFO, interruptionInfo(vector, type, hasCode));
  store<u32>(C + X86_DELIVERING_ERROR, code);
}

/** The event is delivered (its frame pushed): an exit from here on is not during its delivery. */
export function deliveryDone(): void {
  store<u32>(C + X86_DELIVERING_INFO, 0);
}

/** Fills the information fields of an exit: the basic ones given, the rest cleared, IDT-vectoring from the note. */
function recordExit(reason: u32, qualification: u64, instructionLength: u32): void {
  store<u32>(C + X86_EXIT_REASON, EXIT_VMEXIT);
  store<u32>(C + X86_VMEXIT_REASON, reason);
  store<u64>(C + X86_VMEXIT_QUALIFICATION, qualification);
  store<u64>(C + X86_VMEXIT_GUEST_LINEAR, 0);
  store<u64>(C + X86_VMEXIT_GUEST_PHYSICAL, 0);
  store<u32>(C + X86_VMEXIT_INTR_INFO, 0);
  store<u32>(C + X86_VMEXIT_INTR_ERROR, 0);
  store<u32>(C + X86_VMEXIT_INSTRUCTION_LENGTH, instructionLength);
  store<u32>(C + X86_VMEXIT_INSTRUCTION_INFO, 0);
  store<u32>(C + X86_VMEXIT_IDT_VECTORING, load<u32>(C + X86_DELIVERING_INFO));
  store<u32>(C + X86_VMEXIT_IDT_VECTORING_ERROR, load<u32>(C + X86_DELIVERING_ERROR));
  store<u32>(C + X86_DELIVERING_INFO, 0);
}

// ── Instructions ─────────────────────────────────────────────────────────────

/**
 * The instruction at rip exits when `control` acts: records `reason` and
 * `qualification` with the instruction's length and raises the exit.
 * Returns whether it exited (the site then returns at once).
 */
export function instructionExits(control: u32, reason: u32, qualification: u64, rip: u64, nextRip: u64): bool {
  if (!guestExiting(control)) return false;
  recordExit(reason, qualification, <u32>(nextRip - rip));
  raiseVmExit();
  return true;
}

/**
 * MOV to CR0, CR3 or CR4 from general-purpose register `gpr`: the
 * exit qualification of SDM Vol.3C 28.2.1, table "Exit Qualification for
 * Control-Register Accesses" (bits 3:0 the CR, 5:4 access type 0 = MOV to
 * CR, 11:8 the register).
 */
export function crWriteExits(cr: u32, gpr: u32, rip: u64, nextRip: u64): bool {
  const control = cr == 0 ? GC_CR0_EXITING : cr == 3 ? GC_CR3_LOAD_EXITING : cr == 4 ? GC_CR4_EXITING : 0;
  return control != 0 && instructionExits(control, VMX_EXIT_CR_ACCESS, <u64>(cr | (gpr << 8)), rip, nextRip);
}

/**
 * IN or OUT (table "Exit Qualification for I/O Instructions"): bits 2:0
 * the size less one, 3 the direction (1 = IN), 6 the operand encoding
 * (1 = immediate), 31:16 the port. String and REP forms are not decoded by
 * the CPU, so bits 4 and 5 are 0.
 */
export function ioExits(port: u32, size: u32, isIn: bool, immediate: bool, rip: u64, nextRip: u64): bool {
  const q = (size - 1) | (isIn ? 8 : 0) | (immediate ? 64 : 0) | (port << 16);
  return instructionExits(GC_IO_EXITING, VMX_EXIT_IO_INSTRUCTION, <u64>q, rip, nextRip);
}

/**
 * INVPCID: the guest-linear address of its descriptor (which the SDM leaves
 * for the hypervisor to work out from the displacement; shootdown fills it)
 * and the type register in bits 31:28 of the instruction information.
 */
export function invpcidExits(typeRegister: u32, descriptor: u64, rip: u64, nextRip: u64): bool {
  if (!instructionExits(GC_INVPCID_EXITING, VMX_EXIT_INVPCID, 0, rip, nextRip)) return false;
  store<u64>(C + X86_VMEXIT_GUEST_LINEAR, descriptor);
  store<u32>(C + X86_VMEXIT_INSTRUCTION_INFO, typeRegister << 28);
  return true;
}

/** INT3 whose #BP bit is set in the exception bitmap: a software exception, with the instruction's length. */
export function softwareExceptionExit(vector: u32, rip: u64, nextRip: u64): void {
  recordExit(VMX_EXIT_EXCEPTION_NMI, 0, <u32>(nextRip - rip));
  store<u32>(C + X86_VMEXIT_INTR_INFO, interruptionInfo(vector, INTR_TYPE_SOFTWARE_EXCEPTION, false));
  raiseVmExit();
}

// ── Events ───────────────────────────────────────────────────────────────────

/**
 * A hardware exception whose bit is set in the exception bitmap: vector and
 * error code in the interruption fields and, for #PF, the faulting linear
 * address as the exit qualification (CR2 keeps its old value, SDM Vol.3C
 * 28.1). Returns EXIT_VMEXIT.
 */
export function exceptionExit(vector: u32, code: u32, hasCode: bool): u32 {
  // A #DF that a delivery failure produced is not an exit during event delivery.
  if (vector == VECTOR_DF) deliveryDone();
  const qualification: u64 = vector == VECTOR_PF ? load<u64>(C + CPU_FAULT_ADDR) : 0;
  recordExit(VMX_EXIT_EXCEPTION_NMI, qualification, 0);
  store<u32>(C + X86_VMEXIT_INTR_INFO, interruptionInfo(vector, INTR_TYPE_HARDWARE_EXCEPTION, hasCode));
  store<u32>(C + X86_VMEXIT_INTR_ERROR, hasCode ? code : 0);
  return EXIT_VMEXIT;
}

/**
 * An external interrupt with external-interrupt exiting: acknowledged at the
 * local APIC and reported ("acknowledge interrupt on exit"); the hypervisor
 * ends it with an EOI or injects it into the guest. Returns EXIT_VMEXIT.
 */
export function externalInterruptExit(vector: u32): u32 {
  if (acknowledge(vector)) count(CNT_IPI_TAKEN);
  recordExit(VMX_EXIT_EXTERNAL_INTERRUPT, 0, 0);
  store<u32>(C + X86_VMEXIT_INTR_INFO, interruptionInfo(vector, INTR_TYPE_EXTERNAL_INTERRUPT, false));
  return EXIT_VMEXIT;
}

/**
 * A fault while delivering #DF in guest mode: a VM exit (SDM Vol.3C 26.2),
 * not the shutdown it is in host mode; `history` names the vectors as the
 * host's triple-fault report does. Returns EXIT_VMEXIT.
 */
export function tripleFaultExit(history: u64): u32 {
  deliveryDone();
  recordExit(VMX_EXIT_TRIPLE_FAULT, 0, 0);
  store<u64>(C + X86_EXIT_DETAIL, history);
  return EXIT_VMEXIT;
}

/**
 * An EPT violation or misconfiguration, from the fault record the walk
 * filled (ept.ts): the qualification, the guest-linear address when the
 * qualification says it is valid, and the guest-physical address.
 */
export function recordEptExit(status: u32): void {
  if (status == XLATE_EPT_VIOLATION) {
    const q = load<u32>(C + CPU_FAULT_CODE);
    recordExit(VMX_EXIT_EPT_VIOLATION, <u64>q, 0);
    if (q & EPTQ_LINEAR_VALID) store<u64>(C + X86_VMEXIT_GUEST_LINEAR, load<u64>(C + CPU_FAULT_ADDR));
  } else {
    recordExit(VMX_EXIT_EPT_MISCONFIG, 0, 0);
  }
  store<u64>(C + X86_VMEXIT_GUEST_PHYSICAL, load<u64>(C + CPU_FAULT_IPA));
}
