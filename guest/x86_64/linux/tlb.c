/* SPDX-License-Identifier: MIT */
/*
 * TLB shootdown and page-table freeing (arch/x86/mm/tlb.c,
 * mm/mmu_gather.c; mechanisms §2.2, §2.4, §3.3):
 *
 *   flush_tlb_mm_range   bumps the mm's tlb_gen, flushes locally, then
 *                        flush_tlb_multi on the other CPUs by the back end
 *                        flush= names: native IPIs, the RFC's async inline
 *                        IPIs, Hyper-V's HvCallFlushVirtualAddressList, or
 *                        Xen's HVMOP_flush_tlbs;
 *   lazy TLB             a CPU running a kernel thread keeps the mm loaded;
 *                        flushes skip it unless they free tables, and it
 *                        catches up by tlb_gen when it comes back;
 *   tlb_remove_tables    frees unhooked tables at once, after
 *                        tlb_remove_table_sync_one's empty IPI, or after an
 *                        RCU grace period (call_rcu of the batch).
 */
#include "linux.h"

/* arch/x86/mm/tlb.c: tlb_single_page_flush_ceiling; beyond it a range is flushed whole. */
#define TLB_SINGLE_PAGE_FLUSH_CEILING 33

static volatile uint64_t mm_tlb_gen;                 /* mm->context.tlb_gen */
static volatile uint64_t local_tlb_gen[MAX_CPUS];    /* cpu_tlbstate.ctxs[0].tlb_gen */
static volatile uint32_t cpu_is_lazy[MAX_CPUS];      /* cpu_tlbstate_shared.is_lazy */
static struct flush_tlb_info flush_info[MAX_CPUS];   /* the per-CPU flush_tlb_info */

static void flush_whole(void)
{
	write_cr3(read_cr3());
}

/*
 * flush_tlb_func: with the mm's tlb_gen read first, a CPU already at it has
 * nothing to do; a flush that is exactly the next generation may flush its
 * range page by page; anything else flushes everything.
 */
void flush_tlb_func(void *arg)
{
	const struct flush_tlb_info *f = arg;
	unsigned self = this_cpu();
	uint64_t mm_gen = __atomic_load_n(&mm_tlb_gen, __ATOMIC_SEQ_CST);
	uint64_t local = local_tlb_gen[self];
	if (local == mm_gen)
		return;
	if (f->end != TLB_FLUSH_ALL && f->new_tlb_gen == local + 1 && f->new_tlb_gen == mm_gen) {
		for (uint64_t va = f->start; va < f->end; va += PAGE_SIZE)
			invlpg(va);
	} else {
		flush_whole();
	}
	local_tlb_gen[self] = mm_gen;
}

void enter_lazy_tlb(void)
{
	__atomic_store_n(&cpu_is_lazy[this_cpu()], 1, __ATOMIC_SEQ_CST);
}

/* switch_mm_irqs_off back to the mm: no longer lazy, then catch up with any flush that skipped us. */
void leave_lazy_tlb(void)
{
	unsigned self = this_cpu();
	__atomic_store_n(&cpu_is_lazy[self], 0, __ATOMIC_SEQ_CST);
	uint64_t mm_gen = __atomic_load_n(&mm_tlb_gen, __ATOMIC_SEQ_CST);
	if (local_tlb_gen[self] != mm_gen) {
		flush_whole();
		local_tlb_gen[self] = mm_gen;
		stats[self].lazy_flushes++;
	}
}

int is_lazy(unsigned cpu)
{
	return __atomic_load_n(&cpu_is_lazy[cpu], __ATOMIC_SEQ_CST);
}

/* ── Hyper-V (arch/x86/hyperv/mmu.c, TLFS "Virtual TLB management") ─────────── */

