// SPDX-License-Identifier: MIT
//
// Guest mode of an x86-64 CPU as TypeScript sees it (the hardware side is
// emulator/hw/x86/guest/): the controls a hypervisor sets, the VM exits
// run() returns in guest mode, and the events it injects. X86Cpu
// (x86-cpu.ts) holds the methods; this file holds their types and the
// decoding of the VM-exit information fields.

import { ShootdownError } from "../core/errors.ts";
import type { Layout } from "../core/layout.ts";
import { GPR_NAMES, type GprName } from "./x86-cpu.ts";

/**
 * Guest-mode controls, after Intel's VM-execution controls (SDM Vol.3C
 * 25.6). Every control acts only while `guestMode` is true; with guest mode
 * off the CPU behaves as it always has.
 */
export interface X86GuestControls {
  /** VMX non-root operation: the controls below act. */
  guestMode: boolean;
  /** Bit n set: exception n (0–31) exits instead of going through the guest's IDT (INT3 included). */
  exceptionBitmap: number;
  hltExiting: boolean;
  invlpgExiting: boolean;
  invpcidExiting: boolean;
  /** MOV to CR3. */
  cr3LoadExiting: boolean;
  /** MOV to CR0 (every one: a guest/host mask of all ones). */
  cr0Exiting: boolean;
  /** MOV to CR4 (every one). */
  cr4Exiting: boolean;
  /** Every RDMSR (no MSR bitmaps). */
  rdmsrExiting: boolean;
  /** Every WRMSR. */
  wrmsrExiting: boolean;
  /** Every IN and OUT (unconditional I/O exiting). */
  ioExiting: boolean;
  /** VMCALL as a guest-mode exit (RIP at it); off, VMCALL is the host's "vmcall" exit as in host mode. */
  vmcallExiting: boolean;
  /**
   * External interrupts exit whatever RFLAGS.IF says, acknowledged at the
   * local APIC (the vector is in the exit; end it with endOfInterrupt() or
   * inject it into the guest).
   */
  externalInterruptExiting: boolean;
  /**
   * RFLAGS.IF is the vCPU's virtual IF: CLI, STI, POPF and IRETQ change it
   * at any privilege (a Xen PV kernel at CPL 3 runs them natively), and
   * interrupts and injected external interrupts reach the guest only while
   * it is 1.
   */
  virtualIf: boolean;
  /** CPUID exits (in VMX it always does; a control here so that a PV guest runs it natively, as Xen lets it). */
  cpuidExiting: boolean;
}

/** Each boolean control and its GC_* name in the hardware module. */
const CONTROL_BITS: [Exclude<keyof X86GuestControls, "guestMode" | "exceptionBitmap">, keyof Layout][] = [
  ["hltExiting", "GC_HLT_EXITING"], ["invlpgExiting", "GC_INVLPG_EXITING"], ["invpcidExiting", "GC_INVPCID_EXITING"],
  ["cr3LoadExiting", "GC_CR3_LOAD_EXITING"], ["cr0Exiting", "GC_CR0_EXITING"], ["cr4Exiting", "GC_CR4_EXITING"],
  ["rdmsrExiting", "GC_RDMSR_EXITING"], ["wrmsrExiting", "GC_WRMSR_EXITING"], ["ioExiting", "GC_IO_EXITING"],
  ["vmcallExiting", "GC_VMCALL_EXITING"], ["externalInterruptExiting", "GC_EXTERNAL_INTERRUPT_EXITING"],
  ["virtualIf", "GC_VIRTUAL_IF"], ["cpuidExiting", "GC_CPUID_EXITING"],
];

/** CONTROL_BITS with each bit's value in a layout, made once per layout (a layout read by a name in a variable is a megamorphic lookup). */
const controlBitsByLayout = new WeakMap<Layout, [Exclude<keyof X86GuestControls, "guestMode" | "exceptionBitmap">, number][]>();

function controlBits(L: Layout): [Exclude<keyof X86GuestControls, "guestMode" | "exceptionBitmap">, number][] {
  let bits = controlBitsByLayout.get(L);
  if (!bits) controlBitsByLayout.set(L, (bits = CONTROL_BITS.map(([name, bit]) => [name, L[bit]])));
  return bits;
}

/** The controls word for the hardware, with every field checked. */
export function encodeControls(c: X86GuestControls, L: Layout): number {
  let word = 0;
  for (const [name, bit] of controlBits(L)) {
    if (typeof c[name] !== "boolean") throw new ShootdownError(`guest control ${name} must be true or false`);
    if (c[name]) word |= bit;
  }
  if (typeof c.guestMode !== "boolean") throw new ShootdownError("guest control guestMode must be true or false");
  if (!Number.isInteger(c.exceptionBitmap) || c.exceptionBitmap < 0 || c.exceptionBitmap > 0xffff_ffff) {
    throw new ShootdownError("the exception bitmap must be an integer from 0 to 0xffffffff");
  }
  return word;
}

