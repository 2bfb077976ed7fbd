/* SPDX-License-Identifier: MIT */
/* The AArch64 side of the example kernels: the PL011 console, PSCI and the CPU index. */
#include "kernel.h"

#define UARTDR 0x00
#define UARTFR 0x18
#define UARTFR_TXFF (1u << 5)

uint64_t psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	__asm__ volatile("hvc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3) : "memory");
	return x0;
}

void arch_putc(char c)
{
	volatile uint32_t *uart = (volatile uint32_t *)SHOOTDOWN_PL011;
	while (uart[UARTFR / 4] & UARTFR_TXFF)
		;
	uart[UARTDR / 4] = (uint8_t)c;
}

void arch_exit(int status)
{
	/* SYSTEM_OFF ends the run with status 0, SYSTEM_RESET with 1 (QEMU with -no-reboot exits on both). */
	psci_call(status ? PSCI_SYSTEM_RESET : PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}

unsigned arch_cpu_index(void)
{
	uint64_t mpidr;
	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	return (unsigned)(mpidr & 0xff);
}
