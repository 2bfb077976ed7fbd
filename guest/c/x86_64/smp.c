/* SPDX-License-Identifier: MIT */
/*
 * Every CPU runs this (shootdown starts them all at the entry): they say
 * hello in CPU order, then CPU 0 sends each other CPU an IPI through its
 * x2APIC (SDM Vol.3A 11.12: the ICR is MSR 0x830, with the destination's
 * x2APIC ID in bits 63:32) and waits until each has taken it in its
 * interrupt handler and answered. The output is the same on any number of
 * CPUs and under any interleaving.
 */
#include "kernel.h"

#define IPI_VECTOR 0x40
#define APIC_SIVR_ENABLE (1u << 8)

struct idt_gate {
	uint16_t offset_low, selector;
	uint8_t ist, type;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
} __attribute__((packed));
static struct idt_gate idt[256] __attribute__((aligned(16)));

struct interrupt_frame;

static volatile unsigned idt_ready, turn, answered;
static volatile unsigned taken[64];

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

__attribute__((interrupt)) static void ipi_handler(struct interrupt_frame *frame)
{
	(void)frame;
	__atomic_add_fetch(&taken[arch_cpu_index()], 1, __ATOMIC_SEQ_CST);
	wrmsr(MSR_X2APIC_EOI, 0);
}

static void load_idt(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

int kmain(unsigned cpu, const struct shootdown_boot_info *info)
{
	unsigned n = info->cpu_count;
	if (cpu == 0) {
		uint64_t a = (uint64_t)(uintptr_t)ipi_handler;
		idt[IPI_VECTOR] = (struct idt_gate){
			.offset_low = (uint16_t)a, .selector = 0x08, .type = 0x8E,
			.offset_mid = (uint16_t)(a >> 16), .offset_high = (uint32_t)(a >> 32),
		};
		__atomic_store_n(&idt_ready, 1, __ATOMIC_RELEASE);
	}
	while (!__atomic_load_n(&idt_ready, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	load_idt();
	wrmsr(MSR_X2APIC_SIVR, APIC_SIVR_ENABLE | 0xFF);

	/* Hello, one CPU after the other. */
	while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != cpu)
		__asm__ volatile("pause");
	kprintf("hello from CPU %u of %u (x2APIC ID %u)\n", cpu, n, arch_cpu_index());
	__atomic_store_n(&turn, cpu + 1, __ATOMIC_RELEASE);

	if (cpu != 0) {
		/* Sleep until the IPI comes; STI's shadow covers HLT, so it cannot slip in between. */
		while (!__atomic_load_n(&taken[cpu], __ATOMIC_ACQUIRE))
			__asm__ volatile("sti; hlt; cli");
		__atomic_add_fetch(&answered, 1, __ATOMIC_SEQ_CST);
		return 0;
	}
	while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != n)
		__asm__ volatile("pause");
	for (unsigned k = 1; k < n; k++)
		wrmsr(MSR_X2APIC_ICR, ((uint64_t)k << 32) | IPI_VECTOR); /* fixed delivery, physical destination */
	while (__atomic_load_n(&answered, __ATOMIC_ACQUIRE) != n - 1)
		__asm__ volatile("pause");
	unsigned total = 0;
	for (unsigned k = 1; k < n; k++)
		total += taken[k];
	kprintf("IPIs: sent %u, taken %u\n", n - 1, total);
	kprintf(total == n - 1 ? "smp: all checks passed\n" : "smp: FAILED\n");
	return total == n - 1 ? 0 : 1;
}
