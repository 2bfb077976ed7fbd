// SPDX-License-Identifier: MIT
//
// The x86-64 instructions GCC emits for kernel code beyond the first subset
// (issue 16), where the differential test against the host cannot reach:
// a repeated string instruction that faults part-way and is restarted, the
// segment-register loads and their checks, the FS/GS base instructions
// under CR4.FSGSBASE, CMPXCHG16B's alignment check, and LEAVE.

import { describe, expect, it } from "vitest";
import { execRig, gate, installIdt, type ExecRig } from "../../../helpers/x86-exec.ts";
import { PAGE_4K, PTE } from "../../../../emulator/machine/platform/x86/page-tables.ts";

/** A handler that records the vector, the error code (or -1), the frame's RIP and CR2 at 0x60000, then halts. */
function handler(vector: number, hasCode: boolean): string {
  return `
h${vector}:
  movq $${vector}, 0x60000
  ${hasCode ? "pop %rax\n  mov %rax, 0x60008" : "movq $-1, 0x60008"}
  mov (%rsp), %rax
  mov %rax, 0x60010
  mov %cr2, %rax
  mov %rax, 0x60018
  hlt
`;
}

function rigWith(body: string, vectors: Record<number, boolean>): ExecRig {
  const rig = execRig(`${body}\n${Object.entries(vectors).map(([v, c]) => handler(Number(v), c)).join("\n")}`);
  installIdt(rig, Object.fromEntries(Object.keys(vectors).map((v) => [Number(v), gate(rig.sym(`h${v}`))])));
  return rig;
}

const recorded = (rig: ExecRig) => {
  const r = (i: number) => rig.m.memory.read64(0x6_0000n + BigInt(8 * i));
  return { vector: r(0), code: r(1), rip: r(2), cr2: r(3) };
};

describe("REP string instructions and faults (SDM Vol.2B REP)", () => {
  // 0x4000_0000 (above the rig's 1 GiB identity map) is mapped to 0x50_0000 for one page; the next page is not.
  const WINDOW = 0x4000_0000n;

  it("a #PF part-way leaves RCX and RDI counting the elements done and RIP at the instruction; returning restarts it", () => {
    // The #PF handler records the fault and the registers, maps the next page (the entry's address and value
    // are at 0x61000 and 0x61008), and returns to the faulting REP STOSB, which then finishes.
    const rig = execRig(`_start:
  cld
  mov $0x40000ff0, %rdi
  mov $0x20, %ecx
  mov $0xab, %al
fault: rep stosb
  hlt
pf:
  pop %rdx
  mov %rdx, 0x60000
  mov (%rsp), %rdx
  mov %rdx, 0x60008
  mov %cr2, %rdx
  mov %rdx, 0x60010
  mov %rcx, 0x60018
  mov %rdi, 0x60020
  mov 0x61000, %rdx
  mov 0x61008, %rbx
  mov %rbx, (%rdx)
  iretq`);
    installIdt(rig, { 14: gate(rig.sym("pf")) });
    const pte = rig.pt.map(WINDOW, 0x50_0000n, PAGE_4K, PTE.RW);
    rig.m.memory.write64(0x6_1000n, pte + 8n);
    rig.m.memory.write64(0x6_1008n, 0x50_1000n | PTE.P | PTE.RW);
    expect(rig.cpu.run(10_000)).toEqual({ reason: "hlt" });
    const r = (i: number) => rig.m.memory.read64(0x6_0000n + BigInt(8 * i));
    // At the fault: write to a not-present page, at the STOSB, sixteen bytes done and sixteen to go.
    expect({ code: r(0), rip: r(1), cr2: r(2), rcx: r(3), rdi: r(4) }).toEqual({
      code: 0x2n, rip: rig.sym("fault"), cr2: WINDOW + 0x1000n, rcx: 0x10n, rdi: WINDOW + 0x1000n,
    });
    // After the restart: all of it done.
    expect(rig.cpu.state.rcx).toBe(0n);
    expect(rig.cpu.state.rdi).toBe(WINDOW + 0x1010n);
    expect(rig.cpu.state.rip).toBe(rig.sym("fault") + 3n);
    for (const a of [0x50_0ff0n, 0x50_0ff8n, 0x50_1000n, 0x50_1008n]) expect(rig.m.memory.read64(a)).toBe(0xabab_abab_abab_ababn);
    expect(rig.m.memory.read64(0x50_1010n)).toBe(0n);
  });

  it("REP MOVSQ downwards (DF=1) faulting on its source, and a count of 0 does nothing", () => {
    const rig = rigWith(`_start:
  std
  mov $0x40001008, %rsi
  mov $0x200000, %rdi
  mov $4, %ecx
fault: rep movsq
  hlt`, { 14: true });
    rig.pt.map(WINDOW, 0x50_0000n, PAGE_4K, PTE.RW);
    rig.cpu.run(10_000);
    // The first element's source, 0x40001008, is on the unmapped page: nothing was done.
    expect(recorded(rig)).toMatchObject({ vector: 14n, code: 0n, rip: rig.sym("fault"), cr2: WINDOW + 0x1008n });
    expect(rig.cpu.state.rcx).toBe(4n);
    const zero = execRig("_start:\n mov $0x300000, %rdi\n xor %ecx, %ecx\n mov $-1, %rax\n rep stosq\n hlt");
    zero.cpu.run(1000);
    expect(zero.cpu.state.rdi).toBe(0x30_0000n);
    expect(zero.m.memory.read64(0x30_0000n)).toBe(0n);
  });

  it("REPNE SCASB stops at the byte it looks for, REPE CMPSB at the first difference", () => {
    const rig = execRig(`_start:
  cld
  lea text(%rip), %rdi
  mov $100, %ecx
  mov $0x21, %al
  repnz scasb
  mov %rcx, %r8
  lea text(%rip), %rsi
  lea other(%rip), %rdi
  mov $12, %ecx
  repz cmpsb
  mov %rcx, %r9
  hlt
text: .ascii "hello, world!"
other: .ascii "hello, there"`);
    rig.cpu.run(10_000);
    // "!" is the 13th byte: 100 - 13 left; the strings differ at their 8th byte: 12 - 8 left.
    expect(rig.cpu.state.r8).toBe(87n);
    expect(rig.cpu.state.r9).toBe(4n);
  });
});

