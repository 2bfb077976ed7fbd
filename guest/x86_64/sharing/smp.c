/* SPDX-License-Identifier: MIT */
/*
 * What the vCPUs of one domain need of each other: an IDT whose exception
 * handlers say what happened instead of a triple fault, a wake-up IPI
 * through the x2APIC, and barriers at which a waiting vCPU halts rather
 * than spins. A halted vCPU is passed over by shootdown's PCT scheduler,
 * where a spinning one would keep the vCPU it waits for from running until
 * the horizon (docs/explore.md, "Waiting CPUs"); the Linux-style guest
 * waits the same way (guest/x86_64/linux/smp.c).
 */
#include "sharing.h"
#include "x86-idt.h" /* guest/c/include */

#define WAKE_VECTOR       0xFD
#define APIC_SIVR_ENABLE  (1u << 8)

typedef unsigned long long uword_t;

/* One IDT per vCPU, each built by its own vCPU, so that none waits for another to boot. */
static struct idt_gate idt[MAX_CPUS][256] __attribute__((aligned(16)));

/* x2APIC ICR (SDM Vol.3A 11.12.9): destination in bits 63:32, fixed delivery. */
void wake_cpu(unsigned cpu)
{
	wrmsr(MSR_X2APIC_ICR, ((uint64_t)cpu << 32) | WAKE_VECTOR);
}

/* Nothing to do but acknowledge: the woken vCPU tests what it waits for again. */
__attribute__((interrupt)) static void wake_interrupt(struct interrupt_frame *frame)
{
	(void)frame;
	wrmsr(MSR_X2APIC_EOI, 0);
}

/*
 * The region is read and written with plain loads and stores; a fault
 * there (or anywhere) is the hypervisor's copy-on-write gone wrong or a
 * bug of this guest, and ends the domain's run with status 1 and a line.
 */
__attribute__((interrupt)) static void page_fault(struct interrupt_frame *frame, uword_t error_code)
{
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	fatal(EXIT_CORRUPTION, "sharing: dom%u vcpu%u: #PF at %lx (RIP %lx, error %lx)\n", cfg.domid, this_cpu(), cr2,
	      frame->rip, (uint64_t)error_code);
}

__attribute__((interrupt)) static void unexpected_interrupt(struct interrupt_frame *frame)
{
	fatal(EXIT_CORRUPTION, "sharing: dom%u vcpu%u: unexpected interrupt or exception at RIP %lx\n", cfg.domid,
	      this_cpu(), frame->rip);
}

/* The exceptions that push an error code (#DF, #TS, #NP, #SS, #GP, #AC) need a handler that pops it. */
__attribute__((interrupt)) static void unexpected_exception(struct interrupt_frame *frame, uword_t error_code)
{
	fatal(EXIT_CORRUPTION, "sharing: dom%u vcpu%u: unexpected exception (error code %lx) at RIP %lx\n", cfg.domid,
	      this_cpu(), (uint64_t)error_code, frame->rip);
}

/* The exceptions and the wake-up vector; any other vector is not present, and its delivery faults to #GP's handler. */
void smp_init_cpu(unsigned cpu)
{
	struct idt_gate *table = idt[cpu];
	for (unsigned v = 0; v < 32; v++)
		idt_set_gate(table, v, idt_vector_has_error_code(v) ? (void *)unexpected_exception : (void *)unexpected_interrupt);
	idt_set_gate(table, 14, (void *)page_fault);
	idt_set_gate(table, WAKE_VECTOR, (void *)wake_interrupt);
	idt_load(table, 256);
	wrmsr(MSR_X2APIC_SIVR, APIC_SIVR_ENABLE | 0xFF);
}

/*
 * Sleeps until *word reaches want. The vCPU runs with interrupts off and
 * STI's shadow covers HLT, so a wake-up sent after the test is pending
 * when HLT starts and ends it at once.
 */
void wait_until(volatile uint32_t *word, uint32_t want)
{
	for (;;) {
		__asm__ volatile("cli" : : : "memory");
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) >= want)
			break;
		__asm__ volatile("sti; hlt" : : : "memory");
	}
	__asm__ volatile("cli" : : : "memory");
}

/*
 * The vCPUs first..first+count-1 each arrive once; the last to bring the
 * counter to target wakes the others, which sleep until it has.
 */
void barrier(volatile uint32_t *counter, uint32_t target, unsigned first, unsigned count)
{
	uint32_t arrived = __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
	if (arrived == target) {
		for (unsigned cpu = first; cpu < first + count; cpu++)
			if (cpu != this_cpu())
				wake_cpu(cpu);
	}
	wait_until(counter, target);
}
