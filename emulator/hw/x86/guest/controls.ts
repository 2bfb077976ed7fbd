// SPDX-License-Identifier: MIT
//
// Guest mode: a VMX-like set of controls per CPU, for a hypervisor written in
// TypeScript (Intel SDM Vol.3C chapters 25–28, "VMX non-root operation").
//
// What the hardware does and what is left to the hypervisor. The CPU block
// holds one guest's state at a time (the hypervisor saves and loads the rest,
// as a VMCS's guest-state area would be loaded by VMLAUNCH); in guest mode the
// exiting controls turn some instructions and events into VM exits, which
// end x86Run with EXIT_VMEXIT and the VM-exit information fields filled
// (SDM Vol.3C 28.2), the guest's registers left as they were before the
// instruction or event (SDM Vol.3C 28.1). The hypervisor emulates the
// instruction if it wants to, advances RIP by the instruction length, and runs
// the CPU again, optionally with an event to inject (inject.ts).
//
// Translation is unchanged: in guest mode without EPT (EPTP 0) the guest's
// page tables translate straight to machine addresses, as Xen's PV guests
// have them, and the TLBs tag what they cache with the VPID (vmx.ts).
//
// The cost in host mode is nothing on the hot path: the exiting controls and
// the exception bitmap are copied into X86_GUEST_EXITING and
// X86_GUEST_EXCEPTIONS_EXITING only while the CPU is in guest mode, so each
// of the few instruction sites that can exit tests one word that is 0 in host
// mode, and exceptions test theirs on the way to the IDT.

import { C } from "../../cpu";
import {
  X86_GUEST_MODE, X86_GUEST_CONTROLS, X86_GUEST_EXCEPTION_BITMAP, X86_GUEST_EXITING, X86_GUEST_EXCEPTIONS_EXITING,
  X86_EVENTS, GC_ALL, GC_VIRTUAL_IF,
} from "../../layout";

/** Is the CPU in guest mode (VMX non-root operation)? */
@inline export function inGuestMode(): bool {
  return load<u32>(C + X86_GUEST_MODE) != 0;
}

/** Does this guest-mode control (GC_*) act now (set, and the CPU in guest mode)? */
@inline export function guestExiting(control: u32): bool {
  return (load<u32>(C + X86_GUEST_EXITING) & control) != 0;
}

/** Does an exception with this vector exit rather than go through the guest's IDT (SDM Vol.3C 26.2)? */
@inline export function exceptionExits(vector: i32): bool {
  return <u32>vector < 32 && ((load<u32>(C + X86_GUEST_EXCEPTIONS_EXITING) >> <u32>vector) & 1) != 0;
}

/**
 * Is RFLAGS.IF the vCPU's virtual IF, which CLI, STI, POPF and IRETQ change
 * at any privilege (no #GP for CPL > IOPL, and POPF and IRETQ do not keep
 * IF)? A Xen PV guest's kernel runs at CPL 3, where CLI and STI would fault;
 * with this control they run natively, and interrupts and injected external
 * interrupts are delivered to the guest only while IF is 1.
 */
@inline export function virtualIf(): bool {
  return guestExiting(GC_VIRTUAL_IF);
}

/**
 * Sets the selected CPU's guest mode, controls (GC_*) and exception bitmap.
 * Returns 0, or 1 when a control bit is unknown.
 */
export function setGuestControls(guest: bool, controls: u32, exceptionBitmap: u32): u32 {
  if (controls & ~GC_ALL) return 1;
  store<u32>(C + X86_GUEST_MODE, guest ? 1 : 0);
  store<u32>(C + X86_GUEST_CONTROLS, controls);
  store<u32>(C + X86_GUEST_EXCEPTION_BITMAP, exceptionBitmap);
  store<u32>(C + X86_GUEST_EXITING, guest ? controls : 0);
  store<u32>(C + X86_GUEST_EXCEPTIONS_EXITING, guest ? exceptionBitmap : 0);
  // External-interrupt exiting changes which interrupts can be taken: look again at the next boundary.
  store<u32>(C + X86_EVENTS, 1);
  return 0;
}