/** Merges a partial update into the current controls, refusing names that are not controls. */
export function mergeControls(current: X86GuestControls, update: Partial<X86GuestControls>): X86GuestControls {
  for (const name of Object.keys(update)) {
    if (!(name in current)) throw new ShootdownError(`unknown guest control '${name}'`);
  }
  return { ...current, ...update };
}

export function decodeControls(guest: boolean, word: number, exceptionBitmap: number, L: Layout): X86GuestControls {
  const out = { guestMode: guest, exceptionBitmap } as X86GuestControls;
  for (const [name, bit] of controlBits(L)) out[name] = (word & bit) !== 0;
  return out;
}

// ── Events ───────────────────────────────────────────────────────────────────

/** Interruption types an event can have (SDM Vol.3C 25.8.3). */
export type X86EventType = "external-interrupt" | "hardware-exception" | "software-interrupt" | "software-exception";
const EVENT_TYPES: Record<number, X86EventType> = { 0: "external-interrupt", 3: "hardware-exception", 4: "software-interrupt", 6: "software-exception" };
const EVENT_TYPE_CODES: Record<X86EventType, number> = { "external-interrupt": 0, "hardware-exception": 3, "software-interrupt": 4, "software-exception": 6 };

/** An event: an interrupt or exception with its vector, type and error code (when it has one). */
export interface X86Event {
  vector: number;
  type: X86EventType;
  errorCode?: number;
}

/** Decodes an interruption-information word (and its error code); null when its valid bit is clear. */
export function decodeEvent(info: number, errorCode: number, L: Layout): X86Event | null {
  if (!(info & L.INTR_INFO_VALID)) return null;
  const event: X86Event = { vector: info & 0xff, type: EVENT_TYPES[(info >>> L.INTR_INFO_TYPE_SHIFT) & 7] ?? "hardware-exception" };
  if (info & L.INTR_INFO_DELIVER_CODE) event.errorCode = errorCode;
  return event;
}

/** What cpu.inject() takes. */
export interface X86Injection {
  vector: number;
  /** Default: "hardware-exception" for vectors below 32, else "external-interrupt". */
  type?: X86EventType;
  /** Required for the exceptions that push one (#DF #TS #NP #SS #GP #PF #AC #CP), refused for any other event. */
  errorCode?: number;
  /** #PF only: written to CR2 as the event is delivered (as a hypervisor writes the guest's CR2 before VM entry). */
  cr2?: bigint;
  /** Software interrupts and exceptions: the instruction's length (1–15); the frame's RIP is past it. */
  instructionLength?: number;
}

/** Vectors whose exception pushes an error code (SDM Vol.3A 6.15). */
const WITH_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17, 21]);

/** Checks an injection; returns the hardware's arguments (vector, type, has code, code, length, write CR2, CR2). */
export function encodeInjection(e: X86Injection): [number, number, number, number, number, number, bigint] {
  const { vector } = e;
  if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new ShootdownError(`vector must be 0 to 255, not ${String(vector)}`);
  const type = e.type ?? (vector < 32 ? "hardware-exception" : "external-interrupt");
  const code = EVENT_TYPE_CODES[type];
  if (code === undefined) throw new ShootdownError(`unknown event type '${String(type)}' (${Object.keys(EVENT_TYPE_CODES).join(", ")})`);
  if ((type === "hardware-exception" || type === "software-exception") && vector >= 32) throw new ShootdownError(`an exception's vector is below 32, not ${vector}`);
  const needsCode = type === "hardware-exception" && WITH_ERROR_CODE.has(vector);
  if (needsCode && e.errorCode === undefined) throw new ShootdownError(`exception ${vector} pushes an error code: give errorCode`);
  if (!needsCode && e.errorCode !== undefined) throw new ShootdownError(`a ${type} with vector ${vector} has no error code`);
  if (e.errorCode !== undefined && (!Number.isInteger(e.errorCode) || e.errorCode < 0 || e.errorCode > 0xffff_ffff)) {
    throw new ShootdownError("errorCode must be a 32-bit unsigned integer");
  }
  if (e.cr2 !== undefined) {
    if (type !== "hardware-exception" || vector !== 14) throw new ShootdownError("cr2 goes only with a #PF (vector 14, hardware exception)");
    if (typeof e.cr2 !== "bigint" || e.cr2 < 0n || e.cr2 >= 1n << 64n) throw new ShootdownError("cr2 must be a 64-bit unsigned bigint");
  }
  const software = type === "software-interrupt" || type === "software-exception";
  const length = e.instructionLength ?? 0;
  if (software ? !Number.isInteger(length) || length < 1 || length > 15 : e.instructionLength !== undefined) {
    throw new ShootdownError(software ? "a software interrupt or exception needs its instructionLength (1 to 15)" : `a ${type} has no instructionLength`);
  }
  return [vector, code, needsCode ? 1 : 0, e.errorCode ?? 0, length, e.cr2 === undefined ? 0 : 1, e.cr2 ?? 0n];
}