#define HV_X64_MSR_GUEST_OS_ID   0x40000000
#define HV_X64_MSR_VP_INDEX      0x40000002
#define HV_MSR_HYPERCALL_AVAILABLE (1u << 5)
#define HV_MSR_VP_INDEX_AVAILABLE  (1u << 6)
#define HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED (1u << 2)
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE 0x0002
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST  0x0003
#define HV_HYPERCALL_REP_COMP_OFFSET  32
#define HV_HYPERCALL_REP_START_OFFSET 48
#define HV_HYPERCALL_REP_START_MASK   (0xffful << HV_HYPERCALL_REP_START_OFFSET)
#define HV_FLUSH_ALL_PROCESSORS            (1ul << 0)
#define HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY  (1ul << 2)
#define HV_TLB_FLUSH_UNIT (4096ul * PAGE_SIZE) /* one GVA entry: its page and up to 4095 more */
#define HV_STATUS_SUCCESS 0

struct hv_tlb_flush {
	uint64_t address_space;
	uint64_t flags;
	uint64_t processor_mask;
	uint64_t gva_list[];
};

/* hyperv_pcpu_input_arg: one page per CPU, its GPA the hypercall's input (identity-mapped: GVA = GPA). */
static uint8_t hv_input_page[MAX_CPUS][PAGE_SIZE] __attribute__((aligned(4096)));
static uint32_t hv_vp_index[MAX_CPUS];
static uint32_t hv_features;

/*
 * hv_do_hypercall by VMCALL, as Xen's Viridian hypercall page issues it
 * (`or $0x80000000, %eax; vmcall`): RCX the input value, RDX the input
 * GPA, R8 the output GPA; RAX the result value.
 */
static uint64_t hv_do_hypercall(uint64_t control, uint64_t input_gpa, uint64_t output_gpa)
{
	uint64_t status = 0x80000000u;
	register uint64_t r8 __asm__("r8") = output_gpa;
	__asm__ volatile("vmcall"
			 : "+a"(status), "+c"(control), "+d"(input_gpa), "+r"(r8)
			 :
			 : "memory", "cc", "r9", "r10", "r11");
	stats[this_cpu()].hypercalls++;
	return status;
}

/* hv_do_rep_hypercall: reissue from the reps completed until all are done or one fails. */
static uint64_t hv_do_rep_hypercall(uint16_t code, uint16_t rep_count, uint64_t input_gpa)
{
	uint64_t control = code | ((uint64_t)rep_count << HV_HYPERCALL_REP_COMP_OFFSET);
	uint64_t status;
	for (;;) {
		status = hv_do_hypercall(control, input_gpa, 0);
		if ((status & 0xffff) != HV_STATUS_SUCCESS)
			return status;
		uint64_t rep_comp = (status >> HV_HYPERCALL_REP_COMP_OFFSET) & 0xfff;
		if (rep_comp >= rep_count)
			return status;
		control = (control & ~HV_HYPERCALL_REP_START_MASK) | (rep_comp << HV_HYPERCALL_REP_START_OFFSET);
	}
}

/* fill_gva_list: each entry a page address with the count of further pages in its low 12 bits. */
static unsigned fill_gva_list(uint64_t *gva_list, uint64_t start, uint64_t end)
{
	unsigned gva_n = 0;
	uint64_t cur = start;
	do {
		uint64_t diff = end > cur ? end - cur : 0;
		gva_list[gva_n] = cur & ~(PAGE_SIZE - 1);
		if (diff >= HV_TLB_FLUSH_UNIT) {
			gva_list[gva_n] |= PAGE_SIZE - 1;
			cur += HV_TLB_FLUSH_UNIT;
		} else if (diff) {
			gva_list[gva_n] |= (diff - 1) >> PAGE_SHIFT;
			cur = end;
		}
		gva_n++;
	} while (cur < end);
	return gva_n;
}

