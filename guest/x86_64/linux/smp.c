/* SPDX-License-Identifier: MIT */
/*
 * Inter-processor calls (kernel/smp.c, mechanisms §3.2): a call_single_data
 * (CSD) per sender and target, locked while in use; a per-CPU queue the
 * sender adds it to (an IPI only when the queue was empty); the target's
 * CALL_FUNCTION_VECTOR handler drains the queue in order. A synchronous CSD
 * runs its function, then unlocks (the sender's wait sees the work done);
 * an asynchronous one unlocks first. With Nadav Amit's RFC (flush=async) a
 * CSD may carry its info inline; the target copies it and unlocks such
 * CSDs as soon as it takes the IPI, before it runs anything queued ahead of
 * them (mechanisms §3.3, §3.4 step 2).
 *
 * Waiting CPUs halt rather than spin: a CPU that waits for a CSD's unlock,
 * or at a barrier, sleeps in HLT with interrupts on, and whoever unlocks
 * or arrives last sends it a reschedule IPI. It takes flush IPIs while it
 * waits as a spinning CPU would, and shootdown's PCT scheduler passes a
 * halted CPU over instead of letting it spin until the horizon
 * (docs/explore.md, "Waiting CPUs").
 */
#include "linux.h"

#define CALL_FUNCTION_VECTOR 0xFB
#define RESCHEDULE_VECTOR    0xFD
#define PAGE_FAULT_VECTOR    14
#define APIC_SIVR_ENABLE     (1u << 8)

struct interrupt_frame {
	uint64_t rip, cs, rflags, rsp, ss;
};
typedef unsigned long long uword_t;

struct call_single_data {
	struct call_single_data *next;
	smp_call_func_t func;
	void *info;
	volatile uint32_t flags;
	uint32_t sender;
	struct flush_tlb_info inline_info;
};

/* cfd_data: the CSDs of smp_call_function_many, per sender and target; csd_async: smp_call_function_single's. */
static struct call_single_data cfd_csd[MAX_CPUS][MAX_CPUS];
static struct call_single_data async_csd[MAX_CPUS][MAX_CPUS];
static struct call_single_data *call_single_queue[MAX_CPUS];

struct idt_gate {
	uint16_t offset_low, selector;
	uint8_t ist, type;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
} __attribute__((packed));
/* One IDT per CPU, each built by its own CPU, so that no CPU waits for another to boot. */
static struct idt_gate idt[MAX_CPUS][256] __attribute__((aligned(16)));

static void send_ipi(unsigned cpu, unsigned vector)
{
	/* x2APIC ICR (SDM Vol.3A 11.12.9): destination in bits 63:32, fixed delivery. */
	wrmsr(MSR_X2APIC_ICR, ((uint64_t)cpu << 32) | vector);
}

/* smp_send_reschedule: wakes a CPU halted in wait_until. */
void wake_cpu(unsigned cpu)
{
	send_ipi(cpu, RESCHEDULE_VECTOR);
}

/*
 * Sleeps until *word & mask equals want. The test runs with interrupts off
 * and STI's shadow covers HLT, so a wake-up sent after the test is pending
 * when HLT starts and ends it at once. The caller has interrupts on, as
 * smp_call_function_many requires.
 */
void wait_until(volatile uint32_t *word, uint32_t mask, uint32_t want)
{
	for (;;) {
		__asm__ volatile("cli" : : : "memory");
		if ((__atomic_load_n(word, __ATOMIC_ACQUIRE) & mask) == want)
			break;
		__asm__ volatile("sti; hlt" : : : "memory");
	}
	__asm__ volatile("sti" : : : "memory");
}

static void csd_lock_wait(struct call_single_data *csd)
{
	wait_until(&csd->flags, CSD_FLAG_LOCK, 0);
}

