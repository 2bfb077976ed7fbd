// SPDX-License-Identifier: MIT
//
// The x86-64 CPU's system behaviour: every exception path through the IDT
// (faults with and without error codes, #PF and CR2, #DF, the triple fault),
// software interrupts and gate DPL, external interrupts, the STI shadow,
// HLT and wake-up, x2APIC IPIs with each shorthand, the timer, privilege
// changes (interrupt from CPL 3 through TSS.RSP0, IRETQ, SYSCALL/SYSRET),
// exits to the host, breakpoints and self-modifying code.

import { describe, expect, it } from "vitest";
import { execRig, gate, installIdt, installTss, KERNEL_CS, KERNEL_DS, USER_CS, USER_DS, type ExecRig } from "../../../helpers/x86-exec.ts";

/** Where handlers record what they saw: vector, error code, then the frame's RIP, CS, RFLAGS, RSP, SS, and CR2. */
const RECORD = 0x6_0000n;

/** A handler for `vector` that records the frame (popping the error code when there is one) and halts. */
function handler(vector: number, hasCode: boolean): string {
  return `
h${vector}:
  movq $${vector}, 0x60000
  ${hasCode ? "pop %rax\n  mov %rax, 0x60008" : "movq $-1, 0x60008"}
  mov (%rsp), %rax
  mov %rax, 0x60010
  mov 8(%rsp), %rax
  mov %rax, 0x60018
  mov 16(%rsp), %rax
  mov %rax, 0x60020
  mov 24(%rsp), %rax
  mov %rax, 0x60028
  mov 32(%rsp), %rax
  mov %rax, 0x60030
  mov %cr2, %rax
  mov %rax, 0x60038
  hlt
`;
}

function record(rig: ExecRig) {
  const r = (i: number) => rig.m.memory.read64(RECORD + BigInt(8 * i));
  return { vector: r(0), code: r(1), rip: r(2), cs: r(3), rflags: r(4), rsp: r(5), ss: r(6), cr2: r(7) };
}

/** A rig whose program is `body` plus handlers for the listed vectors (true: with an error code). */
function withHandlers(body: string, vectors: Record<number, boolean>, extra = ""): ExecRig {
  const handlers = Object.entries(vectors).map(([v, code]) => handler(Number(v), code)).join("\n");
  const rig = execRig(`${body}\n${handlers}\n${extra}`);
  installIdt(rig, Object.fromEntries(Object.keys(vectors).map((v) => [Number(v), gate(rig.sym(`h${v}`))])));
  return rig;
}

