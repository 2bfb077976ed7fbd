// SPDX-License-Identifier: MIT
//
// Guest mode (VMX non-root operation) of the x86-64 CPU: each exiting
// control makes its instruction or event a VM exit with the VM-exit
// information the SDM gives (Vol.3C 28.2), leaves the guest as before the
// instruction, and is inert without guest mode; the exception bitmap, exits
// during event delivery, event injection through the guest's IDT, the
// virtual IF, and a PV-style guest without EPT whose vCPUs the VPID keeps
// apart.

import { describe, expect, it } from "vitest";
import { execRig, gate, installIdt, KERNEL_CS, KERNEL_DS, USER_CS, USER_DS, type ExecRig } from "../../helpers/x86-exec.ts";
import { X86PageTables, PTE, PAGE_2M, PAGE_4K } from "../../../emulator/machine/platform/x86/page-tables.ts";
import type { X86Exit, X86GuestControls } from "../../../emulator/machine/cpu/x86-cpu.ts";

/** Where the guest's handlers write what they saw: vector, error code, frame RIP, CS, RFLAGS, RSP, SS, CR2. */
const SEEN = 0x7_0000n;
const NO_CODE = 0xffff_ffff_ffff_ffffn;

/** A guest handler for `vector`: stores the vector, the error code (popped) or NO_CODE, the frame and CR2, then halts. */
function guestHandler(vector: number, hasCode: boolean): string {
  const frame = ["rip", "cs", "rflags", "rsp", "ss"].map((_, i) => ` mov ${8 * i}(%rsp), %rax\n mov %rax, ${0x70010 + 8 * i}`).join("\n");
  return `
handler${vector}:
 movq $${vector}, 0x70000
 ${hasCode ? "pop %rax\n mov %rax, 0x70008" : "movq $-1, 0x70008"}
${frame}
 mov %cr2, %rax
 mov %rax, 0x70038
 hlt
`;
}

function seen(rig: ExecRig) {
  const r = (i: number) => rig.m.memory.read64(SEEN + BigInt(8 * i));
  return { vector: r(0), code: r(1), rip: r(2), cs: r(3), rflags: r(4), rsp: r(5), ss: r(6), cr2: r(7) };
}

/** A rig running `body`, with guest handlers installed in the IDT for the listed vectors (true: with an error code). */
function guestRig(body: string, vectors: Record<number, boolean> = {}): ExecRig {
  const handlers = Object.entries(vectors).map(([v, code]) => guestHandler(Number(v), code)).join("\n");
  const rig = execRig(`${body}\n${handlers}`);
  installIdt(rig, Object.fromEntries(Object.keys(vectors).map((v) => [Number(v), gate(rig.sym(`handler${v}`))])));
  return rig;
}

/** Runs `body` to its end twice, without controls and with `controls` but guest mode off: the same exit and state. */
function expectInertInHostMode(body: string, controls: Partial<X86GuestControls>): void {
  const plain = guestRig(body, { 13: true });
  const withControls = guestRig(body, { 13: true });
  withControls.cpu.setGuestControls({ ...controls, guestMode: false });
  const a = plain.cpu.run(1000);
  const b = withControls.cpu.run(1000);
  expect(b).toEqual(a);
  expect("guest" in b).toBe(false);
  expect(withControls.cpu.state).toEqual(plain.cpu.state);
  expect(withControls.cpu.registers).toEqual(plain.cpu.registers);
}

/** The exit, narrowed to a guest-mode exit of this reason (the test fails otherwise). */
function guestExit<R extends string>(exit: X86Exit, reason: R): Extract<X86Exit, { guest: true; reason: R }> {
  expect(exit).toMatchObject({ reason, guest: true });
  return exit as Extract<X86Exit, { guest: true; reason: R }>;
}

describe("the controls", () => {
  it("read back as set; a partial update keeps the others; reset turns guest mode off", () => {
    const { cpu } = guestRig("_start:\n hlt");
    expect(cpu.guestControls).toMatchObject({ guestMode: false, exceptionBitmap: 0, hltExiting: false, virtualIf: false });
    cpu.setGuestControls({ guestMode: true, exceptionBitmap: 0x8000_4000, cr3LoadExiting: true });
    cpu.setGuestControls({ invlpgExiting: true });
    expect(cpu.guestControls).toMatchObject({ guestMode: true, exceptionBitmap: 0x8000_4000, cr3LoadExiting: true, invlpgExiting: true, hltExiting: false });
    cpu.reset();
    expect(cpu.guestControls).toMatchObject({ guestMode: false, exceptionBitmap: 0, cr3LoadExiting: false, invlpgExiting: false });
  });
});

