// SPDX-License-Identifier: MIT
//
// System instructions, exceptions and interrupts of the x86-64 CPU.
//
// Delivery (SDM Vol.3A 6.12, 6.14): the 16-byte IDT gate of the vector
// (interrupt or trap gate, present, DPL ≥ CPL for INT n), its 64-bit code
// segment in the GDT, the stack (TSS.RSP0 when the privilege drops to 0, or
// an IST stack), aligned to 16 bytes, and the frame SS, RSP, RFLAGS, CS,
// RIP and the error code. A fault while delivering one exception becomes a
// double fault when the two are contributory or page faults (SDM Vol.3A
// table 6-5); a fault while delivering #DF shuts the CPU down (a triple
// fault), which stops it with a report instead of resetting the machine.

import { C, count, selectedCpu } from "../../cpu";
import {
  CPU_CR0, CPU_CR2, CPU_CR3, CPU_CR4, CPU_EFER, CPU_PAT, CPU_RFLAGS, CPU_PKRU, X86_RIP, X86_CPL, X86_HALTED,
  X86_SHADOW, X86_STOPPED, X86_SEL, SEL_CS, SEL_SS, X86_FS_BASE, X86_GS_BASE, X86_KERNEL_GS_BASE, X86_GDTR_BASE,
  X86_IDTR_BASE, X86_GDTR_LIMIT, X86_IDTR_LIMIT, X86_TR, X86_TSS_BASE, X86_STAR, X86_LSTAR, X86_CSTAR,
  X86_FMASK, X86_APIC_BASE, X86_TSC_AUX, X86_CYCLES, X86_EXIT_REASON, X86_EXIT_PORT, X86_EXIT_SIZE,
  X86_EXIT_WRITE, X86_EXIT_VALUE, X86_EXIT_RIP, X86_EXIT_DETAIL, X86_EVENTS, X86_LAZY_OP, X86_APIC_TPR,
  LAZY_NONE, EXIT_HLT, EXIT_IO, EXIT_VMCALL, EXIT_TRIPLE_FAULT, EXIT_BUS_ERROR, CNT_EXCEPTION, CNT_INTERRUPT,
  CNT_IPI_TAKEN, CNT_EXIT_IO, CNT_EXIT_HLT, CNT_EXIT_VMCALL, FEATURE_PAGE1GB, X86_ENTRY_INTR_INFO, EXIT_VMEXIT,
  GC_HLT_EXITING, GC_INVLPG_EXITING, GC_RDMSR_EXITING, GC_WRMSR_EXITING, GC_VMCALL_EXITING,
  GC_EXTERNAL_INTERRUPT_EXITING, VMX_EXIT_HLT, VMX_EXIT_INVLPG, VMX_EXIT_RDMSR, VMX_EXIT_WRMSR, VMX_EXIT_VMCALL,
  GC_CPUID_EXITING, VMX_EXIT_CPUID,
} from "../../layout";
import { features } from "../../cpu";
import { maxPhysAddr } from "../../phys/ram";
import {
  D_SUB, D_IMM, D_REG, D_RM, D_FLAGS, D_OSIZE, F_DX,
  OP_CLI, OP_STI, OP_HLT, OP_INT, OP_INT3, OP_IRETQ, OP_SYSCALL, OP_SYSRET, OP_SWAPGS, OP_MOV_FROM_CR,
  OP_MOV_TO_CR, OP_LGDT, OP_LIDT, OP_SGDT, OP_SIDT, OP_LTR, OP_INVLPG, OP_INVPCID, OP_WRMSR, OP_RDMSR,
  OP_RDTSC, OP_CPUID, OP_IN, OP_OUT, OP_VMCALL, OP_WBINVD, OP_CLFLUSH, OP_FENCE, OP_STAC, OP_CLAC, OP_RDPKRU,
  OP_WRPKRU, OP_UD2,
} from "./ops";
import {
  excVector, excCode, excHasCode, excAddress, raise, raiseUD, raiseGP, raiseExit, clearFault, faulted,
  VEC_BP, VEC_UD, VEC_DF, VEC_NP, VEC_GP, VEC_PF, VEC_BUS, VEC_TS, VEC_SS, VEC_VMEXIT,
} from "./fault";
import { gpr, setGpr, cpl, readReg, writeReg, RAX, RCX, RDX, RSP, R11 } from "./state";
import { materialize, FLAG_IF, FLAG_TF, FLAG_NT, FLAG_RF, FLAG_AC, FLAG_IOPL, FLAG_VM, FLAG_FIXED, FLAG_DF, ARITH_FLAGS, FLAG_ID } from "./flags";
import { effectiveAddress, readE } from "./operands";
import { readMem, writeMem, dataKind, KIND_SYSTEM_READ, KIND_SYSTEM_WRITE, setStackAccess } from "./mem";
import { dropFetchWindow } from "./fetch";
import { apicRead, apicWrite, apicFault, deliverable, acknowledge, timerDeadline, timerFired, APIC_BASE_EXTD } from "./apic";
import { invlpg, invpcid, movToCr0, movToCr3, movToCr4, writeEfer, writePkru, writeRflags } from "../invalidate";
import { cr4, CR4_PKE, CR4_LA57, EFER_SCE } from "../regs";
import { isCanonical } from "../translate";
import { inGuestMode, guestExiting, exceptionExits, virtualIf } from "../guest/controls";
import {
  instructionExits, crWriteExits, ioExits, invpcidExits, softwareExceptionExit, exceptionExit, externalInterruptExit,
  tripleFaultExit, noteDelivery, deliveryDone,
} from "../guest/exits";
import { injectPending } from "../guest/inject";