describe("exceptions through the IDT", () => {
  it("#DE: divide by zero, reported at the DIV with no error code", () => {
    const rig = withHandlers("_start:\n xor %ecx, %ecx\nfault: div %ecx\n hlt", { 0: false });
    expect(rig.cpu.run(1000)).toEqual({ reason: "hlt" });
    expect(record(rig)).toMatchObject({ vector: 0n, code: 0xffff_ffff_ffff_ffffn, rip: rig.sym("fault"), cs: BigInt(KERNEL_CS), ss: BigInt(KERNEL_DS), rsp: 0x8_0000n });
    expect(rig.cpu.counters().exceptions).toBe(1n);
  });

  it("#DE: a quotient that does not fit (IDIV of INT_MIN by -1)", () => {
    const rig = withHandlers("_start:\n mov $0x80000000, %eax\n cltd\n mov $-1, %ecx\nfault: idiv %ecx\n hlt", { 0: false });
    rig.cpu.run(1000);
    expect(record(rig)).toMatchObject({ vector: 0n, rip: rig.sym("fault") });
  });

  it("#UD: UD2 and an opcode outside the subset, at the instruction", () => {
    const rig = withHandlers("_start:\nfault: ud2\n hlt", { 6: false });
    rig.cpu.run(1000);
    expect(record(rig)).toMatchObject({ vector: 6n, rip: rig.sym("fault") });
    const other = withHandlers("_start:\nfault: .byte 0x0f, 0x0d, 0x00\n hlt", { 6: false });
    other.cpu.run(1000);
    expect(record(other)).toMatchObject({ vector: 6n, rip: other.sym("fault") });
  });

  it("#UD for LOCK on an instruction that does not take it", () => {
    const rig = withHandlers("_start:\nfault: .byte 0xf0, 0x89, 0xc0\n hlt", { 6: false });
    rig.cpu.run(1000);
    expect(record(rig)).toMatchObject({ vector: 6n, rip: rig.sym("fault") });
  });

  it("#GP(0): WRMSR to an MSR that does not exist, and a reserved CR4 bit", () => {
    const rig = withHandlers("_start:\n mov $0x12345, %ecx\nfault: wrmsr\n hlt", { 13: true });
    rig.cpu.run(1000);
    expect(record(rig)).toMatchObject({ vector: 13n, code: 0n, rip: rig.sym("fault") });
    const cr4 = withHandlers("_start:\n mov $0x8000000, %rax\nfault: mov %rax, %cr4\n hlt", { 13: true });
    cr4.cpu.run(1000);
    expect(record(cr4)).toMatchObject({ vector: 13n, code: 0n, rip: cr4.sym("fault") });
  });

  it("#PF: an unmapped address sets CR2 and the error code (not present, write)", () => {
    const rig = withHandlers("_start:\n mov $0x7000000000, %rbx\nfault: movq $1, (%rbx)\n hlt", { 14: true });
    rig.cpu.run(1000);
    expect(record(rig)).toMatchObject({ vector: 14n, code: 0x2n, rip: rig.sym("fault"), cr2: 0x70_0000_0000n });
    expect(rig.cpu.counters().pageFaults).toBe(1n);
  });

  it("#PF on an instruction fetch reports the fetch (I/D) and CR2 = RIP", () => {
    const rig = withHandlers("_start:\n mov $0x7000000000, %rbx\n jmp *%rbx", { 14: true });
    rig.cpu.run(1000);
    expect(record(rig)).toMatchObject({ vector: 14n, code: 0x10n, rip: 0x70_0000_0000n, cr2: 0x70_0000_0000n });
  });

  it("a fault leaves the destination and the stack unchanged", () => {
    const rig = withHandlers("_start:\n mov $5, %rax\n mov $0x7000000000, %rbx\nfault: add (%rbx), %rax\n hlt", { 14: true });
    rig.cpu.run(1000);
    expect(record(rig).rip).toBe(rig.sym("fault"));
    expect(rig.cpu.state.rax).not.toBe(6n);
  });

  it("#DF: a #PF whose gate is not present raises #NP, which makes a double fault", () => {
    const rig = execRig(`_start:\n mov $0x7000000000, %rbx\n movq $1, (%rbx)\n hlt\n${handler(8, true)}`);
    installIdt(rig, { 8: gate(rig.sym("h8")), 14: gate(0n, { present: false }) });
    rig.cpu.run(1000);
    expect(record(rig)).toMatchObject({ vector: 8n, code: 0n });
  });

  it("a benign exception during delivery is delivered instead (no #DF): #UD's gate not present gives #NP", () => {
    const rig = execRig(`_start:\n ud2\n${handler(11, true)}`);
    installIdt(rig, { 6: gate(0n, { present: false }), 11: gate(rig.sym("h11")) });
    rig.cpu.run(1000);
    expect(record(rig)).toMatchObject({ vector: 11n, code: BigInt(6 * 8 + 2) });
  });

  it("with no IDT an exception ends in a triple fault that stops the CPU with a report", () => {
    const rig = execRig("_start:\n nop\nfault: ud2");
    const exit = rig.cpu.run(1000);
    // #UD cannot be delivered (no IDT: #GP), nor can #GP: #DF, which fails too.
    expect(exit).toEqual({ reason: "triple-fault", rip: rig.sym("fault"), vectors: [6, 13, 8] });
    expect(rig.cpu.progress.stopped).toBe(true);
    expect(rig.cpu.run(10)).toEqual({ reason: "stopped" });
  });

  it("#GP when the IDT is too short for the vector, with the IDT bit in the error code", () => {
    const rig = execRig(`_start:\n ud2\n${handler(13, true)}`);
    installIdt(rig, { 13: gate(rig.sym("h13")) });
    rig.cpu.setState({ idtrLimit: 14 * 16 - 1 });
    // #UD (6) is inside the IDT but its gate is empty (type 0): #GP(6·8+2).
    rig.cpu.run(1000);
    expect(record(rig)).toMatchObject({ vector: 13n, code: 0x32n });
  });
});

