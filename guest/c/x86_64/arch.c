/* SPDX-License-Identifier: MIT */
/* The x86-64 side of the example kernels: COM1, the debug-exit port and the CPU index. */
#include "kernel.h"

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

void arch_putc(char c)
{
	outb(SHOOTDOWN_COM1, (uint8_t)c);
}

void arch_exit(int status)
{
	outl(SHOOTDOWN_DEBUG_EXIT, (uint32_t)status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

unsigned arch_cpu_index(void)
{
	/* The x2APIC ID is the CPU index on shootdown. */
	return (unsigned)rdmsr(MSR_X2APIC_APICID);
}