const CR4_TSD: u64 = 1 << 2;

// ── RFLAGS ───────────────────────────────────────────────────────────────────

/** RFLAGS as PUSHF stores it: VM and RF read as 0 (SDM Vol.2B PUSHF). */
export function pushFlagsValue(): u64 {
  return materialize() & ~(FLAG_VM | FLAG_RF);
}

/** Flags software may have: the arithmetic ones, TF IF DF IOPL NT AC ID. */
const WRITABLE_FLAGS: u64 = ARITH_FLAGS | FLAG_TF | FLAG_IF | FLAG_DF | FLAG_IOPL | FLAG_NT | FLAG_AC | FLAG_ID;

/** Writes RFLAGS whole (the arithmetic flags stop being lazy). */
function setFlags(v: u64): void {
  store<u32>(C + X86_LAZY_OP, LAZY_NONE);
  const old = load<u64>(C + CPU_RFLAGS);
  writeRflags((v & WRITABLE_FLAGS) | FLAG_FIXED);
  if (!(old & FLAG_IF) && (v & FLAG_IF)) store<u32>(C + X86_EVENTS, 1);
}

/** POPF: IOPL only at CPL 0, IF only when CPL ≤ IOPL (SDM Vol.2B POPF). */
export function popFlags(value: u64, size: u32): void {
  const old = materialize();
  let keep: u64 = FLAG_VM | FLAG_RF;
  if (cpl() > 0) keep |= FLAG_IOPL;
  if (ifLocked()) keep |= FLAG_IF;
  let v = size == 2 ? (old & ~<u64>0xFFFF) | (value & 0xFFFF) : value;
  v = (v & ~keep) | (old & keep);
  setFlags(v);
}

@inline function iopl(): u32 {
  return <u32>(load<u64>(C + CPU_RFLAGS) >> 12) & 3;
}

/** May software not change IF: CPL above IOPL, unless IF is a guest's virtual IF (guest/controls.ts)? */
function ifLocked(): bool {
  return cpl() > iopl() && !virtualIf();
}

// ── Descriptors ──────────────────────────────────────────────────────────────

/** A GDT descriptor's 8 bytes, or 0 with #GP(selector) raised when the selector is outside the GDT. */
export function gdtDescriptor(selector: u32, ext: u32): u64 {
  const index = selector & ~<u32>7;
  if (index == 0 || (selector & 4) != 0 || <u64>index + 7 > <u64>load<u32>(C + X86_GDTR_LIMIT)) {
    raiseGP((selector & ~<u32>3) | ext);
    return 0;
  }
  return readMem(load<u64>(C + X86_GDTR_BASE) + <u64>index, 8, KIND_SYSTEM_READ);
}

@inline function descriptorDpl(desc: u64): u32 {
  return <u32>(desc >> 45) & 3;
}

/** Is it a present 64-bit code segment (S=1, type code, L=1)? */
function isLongCode(desc: u64): bool {
  const present = (desc >> 47) & 1;
  const code = ((desc >> 43) & 1) != 0 && ((desc >> 44) & 1) != 0;
  const long = ((desc >> 53) & 1) != 0;
  return present != 0 && code && long;
}

// ── Exception classes (SDM Vol.3A table 6-5) ─────────────────────────────────

@inline function contributory(v: i32): bool {
  return v == 0 || v == 10 || v == 11 || v == 12 || v == 13;
}

function makesDoubleFault(first: i32, second: i32): bool {
  if (contributory(first) && contributory(second)) return true;
  return first == VEC_PF && (second == VEC_PF || contributory(second));
}

// ── Delivery ─────────────────────────────────────────────────────────────────

/**
 * Delivers a vector through the IDT. `software` is INT n / INT3 (gate DPL
 * checked against CPL); `external` marks a hardware interrupt (the EXT bit
 * in error codes about it); `returnRip` is what the frame's RIP holds.
 * Returns false with the new fault raised when delivery itself faulted.
 */
