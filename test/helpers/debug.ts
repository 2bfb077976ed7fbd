// SPDX-License-Identifier: MIT
//
// Guests for the debugger's tests (test/cli/repl.test.ts, gdb.test.ts,
// test/emulator/debug/).

/**
 * VA 0x200000 is a 2 MiB page of the boot identity map (PDE 1 at 0x5008).
 * The guest touches it (a TLB entry VA 0x200000 → PA 0x200000), then points
 * the PDE at PA 0x400000 with no INVLPG: the next load still reads the old
 * page, until the INVLPG.
 */
export const STALE_GUEST = `
    .text
    .globl _start
_start:
    test %rdi, %rdi
    jnz spin
    mov $0x200000, %rax
    movq $0x1234, (%rax)
    movq $0x5678, 0x400000
remap:
    movq $0x400083, 0x5008
stale:
    mov (%rax), %rbx
    invlpg (%rax)
fresh:
    mov (%rax), %rcx
    mov $0, %al
    out %al, $0xf4
spin:
    pause
    jmp spin
`;