// ── VM exits ─────────────────────────────────────────────────────────────────

/** The VM-exit information fields as the CPU wrote them (SDM Vol.3C 25.9, 28.2). */
export interface X86VmExitInfo {
  /** The basic exit reason (SDM Vol.3C Appendix C): 0 exception, 1 external interrupt, 2 triple fault, 12 HLT, … */
  exitReason: number;
  qualification: bigint;
  guestLinear: bigint;
  guestPhysical: bigint;
  interruptionInfo: number;
  interruptionErrorCode: number;
  idtVectoringInfo: number;
  idtVectoringErrorCode: number;
  instructionLength: number;
  instructionInfo: number;
}

/**
 * What every guest-mode exit carries. The guest's registers are as they
 * were before the instruction or event (RIP at the instruction): to emulate
 * it, change the state and advance RIP by `instructionLength`.
 */
interface GuestExitCommon {
  guest: true;
  rip: bigint;
  /** The exiting instruction's length (0 for an event that is not an instruction). */
  instructionLength: number;
  /** The event whose delivery through the guest's IDT the exit interrupted, if any (IDT-vectoring information). */
  duringDelivery: X86Event | null;
  fields: X86VmExitInfo;
}

/** A VM exit in guest mode (run() returns these besides the host-mode exits). */
export type X86GuestExit = GuestExitCommon & (
  /** An exception whose exception-bitmap bit is set; nothing was pushed. For #PF, `address` is the faulting linear address and CR2 still holds its old value. */
  | { reason: "exception"; vector: number; type: "hardware-exception" | "software-exception"; errorCode?: number; address?: bigint }
  /** An external interrupt, acknowledged at the local APIC (external-interrupt exiting). */
  | { reason: "external-interrupt"; vector: number }
  /** A fault while delivering #DF: in guest mode a VM exit, and the CPU is not stopped. */
  | { reason: "triple-fault"; vectors: number[] }
  | { reason: "hlt" }
  /** INVLPG of this linear address. */
  | { reason: "invlpg"; address: bigint }
  /** INVPCID: its type (the register operand's value) and the linear address of its 16-byte descriptor. */
  | { reason: "invpcid"; type: bigint; descriptor: bigint }
  | { reason: "vmcall" }
  /** CPUID with the leaf in EAX and the subleaf in ECX. */
  | { reason: "cpuid" }
  /** MOV to CR0, CR3 or CR4 from `register`, which holds `value`. */
  | { reason: "cr-access"; cr: number; register: GprName; value: bigint }
  /** IN or OUT; for OUT `value` is what it writes, for IN the handler puts the value in RAX. */
  | { reason: "io"; port: number; size: 1 | 2 | 4; write: boolean; value: bigint }
  /** RDMSR or WRMSR of ECX; for WRMSR `value` is EDX:EAX. */
  | { reason: "msr"; msr: number; write: boolean; value: bigint }
  /** An EPT violation: the guest-physical address, the qualification (EPT_QUALIFICATION bits), and the guest-linear address when the qualification has LINEAR_VALID. */
  | { reason: "ept-violation"; gpa: bigint; qualification: number; guestLinear?: bigint }
  | { reason: "ept-misconfig"; gpa: bigint }
);

/** Reads the VM-exit information fields from the CPU block. */
export function readExitFields(v: DataView, L: Layout): X86VmExitInfo {
  return {
    exitReason: v.getUint32(L.X86_VMEXIT_REASON, true),
    qualification: v.getBigUint64(L.X86_VMEXIT_QUALIFICATION, true),
    guestLinear: v.getBigUint64(L.X86_VMEXIT_GUEST_LINEAR, true),
    guestPhysical: v.getBigUint64(L.X86_VMEXIT_GUEST_PHYSICAL, true),
    interruptionInfo: v.getUint32(L.X86_VMEXIT_INTR_INFO, true),
    interruptionErrorCode: v.getUint32(L.X86_VMEXIT_INTR_ERROR, true),
    idtVectoringInfo: v.getUint32(L.X86_VMEXIT_IDT_VECTORING, true),
    idtVectoringErrorCode: v.getUint32(L.X86_VMEXIT_IDT_VECTORING_ERROR, true),
    instructionLength: v.getUint32(L.X86_VMEXIT_INSTRUCTION_LENGTH, true),
    instructionInfo: v.getUint32(L.X86_VMEXIT_INSTRUCTION_INFO, true),
  };
}