export function deliverThroughIdt(vector: u32, code: u32, hasCode: bool, software: bool, external: bool, returnRip: u64): bool {
  noteDelivery(vector, code, hasCode, software, external);
  const ext: u32 = external ? 1 : 0;
  const idtError = (vector << 3) | 2 | ext;
  if (<u64>vector * 16 + 15 > <u64>load<u32>(C + X86_IDTR_LIMIT)) {
    raiseGP(idtError);
    return false;
  }
  const gateAt = load<u64>(C + X86_IDTR_BASE) + <u64>vector * 16;
  const lo = readMem(gateAt, 8, KIND_SYSTEM_READ);
  if (faulted()) return false;
  const hi = readMem(gateAt + 8, 8, KIND_SYSTEM_READ);
  if (faulted()) return false;
  const type = <u32>(lo >> 40) & 0xF;
  if (type != 0xE && type != 0xF) {
    raiseGP(idtError);
    return false;
  }
  if (software && (<u32>(lo >> 45) & 3) < cpl()) {
    raiseGP(idtError);
    return false;
  }
  if (!((lo >> 47) & 1)) {
    raise(VEC_NP, idtError, true);
    return false;
  }
  const selector = <u32>(lo >> 16) & 0xFFFF;
  const target = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF_0000) | (hi << 32);
  const ist = <u32>(lo >> 32) & 7;
  const cs = gdtDescriptor(selector, ext);
  if (faulted()) return false;
  if (!isLongCode(cs) || descriptorDpl(cs) > cpl()) {
    raiseGP((selector & ~<u32>3) | ext);
    return false;
  }
  const newCpl = descriptorDpl(cs);
  const oldCpl = cpl();
  let rsp = gpr(RSP);
  if (newCpl < oldCpl || ist != 0) {
    const tss = load<u64>(C + X86_TSS_BASE);
    const slot = ist != 0 ? 0x24 + <u64>(ist - 1) * 8 : 4 + <u64>newCpl * 8;
    rsp = readMem(tss + slot, 8, KIND_SYSTEM_READ);
    if (faulted()) return false;
  }
  rsp &= ~<u64>0xF;
  const flags = materialize();
  const oldSs = <u64>load<u16>(C + X86_SEL + (SEL_SS << 1));
  const oldCs = <u64>load<u16>(C + X86_SEL + (SEL_CS << 1));
  const frame = hasCode ? 6 : 5;
  const top = rsp - <u64>frame * 8;
  if (!isCanonical(top) || !isCanonical(rsp - 1)) {
    raise(VEC_SS, 0, true);
    return false;
  }
  setStackAccess(true);
  let at = rsp;
  at -= 8; writeMem(at, 8, oldSs, KIND_SYSTEM_WRITE);
  if (!faulted()) { at -= 8; writeMem(at, 8, gpr(RSP), KIND_SYSTEM_WRITE); }
  if (!faulted()) { at -= 8; writeMem(at, 8, flags, KIND_SYSTEM_WRITE); }
  if (!faulted()) { at -= 8; writeMem(at, 8, oldCs, KIND_SYSTEM_WRITE); }
  if (!faulted()) { at -= 8; writeMem(at, 8, returnRip, KIND_SYSTEM_WRITE); }
  if (!faulted() && hasCode) { at -= 8; writeMem(at, 8, <u64>code, KIND_SYSTEM_WRITE); }
  if (faulted()) return false;
  // Committed: the new stack, code segment and privilege; TF, NT, RF clear; IF clear through an interrupt gate.
  setGpr(RSP, at);
  store<u16>(C + X86_SEL + (SEL_CS << 1), <u16>((selector & ~<u32>3) | newCpl));
  if (newCpl != oldCpl) store<u16>(C + X86_SEL + (SEL_SS << 1), <u16>newCpl);
  store<u32>(C + X86_CPL, newCpl);
  let newFlags = flags & ~(FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM);
  if (type == 0xE) newFlags &= ~FLAG_IF;
  setFlags(newFlags);
  store<u64>(C + X86_RIP, target);
  store<u32>(C + X86_SHADOW, 0);
  dropFetchWindow();
  deliveryDone();
  return true;
}

/** Stops the CPU with a report; returns the exit. */
function stop(reason: u32, rip: u64, value: u64, detail: u64): u32 {
  store<u32>(C + X86_STOPPED, 1);
  store<u32>(C + X86_EXIT_REASON, reason);
  store<u64>(C + X86_EXIT_RIP, rip);
  store<u64>(C + X86_EXIT_VALUE, value);
  store<u64>(C + X86_EXIT_DETAIL, detail);
  return reason;
}

/** A fault while delivering #DF: shutdown in host mode (stopped, with a report), a VM exit in guest mode. */
function tripleFault(rip: u64, history: u64): u32 {
  return inGuestMode() ? tripleFaultExit(history) : stop(EXIT_TRIPLE_FAULT, rip, 0, history);
}

/**
 * Delivers the exception the last instruction (or fetch) raised, whose RIP
 * was `faultRip` (already restored), or the VM exit it caused. `during` is
 * the injected exception whose delivery raised it (guest/inject.ts), -1 for
 * none. Returns an exit when the CPU stopped (triple fault, bus error) or
 * exited to the hypervisor, else 0.
 */
export function deliverException(faultRip: u64, during: i32 = -1): u32 {
  let vector = excVector;
  let code = excCode;
  let hasCode = excHasCode;
  clearFault();
  if (vector == VEC_BUS) return stop(EXIT_BUS_ERROR, faultRip, excAddress, 0);
  if (vector == VEC_VMEXIT) return EXIT_VMEXIT;
  // The vectors whose delivery was attempted, one per byte, for the report.
  let history: u64 = <u64>vector;
  let attempts: u64 = 1;
  let first = vector;
  if (during >= 0 && !exceptionExits(vector)) {
    history = <u64>during | (<u64>vector << 8);
    attempts = 2;
    if (during == VEC_DF) return tripleFault(faultRip, history);
    if (makesDoubleFault(during, vector)) {
      vector = VEC_DF;
      code = 0;
      hasCode = true;
      history |= <u64>VEC_DF << 16;
      attempts = 3;
    }
  }
  for (;;) {
    // In guest mode the exception bitmap chooses between a VM exit and the guest's IDT (SDM Vol.3C 26.2).
    if (exceptionExits(vector)) return exceptionExit(<u32>vector, code, hasCode);
    count(CNT_EXCEPTION);
    if (deliverThroughIdt(<u32>vector, code, hasCode, false, false, faultRip)) return 0;
    const second = excVector;
    const secondCode = excCode;
    const secondHasCode = excHasCode;
    clearFault();
    if (second == VEC_BUS) return stop(EXIT_BUS_ERROR, faultRip, excAddress, history);
    if (second == VEC_VMEXIT) return EXIT_VMEXIT;
    // A fault that exits is not combined with the event it interrupted: it exits, reporting that event.
    const exits = exceptionExits(second);
    if (vector == VEC_DF && !exits) return tripleFault(faultRip, history);
    if (makesDoubleFault(first, second) && !exits) {
      vector = VEC_DF;
      code = 0;
      hasCode = true;
    } else {
      vector = second;
      code = secondCode;
      hasCode = secondHasCode;
      first = second;
    }
    if (attempts < 8) history |= <u64>vector << (attempts++ << 3);
  }
  return 0;
}