/* hyperv_flush_tlb_multi: 1 when the hypervisor did it, 0 to fall back to IPIs as Linux does. */
static int hyperv_flush_tlb_multi(const uint8_t *mask, const struct flush_tlb_info *info)
{
	uint64_t flags = local_irq_save();
	struct hv_tlb_flush *flush = (struct hv_tlb_flush *)hv_input_page[this_cpu()];
	flush->address_space = swapper_pgd_phys;
	flush->flags = 0;
	flush->processor_mask = 0;
	for (unsigned cpu = 0; cpu < cfg.ncpus; cpu++) {
		if (!mask[cpu])
			continue;
		if (hv_vp_index[cpu] >= 64) {
			local_irq_restore(flags);
			return 0; /* the _EX hypercalls with sparse VP sets are not modelled */
		}
		flush->processor_mask |= 1ul << hv_vp_index[cpu];
	}
	uint64_t max_gvas = (PAGE_SIZE - sizeof(*flush)) / sizeof(flush->gva_list[0]);
	uint64_t status;
	if (info->end == TLB_FLUSH_ALL || (info->end - info->start) / HV_TLB_FLUSH_UNIT > max_gvas) {
		flush->flags |= HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY;
		status = hv_do_hypercall(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, (uint64_t)(uintptr_t)flush, 0);
	} else {
		unsigned gva_n = fill_gva_list(flush->gva_list, info->start, info->end);
		status = hv_do_rep_hypercall(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, (uint16_t)gva_n, (uint64_t)(uintptr_t)flush);
	}
	local_irq_restore(flags);
	return (status & 0xffff) == HV_STATUS_SUCCESS;
}

/* ms_hyperv_platform + hyperv_setup_mmu_ops: "Microsoft Hv" at 0x40000000 and the flush recommended in 0x40000004. */
static int hyperv_detect(void)
{
	uint32_t a, b, c, d;
	cpuid(0x40000000, &a, &b, &c, &d);
	if (b != 0x7263694d || c != 0x666f736f || d != 0x76482074 || a < 0x40000004) /* "Micr" "osof" "t Hv" */
		return 0;
	cpuid(0x40000003, &hv_features, &b, &c, &d);
	cpuid(0x40000004, &a, &b, &c, &d);
	return (a & HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED) != 0;
}

/* ── Xen (xen/include/public/hvm/hvm_op.h) ────────────────────────────────── */

#define __HYPERVISOR_hvm_op 34
#define HVMOP_flush_tlbs    5

/* hypervisor_cpuid_base("XenVMMXenVMM", 2): Xen moves its leaves to 0x40000100 when it also offers Viridian. */
static int xen_detect(void)
{
	for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
		uint32_t a, b, c, d;
		cpuid(base, &a, &b, &c, &d);
		if (b == 0x566e6558 && c == 0x65584d4d && d == 0x4d4d566e && a - base >= 2) /* "XenV" "MMXe" "nVMM" */
			return 1;
	}
	return 0;
}

/* HYPERVISOR_hvm_op(HVMOP_flush_tlbs, NULL): Xen flushes every vCPU of the domain. */
static int xen_flush_tlbs(void)
{
	int64_t rax = __HYPERVISOR_hvm_op;
	uint64_t rdi = HVMOP_flush_tlbs, rsi = 0;
	__asm__ volatile("vmcall" : "+a"(rax), "+D"(rdi), "+S"(rsi) : : "memory", "cc", "rcx", "rdx", "r8", "r9",
			 "r10", "r11");
	stats[this_cpu()].hypercalls++;
	return rax == 0;
}

/* Boot: find the interface flush= asks for; without it the kernel says so and stops (EXIT_NO_FLUSH_INTERFACE). */
void tlb_init(void)
{
	if (cfg.flush == FLUSH_HYPERV) {
		if (!hyperv_detect())
			fatal(EXIT_NO_FLUSH_INTERFACE,
			      "linux: flush=hyperv: no Hyper-V remote TLB flush (CPUID 0x40000000 is not \"Microsoft Hv\" "
			      "with HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED in 0x40000004)\n");
		/* hyperv_init: the guest OS identity first (Linux's vendor ID 0x8100 in bits 63:48). */
		if (hv_features & HV_MSR_HYPERCALL_AVAILABLE)
			wrmsr(HV_X64_MSR_GUEST_OS_ID, 0x8100ul << 48 | 6ul << 16);
	}
	if (cfg.flush == FLUSH_XEN && !xen_detect())
		fatal(EXIT_NO_FLUSH_INTERFACE, "linux: flush=xen: no Xen (no \"XenVMMXenVMM\" CPUID leaf from 0x40000000)\n");
}

/* Per CPU: its Hyper-V VP index (HV_X64_MSR_VP_INDEX when offered, else the CPU number). */
void tlb_init_cpu(unsigned cpu)
{
	if (cfg.flush == FLUSH_HYPERV)
		hv_vp_index[cpu] = (hv_features & HV_MSR_VP_INDEX_AVAILABLE) ? (uint32_t)rdmsr(HV_X64_MSR_VP_INDEX) : cpu;
}