/** The guest registers an exit's decoding reads. */
export interface GuestRegisters extends Record<GprName, bigint> {
  rip: bigint;
}

/** Decodes the exit the CPU recorded; `detail` is X86_EXIT_DETAIL (a triple fault's vectors). */
export function decodeGuestExit(f: X86VmExitInfo, regs: GuestRegisters, detail: bigint, L: Layout): X86GuestExit {
  // Every exit is written out whole rather than spread from a common part:
  // in a hypervisor run the spread cost more than the rest of the decoding.
  const guest = true;
  const rip = regs.rip;
  const instructionLength = f.instructionLength;
  const duringDelivery = decodeEvent(f.idtVectoringInfo, f.idtVectoringErrorCode, L);
  const fields = f;
  const q = f.qualification;
  switch (f.exitReason) {
    case L.VMX_EXIT_EXCEPTION_NMI: {
      const event = decodeEvent(f.interruptionInfo, f.interruptionErrorCode, L);
      const vector = event?.vector ?? 0;
      const type = event?.type === "software-exception" ? "software-exception" : "hardware-exception";
      const e: Extract<X86GuestExit, { reason: "exception" }> = { guest, rip, instructionLength, duringDelivery, fields, reason: "exception", vector, type };
      if (event?.errorCode !== undefined) e.errorCode = event.errorCode;
      if (vector === 14) e.address = q;
      return e;
    }
    case L.VMX_EXIT_EXTERNAL_INTERRUPT:
      return { guest, rip, instructionLength, duringDelivery, fields, reason: "external-interrupt", vector: f.interruptionInfo & 0xff };
    case L.VMX_EXIT_TRIPLE_FAULT: {
      const vectors = [Number(detail & 0xffn), Number((detail >> 8n) & 0xffn), Number((detail >> 16n) & 0xffn)];
      return { guest, rip, instructionLength, duringDelivery, fields, reason: "triple-fault", vectors };
    }
    case L.VMX_EXIT_HLT: return { guest, rip, instructionLength, duringDelivery, fields, reason: "hlt" };
    case L.VMX_EXIT_INVLPG: return { guest, rip, instructionLength, duringDelivery, fields, reason: "invlpg", address: q };
    case L.VMX_EXIT_INVPCID: {
      const register = GPR_NAMES[(f.instructionInfo >>> 28) & 15]!;
      return { guest, rip, instructionLength, duringDelivery, fields, reason: "invpcid", type: regs[register], descriptor: f.guestLinear };
    }
    case L.VMX_EXIT_VMCALL: return { guest, rip, instructionLength, duringDelivery, fields, reason: "vmcall" };
    case L.VMX_EXIT_CPUID: return { guest, rip, instructionLength, duringDelivery, fields, reason: "cpuid" };
    case L.VMX_EXIT_CR_ACCESS: {
      const register = GPR_NAMES[Number((q >> 8n) & 15n)]!;
      return { guest, rip, instructionLength, duringDelivery, fields, reason: "cr-access", cr: Number(q & 15n), register, value: regs[register] };
    }
    case L.VMX_EXIT_IO_INSTRUCTION: {
      const size = (Number(q & 7n) + 1) as 1 | 2 | 4;
      const write = (q & 8n) === 0n;
      const value = write ? regs.rax & ((1n << BigInt(8 * size)) - 1n) : 0n;
      return { guest, rip, instructionLength, duringDelivery, fields, reason: "io", port: Number((q >> 16n) & 0xffffn), size, write, value };
    }
    case L.VMX_EXIT_RDMSR:
    case L.VMX_EXIT_WRMSR: {
      const write = f.exitReason === L.VMX_EXIT_WRMSR;
      const value = write ? ((regs.rdx & 0xffff_ffffn) << 32n) | (regs.rax & 0xffff_ffffn) : 0n;
      return { guest, rip, instructionLength, duringDelivery, fields, reason: "msr", msr: Number(regs.rcx & 0xffff_ffffn), write, value };
    }
    case L.VMX_EXIT_EPT_VIOLATION: {
      const qualification = Number(q);
      const e: Extract<X86GuestExit, { reason: "ept-violation" }> = { guest, rip, instructionLength, duringDelivery, fields, reason: "ept-violation", gpa: f.guestPhysical, qualification };
      if (qualification & (1 << 7)) e.guestLinear = f.guestLinear;
      return e;
    }
    case L.VMX_EXIT_EPT_MISCONFIG: return { guest, rip, instructionLength, duringDelivery, fields, reason: "ept-misconfig", gpa: f.guestPhysical };
    default:
      throw new Error(`the hardware module reported an unknown VM exit reason ${f.exitReason}`);
  }
}