describe("instruction exits", () => {
  it("HLT exiting: the exit is at the HLT, which has not run; RIP + length resumes after it", () => {
    const rig = guestRig("_start:\n nop\nstop: hlt\nnext: nop\n hlt");
    rig.cpu.setGuestControls({ guestMode: true, hltExiting: true });
    const exit = guestExit(rig.cpu.run(100), "hlt");
    expect(exit).toMatchObject({ rip: rig.sym("stop"), instructionLength: 1, duringDelivery: null, fields: { exitReason: 12 } });
    expect(rig.cpu.state.rip).toBe(rig.sym("stop"));
    expect(rig.cpu.progress).toMatchObject({ halted: false, instructions: 1n });
    expect(rig.cpu.counters().hltExits).toBe(0n);
    rig.cpu.setState({ rip: exit.rip + BigInt(exit.instructionLength) });
    expect(guestExit(rig.cpu.run(100), "hlt").rip).toBe(rig.sym("next") + 1n);
    // Guest mode without the control: HLT halts as in host mode.
    const plain = guestRig("_start:\n hlt");
    plain.cpu.setGuestControls({ guestMode: true, invlpgExiting: true });
    expect(plain.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(plain.cpu.progress.halted).toBe(true);
    expectInertInHostMode("_start:\n nop\n hlt", { hltExiting: true });
  });

  it("INVLPG exiting: the qualification is the linear address, and nothing is invalidated", () => {
    const body = "_start:\n mov $0x12345000, %rbx\nop: invlpg 8(%rbx)\nafter: hlt";
    const rig = guestRig(body);
    rig.cpu.setGuestControls({ guestMode: true, invlpgExiting: true });
    const exit = guestExit(rig.cpu.run(100), "invlpg");
    expect(exit).toMatchObject({ address: 0x1234_5008n, rip: rig.sym("op"), instructionLength: Number(rig.sym("after") - rig.sym("op")) });
    expect(exit.fields).toMatchObject({ exitReason: 14, qualification: 0x1234_5008n });
    expect(rig.cpu.counters().invlpg).toBe(0n);
    expectInertInHostMode(body, { invlpgExiting: true });
  });

  it("INVPCID exiting: the type register's value and the descriptor's linear address", () => {
    const body = "_start:\n mov $1, %rdx\n lea desc(%rip), %rbx\nop: invpcid (%rbx), %rdx\n hlt\n.balign 16\ndesc: .quad 0, 0";
    const rig = guestRig(body);
    rig.cpu.setGuestControls({ guestMode: true, invpcidExiting: true });
    const exit = guestExit(rig.cpu.run(100), "invpcid");
    expect(exit).toMatchObject({ type: 1n, descriptor: rig.sym("desc"), rip: rig.sym("op"), fields: { exitReason: 58 } });
    expect(rig.cpu.counters().invpcidSingleContext).toBe(0n);
    expectInertInHostMode(body, { invpcidExiting: true });
  });

  it("CR3-load exiting: MOV to CR3 exits with the CR, the register and its value; CR3 keeps its value", () => {
    const body = "_start:\n mov $0x123000, %rcx\nop: mov %rcx, %cr3\n hlt";
    const rig = guestRig(body);
    const cr3 = rig.cpu.registers.cr3;
    rig.cpu.setGuestControls({ guestMode: true, cr3LoadExiting: true });
    const exit = guestExit(rig.cpu.run(100), "cr-access");
    expect(exit).toMatchObject({ cr: 3, register: "rcx", value: 0x12_3000n, rip: rig.sym("op"), instructionLength: 3 });
    // SDM table "Exit Qualification for Control-Register Accesses": CR 3, access type 0 (MOV to CR), register 1 (RCX).
    expect(exit.fields).toMatchObject({ exitReason: 28, qualification: 3n | (1n << 8n) });
    expect(rig.cpu.registers.cr3).toBe(cr3);
    expect(rig.cpu.counters().cr3Flush).toBe(0n);
    expectInertInHostMode(body, { cr3LoadExiting: true });
  });

  it("MOV-to-CR0 and MOV-to-CR4 exiting, each only for its own register", () => {
    const body = "_start:\n mov %cr0, %rax\n mov %cr4, %rdx\nw0: mov %rax, %cr0\nw4: mov %rdx, %cr4\n hlt";
    const rig = guestRig(body);
    rig.cpu.setGuestControls({ guestMode: true, cr4Exiting: true });
    expect(guestExit(rig.cpu.run(100), "cr-access")).toMatchObject({ cr: 4, register: "rdx", value: rig.cpu.registers.cr4, rip: rig.sym("w4") });
    const cr0 = guestRig(body);
    cr0.cpu.setGuestControls({ guestMode: true, cr0Exiting: true });
    expect(guestExit(cr0.cpu.run(100), "cr-access")).toMatchObject({ cr: 0, register: "rax", value: cr0.cpu.registers.cr0, rip: cr0.sym("w0") });
    expectInertInHostMode(body, { cr0Exiting: true, cr4Exiting: true });
  });

  it("RDMSR and WRMSR exiting: the MSR from ECX and, for WRMSR, EDX:EAX; the MSR is not written", () => {
    const body = "_start:\n mov $0xc0000100, %ecx\n mov $0x1234, %eax\n mov $0x5678, %edx\nw: wrmsr\n mov $0x277, %ecx\nr: rdmsr\n hlt";
    const rig = guestRig(body);
    rig.cpu.setGuestControls({ guestMode: true, rdmsrExiting: true, wrmsrExiting: true });
    expect(guestExit(rig.cpu.run(100), "msr")).toMatchObject({ msr: 0xc000_0100, write: true, value: 0x5678_0000_1234n, rip: rig.sym("w"), instructionLength: 2, fields: { exitReason: 32 } });
    expect(rig.cpu.state.fsBase).toBe(0n);
    rig.cpu.setState({ rip: rig.sym("w") + 2n });
    expect(guestExit(rig.cpu.run(100), "msr")).toMatchObject({ msr: 0x277, write: false, rip: rig.sym("r"), fields: { exitReason: 31 } });
    // RDMSR exiting alone leaves WRMSR to the CPU.
    const readOnly = guestRig(body);
    readOnly.cpu.setGuestControls({ guestMode: true, rdmsrExiting: true });
    expect(guestExit(readOnly.cpu.run(100), "msr")).toMatchObject({ msr: 0x277, write: false });
    expect(readOnly.cpu.state.fsBase).toBe(0x5678_0000_1234n);
    expectInertInHostMode(body, { rdmsrExiting: true, wrmsrExiting: true });
  });

  it("I/O exiting: IN and OUT exit at the instruction with the I/O qualification; without it they are the host's io exits", () => {
    const body = "_start:\n mov $0x41, %al\no: out %al, $0x80\n mov $0x3f8, %dx\ni: in (%dx), %eax\n hlt";
    const rig = guestRig(body);
    rig.cpu.setGuestControls({ guestMode: true, ioExiting: true });
    const out = guestExit(rig.cpu.run(100), "io");
    expect(out).toMatchObject({ port: 0x80, size: 1, write: true, value: 0x41n, rip: rig.sym("o"), instructionLength: 2 });
    // Size − 1 = 0, direction 0 (OUT), operand encoding 1 (immediate), port in bits 31:16.
    expect(out.fields).toMatchObject({ exitReason: 30, qualification: (1n << 6n) | (0x80n << 16n) });
    rig.cpu.setState({ rip: rig.sym("o") + 2n });
    const inExit = guestExit(rig.cpu.run(100), "io");
    expect(inExit).toMatchObject({ port: 0x3f8, size: 4, write: false, rip: rig.sym("i") });
    expect(inExit.fields.qualification).toBe(3n | (1n << 3n) | (0x3f8n << 16n));
    const plain = guestRig(body);
    plain.cpu.setGuestControls({ guestMode: true });
    expect(plain.cpu.run(100)).toEqual({ reason: "io", port: 0x80, size: 1, write: true, value: 0x41n, rip: plain.sym("o") });
  });

  it("VMCALL exiting: a guest exit at the VMCALL; without it, the host's vmcall exit past it", () => {
    const body = "_start:\n nop\nop: vmcall\nafter: hlt";
    const rig = guestRig(body);
    rig.cpu.setGuestControls({ guestMode: true, vmcallExiting: true });
    expect(guestExit(rig.cpu.run(100), "vmcall")).toMatchObject({ rip: rig.sym("op"), instructionLength: 3, fields: { exitReason: 18 } });
    expect(rig.cpu.state.rip).toBe(rig.sym("op"));
    expect(rig.cpu.counters().vmcallExits).toBe(0n);
    const plain = guestRig(body);
    plain.cpu.setGuestControls({ guestMode: true });
    expect(plain.cpu.run(100)).toEqual({ reason: "vmcall", rip: plain.sym("op") });
    expect(plain.cpu.state.rip).toBe(plain.sym("after"));
  });

  it("a privileged instruction at CPL 3 is #GP before it can exit (SDM Vol.3C 26.1.1)", () => {
    const rig = guestRig("_start:\nop: hlt");
    rig.cpu.setState({ cpl: 3, cs: USER_CS, ss: USER_DS });
    rig.cpu.setGuestControls({ guestMode: true, hltExiting: true, exceptionBitmap: 1 << 13 });
    expect(guestExit(rig.cpu.run(100), "exception")).toMatchObject({ vector: 13, errorCode: 0, rip: rig.sym("op") });
  });
});

describe("the exception bitmap", () => {
  it("an exception whose bit is set exits with its vector instead of going through the IDT; clear, it is delivered", () => {
    const body = "_start:\n nop\nop: ud2";
    const rig = guestRig(body, { 6: false });
    rig.cpu.setGuestControls({ guestMode: true, exceptionBitmap: 1 << 6 });
    const exit = guestExit(rig.cpu.run(100), "exception");
    expect(exit).toMatchObject({ vector: 6, type: "hardware-exception", rip: rig.sym("op"), duringDelivery: null, fields: { exitReason: 0 } });
    expect("errorCode" in exit).toBe(false);
    expect(exit.fields.interruptionInfo).toBe(0x8000_0306);
    expect(rig.cpu.counters().exceptions).toBe(0n);
    expect(seen(rig).vector).toBe(0n);
    const delivered = guestRig(body, { 6: false });
    delivered.cpu.setGuestControls({ guestMode: true, exceptionBitmap: 1 << 13 });
    expect(delivered.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(seen(delivered)).toMatchObject({ vector: 6n, code: NO_CODE, rip: delivered.sym("op") });
  });

  it("#GP exits with its error code", () => {
    const rig = guestRig("_start:\n mov $0x12345, %ecx\nop: wrmsr", { 13: true });
    rig.cpu.setGuestControls({ guestMode: true, exceptionBitmap: 1 << 13 });
    const exit = guestExit(rig.cpu.run(100), "exception");
    expect(exit).toMatchObject({ vector: 13, errorCode: 0, rip: rig.sym("op") });
    expect(exit.fields.interruptionInfo).toBe(0x8000_0b0d);
  });

  it("#PF exits with the error code and the faulting address, and CR2 is not written; reflected, the guest sees it", () => {
    const body = "_start:\n mov $0x7000000000, %rbx\nop: movq $1, (%rbx)\n hlt";
    const rig = guestRig(body, { 14: true });
    rig.cpu.setRegisters({ cr2: 0x1111n });
    rig.cpu.setGuestControls({ guestMode: true, exceptionBitmap: 1 << 14 });
    const exit = guestExit(rig.cpu.run(100), "exception");
    expect(exit).toMatchObject({ vector: 14, errorCode: 2, address: 0x70_0000_0000n, rip: rig.sym("op") });
    expect(exit.fields.qualification).toBe(0x70_0000_0000n);
    expect(rig.cpu.registers.cr2).toBe(0x1111n);
    // The hypervisor reflects it into the guest, as Xen's PV #PF path does.
    rig.cpu.inject({ vector: 14, errorCode: exit.errorCode!, cr2: exit.address! });
    expect(rig.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(seen(rig)).toMatchObject({ vector: 14n, code: 2n, rip: rig.sym("op"), cr2: 0x70_0000_0000n });
    // In host mode the bitmap is inert: CR2 is written and the guest's handler runs.
    const host = guestRig(body, { 14: true });
    host.cpu.setGuestControls({ exceptionBitmap: 1 << 14 });
    expect(host.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(seen(host)).toMatchObject({ vector: 14n, cr2: 0x70_0000_0000n });
  });

  it("INT3 with #BP's bit set exits as a software exception with its length; reinjected, the frame is past it", () => {
    const rig = guestRig("_start:\nop: int3\nafter: hlt", { 3: false });
    rig.cpu.setGuestControls({ guestMode: true, exceptionBitmap: 1 << 3 });
    const exit = guestExit(rig.cpu.run(100), "exception");
    expect(exit).toMatchObject({ vector: 3, type: "software-exception", instructionLength: 1, rip: rig.sym("op") });
    rig.cpu.inject({ vector: 3, type: "software-exception", instructionLength: exit.instructionLength });
    rig.cpu.run(100);
    expect(seen(rig)).toMatchObject({ vector: 3n, rip: rig.sym("after") });
  });

  it("an exception during the delivery of another exits with that event as IDT-vectoring information", () => {
    // #UD's frame goes on an unmapped stack: a #PF while delivering #UD.
    const rig = guestRig("_start:\n mov $0x7000001000, %rsp\nop: ud2", { 6: false });
    rig.cpu.setGuestControls({ guestMode: true, exceptionBitmap: 1 << 14 });
    const exit = guestExit(rig.cpu.run(100), "exception");
    expect(exit).toMatchObject({ vector: 14, errorCode: 2, address: 0x70_0000_0ff8n, rip: rig.sym("op") });
    expect(exit.duringDelivery).toEqual({ vector: 6, type: "hardware-exception" });
    expect(exit.fields.idtVectoringInfo).toBe(0x8000_0306);
    expect(rig.cpu.state.rsp).toBe(0x70_0000_1000n);
  });

  it("a #DF that exits is not an exit during event delivery (SDM Vol.3C 28.2.4)", () => {
    // #UD's gate is not present: #NP, whose gate is empty: #GP — contributory after contributory, so #DF.
    const rig = execRig("_start:\nop: ud2");
    installIdt(rig, { 6: gate(0n, { present: false }) });
    rig.cpu.setGuestControls({ guestMode: true, exceptionBitmap: 1 << 8 });
    const exit = guestExit(rig.cpu.run(100), "exception");
    expect(exit).toMatchObject({ vector: 8, errorCode: 0, rip: rig.sym("op"), duringDelivery: null });
  });

  it("a triple fault in guest mode is a VM exit, and the CPU is not stopped", () => {
    const rig = execRig("_start:\n nop\nop: ud2");
    rig.cpu.setGuestControls({ guestMode: true });
    const exit = guestExit(rig.cpu.run(100), "triple-fault");
    expect(exit).toMatchObject({ rip: rig.sym("op"), vectors: [6, 13, 8], duringDelivery: null, fields: { exitReason: 2 } });
    expect(rig.cpu.progress.stopped).toBe(false);
    const host = execRig("_start:\n nop\nop: ud2");
    expect(host.cpu.run(100)).toEqual({ reason: "triple-fault", rip: host.sym("op"), vectors: [6, 13, 8] });
  });
});

describe("external-interrupt exiting", () => {
  it("an interrupt exits whatever IF says, acknowledged; it stays in service until the hypervisor's EOI", () => {
    const rig = guestRig("_start:\n nop\n nop\nhalt: hlt");
    rig.cpu.setGuestControls({ guestMode: true, externalInterruptExiting: true });
    rig.cpu.requestInterrupt(0x40);
    const exit = guestExit(rig.cpu.run(100), "external-interrupt");
    expect(exit).toMatchObject({ vector: 0x40, rip: rig.sym("_start"), fields: { exitReason: 1, interruptionInfo: 0x8000_0040 } });
    expect(rig.cpu.counters().interrupts).toBe(0n);
    // In service: the same vector again is not deliverable, and the CPU runs on to HLT.
    rig.cpu.requestInterrupt(0x40);
    expect(rig.cpu.run(100)).toEqual({ reason: "hlt" });
    rig.cpu.endOfInterrupt();
    expect(guestExit(rig.cpu.run(100), "external-interrupt")).toMatchObject({ vector: 0x40, rip: rig.sym("halt") + 1n });
  });

  it("without the control an interrupt is the guest's, blocked while IF is 0", () => {
    const rig = guestRig("_start:\n nop\n hlt", { 0x40: false });
    rig.cpu.setGuestControls({ guestMode: true });
    rig.cpu.requestInterrupt(0x40);
    expect(rig.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(seen(rig).vector).toBe(0n);
  });
});

describe("event injection", () => {
  it("a #PF is delivered through the guest's IDT with its error code and CR2, before the next instruction", () => {
    const rig = guestRig("_start:\n nop\n hlt", { 14: true });
    rig.cpu.setGuestControls({ guestMode: true, exceptionBitmap: 1 << 14 });
    rig.cpu.inject({ vector: 14, errorCode: 6, cr2: 0xdead_b000n });
    expect(rig.cpu.pendingInjection).toEqual({ vector: 14, type: "hardware-exception", errorCode: 6 });
    // Injection does not consult the exception bitmap (SDM Vol.3C 27.6.1.1).
    expect(rig.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(seen(rig)).toEqual({
      vector: 14n, code: 6n, rip: rig.sym("_start"), cs: BigInt(KERNEL_CS), rflags: 2n, rsp: 0x8_0000n, ss: BigInt(KERNEL_DS), cr2: 0xdead_b000n,
    });
    expect(rig.cpu.pendingInjection).toBe(null);
    expect(rig.cpu.counters().exceptions).toBe(1n);
  });

  it("a #GP from CPL 3 switches to TSS.RSP0 and pushes the error code", () => {
    const rig = guestRig("_start:\n nop\n hlt", { 13: true });
    // TSS.RSP0 (the task register as LTR would leave it).
    rig.m.memory.write64(0x4000n + 4n, 0x6_0000n);
    rig.cpu.setState({ cpl: 3, cs: USER_CS, ss: USER_DS, rsp: 0x5_0000n, tssBase: 0x4000n, tr: 0x28 });
    rig.cpu.inject({ vector: 13, errorCode: 0x18 });
    expect(rig.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(seen(rig)).toMatchObject({ vector: 13n, code: 0x18n, rip: rig.sym("_start"), cs: BigInt(USER_CS), rsp: 0x5_0000n, ss: BigInt(USER_DS) });
    expect(rig.cpu.state.cpl).toBe(0);
  });

  it("an injected external interrupt waits for IF and the STI shadow", () => {
    const rig = guestRig("_start:\n nop\n nop\n sti\n nop\nat: nop\n hlt", { 0x40: false });
    rig.cpu.inject({ vector: 0x40 });
    expect(rig.cpu.run(2)).toEqual({ reason: "budget" });
    expect(rig.cpu.pendingInjection).toEqual({ vector: 0x40, type: "external-interrupt" });
    expect(rig.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(seen(rig)).toMatchObject({ vector: 0x40n, rip: rig.sym("at") });
    expect(rig.cpu.counters().interrupts).toBe(1n);
  });

  it("a software interrupt returns past its instruction; injection wakes a halted CPU", () => {
    const rig = guestRig("_start:\n hlt\nint80: nop\n nop\nafter: hlt", { 0x80: false });
    expect(rig.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(rig.cpu.progress.halted).toBe(true);
    // Say the two NOPs are the 2-byte INT 0x80 a hypervisor emulated.
    rig.cpu.setState({ rip: rig.sym("int80") });
    rig.cpu.inject({ vector: 0x80, type: "software-interrupt", instructionLength: 2 });
    rig.cpu.run(100);
    expect(seen(rig)).toMatchObject({ vector: 0x80n, rip: rig.sym("after") });
  });

  it("a fault delivering the injected event: #DF when they are contributory, an exit when its bit is set", () => {
    // #GP's gate is not present: #NP during the delivery of the injected #GP.
    const doubled = execRig(`_start:\n hlt\n${guestHandler(8, true)}`);
    installIdt(doubled, { 8: gate(doubled.sym("handler8")), 13: gate(0n, { present: false }) });
    doubled.cpu.inject({ vector: 13, errorCode: 0 });
    expect(doubled.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(seen(doubled)).toMatchObject({ vector: 8n, code: 0n });
    const exits = execRig("_start:\n hlt");
    installIdt(exits, { 13: gate(0n, { present: false }) });
    exits.cpu.setGuestControls({ guestMode: true, exceptionBitmap: 1 << 11 });
    exits.cpu.inject({ vector: 13, errorCode: 0x20 });
    const exit = guestExit(exits.cpu.run(100), "exception");
    expect(exit).toMatchObject({ vector: 11, errorCode: 13 * 8 + 2, rip: exits.sym("_start") });
    expect(exit.duringDelivery).toEqual({ vector: 13, type: "hardware-exception", errorCode: 0x20 });
  });

  it("refuses events the hardware could not deliver, saying why", () => {
    const rig = guestRig("_start:\n hlt");
    expect(() => rig.cpu.inject({ vector: 14 })).toThrow(/pushes an error code/);
    expect(() => rig.cpu.inject({ vector: 6, errorCode: 0 })).toThrow(/has no error code/);
    expect(() => rig.cpu.inject({ vector: 13, errorCode: 0, cr2: 1n })).toThrow(/cr2 goes only with a #PF/);
    expect(() => rig.cpu.inject({ vector: 0x80, type: "software-interrupt" })).toThrow(/instructionLength/);
    expect(() => rig.cpu.inject({ vector: 40, type: "hardware-exception" })).toThrow(/below 32/);
    expect(() => rig.cpu.setGuestControls({ hltExit: true } as unknown as Partial<X86GuestControls>)).toThrow(/unknown guest control 'hltExit'/);
    expect(() => rig.cpu.setGuestControls({ exceptionBitmap: -1 })).toThrow(/exception bitmap/);
    expect(rig.cpu.pendingInjection).toBe(null);
  });
});

describe("the virtual IF", () => {
  const body = "_start:\n cli\nc: vmcall\n sti\ns: vmcall\n pushq $0x2\n popf\np: vmcall";

  it("CLI, STI and POPF change IF at CPL 3 without #GP", () => {
    const rig = guestRig(body);
    rig.cpu.setState({ cpl: 3, cs: USER_CS, ss: USER_DS, rflags: 0x202n });
    rig.cpu.setGuestControls({ guestMode: true, virtualIf: true, vmcallExiting: true, exceptionBitmap: 1 << 13 });
    const step = (label: string) => {
      const exit = guestExit(rig.cpu.run(100), "vmcall");
      expect(exit.rip).toBe(rig.sym(label));
      rig.cpu.setState({ rip: exit.rip + 3n });
      return rig.cpu.state.rflags & 0x200n;
    };
    expect(step("c")).toBe(0n);
    expect(step("s")).toBe(0x200n);
    expect(step("p")).toBe(0n);
  });

  it("without it, CLI at CPL 3 is #GP and POPF keeps IF", () => {
    const rig = guestRig(body);
    rig.cpu.setState({ cpl: 3, cs: USER_CS, ss: USER_DS, rflags: 0x202n });
    rig.cpu.setGuestControls({ guestMode: true, vmcallExiting: true, exceptionBitmap: 1 << 13 });
    expect(guestExit(rig.cpu.run(100), "exception")).toMatchObject({ vector: 13, rip: rig.sym("_start") });
    rig.cpu.setState({ rip: rig.sym("s") + 3n });
    expect(guestExit(rig.cpu.run(100), "vmcall").rip).toBe(rig.sym("p"));
    expect(rig.cpu.state.rflags & 0x200n).toBe(0x200n);
  });
});

describe("a PV guest without EPT", () => {
  it("translates guest page tables straight to machine addresses, its vCPUs kept apart by the VPID", () => {
    const rig = guestRig("_start:\n mov 0x40000000, %rax\nh: hlt");
    const { m, cpu } = rig;
    // Two vCPUs' page tables: the code identity-mapped, 0x4000_0000 to a different machine page in each.
    const tables = [0x80_0000n, 0x90_0000n].map((base, i) => {
      const pt = new X86PageTables(m.memory, { base, limit: base + 0x10_0000n });
      pt.map(0n, 0n, PAGE_2M, PTE.RW);
      pt.map(0x4000_0000n, 0x50_0000n + BigInt(i) * PAGE_4K, PAGE_4K, PTE.RW);
      m.memory.write64(0x50_0000n + BigInt(i) * PAGE_4K, 0xa0n + BigInt(i));
      return pt.cr3();
    });
    cpu.setGuestControls({ guestMode: true, hltExiting: true });
    const runVcpu = (i: number) => {
      // What a hypervisor's context switch loads: the vCPU's VPID and CR3 (no flush), its registers.
      cpu.setVmx({ vpid: i + 1, eptp: 0n });
      cpu.setRegisters({ cr3: tables[i]! });
      cpu.setState({ rip: rig.sym("_start"), rax: 0n });
      expect(guestExit(cpu.run(100), "hlt").rip).toBe(rig.sym("h"));
      return cpu.state.rax;
    };
    expect(runVcpu(0)).toBe(0xa0n);
    expect(runVcpu(1)).toBe(0xa1n);
    const walks = cpu.counters().walks;
    expect(runVcpu(0)).toBe(0xa0n);
    // vCPU 0's translations were still cached under its VPID: no walk.
    expect(cpu.counters().walks).toBe(walks);
  });
});
