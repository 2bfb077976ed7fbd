/* SPDX-License-Identifier: MIT */
/*
 * Entry of a C kernel on QEMU's virt board and on shootdown's, which boots
 * the same way (README.md, "Boot protocol (AArch64)"): CPU 0 starts at
 * _start at EL1 with the MMU off and x0 = shootdown's boot-information
 * block (QEMU passes something else: a kernel meant for both must not need
 * it); the other CPUs start at secondary_entry when a PSCI CPU_ON names them.
 *
 * Each CPU turns its MMU on over one level-1 table of 1 GiB blocks that
 * identity-maps the devices (0-1 GiB, Device-nGnRnE) and RAM (1-2 GiB,
 * Normal write-back), so that C code may make unaligned accesses and use
 * exclusives and atomics, which Device memory does not promise (DDI0487
 * B2.2.5, B2.9). Then it takes a 64 KiB stack by its MPIDR_EL1.Aff0 and
 * calls kmain(cpu, x0); CPU 0's return value ends the run.
 */
	.equ TCR_VALUE, 25 | (1 << 8) | (1 << 10) | (3 << 12) | (25 << 16) | (1 << 23)
	.equ MAIR_VALUE, 0x00ff		/* Attr0 = Normal WB RW-allocate, Attr1 = Device-nGnRnE */
	.equ BLOCK_DEVICE, 0x1 | (1 << 2) | (1 << 10) | (3 << 53)	/* AttrIndx 1, AF, PXN UXN */
	.equ BLOCK_NORMAL, 0x1 | (3 << 8) | (1 << 10)			/* AttrIndx 0, inner shareable, AF */

	.section .text.start, "ax"
	.globl _start
	.globl secondary_entry
_start:
	/* CPU 0 writes the table (the others only read it, after CPU 0 has started them). */
	adrp	x1, l1_table
	add	x1, x1, :lo12:l1_table
	mov	x2, #BLOCK_DEVICE & 0xffff
	movk	x2, #(BLOCK_DEVICE >> 48) & 0xffff, lsl #48
	str	x2, [x1]
	mov	x2, #BLOCK_NORMAL
	movk	x2, #0x4000, lsl #16
	str	x2, [x1, #8]
	dsb	sy
secondary_entry:
	mov	x19, x0
	mov	x0, #MAIR_VALUE
	msr	mair_el1, x0
	mov	x0, #TCR_VALUE & 0xffff
	movk	x0, #(TCR_VALUE >> 16) & 0xffff, lsl #16
	msr	tcr_el1, x0
	adrp	x0, l1_table
	add	x0, x0, :lo12:l1_table
	msr	ttbr0_el1, x0
	isb
	tlbi	vmalle1
	dsb	nsh
	mrs	x0, sctlr_el1
	orr	x0, x0, #(1 << 0)	/* M */
	orr	x0, x0, #(1 << 2)	/* C */
	orr	x0, x0, #(1 << 12)	/* I */
	msr	sctlr_el1, x0
	isb
	/* Let C touch no floating point: CPACR_EL1.FPEN stays 0, so a stray FP instruction traps. */
	mrs	x1, mpidr_el1
	and	x1, x1, #0xff
	adrp	x2, stacks
	add	x2, x2, :lo12:stacks
	add	x3, x1, #1
	lsl	x3, x3, #16
	add	sp, x2, x3
	mov	x0, x1
	mov	x1, x19
	bl	kmain
	bl	arch_exit

	.bss
	.balign	4096
	.globl	l1_table
l1_table:
	.space	4096
	.balign	16
stacks:
	.space	65536 * 8