/* ── flush_tlb_mm_range ─────────────────────────────────────────────────── */

/* flush_tlb_multi: the back end flush= chose, for the CPUs in mask (never this one). */
static void flush_tlb_multi(const uint8_t *mask, struct flush_tlb_info *info)
{
	switch (cfg.flush) {
	case FLUSH_HYPERV:
		if (hyperv_flush_tlb_multi(mask, info))
			return;
		break;
	case FLUSH_XEN:
		if (xen_flush_tlbs())
			return;
		break;
	case FLUSH_ASYNC:
		/* The RFC's condition 1: a flush that frees tables stays synchronous (async-safe=on). */
		if (!(info->freed_tables && cfg.async_safe)) {
			smp_call_function_many_inline(mask, flush_tlb_func, info);
			return;
		}
		break;
	case FLUSH_IPI:
		break;
	}
	/* native_flush_tlb_multi: smp_call_function_many with wait. */
	smp_call_function_many(mask, flush_tlb_func, info, 1);
}

void flush_tlb_mm_range(uint64_t start, uint64_t end, int freed_tables)
{
	unsigned self = this_cpu();
	/* Reused at once: a synchronous flush has finished with it, an inline one sent copies. */
	struct flush_tlb_info *info = &flush_info[self];
	info->start = start;
	info->end = (end - start) >> PAGE_SHIFT > TLB_SINGLE_PAGE_FLUSH_CEILING ? TLB_FLUSH_ALL : end;
	info->freed_tables = (uint32_t)freed_tables;
	info->initiator = self;
	info->new_tlb_gen = __atomic_add_fetch(&mm_tlb_gen, 1, __ATOMIC_SEQ_CST);

	uint64_t flags = local_irq_save();
	flush_tlb_func(info);
	local_irq_restore(flags);

	/* native_flush_tlb_multi's condition: lazy CPUs only when tables are freed (a lazy CPU's speculative walk could use them). */
	uint8_t mask[MAX_CPUS] = { 0 };
	int any = 0;
	for (unsigned cpu = 0; cpu < cfg.ncpus; cpu++)
		if (cpu != self && (freed_tables || !is_lazy(cpu)))
			any = mask[cpu] = 1;
	if (any)
		flush_tlb_multi(mask, info);
	stats[self].flushes++;
}

/* ── Freeing tables ─────────────────────────────────────────────────────── */

#define RCU_BATCHES 16

/* struct mmu_table_batch under call_rcu: the tables, and each CPU's quiescent-state count when it was queued. */
struct rcu_batch {
	struct page *tables[2];
	unsigned n;
	int used;
	uint64_t snap[MAX_CPUS];
};
static struct rcu_batch rcu_pending[MAX_CPUS][RCU_BATCHES];
static volatile uint64_t rcu_qs[MAX_CPUS];
static volatile uint32_t rcu_idle[MAX_CPUS]; /* asleep at a barrier or done: an extended quiescent state, as dyntick-idle */
static volatile unsigned tables_pending;
unsigned rcu_peak_pending;
uint64_t tables_held_sum;
unsigned tables_held_samples;

/* A grace period has passed once every CPU has reported a quiescent state since the snapshot. */
static int grace_period_done(const struct rcu_batch *b)
{
	for (unsigned cpu = 0; cpu < cfg.ncpus; cpu++)
		if (!__atomic_load_n(&rcu_idle[cpu], __ATOMIC_ACQUIRE) &&
		    __atomic_load_n(&rcu_qs[cpu], __ATOMIC_ACQUIRE) == b->snap[cpu])
			return 0;
	return 1;
}

/*
 * A quiescent state: called only with interrupts on, between operations,
 * so an interrupts-disabled section (gup_fast) holds off every grace
 * period that began before it ended. Then this CPU's callbacks whose grace
 * period is over run: tlb_remove_table_rcu frees the batch.
 */