/** INT n, INT3: a software interrupt returning to the next instruction. */
function deliverSoftware(vector: u32, nextRip: u64): void {
  if (deliverThroughIdt(vector, 0, false, true, false, nextRip)) return;
  // The fault while delivering is reported for the INT instruction itself.
}

/**
 * Work at an instruction boundary, when X86_EVENTS asks for it: the STI
 * shadow counting down, the timer, and an interrupt to take (IF set, no
 * shadow, a vector above the processor priority). A halted CPU wakes for
 * it; a halted CPU with interrupts enabled and the timer armed sleeps until
 * the timer fires. Returns an exit (EXIT_HLT), or 0 to run on.
 *
 * X86_EVENTS stays set only while something needs looking at before every
 * instruction (the shadow, breakpoints); the things that can make an
 * interrupt deliverable (a request, EOI, TPR, IF becoming 1) set it again.
 */
export function serviceEvents(): u32 {
  store<u32>(C + X86_EVENTS, 0);
  const shadow = load<u32>(C + X86_SHADOW);
  if (shadow) {
    // The instruction about to run is the one after STI: still shadowed.
    store<u32>(C + X86_SHADOW, shadow - 1);
    store<u32>(C + X86_EVENTS, 1);
  }
  if (load<u32>(C + X86_ENTRY_INTR_INFO)) {
    const exit = injectPending(shadow != 0);
    if (exit) return exit;
  }
  const flags = load<u64>(C + CPU_RFLAGS);
  // With external-interrupt exiting RFLAGS.IF does not block interrupts: they exit instead.
  const interruptible = ((flags & FLAG_IF) != 0 || guestExiting(GC_EXTERNAL_INTERRUPT_EXITING)) && shadow == 0;
  let v = deliverable();
  if (v < 0 && load<u32>(C + X86_HALTED) && interruptible && timerDeadline() != u64.MAX_VALUE) {
    // Nothing else can wake it: skip the idle cycles to the timer.
    const now = load<u64>(C + X86_CYCLES);
    if (timerDeadline() > now) store<u64>(C + X86_CYCLES, timerDeadline());
  }
  if (timerDeadline() <= load<u64>(C + X86_CYCLES)) {
    timerFired();
    v = deliverable();
  }
  if (v >= 0 && interruptible) {
    if (guestExiting(GC_EXTERNAL_INTERRUPT_EXITING)) return externalInterruptExit(<u32>v);
    store<u32>(C + X86_HALTED, 0);
    if (acknowledge(<u32>v)) count(CNT_IPI_TAKEN);
    count(CNT_INTERRUPT);
    const rip = load<u64>(C + X86_RIP);
    if (!deliverThroughIdt(<u32>v, 0, false, false, true, rip)) {
      return deliverException(rip);
    }
    return 0;
  }
  if (load<u32>(C + X86_HALTED)) {
    count(CNT_EXIT_HLT);
    store<u32>(C + X86_EXIT_REASON, EXIT_HLT);
    store<u32>(C + X86_EVENTS, 1);
    return EXIT_HLT;
  }
  return 0;
}

// ── Exits ────────────────────────────────────────────────────────────────────

function exitTo(reason: u32, rip: u64): void {
  store<u32>(C + X86_EXIT_REASON, reason);
  store<u64>(C + X86_EXIT_RIP, rip);
  raiseExit();
}

// ── MSRs ─────────────────────────────────────────────────────────────────────

const MSR_TSC: u32 = 0x10;
const MSR_APIC_BASE: u32 = 0x1B;
const MSR_PAT: u32 = 0x277;
const MSR_EFER: u32 = 0xC000_0080;
const MSR_STAR: u32 = 0xC000_0081;
const MSR_LSTAR: u32 = 0xC000_0082;
const MSR_CSTAR: u32 = 0xC000_0083;
const MSR_FMASK: u32 = 0xC000_0084;
const MSR_FS_BASE: u32 = 0xC000_0100;
const MSR_GS_BASE: u32 = 0xC000_0101;
const MSR_KERNEL_GS_BASE: u32 = 0xC000_0102;
const MSR_TSC_AUX: u32 = 0xC000_0103;

/** EFER bits software may set: SCE, LME, NXE (LMA is read-only and stays 1 in 64-bit mode). */
const EFER_WRITABLE: u64 = 0x901;

