/* SPDX-License-Identifier: MIT */
/* The smallest C kernel: CPU 0 prints the boot information and exits; the others stop. */
#include "kernel.h"

int kmain(unsigned cpu, const struct shootdown_boot_info *info)
{
	if (cpu != 0) {
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	kprintf("hello from C on x86-64: %u CPU(s), %lu MiB of RAM\n", info->cpu_count, info->ram_size >> 20);
	if (info->cmdline_len)
		kprintf("command line: %s\n", (const char *)(uintptr_t)info->cmdline);
	return 0;
}
