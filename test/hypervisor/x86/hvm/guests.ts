// SPDX-License-Identifier: MIT
//
// Small x86-64 guests for the HVM tests, booted by the bare protocol (every
// CPU at _start with RDI = its number): a per-CPU stack, an IDT with the
// handlers a test names, a hex printer on COM1, and `exit N` on the
// debug-exit port. The body runs with R12 = the CPU number.

/** Vectors and handler labels, each handler written by the test (ending in IRETQ). */
export type Gates = [vector: number, label: string][];

export function guest(body: string, gates: Gates = [], data = ""): string {
  const setGates = gates.map(([v, label]) => `        gate ${v}, ${label}`).join("\n");
  return `
        .equ COM1, 0x3f8
        .equ DEBUG_EXIT, 0xf4
        .equ MSR_EOI, 0x80b
        .equ MSR_SVR, 0x80f
        .equ MSR_ICR, 0x830

.macro exit code
        mov $\\code, %eax
        out %al, $DEBUG_EXIT
.endm

# gate vector, handler: a 64-bit interrupt gate, DPL 0, selector 0x08.
.macro gate vector, handler
        lea \\handler(%rip), %rax
        lea idt + 16 * \\vector(%rip), %rdi
        mov %ax, (%rdi)
        movw $0x08, 2(%rdi)
        movw $0x8e00, 4(%rdi)
        shr $16, %rax
        mov %ax, 6(%rdi)
        shr $16, %rax
        mov %eax, 8(%rdi)
        movl $0, 12(%rdi)
.endm

        .text
        .globl _start
_start:
        mov %rdi, %r12
        lea stacks_end(%rip), %rsp
        mov %r12, %rax
        shl $12, %rax
        sub %rax, %rsp
${setGates}
        lidt idtr(%rip)
        mov $MSR_SVR, %ecx
        mov $0x1ff, %eax
        xor %edx, %edx
        wrmsr
${body}

# putc: the byte in %al to COM1.
putc:
        push %rdx
        mov $COM1, %dx
        out %al, %dx
        pop %rdx
        ret

# puthex: %rax as 16 hex digits and a space.
puthex:
        push %rcx
        push %rbx
        mov %rax, %rbx
        mov $16, %ecx
1:      rol $4, %rbx
        mov %ebx, %eax
        and $15, %eax
        cmp $10, %eax
        jb 2f
        add $39, %eax                   # 'a' - '0' - 10
2:      add $48, %eax                   # '0'
        call putc
        dec %ecx
        jnz 1b
        mov $32, %eax
        call putc
        pop %rbx
        pop %rcx
        ret

eoi:
        push %rax
        push %rcx
        push %rdx
        mov $MSR_EOI, %ecx
        xor %eax, %eax
        xor %edx, %edx
        wrmsr
        pop %rdx
        pop %rcx
        pop %rax
        ret

        .data
        .balign 16
idtr:   .word 16 * 256 - 1
        .quad idt
        .balign 4096
idt:    .space 4096
${data}
        .balign 4096
stacks: .space 4096 * 8
stacks_end:
`;
}