function readMsr(msr: u32): u64 {
  switch (msr) {
    case MSR_TSC: return load<u64>(C + X86_CYCLES);
    case MSR_APIC_BASE: return load<u64>(C + X86_APIC_BASE);
    case MSR_PAT: return load<u64>(C + CPU_PAT);
    case MSR_EFER: return load<u64>(C + CPU_EFER);
    case MSR_STAR: return load<u64>(C + X86_STAR);
    case MSR_LSTAR: return load<u64>(C + X86_LSTAR);
    case MSR_CSTAR: return load<u64>(C + X86_CSTAR);
    case MSR_FMASK: return load<u64>(C + X86_FMASK);
    case MSR_FS_BASE: return load<u64>(C + X86_FS_BASE);
    case MSR_GS_BASE: return load<u64>(C + X86_GS_BASE);
    case MSR_KERNEL_GS_BASE: return load<u64>(C + X86_KERNEL_GS_BASE);
    case MSR_TSC_AUX: return load<u64>(C + X86_TSC_AUX);
  }
  if (msr >= 0x800 && msr <= 0x8FF && (load<u64>(C + X86_APIC_BASE) & APIC_BASE_EXTD)) {
    const v = apicRead(msr);
    if (!apicFaultNow()) return v;
  }
  raiseGP(0);
  return 0;
}

@inline function apicFaultNow(): bool {
  return apicFault;
}

function writeMsr(msr: u32, v: u64): void {
  switch (msr) {
    case MSR_TSC:
      store<u64>(C + X86_CYCLES, v);
      return;
    case MSR_APIC_BASE:
      // x2APIC stays enabled (leaving it is not modelled); other bits are kept as written.
      store<u64>(C + X86_APIC_BASE, (v & ~<u64>0xFFF) | (v & 0xD00) | APIC_BASE_EXTD);
      return;
    case MSR_PAT:
      store<u64>(C + CPU_PAT, v);
      return;
    case MSR_EFER: {
      if (v & ~(EFER_WRITABLE | 0x400)) {
        raiseGP(0);
        return;
      }
      writeEfer((v & EFER_WRITABLE) | 0x400);
      dropFetchWindow();
      return;
    }
    case MSR_STAR: store<u64>(C + X86_STAR, v); return;
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
      if (!isCanonical(v)) {
        raiseGP(0);
        return;
      }
      store<u64>(C + (msr == MSR_LSTAR ? X86_LSTAR : msr == MSR_CSTAR ? X86_CSTAR : msr == MSR_FS_BASE ? X86_FS_BASE : msr == MSR_GS_BASE ? X86_GS_BASE : X86_KERNEL_GS_BASE), v);
      return;
    case MSR_FMASK: store<u64>(C + X86_FMASK, v & 0xFFFF_FFFF); return;
    case MSR_TSC_AUX: store<u64>(C + X86_TSC_AUX, v & 0xFFFF_FFFF); return;
  }
  if (msr >= 0x800 && msr <= 0x8FF && (load<u64>(C + X86_APIC_BASE) & APIC_BASE_EXTD)) {
    apicWrite(msr, v);
    if (!apicFaultNow()) return;
  }
  raiseGP(0);
}

/**
 * RDMSR or WRMSR of ECX as this CPU would execute it, for a hypervisor that
 * emulates an MSR exit with the bare machine's behaviour: RDX:RAX read or
 * written, every check made. Returns 0, or 1 for #GP(0) (nothing changed;
 * the hypervisor injects it). Called outside the run loop, so the fault
 * does not stay pending.
 */
export function emulateMsr(write: bool): u32 {
  clearFault();
  if (write) writeMsr(<u32>gpr(RCX), (gpr(RDX) << 32) | (gpr(RAX) & 0xFFFF_FFFF));
  else {
    const v = readMsr(<u32>gpr(RCX));
    if (!faulted()) {
      setGpr(RAX, v & 0xFFFF_FFFF);
      setGpr(RDX, v >> 32);
    }
  }
  const fault = faulted();
  clearFault();
  return fault ? 1 : 0;
}

// ── CPUID ────────────────────────────────────────────────────────────────────

export function cpuid(leaf: u32, subleaf: u32): void {
  let a: u32 = 0;
  let b: u32 = 0;
  let c: u32 = 0;
  let d: u32 = 0;
  switch (leaf) {
    case 0:
      // Highest basic leaf, and the vendor string "ShootdownVM!" in EBX, EDX, ECX.
      a = 7;
      b = 0x6F6F6853;
      d = 0x776F6474;
      c = 0x214D566E;
      break;
    case 1:
      a = 0x000806C1;
      b = (selectedCpu << 24) | (8 << 8);
      // ECX: CMPXCHG16B (13), PCID (17), x2APIC (21), POPCNT (23), OSXSAVE off. EDX: FPU TSC MSR PAE CX8 APIC SEP PGE CMOV PAT CLFSH.
      c = (1 << 13) | (1 << 17) | (1 << 21) | (1 << 23) | (1 << 31);
      d = (1 << 0) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 9) | (1 << 11) | (1 << 13) | (1 << 15) | (1 << 16) | (1 << 19);
      break;
    case 7:
      if (subleaf == 0) {
        // EBX: FSGSBASE (0), BMI1 for TZCNT (3), SMEP (7), INVPCID (10), SMAP (20). ECX: PKU (3), OSPKE (4) when CR4.PKE.
        b = (1 << 0) | (1 << 3) | (1 << 7) | (1 << 10) | (1 << 20);
        c = (1 << 3) | (cr4() & CR4_PKE ? 1 << 4 : 0);
      }
      break;
    case 0x8000_0000:
      a = 0x8000_0008;
      break;
    case 0x8000_0001:
      // EDX: SYSCALL (11), NX (20), Page1GB (26), RDTSCP (27), LM (29). ECX: LAHF (0), LZCNT (5).
      c = 1 | (1 << 5);
      d = (1 << 11) | (1 << 20) | (features & FEATURE_PAGE1GB ? 1 << 26 : 0) | (1 << 29);
      break;
    case 0x8000_0008:
      // Physical and linear address widths.
      a = maxPhysAddr | ((cr4() & CR4_LA57 ? 57 : 48) << 8);
      break;
  }
  writeReg(RAX, 4, a);
  writeReg(RBX_, 4, b);
  writeReg(RCX, 4, c);
  writeReg(RDX, 4, d);
}