describe("software interrupts", () => {
  it("INT n returns to the next instruction; INT3 is vector 3", () => {
    const rig = withHandlers("_start:\n int $0x40\nafter: hlt", { 0x40: false });
    rig.cpu.run(1000);
    expect(record(rig)).toMatchObject({ vector: 0x40n, rip: rig.sym("after") });
    const bp = withHandlers("_start:\n int3\nafter: hlt", { 3: false });
    bp.cpu.run(1000);
    expect(record(bp)).toMatchObject({ vector: 3n, rip: bp.sym("after") });
  });

  it("IRETQ returns from the handler to where it was", () => {
    const rig = execRig(`_start:\n int $0x41\n mov $7, %rbx\n hlt\nh41:\n mov $1, %rcx\n iretq`);
    installIdt(rig, { 0x41: gate(rig.sym("h41")) });
    rig.cpu.run(1000);
    expect(rig.cpu.state).toMatchObject({ rbx: 7n, rcx: 1n, rsp: 0x8_0000n });
  });

  it("an interrupt gate clears IF; a trap gate leaves it", () => {
    const rig = execRig(`_start:\n sti\n int $0x42\n int $0x43\n hlt\nh42:\n pushfq\n pop %rax\n iretq\nh43:\n pushfq\n pop %rbx\n iretq`);
    installIdt(rig, { 0x42: gate(rig.sym("h42"), { type: 0xe }), 0x43: gate(rig.sym("h43"), { type: 0xf }) });
    rig.cpu.run(1000);
    expect(rig.cpu.state.rax & 0x200n).toBe(0n);
    expect(rig.cpu.state.rbx & 0x200n).toBe(0x200n);
  });
});