static void csd_lock(struct call_single_data *csd)
{
	csd_lock_wait(csd);
	csd->flags = CSD_FLAG_LOCK;
	csd->sender = this_cpu();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* csd_unlock, and a wake-up for the sender, which may be halted in csd_lock_wait. */
static void csd_unlock(struct call_single_data *csd)
{
	unsigned sender = csd->sender;
	__atomic_store_n(&csd->flags, 0, __ATOMIC_RELEASE);
	wake_cpu(sender);
}

static void send_call_function_ipi(unsigned cpu)
{
	send_ipi(cpu, CALL_FUNCTION_VECTOR);
	stats[this_cpu()].ipis_sent++;
}

/* llist_add: true when the queue was empty, i.e. the target needs an IPI. */
static int llist_add(struct call_single_data *csd, unsigned cpu)
{
	struct call_single_data *first = __atomic_load_n(&call_single_queue[cpu], __ATOMIC_RELAXED);
	do
		csd->next = first;
	while (!__atomic_compare_exchange_n(&call_single_queue[cpu], &first, csd, 0, __ATOMIC_SEQ_CST,
					    __ATOMIC_RELAXED));
	return first == 0;
}

static void queue_csd(struct call_single_data *csd, unsigned cpu)
{
	if (llist_add(csd, cpu))
		send_call_function_ipi(cpu);
}

/*
 * smp_call_function_many's body: a CSD to each CPU of the mask (its flags
 * CSD_FLAG_SYNCHRONOUS, CSD_FLAG_INLINE with the info copied in, or none),
 * then, unless nobody waits, wait for every unlock. The caller must have
 * interrupts on, or two CPUs calling each other would wait for ever.
 */
static void call_function_many(const uint8_t *mask, smp_call_func_t func, void *info,
			       const struct flush_tlb_info *inline_info, uint32_t flags, int wait)
{
	unsigned self = this_cpu();
	for (unsigned cpu = 0; cpu < cfg.ncpus; cpu++) {
		if (!mask[cpu])
			continue;
		struct call_single_data *csd = &cfd_csd[self][cpu];
		csd_lock(csd);
		csd->func = func;
		csd->info = info;
		if (inline_info)
			csd->inline_info = *inline_info;
		csd->flags |= flags;
		queue_csd(csd, cpu);
	}
	if (!wait)
		return;
	for (unsigned cpu = 0; cpu < cfg.ncpus; cpu++)
		if (mask[cpu])
			csd_lock_wait(&cfd_csd[self][cpu]);
}

/* smp_call_function_many (wait=1: every CSD synchronous, so its unlock says the function has run). */
void smp_call_function_many(const uint8_t *mask, smp_call_func_t func, void *info, int wait)
{
	call_function_many(mask, func, info, 0, wait ? CSD_FLAG_SYNCHRONOUS : 0, wait);
}

/*
 * The RFC's "x86/mm/tlb: Use async and inline messages for flushing": the
 * flush info is copied into each CSD, which is asynchronous; the sender
 * waits only until every target has unlocked its CSD, which the target
 * does on taking the IPI, before it flushes.
 */
void smp_call_function_many_inline(const uint8_t *mask, smp_call_func_t func, const struct flush_tlb_info *info)
{
	call_function_many(mask, func, 0, info, CSD_FLAG_INLINE, 1);
}

/* smp_call_function_single_async: queue and go; the CSD is reused once its last use unlocked it. */
void smp_call_function_single_async(unsigned cpu, smp_call_func_t func, void *info)
{
	struct call_single_data *csd = &async_csd[this_cpu()][cpu];
	csd_lock(csd);
	csd->func = func;
	csd->info = info;
	queue_csd(csd, cpu);
}

/* What the handler keeps of a CSD before any is unlocked: after csd_unlock its sender may reuse it. */
struct pending_call {
	smp_call_func_t func;
	void *info;
	uint32_t flags;
	struct call_single_data *csd;
	struct flush_tlb_info copy;
};

/* flush_smp_call_function_queue, for the interrupt handler. */
static void flush_smp_call_function_queue(void)
{
	unsigned self = this_cpu();
	struct pending_call calls[2 * MAX_CPUS];
	unsigned n = 0;
	struct call_single_data *entry = __atomic_exchange_n(&call_single_queue[self], 0, __ATOMIC_SEQ_CST);
	/* llist_reverse_order: the queue is LIFO, the calls run in the order they were queued. */
	struct call_single_data *fifo = 0;
	while (entry) {
		struct call_single_data *next = entry->next;
		entry->next = fifo;
		fifo = entry;
		entry = next;
	}
	for (struct call_single_data *csd = fifo; csd && n < 2 * MAX_CPUS; csd = csd->next) {
		struct pending_call *c = &calls[n++];
		c->func = csd->func;
		c->info = csd->info;
		c->flags = csd->flags;
		c->csd = csd;
		if (c->flags & CSD_FLAG_INLINE)
			c->copy = csd->inline_info;
	}
	/* The RFC: every inline CSD is copied and released on receipt, before anything queued ahead runs. */
	for (unsigned i = 0; i < n; i++)
		if (calls[i].flags & CSD_FLAG_INLINE)
			csd_unlock(calls[i].csd);
	for (unsigned i = 0; i < n; i++) {
		struct pending_call *c = &calls[i];
		if (c->flags & CSD_FLAG_INLINE) {
			c->func(&c->copy);
		} else if (c->flags & CSD_FLAG_SYNCHRONOUS) {
			c->func(c->info);
			csd_unlock(c->csd);
		} else {
			csd_unlock(c->csd);
			c->func(c->info);
		}
	}
}

/* sysvec_reschedule_ipi: nothing to do but wake; the woken CPU tests what it waits for again. */
__attribute__((interrupt)) static void reschedule_interrupt(struct interrupt_frame *frame)
{
	(void)frame;
	wrmsr(MSR_X2APIC_EOI, 0);
}

__attribute__((interrupt)) static void call_function_interrupt(struct interrupt_frame *frame)
{
	(void)frame;
	/* sysvec_call_function: acknowledge first, so that a CSD queued meanwhile raises a new IPI. */
	wrmsr(MSR_X2APIC_EOI, 0);
	stats[this_cpu()].ipis_taken++;
	flush_smp_call_function_queue();
}

extern char __get_user_8_insn[], __get_user_8_fixup[];

/*
 * #PF: a uaccess load that faults resumes at its fixup (the exception table).
 * Anything else is a kernel bug, and a fault with the reserved-bit flag set
 * means the hardware walked a table holding poison: a freed table.
 */
__attribute__((interrupt)) static void page_fault(struct interrupt_frame *frame, uword_t error_code)
{
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	if (error_code & (1u << 3))
		corruption("linux: CPU %u: #PF with reserved bits set at %lx (RIP %lx): the hardware walked a freed table\n",
			   this_cpu(), cr2, frame->rip);
	if (frame->rip == (uint64_t)(uintptr_t)__get_user_8_insn) {
		frame->rip = (uint64_t)(uintptr_t)__get_user_8_fixup;
		return;
	}
	fatal(EXIT_CORRUPTION, "linux: CPU %u: unexpected #PF at %lx (RIP %lx, error %lx)\n", this_cpu(), cr2,
	      frame->rip, (uint64_t)error_code);
}

__attribute__((interrupt)) static void unexpected_interrupt(struct interrupt_frame *frame)
{
	fatal(EXIT_CORRUPTION, "linux: CPU %u: unexpected interrupt or exception at RIP %lx\n", this_cpu(), frame->rip);
}

/* The exceptions that push an error code (#DF, #TS, #NP, #SS, #GP, #AC) need a handler that pops it. */
__attribute__((interrupt)) static void unexpected_exception(struct interrupt_frame *frame, uword_t error_code)
{
	fatal(EXIT_CORRUPTION, "linux: CPU %u: unexpected exception (error code %lx) at RIP %lx\n", this_cpu(),
	      (uint64_t)error_code, frame->rip);
}

static void set_gate(struct idt_gate *table, unsigned vector, void *handler)
{
	uint64_t a = (uint64_t)(uintptr_t)handler;
	table[vector] = (struct idt_gate){
		.offset_low = (uint16_t)a, .selector = 0x08, .type = 0x8E, /* present 64-bit interrupt gate */
		.offset_mid = (uint16_t)(a >> 16), .offset_high = (uint32_t)(a >> 32),
	};
}

/* The exceptions, the two IPI vectors; any other vector is not present, and its delivery faults to #DF's handler. */
void smp_init_cpu(unsigned cpu)
{
	struct idt_gate *table = idt[cpu];
	for (unsigned v = 0; v < 32; v++) {
		int error_code = v == 8 || (v >= 10 && v <= 13) || v == 17;
		set_gate(table, v, error_code ? (void *)unexpected_exception : (void *)unexpected_interrupt);
	}
	set_gate(table, PAGE_FAULT_VECTOR, (void *)page_fault);
	set_gate(table, CALL_FUNCTION_VECTOR, (void *)call_function_interrupt);
	set_gate(table, RESCHEDULE_VECTOR, (void *)reschedule_interrupt);
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt[0]) - 1, (uint64_t)(uintptr_t)table };
	__asm__ volatile("lidt %0" : : "m"(idtr));
	wrmsr(MSR_X2APIC_SIVR, APIC_SIVR_ENABLE | 0xFF);
}

/*
 * Every CPU arrives; the last to reach target wakes the others, which
 * sleep until the count is complete. A CPU asleep here is idle to RCU (an
 * extended quiescent state), as one halted in the idle loop is, so that a
 * grace period never waits for a CPU that waits for the CPU that waits for
 * the grace period.
 */
void barrier_all(volatile uint32_t *counter, uint32_t target)
{
	int was_idle = rcu_idle_enter();
	uint32_t arrived = __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
	if (arrived == target) {
		for (unsigned cpu = 0; cpu < cfg.ncpus; cpu++)
			if (cpu != this_cpu())
				wake_cpu(cpu);
	}
	for (;;) {
		__asm__ volatile("cli" : : : "memory");
		if (__atomic_load_n(counter, __ATOMIC_ACQUIRE) >= target)
			break;
		__asm__ volatile("sti; hlt" : : : "memory");
	}
	__asm__ volatile("sti" : : : "memory");
	if (!was_idle)
		rcu_idle_exit();
}