const RBX_: u32 = 3;

// ── The system instructions ──────────────────────────────────────────────────

/** Privileged: #GP(0) unless CPL is 0. */
function privileged(): bool {
  if (cpl() == 0) return true;
  raiseGP(0);
  return false;
}

export function executeSystem(op: u16, d: usize, rip: u64, nextRip: u64): void {
  switch (op) {
    case OP_CLI:
    case OP_STI: {
      if (ifLocked()) {
        raiseGP(0);
        return;
      }
      const f = load<u64>(C + CPU_RFLAGS);
      if (op == OP_CLI) {
        store<u64>(C + CPU_RFLAGS, f & ~FLAG_IF);
      } else {
        // STI: interrupts are recognised after the next instruction; the
        // boundary before that instruction counts the shadow down.
        if (!(f & FLAG_IF)) {
          store<u32>(C + X86_SHADOW, 1);
          store<u32>(C + X86_EVENTS, 1);
        }
        store<u64>(C + CPU_RFLAGS, f | FLAG_IF);
      }
      return;
    }
    case OP_HLT:
      if (!privileged() || instructionExits(GC_HLT_EXITING, VMX_EXIT_HLT, 0, rip, nextRip)) return;
      store<u32>(C + X86_HALTED, 1);
      store<u32>(C + X86_EVENTS, 1);
      return;
    case OP_INT:
      deliverSoftware(<u32>load<u64>(d, D_IMM) & 0xFF, nextRip);
      return;
    case OP_INT3:
      if (exceptionExits(VEC_BP)) softwareExceptionExit(<u32>VEC_BP, rip, nextRip);
      else deliverSoftware(<u32>VEC_BP, nextRip);
      return;
    case OP_UD2:
      raiseUD();
      return;
    case OP_IRETQ:
      iretq();
      return;
    case OP_SYSCALL:
      syscall(nextRip);
      return;
    case OP_SYSRET:
      sysret(<u32>load<u8>(d, D_OSIZE));
      return;
    case OP_SWAPGS: {
      if (!privileged()) return;
      const gs = load<u64>(C + X86_GS_BASE);
      store<u64>(C + X86_GS_BASE, load<u64>(C + X86_KERNEL_GS_BASE));
      store<u64>(C + X86_KERNEL_GS_BASE, gs);
      return;
    }
    case OP_MOV_FROM_CR: {
      if (!privileged()) return;
      const cr = <u32>load<u8>(d, D_REG);
      const rm = <u32>load<u8>(d, D_RM);
      if (cr == 0) setGpr(rm, load<u64>(C + CPU_CR0));
      else if (cr == 2) setGpr(rm, load<u64>(C + CPU_CR2));
      else if (cr == 3) setGpr(rm, load<u64>(C + CPU_CR3));
      else if (cr == 4) setGpr(rm, load<u64>(C + CPU_CR4));
      else if (cr == 8) setGpr(rm, <u64>(load<u32>(C + X86_APIC_TPR) >> 4));
      else raiseUD();
      return;
    }
    case OP_MOV_TO_CR: {
      if (!privileged() || crWriteExits(<u32>load<u8>(d, D_REG), <u32>load<u8>(d, D_RM), rip, nextRip)) return;
      moveToCr(<u32>load<u8>(d, D_REG), gpr(<u32>load<u8>(d, D_RM)));
      return;
    }
    case OP_LGDT:
    case OP_LIDT: {
      if (!privileged()) return;
      const at = effectiveAddress(d, nextRip);
      const limit = readMem(at, 2, dataKind(false));
      if (faulted()) return;
      const base = readMem(at + 2, 8, dataKind(false));
      if (faulted()) return;
      if (!isCanonical(base)) {
        raiseGP(0);
        return;
      }
      store<u64>(C + (op == OP_LGDT ? X86_GDTR_BASE : X86_IDTR_BASE), base);
      store<u32>(C + (op == OP_LGDT ? X86_GDTR_LIMIT : X86_IDTR_LIMIT), <u32>limit);
      return;
    }
    case OP_SGDT:
    case OP_SIDT: {
      const at = effectiveAddress(d, nextRip);
      const gdt = op == OP_SGDT;
      writeMem(at, 2, <u64>load<u32>(C + (gdt ? X86_GDTR_LIMIT : X86_IDTR_LIMIT)), dataKind(true));
      if (!faulted()) writeMem(at + 2, 8, load<u64>(C + (gdt ? X86_GDTR_BASE : X86_IDTR_BASE)), dataKind(true));
      return;
    }
    case OP_LTR:
      if (!privileged()) return;
      ltr(<u32>readE(d, 2, nextRip) & 0xFFFF);
      return;
    case OP_INVLPG: {
      if (!privileged()) return;
      const va = effectiveAddress(d, nextRip);
      if (instructionExits(GC_INVLPG_EXITING, VMX_EXIT_INVLPG, va, rip, nextRip)) return;
      invlpg(va);
      dropFetchWindow();
      return;
    }
    case OP_INVPCID: {
      if (!privileged()) return;
      const type = gpr(<u32>load<u8>(d, D_REG));
      const at = effectiveAddress(d, nextRip);
      if (invpcidExits(<u32>load<u8>(d, D_REG), at, rip, nextRip)) return;
      const desc0 = readMem(at, 8, dataKind(false));
      if (faulted()) return;
      const desc1 = readMem(at + 8, 8, dataKind(false));
      if (faulted()) return;
      if (type > 3 || (desc0 >> 12) != 0 || invpcid(<u32>type, desc0, desc1) != 0) raiseGP(0);
      dropFetchWindow();
      return;
    }
    case OP_WRMSR:
      if (!privileged() || instructionExits(GC_WRMSR_EXITING, VMX_EXIT_WRMSR, 0, rip, nextRip)) return;
      writeMsr(<u32>gpr(RCX), (gpr(RDX) << 32) | (gpr(RAX) & 0xFFFF_FFFF));
      return;
    case OP_RDMSR: {
      if (!privileged() || instructionExits(GC_RDMSR_EXITING, VMX_EXIT_RDMSR, 0, rip, nextRip)) return;
      const v = readMsr(<u32>gpr(RCX));
      if (faulted()) return;
      setGpr(RAX, v & 0xFFFF_FFFF);
      setGpr(RDX, v >> 32);
      return;
    }
    case OP_RDTSC: {
      if ((cr4() & CR4_TSD) && cpl() != 0) {
        raiseGP(0);
        return;
      }
      const t = load<u64>(C + X86_CYCLES);
      setGpr(RAX, t & 0xFFFF_FFFF);
      setGpr(RDX, t >> 32);
      return;
    }
    case OP_CPUID:
      if (instructionExits(GC_CPUID_EXITING, VMX_EXIT_CPUID, 0, rip, nextRip)) return;
      cpuid(<u32>gpr(RAX), <u32>gpr(RCX));
      return;
    case OP_IN:
    case OP_OUT: {
      // No I/O permission bitmap: CPL must be at most IOPL.
      if (cpl() > iopl()) {
        raiseGP(0);
        return;
      }
      const size = <u32>load<u8>(d, D_OSIZE);
      const port: u32 = load<u8>(d, D_FLAGS) & F_DX ? <u32>gpr(RDX) & 0xFFFF : <u32>load<u64>(d, D_IMM);
      if (ioExits(port, size, op == OP_IN, !(load<u8>(d, D_FLAGS) & F_DX), rip, nextRip)) return;
      store<u32>(C + X86_EXIT_PORT, port);
      store<u32>(C + X86_EXIT_SIZE, size);
      store<u32>(C + X86_EXIT_WRITE, op == OP_OUT ? 1 : 0);
      store<u64>(C + X86_EXIT_VALUE, op == OP_OUT ? readReg(RAX, size) : 0);
      count(CNT_EXIT_IO);
      exitTo(EXIT_IO, rip);
      return;
    }
    case OP_VMCALL:
      if (instructionExits(GC_VMCALL_EXITING, VMX_EXIT_VMCALL, 0, rip, nextRip)) return;
      count(CNT_EXIT_VMCALL);
      exitTo(EXIT_VMCALL, rip);
      return;
    case OP_WBINVD:
      privileged();
      return;
    case OP_CLFLUSH: {
      // Coherent memory: nothing to flush, but the address must be one the CPU could read.
      readMem(effectiveAddress(d, nextRip), 1, dataKind(false));
      return;
    }
    case OP_FENCE:
      return;
    case OP_STAC:
    case OP_CLAC: {
      if (cpl() != 0) {
        raiseUD();
        return;
      }
      const f = materialize();
      setFlags(op == OP_STAC ? f | FLAG_AC : f & ~FLAG_AC);
      return;
    }
    case OP_RDPKRU:
      if (!(cr4() & CR4_PKE)) {
        raiseUD();
        return;
      }
      if (<u32>gpr(RCX) != 0) {
        raiseGP(0);
        return;
      }
      setGpr(RAX, <u64>load<u32>(C + CPU_PKRU));
      setGpr(RDX, 0);
      return;
    case OP_WRPKRU:
      if (!(cr4() & CR4_PKE)) {
        raiseUD();
        return;
      }
      if (<u32>gpr(RCX) != 0 || <u32>gpr(RDX) != 0) {
        raiseGP(0);
        return;
      }
      writePkru(<u32>gpr(RAX));
      dropFetchWindow();
      return;
    default:
      raiseUD();
  }
}