void rcu_note_qs(void)
{
	unsigned self = this_cpu();
	__atomic_add_fetch(&rcu_qs[self], 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < RCU_BATCHES; i++) {
		struct rcu_batch *b = &rcu_pending[self][i];
		if (!b->used || !grace_period_done(b))
			continue;
		for (unsigned k = 0; k < b->n; k++)
			free_table_now(b->tables[k]);
		__atomic_sub_fetch(&tables_pending, b->n, __ATOMIC_SEQ_CST);
		stats[self].tables_freed += b->n;
		b->used = 0;
		if (cfg.measure)
			sd_span_end(SD_SPAN_GRACE_PERIOD(i));
	}
}

static void call_rcu_tables(struct page **tables, unsigned n)
{
	unsigned self = this_cpu();
	for (;;) {
		for (unsigned i = 0; i < RCU_BATCHES; i++) {
			struct rcu_batch *b = &rcu_pending[self][i];
			if (b->used)
				continue;
			for (unsigned k = 0; k < n; k++)
				b->tables[k] = tables[k];
			b->n = n;
			for (unsigned cpu = 0; cpu < cfg.ncpus; cpu++)
				b->snap[cpu] = __atomic_load_n(&rcu_qs[cpu], __ATOMIC_SEQ_CST);
			b->used = 1;
			unsigned pending = __atomic_add_fetch(&tables_pending, n, __ATOMIC_SEQ_CST);
			if (pending > rcu_peak_pending)
				rcu_peak_pending = pending;
			stats[self].rcu_batches++;
			/* From call_rcu to tlb_remove_table_rcu on this CPU: the batch's wait for its grace period. */
			if (cfg.measure)
				sd_span_begin(SD_SPAN_GRACE_PERIOD(i));
			return;
		}
		rcu_note_qs();
		cpu_relax();
	}
}

/* rcu_idle_enter / rcu_idle_exit (dyntick-idle): returns whether this CPU was idle already. */
int rcu_idle_enter(void)
{
	return (int)__atomic_exchange_n(&rcu_idle[this_cpu()], 1, __ATOMIC_SEQ_CST);
}

/* Leaving idle is a quiescent state too: any grace period that began while this CPU slept is over for it. */
void rcu_idle_exit(void)
{
	unsigned self = this_cpu();
	__atomic_add_fetch(&rcu_qs[self], 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&rcu_idle[self], 0, __ATOMIC_SEQ_CST);
}

/* rcu_barrier for this CPU's batches (interrupts on). */
void rcu_barrier(void)
{
	unsigned self = this_cpu();
	for (;;) {
		rcu_note_qs();
		int left = 0;
		for (unsigned i = 0; i < RCU_BATCHES; i++)
			left |= rcu_pending[self][i].used;
		if (!left)
			return;
		cpu_relax();
	}
}

static void tlb_remove_table_smp_sync(void *info)
{
	(void)info;
}

/* tlb_remove_table_sync_one: an empty IPI to every other CPU, waited for; each must have had interrupts on. */
static void tlb_remove_table_sync_one(void)
{
	uint8_t mask[MAX_CPUS] = { 0 };
	int any = 0;
	for (unsigned cpu = 0; cpu < cfg.ncpus; cpu++)
		if (cpu != this_cpu())
			any = mask[cpu] = 1;
	if (any)
		smp_call_function_many(mask, tlb_remove_table_smp_sync, 0, 1);
}

/* measure=on: how many tables wait for a grace period now that this munmap has handed its own over. */
static void sample_tables_held(void)
{
	if (!cfg.measure)
		return;
	__atomic_add_fetch(&tables_held_sum, __atomic_load_n(&tables_pending, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&tables_held_samples, 1, __ATOMIC_SEQ_CST);
}

/* tlb_flush_mmu_free's tables, after the TLB flush: tablefree= says how. */
void tlb_remove_tables(struct page **tables, unsigned n)
{
	switch (cfg.tablefree) {
	case TABLEFREE_RCU:
		call_rcu_tables(tables, n);
		sample_tables_held();
		return;
	case TABLEFREE_SYNC_IPI:
		tlb_remove_table_sync_one();
		break;
	case TABLEFREE_DIRECT:
		break;
	}
	for (unsigned i = 0; i < n; i++)
		free_table_now(tables[i]);
	stats[this_cpu()].tables_freed += n;
	sample_tables_held();
}