describe("segment registers in 64-bit mode (SDM Vol.2B MOV)", () => {
  it("loads a data selector and a null one into DS, ES, FS and GS, and reads them back", () => {
    const rig = execRig(`_start:
  mov $0x10, %eax
  mov %eax, %ds
  mov %eax, %es
  xor %ecx, %ecx
  mov %ecx, %fs
  mov %ds, %ebx
  mov %es, %edx
  mov %fs, %esi
  hlt`);
    rig.cpu.run(1000);
    expect(rig.cpu.state).toMatchObject({ rbx: 0x10n, rdx: 0x10n, rsi: 0n });
  });

  it("#GP(selector) for a selector past the GDT limit or a code segment that cannot be read; MOV to CS is #UD", () => {
    const past = rigWith("_start:\n mov $0x80, %eax\nfault: mov %eax, %ds\n hlt", { 13: true });
    past.cpu.run(1000);
    expect(recorded(past)).toMatchObject({ vector: 13n, code: 0x80n, rip: past.sym("fault") });
    // The GDT's 0x08 is 64-bit code, execute-only: not for SS, and not readable for DS.
    const ss = rigWith("_start:\n mov $0x08, %eax\nfault: mov %eax, %ss\n hlt", { 13: true });
    ss.cpu.run(1000);
    expect(recorded(ss)).toMatchObject({ vector: 13n, code: 0x8n, rip: ss.sym("fault") });
    const cs = rigWith("_start:\nfault: .byte 0x8e, 0xc8\n hlt", { 6: false });
    cs.cpu.run(1000);
    expect(recorded(cs)).toMatchObject({ vector: 6n, rip: cs.sym("fault") });
  });

  it("RDFSBASE and WRGSBASE are #UD without CR4.FSGSBASE and work with it; a non-canonical base is #GP(0)", () => {
    const off = rigWith("_start:\nfault: rdfsbase %rax\n hlt", { 6: false });
    off.cpu.run(1000);
    expect(recorded(off)).toMatchObject({ vector: 6n, rip: off.sym("fault") });
    const on = rigWith(`_start:
  mov %cr4, %rax
  or $0x10000, %rax
  mov %rax, %cr4
  mov $0x123456789, %rbx
  wrgsbase %rbx
  rdgsbase %rcx
  mov %rcx, %r10
  mov $0xc0000101, %ecx
  rdmsr
  mov %rax, %r8
  mov %rdx, %r9
  mov $0x8000000000000000, %rbx
fault: wrfsbase %rbx
  hlt`, { 13: true });
    on.cpu.run(1000);
    // RDGSBASE read back what WRGSBASE wrote, and so does the GS base MSR.
    expect(on.cpu.state).toMatchObject({ r10: 0x1_2345_6789n, r8: 0x2345_6789n, r9: 1n });
    expect(recorded(on)).toMatchObject({ vector: 13n, code: 0n, rip: on.sym("fault") });
  });
});

describe("CMPXCHG16B and LEAVE", () => {
  it("CMPXCHG16B needs a 16-byte aligned operand (#GP(0))", () => {
    const rig = rigWith("_start:\n mov $0x300008, %rdi\nfault: lock cmpxchg16b (%rdi)\n hlt", { 13: true });
    rig.cpu.run(1000);
    expect(recorded(rig)).toMatchObject({ vector: 13n, code: 0n, rip: rig.sym("fault") });
  });

  it("LEAVE restores RSP from RBP and pops RBP", () => {
    const rig = execRig("_start:\n push %rbp\n mov %rsp, %rbp\n sub $64, %rsp\n movq $7, -8(%rbp)\n mov $0x1234, %rbp\n mov %rsp, %rbp\n add $64, %rbp\n leave\n hlt");
    const rsp = rig.cpu.state.rsp;
    rig.cpu.run(1000);
    expect(rig.cpu.state.rsp).toBe(rsp);
  });
});