describe("privilege changes", () => {
  /** Drops to CPL 3 with IRETQ at `user`, a user stack at 0x70000. */
  const toUser = `
  push $${USER_DS}
  push $0x70000
  pushfq
  push $${USER_CS}
  lea user(%rip), %rax
  push %rax
  iretq`;

  it("INT n from CPL 3 to a DPL 0 gate is #GP(vector·8+2); to a DPL 3 gate it switches to TSS.RSP0", () => {
    const rig = execRig(`_start:${toUser}\nuser:\nfault: int $0x44\n int $0x45\n${handler(13, true)}\n${handler(0x45, false)}`);
    installIdt(rig, { 13: gate(rig.sym("h13")), 0x44: gate(rig.sym("h13"), { dpl: 0 }), 0x45: gate(rig.sym("h69"), { dpl: 3 }) });
    installTss(rig, 0x5_0000n);
    rig.cpu.setState({ tr: 0x28, tssBase: 0x4000n });
    rig.cpu.run(1000);
    expect(record(rig)).toMatchObject({ vector: 13n, code: BigInt(0x44 * 8 + 2), rip: rig.sym("fault"), cs: BigInt(USER_CS), ss: BigInt(USER_DS) });
    expect(rig.cpu.state.cpl).toBe(0);
  });

  it("an exception at CPL 3 runs the handler on the RSP0 stack and IRETQ goes back to CPL 3", () => {
    const rig = execRig(`_start:${toUser}\nuser:\n int3\n mov %rsp, %rbx\n mov $1, %rcx\n movq $1, 0x61000\n jmp .\nh3:\n mov %rsp, %rdx\n iretq`);
    installIdt(rig, { 3: gate(rig.sym("h3"), { dpl: 3 }) });
    installTss(rig, 0x5_0000n);
    rig.cpu.setState({ tr: 0x28, tssBase: 0x4000n });
    rig.cpu.run(30);
    expect(rig.cpu.state).toMatchObject({ rdx: 0x5_0000n - 40n, rbx: 0x7_0000n, rcx: 1n, cpl: 3, cs: USER_CS });
  });

  it("privileged instructions at CPL 3 are #GP(0); STAC is #UD", () => {
    for (const insn of ["hlt", "cli", "mov %cr3, %rax", "wrmsr", "invlpg (%rax)", "swapgs", "out %al, $0x80"]) {
      const rig = execRig(`_start:${toUser}\nuser:\nfault: ${insn}\n${handler(13, true)}`);
      installIdt(rig, { 13: gate(rig.sym("h13")) });
      installTss(rig, 0x5_0000n);
      rig.cpu.setState({ tr: 0x28, tssBase: 0x4000n });
      rig.cpu.run(1000);
      expect(record(rig), insn).toMatchObject({ vector: 13n, code: 0n, rip: rig.sym("fault") });
    }
    const stac = execRig(`_start:${toUser}\nuser:\nfault: stac\n${handler(6, false)}`);
    installIdt(stac, { 6: gate(stac.sym("h6")) });
    installTss(stac, 0x5_0000n);
    stac.cpu.setState({ tr: 0x28, tssBase: 0x4000n });
    stac.cpu.run(1000);
    expect(record(stac)).toMatchObject({ vector: 6n, rip: stac.sym("fault") });
  });

  it("SYSCALL enters at LSTAR with CPL 0, RCX/R11 saved and FMASK applied; SYSRETQ returns to CPL 3", () => {
    const rig = execRig(`_start:
  mov $0xc0000081, %ecx
  mov $0x00100008, %edx
  xor %eax, %eax
  wrmsr
  mov $0xc0000082, %ecx
  lea entry(%rip), %rax
  mov %rax, %rdx
  shr $32, %rdx
  wrmsr
  mov $0xc0000084, %ecx
  mov $0x200, %eax
  xor %edx, %edx
  wrmsr
  lea user(%rip), %rcx
  mov $0x202, %r11
  sysretq
user:
  mov $0x42, %rbx
  syscall
back:
  hlt
entry:
  mov %rcx, %r12
  mov %r11, %r13
  pushfq
  pop %r14
  mov %cs, %r15
  sysretq`.replace("mov %cs, %r15", "nop"));
    const exit = rig.cpu.run(100);
    // HLT at CPL 3 is #GP with no IDT: a triple fault after the round trip.
    expect(exit.reason).toBe("triple-fault");
    const s = rig.cpu.state;
    expect(s).toMatchObject({ rbx: 0x42n, r12: rig.sym("back"), cpl: 3, cs: 0x10 + 16 + 3, ss: 0x10 + 8 + 3 });
    expect(s.r13 & 0x200n).toBe(0x200n);
    expect(s.r14 & 0x200n).toBe(0n);
  });
});

