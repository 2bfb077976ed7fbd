/* SPDX-License-Identifier: MIT */
/*
 * CPU 0 starts the other CPUs with PSCI CPU_ON (DEN0022), one after the
 * other until PSCI says there is no such CPU; each says hello in turn.
 * Then CPU 0 sends each of them an SGI through its GICv3 CPU interface
 * (ICC_SGI1R_EL1, IHI0069 12.2) and waits until each has taken it and
 * answered. The CPUs take the SGI without a vector table: with IRQs masked,
 * WFI still wakes on a pending interrupt (DDI0487 D1.6.2), and the CPU
 * acknowledges it through ICC_IAR1_EL1. Prints the same on QEMU's virt
 * board (-smp 4) as under shootdown (--cpus 4).
 */
#include "kernel.h"

#define SGI 1
#define GICD_CTLR 0x0000
#define GICD_CTLR_ENABLE_GRP1 (1u << 1)
#define GICD_CTLR_ARE (1u << 4)
#define GICD_CTLR_RWP (1u << 31)
#define GICR_WAKER 0x0014
#define GICR_WAKER_PROCESSOR_SLEEP (1u << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1u << 2)
#define GICR_IGROUPR0 (0x10000 + 0x0080)
#define GICR_ISENABLER0 (0x10000 + 0x0100)
#define GICR_IPRIORITYR0 (0x10000 + 0x0400)
#define MAX_CPUS 8
#define PSCI_SUCCESS 0

uint64_t psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
extern char secondary_entry[];

static volatile unsigned online, turn, answered;
static volatile unsigned taken[MAX_CPUS];

static inline volatile uint32_t *reg32(uint64_t base, uint64_t off)
{
	return (volatile uint32_t *)(base + off);
}

/* The GICv3 system registers by encoding, which every assembler takes. */
#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_SGI1R_EL1 "S3_0_C12_C11_5"

static void gic_cpu_setup(unsigned cpu)
{
	uint64_t rd = SHOOTDOWN_GICR + cpu * SHOOTDOWN_GICR_STRIDE;
	*reg32(rd, GICR_WAKER) &= ~GICR_WAKER_PROCESSOR_SLEEP;
	while (*reg32(rd, GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP)
		;
	*reg32(rd, GICR_IGROUPR0) = 0xffffffffu;
	*reg32(rd, GICR_IPRIORITYR0 + (SGI & ~3u)) = 0x80808080u;
	*reg32(rd, GICR_ISENABLER0) = 1u << SGI;
	uint64_t sre;
	__asm__ volatile("mrs %0, " ICC_SRE_EL1 : "=r"(sre));
	__asm__ volatile("msr " ICC_SRE_EL1 ", %0\n\tisb" : : "r"(sre | 1));
	__asm__ volatile("msr " ICC_PMR_EL1 ", %0" : : "r"(0xfful));
	__asm__ volatile("msr " ICC_IGRPEN1_EL1 ", %0\n\tisb" : : "r"(1ul));
}

int kmain(unsigned cpu, const void *info)
{
	(void)info;
	if (cpu == 0) {
		*reg32(SHOOTDOWN_GICD, GICD_CTLR) = GICD_CTLR_ARE | GICD_CTLR_ENABLE_GRP1;
		while (*reg32(SHOOTDOWN_GICD, GICD_CTLR) & GICD_CTLR_RWP)
			;
	}
	gic_cpu_setup(cpu);
	/* Hello, one CPU after the other. */
	while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != cpu)
		;
	kprintf("hello from CPU %u\n", cpu);
	__atomic_add_fetch(&online, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&turn, cpu + 1, __ATOMIC_RELEASE);
	if (cpu != 0) {
		/* Wait for the SGI with IRQs masked (as every CPU starts): WFI wakes, IAR1 acknowledges. */
		while (!__atomic_load_n(&taken[cpu], __ATOMIC_ACQUIRE)) {
			__asm__ volatile("wfi");
			uint64_t intid;
			__asm__ volatile("mrs %0, " ICC_IAR1_EL1 : "=r"(intid));
			if ((intid & 0xffffff) == SGI) {
				__atomic_add_fetch(&taken[cpu], 1, __ATOMIC_SEQ_CST);
				__asm__ volatile("msr " ICC_EOIR1_EL1 ", %0" : : "r"(intid));
			}
		}
		__atomic_add_fetch(&answered, 1, __ATOMIC_SEQ_CST);
		for (;;)
			__asm__ volatile("wfi");
	}
	/* Start the others one at a time, so that they say hello in order. */
	unsigned n = 1;
	while (n < MAX_CPUS) {
		uint64_t r = psci_call(PSCI_CPU_ON, n, (uint64_t)(uintptr_t)secondary_entry, 0);
		if (r != PSCI_SUCCESS)
			break;
		while (__atomic_load_n(&online, __ATOMIC_ACQUIRE) != n + 1)
			;
		n++;
	}
	kprintf("%u CPU(s) online\n", n);
	for (unsigned k = 1; k < n; k++) {
		uint64_t sgi1r = ((uint64_t)SGI << 24) | (1ul << k); /* Aff3.Aff2.Aff1 = 0, target list bit k */
		__asm__ volatile("msr " ICC_SGI1R_EL1 ", %0\n\tisb" : : "r"(sgi1r));
	}
	while (__atomic_load_n(&answered, __ATOMIC_ACQUIRE) != n - 1)
		;
	unsigned total = 0;
	for (unsigned k = 1; k < n; k++)
		total += taken[k];
	kprintf("SGIs: sent %u, taken %u\n", n - 1, total);
	kprintf(total == n - 1 ? "smp: all checks passed\n" : "smp: FAILED\n");
	return total == n - 1 ? 0 : 1;
}
