/* SPDX-License-Identifier: MIT */
/*
 * Entry of a C kernel on shootdown's x86-64 boot protocol: every CPU starts
 * here in 64-bit mode with RDI = its index and RSI = the boot-information
 * block, RSP = 0 and interrupts off (README.md, "Boot protocol (x86-64)").
 * Each CPU takes its own 64 KiB stack and calls kmain(cpu, info); what
 * kmain returns on CPU 0 ends the run through the debug-exit port, and
 * another CPU that returns stops.
 */
	.section .text.start, "ax"
	.globl _start
_start:
	/* RSP = stacks + (cpu + 1) * STACK_SIZE: the top of this CPU's stack, 16-byte aligned for the call. */
	lea	1(%rdi), %rax
	shl	$16, %rax
	lea	stacks(%rip), %rsp
	add	%rax, %rsp
	xor	%ebp, %ebp
	mov	%rdi, %rbx
	call	kmain
	/* Only CPU 0 ends the run; another CPU that returns stops here. */
	test	%rbx, %rbx
	jnz	1f
	mov	%eax, %edi
	call	arch_exit
1:	cli
	hlt
	jmp	1b

	.bss
	.balign 16
	.globl stacks
stacks:
	.space	65536 * 64