describe("external interrupts, the STI shadow and HLT", () => {
  it("an interrupt is taken at the next boundary with IF=1, and not while IF=0", () => {
    const rig = execRig(`_start:\n cli\n mov $1, %rax\n mov $2, %rax\n sti\n nop\n nop\n hlt\nh50:\n mov %rax, %rbx\n iretq`);
    installIdt(rig, { 0x50: gate(rig.sym("h50")) });
    rig.cpu.requestInterrupt(0x50);
    rig.cpu.run(1000);
    // Taken after STI and the instruction after it (the shadow), so RAX was already 2.
    expect(rig.cpu.state.rbx).toBe(2n);
    expect(rig.cpu.counters().interrupts).toBe(1n);
  });

  it("STI's shadow delays the interrupt by one instruction", () => {
    const rig = execRig(`_start:\n sti\n mov $1, %rcx\n mov $2, %rcx\n hlt\nh51:\n mov %rcx, %rbx\n iretq`);
    installIdt(rig, { 0x51: gate(rig.sym("h51")) });
    rig.cpu.requestInterrupt(0x51);
    rig.cpu.run(1000);
    expect(rig.cpu.state.rbx).toBe(1n);
  });

  it("HLT sleeps until an interrupt, then continues after the HLT", () => {
    const rig = execRig(`_start:\n sti\n hlt\n mov $9, %rdx\n hlt\nh52:\n mov $3, %rbx\n iretq`);
    installIdt(rig, { 0x52: gate(rig.sym("h52")) });
    expect(rig.cpu.run(1000)).toEqual({ reason: "hlt" });
    expect(rig.cpu.progress.halted).toBe(true);
    expect(rig.cpu.run(1000)).toEqual({ reason: "hlt" });
    expect(rig.cpu.state.rbx).toBe(0n);
    rig.cpu.requestInterrupt(0x52);
    expect(rig.cpu.run(1000)).toEqual({ reason: "hlt" });
    expect(rig.cpu.state).toMatchObject({ rbx: 3n, rdx: 9n });
  });

  it("HLT with IF=0 does not wake for an interrupt", () => {
    const rig = execRig(`_start:\n cli\n hlt\n mov $9, %rdx\n hlt\nh53:\n mov $3, %rbx\n iretq`);
    installIdt(rig, { 0x53: gate(rig.sym("h53")) });
    rig.cpu.run(100);
    rig.cpu.requestInterrupt(0x53);
    expect(rig.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(rig.cpu.state).toMatchObject({ rbx: 0n, rdx: 0n });
  });

  it("priorities: a lower class waits for EOI of a higher one", () => {
    const rig = execRig(`_start:\n sti\n hlt\n hlt
h90:
  mov %rbx, %rax
  shl $8, %rax
  or $0x90, %rax
  mov %rax, %rbx
  mov $0x80b, %ecx
  xor %eax, %eax
  xor %edx, %edx
  wrmsr
  iretq
h60:
  mov %rbx, %rax
  shl $8, %rax
  or $0x60, %rax
  mov %rax, %rbx
  mov $0x80b, %ecx
  xor %eax, %eax
  xor %edx, %edx
  wrmsr
  iretq`);
    installIdt(rig, { 0x90: gate(rig.sym("h90")), 0x60: gate(rig.sym("h60")) });
    rig.cpu.requestInterrupt(0x60);
    rig.cpu.requestInterrupt(0x90);
    rig.cpu.run(1000);
    expect(rig.cpu.state.rbx).toBe(0x9060n);
  });
});

describe("x2APIC IPIs and the timer", () => {
  /** Each CPU counts IPIs on vector 0x70 at 0x62000 + 8·CPU, sends what `send` says when it is CPU 0, then halts with IF=1. */
  function ipiRig(icr: bigint) {
    const rig = execRig(`_start:
  sti
  test %rdi, %rdi
  jnz wait
  mov $0x830, %ecx
  mov $${icr & 0xffffffffn}, %eax
  mov $${icr >> 32n}, %edx
  wrmsr
wait:
  hlt
  jmp wait
h70:
  push %rax
  push %rcx
  push %rdx
  mov $0x802, %ecx
  rdmsr
  lock incq 0x62000(,%rax,8)
  mov $0x80b, %ecx
  xor %eax, %eax
  xor %edx, %edx
  wrmsr
  pop %rdx
  pop %rcx
  pop %rax
  iretq`, { cpus: 3 });
    installIdt(rig, { 0x70: gate(rig.sym("h70")) });
    for (let round = 0; round < 5; round++) for (const cpu of rig.m.cpus) cpu.run(200);
    return [0, 1, 2].map((i) => rig.m.memory.read64(0x6_2000n + BigInt(8 * i)));
  }

  it("delivers to a physical destination and with the self, all and all-but-self shorthands", () => {
    expect(ipiRig((2n << 32n) | 0x70n)).toEqual([0n, 0n, 1n]);
    expect(ipiRig((1n << 18n) | 0x70n)).toEqual([1n, 0n, 0n]);
    expect(ipiRig((2n << 18n) | 0x70n)).toEqual([1n, 1n, 1n]);
    expect(ipiRig((3n << 18n) | 0x70n)).toEqual([0n, 1n, 1n]);
  });

  it("counts IPIs sent and taken", () => {
    const rig = execRig(`_start:
  sti
  mov $0x830, %ecx
  mov $0x000c0070, %eax
  xor %edx, %edx
  wrmsr
1: hlt
  jmp 1b
h70:
  push %rax
  push %rcx
  push %rdx
  mov $0x80b, %ecx
  xor %eax, %eax
  xor %edx, %edx
  wrmsr
  pop %rdx
  pop %rcx
  pop %rax
  iretq`, { cpus: 2 });
    installIdt(rig, { 0x70: gate(rig.sym("h70")) });
    for (let round = 0; round < 3; round++) for (const cpu of rig.m.cpus) cpu.run(200);
    expect(rig.m.cpu(0).counters()).toMatchObject({ ipisSent: 1n, ipisTaken: 1n });
    expect(rig.m.cpu(1).counters()).toMatchObject({ ipisSent: 1n, ipisTaken: 1n });
  });

  it("the LVT timer fires after its count of cycles, one-shot and periodic", () => {
    const source = (lvt: number) => `_start:
  mov $0x83e, %ecx
  mov $0xb, %eax
  xor %edx, %edx
  wrmsr
  mov $0x832, %ecx
  mov $${lvt}, %eax
  wrmsr
  mov $0x838, %ecx
  mov $100, %eax
  wrmsr
  sti
1: inc %r8
  cmp $1000, %r8
  jne 1b
  hlt
h71:
  incq 0x63000
  mov $0x80b, %ecx
  xor %eax, %eax
  xor %edx, %edx
  wrmsr
  iretq`;
    const once = execRig(source(0x71));
    installIdt(once, { 0x71: gate(once.sym("h71")) });
    once.cpu.run(100_000);
    expect(once.m.memory.read64(0x6_3000n)).toBe(1n);
    const periodic = execRig(source(0x20071));
    installIdt(periodic, { 0x71: gate(periodic.sym("h71")) });
    periodic.cpu.run(100_000);
    // About 3000 instructions of loop, a period of 100 cycles: some 30 interrupts.
    const n = periodic.m.memory.read64(0x6_3000n);
    expect(n).toBeGreaterThan(20n);
    expect(n).toBeLessThan(40n);
  });

  it("a halted CPU with the timer armed sleeps until it fires", () => {
    const rig = execRig(`_start:
  mov $0x83e, %ecx
  mov $0xb, %eax
  xor %edx, %edx
  wrmsr
  mov $0x832, %ecx
  mov $0x72, %eax
  wrmsr
  mov $0x838, %ecx
  mov $5000, %eax
  wrmsr
  sti
  hlt
  mov $1, %rbx
  hlt
h72:
  iretq`);
    installIdt(rig, { 0x72: gate(rig.sym("h72")) });
    rig.cpu.run(100);
    rig.cpu.run(100);
    expect(rig.cpu.state.rbx).toBe(1n);
    expect(rig.cpu.progress.cycles).toBeGreaterThanOrEqual(5000n);
  });
});

describe("exits to the host", () => {
  it("OUT and IN stop with the port, size and value; RIP is past the instruction", () => {
    const rig = execRig(`_start:\n mov $0x41, %al\n out %al, $0xe9\n mov $0x3fd, %dx\n in %dx, %al\n hlt`);
    expect(rig.cpu.run(100)).toEqual({ reason: "io", port: 0xe9, size: 1, write: true, value: 0x41n, rip: rig.program.entry + 2n });
    const exit = rig.cpu.run(100);
    expect(exit).toMatchObject({ reason: "io", port: 0x3fd, size: 1, write: false });
    rig.cpu.setState({ rax: 0x60n });
    expect(rig.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(rig.cpu.state.rax).toBe(0x60n);
  });

  it("VMCALL stops for the host", () => {
    const rig = execRig(`_start:\n vmcall\n hlt`);
    expect(rig.cpu.run(100)).toEqual({ reason: "vmcall", rip: rig.program.entry });
    expect(rig.cpu.state.rip).toBe(rig.program.entry + 3n);
  });

  it("an access outside RAM stops the CPU with a bus error naming the address", () => {
    const rig = execRig(`_start:\n mov $0x30000000, %rbx\nfault: mov (%rbx), %rax\n hlt`);
    expect(rig.cpu.run(100)).toEqual({ reason: "bus-error", rip: rig.sym("fault"), address: 0x3000_0000n });
  });

  it("the budget is counted in instructions", () => {
    const rig = execRig(`_start:\n1: inc %rax\n jmp 1b`);
    expect(rig.cpu.run(11)).toEqual({ reason: "budget" });
    expect(rig.cpu.state.rax).toBe(6n);
    expect(rig.cpu.progress.instructions).toBe(11n);
  });
});

describe("breakpoints and code", () => {
  it("stops before the instruction at a breakpoint, and resumes past it", () => {
    const rig = execRig(`_start:\n mov $1, %rax\nhere: mov $2, %rax\n hlt`);
    rig.cpu.setBreakpoints([rig.sym("here")]);
    expect(rig.cpu.run(100)).toEqual({ reason: "breakpoint", rip: rig.sym("here") });
    expect(rig.cpu.state.rax).toBe(1n);
    expect(rig.cpu.run(100)).toEqual({ reason: "hlt" });
    expect(rig.cpu.state.rax).toBe(2n);
  });

  it("each CPU steps over only its own last breakpoint: another CPU whose quantum ends there still stops", () => {
    const rig = execRig(`_start:\n mov $1, %rax\nhere: mov $2, %rax\n hlt`, { cpus: 2 });
    const [a, b] = [rig.m.cpu(0), rig.m.cpu(1)];
    a.setBreakpoints([rig.sym("here")]);
    b.setBreakpoints([rig.sym("here")]);
    // CPU 1's quantum ends just before the breakpoint, then CPU 0 stops at it; CPU 1's next run starts there and must stop too.
    expect(b.run(1)).toEqual({ reason: "budget" });
    expect(a.run(100)).toEqual({ reason: "breakpoint", rip: rig.sym("here") });
    expect(b.run(100)).toEqual({ reason: "breakpoint", rip: rig.sym("here") });
    expect(a.run(100)).toEqual({ reason: "hlt" });
    expect(b.run(100)).toEqual({ reason: "hlt" });
  });

  it("runs code the program wrote, not the stale decoding", () => {
    const rig = execRig(`_start:
  call patch
  movb $0xc3, patch(%rip)
  movl $0x90909090, target(%rip)
  call patch
target:
  mov $1, %rbx
  hlt
patch:
  inc %rcx
  ret`);
    rig.cpu.run(100);
    // The second call returns at once (RET written over INC), and the MOV to RBX became NOPs.
    expect(rig.cpu.state).toMatchObject({ rcx: 1n, rbx: 0n });
    expect(rig.cpu.counters().codeWriteFlushes).toBeGreaterThan(0n);
  });

  it("decodes an instruction that crosses a page", () => {
    const rig = execRig(`_start:\n jmp cross\n .balign 4096\n .skip 4094\ncross: mov $0x1122334455667788, %rax\n hlt`);
    rig.cpu.run(100);
    expect(rig.cpu.state.rax).toBe(0x1122_3344_5566_7788n);
  });
});
