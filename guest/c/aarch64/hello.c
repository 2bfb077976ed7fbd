/* SPDX-License-Identifier: MIT */
/*
 * The smallest C kernel: CPU 0 prints where it runs and exits. It uses
 * nothing from shootdown's boot-information block, so it prints the same
 * on QEMU's virt board (which passes no such block).
 */
#include "kernel.h"

int kmain(unsigned cpu, const struct shootdown_boot_info *info)
{
	(void)info;
	uint64_t el;
	__asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
	kprintf("hello from C on AArch64: CPU %u at EL%u\n", cpu, (unsigned)(el >> 2) & 3);
	return 0;
}