/** MOV to CR0/CR2/CR3/CR4/CR8 with the checks and flushes the MMU defines. */
function moveToCr(cr: u32, v: u64): void {
  let status: u32 = 0;
  if (cr == 0) {
    // Clearing PG or PE in 64-bit mode is #GP (leaving long mode is not modelled).
    if (!(v & 0x8000_0000) || !(v & 1)) status = 1;
    else status = movToCr0(v);
  } else if (cr == 2) {
    store<u64>(C + CPU_CR2, v);
  } else if (cr == 3) {
    status = movToCr3(v);
  } else if (cr == 4) {
    status = movToCr4(v);
  } else if (cr == 8) {
    if (v > 15) status = 1;
    else {
      store<u32>(C + X86_APIC_TPR, <u32>v << 4);
      store<u32>(C + X86_EVENTS, 1);
    }
  } else {
    raiseUD();
    return;
  }
  if (status != 0) raiseGP(0);
  dropFetchWindow();
}

/** LTR: an available 64-bit TSS descriptor (16 bytes) in the GDT becomes busy and the task register. */
function ltr(selector: u32): void {
  if (faulted()) return;
  const desc = gdtDescriptor(selector, 0);
  if (faulted()) return;
  const type = <u32>(desc >> 40) & 0xF;
  const system = ((desc >> 44) & 1) == 0;
  if (!system || type != 9) {
    raiseGP(selector & ~<u32>3);
    return;
  }
  if (!((desc >> 47) & 1)) {
    raise(VEC_NP, selector & ~<u32>3, true);
    return;
  }
  const at = load<u64>(C + X86_GDTR_BASE) + <u64>(selector & ~<u32>7);
  const high = readMem(at + 8, 8, KIND_SYSTEM_READ);
  if (faulted()) return;
  const base = ((desc >> 16) & 0xFF_FFFF) | (((desc >> 56) & 0xFF) << 24) | ((high & 0xFFFF_FFFF) << 32);
  writeMem(at, 8, desc | (<u64>2 << 40), KIND_SYSTEM_WRITE);
  if (faulted()) return;
  store<u32>(C + X86_TR, selector);
  store<u64>(C + X86_TSS_BASE, base);
}

