// SPDX-License-Identifier: MIT
//
// Guests for the debugger's tests (test/cli/repl.test.ts, gdb.test.ts,
// test/emulator/debug/).

/**
 * The guest builds a page table at 0x300000 for VA 0x600000–0x7FFFFF (PDE 3
 * of the boot map, at 0x5018, was a 2 MiB page nothing had used), maps VA
 * 0x600000 to PA 0x900000 with its PTE 0 and writes through it (a 4 KiB TLB
 * entry). Then it points the PTE at PA 0x901000 with no INVLPG: the next
 * load still reads the old page, until the INVLPG.
 */
export const STALE_GUEST = `
    .text
    .globl _start
_start:
    test %rdi, %rdi
    jnz spin
    movq $0x900003, 0x300000
    movq $0x300003, 0x5018
    mov $0x600000, %rax
    movq $0x1234, (%rax)
    movq $0x5678, 0x901000
remap:
    movq $0x901003, 0x300000
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