/** IRETQ in 64-bit mode: RIP, CS, RFLAGS, RSP and SS from the stack (SDM Vol.2A IRET). */
function iretq(): void {
  const rsp = gpr(RSP);
  setStackAccess(true);
  const kind = dataKind(false);
  const newRip = readMem(rsp, 8, kind);
  if (faulted()) return;
  const cs = <u32>readMem(rsp + 8, 8, kind) & 0xFFFF;
  if (faulted()) return;
  const flags = readMem(rsp + 16, 8, kind);
  if (faulted()) return;
  const newRsp = readMem(rsp + 24, 8, kind);
  if (faulted()) return;
  const ss = <u32>readMem(rsp + 32, 8, kind) & 0xFFFF;
  if (faulted()) return;
  const rpl = cs & 3;
  if (rpl < cpl()) {
    raiseGP(cs & ~<u32>3);
    return;
  }
  const desc = gdtDescriptor(cs, 0);
  if (faulted()) return;
  if (!isLongCode(desc) || descriptorDpl(desc) != rpl) {
    raiseGP(cs & ~<u32>3);
    return;
  }
  if (!isCanonical(newRip)) {
    raiseGP(0);
    return;
  }
  const old = materialize();
  let keep: u64 = FLAG_VM;
  if (cpl() > 0) keep |= FLAG_IOPL;
  if (ifLocked()) keep |= FLAG_IF;
  setFlags((flags & ~keep) | (old & keep));
  store<u16>(C + X86_SEL + (SEL_CS << 1), <u16>cs);
  store<u16>(C + X86_SEL + (SEL_SS << 1), <u16>ss);
  store<u32>(C + X86_CPL, rpl);
  setGpr(RSP, newRsp);
  store<u64>(C + X86_RIP, newRip);
  dropFetchWindow();
}

/** SYSCALL (SDM Vol.2B): RCX ← RIP, R11 ← RFLAGS, flags masked by IA32_FMASK, CS/SS from STAR[47:32], RIP ← LSTAR. */
function syscall(nextRip: u64): void {
  if (!(load<u64>(C + CPU_EFER) & EFER_SCE)) {
    raiseUD();
    return;
  }
  const flags = materialize();
  setGpr(RCX, nextRip);
  setGpr(R11, flags & ~FLAG_RF);
  setFlags(flags & ~load<u64>(C + X86_FMASK) & ~FLAG_RF);
  const sel = <u32>(load<u64>(C + X86_STAR) >> 32) & 0xFFFF;
  store<u16>(C + X86_SEL + (SEL_CS << 1), <u16>(sel & ~<u32>3));
  store<u16>(C + X86_SEL + (SEL_SS << 1), <u16>((sel + 8) & ~<u32>3));
  store<u32>(C + X86_CPL, 0);
  store<u64>(C + X86_RIP, load<u64>(C + X86_LSTAR));
  dropFetchWindow();
}

/** SYSRET with REX.W: back to 64-bit CPL 3 (SDM Vol.2B SYSRET); without REX.W (32-bit) it is not modelled. */
function sysret(size: u32): void {
  if (!(load<u64>(C + CPU_EFER) & EFER_SCE) || size != 8) {
    raiseUD();
    return;
  }
  if (cpl() != 0) {
    raiseGP(0);
    return;
  }
  const target = gpr(RCX);
  if (!isCanonical(target)) {
    raiseGP(0);
    return;
  }
  const sel = <u32>(load<u64>(C + X86_STAR) >> 48) & 0xFFFF;
  setFlags((gpr(R11) & 0x3C_7FD7) | FLAG_FIXED);
  store<u16>(C + X86_SEL + (SEL_CS << 1), <u16>((sel + 16) | 3));
  store<u16>(C + X86_SEL + (SEL_SS << 1), <u16>((sel + 8) | 3));
  store<u32>(C + X86_CPL, 3);
  store<u64>(C + X86_RIP, target);
  dropFetchWindow();
}
