/* SPDX-License-Identifier: MIT */
/*
 * The Linux-style guest's boot and workloads. Every CPU runs one kernel
 * thread of the same mm. Each round a thread maps its own range (its own
 * PMD and PTE pages under the shared PUD), touches it, runs gup_fast over
 * the other threads' ranges, zaps part of its range with MADV_DONTNEED and
 * unmaps the rest, freeing its tables; in between it may go lazy (a kernel
 * thread with the mm still loaded). With workload=async-callback it also
 * queues its neighbour two asynchronous calls that read its range through
 * the neighbour's TLB: one after the first touch, one just before the
 * first flush that frees something (an earlier-queued callback, PeterZ's
 * case in mechanisms §3.3).
 *
 * Command line: flush=ipi|hyperv|xen|async tablefree=direct|rcu|sync-ipi
 * async-safe=on|off workload=gup-race|async-callback rounds=N pages=N
 * dontneed=N gups=N lazy=on|off measure=off|on (README.md).
 */
#include "linux.h"

struct config cfg = {
	.flush = FLUSH_IPI, .tablefree = TABLEFREE_DIRECT, .workload = WORKLOAD_GUP_RACE,
	.async_safe = 1, .lazy = 1, .rounds = 2, .pages = 4, .dontneed = 1, .gups = 2,
};
struct cpu_stats stats[MAX_CPUS];

extern char stacks[];

/* The CPU index from the stack pointer (start.S gives CPU n the n-th 64 KiB stack); interrupts run on it too. */
unsigned this_cpu(void)
{
	uint64_t rsp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	return (unsigned)((rsp - (uint64_t)(uintptr_t)stacks) >> 16);
}

static volatile int console_lock;

void lock_console(void)
{
	__asm__ volatile("cli" : : : "memory");
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

void unlock_console(void)
{
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

void die(int status)
{
	arch_exit(status);
}

/* ── The command line ───────────────────────────────────────────────────── */

static int word_is(const char *w, unsigned len, const char *s)
{
	unsigned n = (unsigned)strlen(s);
	return len == n && memcmp(w, s, n) == 0;
}

static const char *const flush_names[] = { "ipi", "hyperv", "xen", "async" };
static const char *const tablefree_names[] = { "direct", "rcu", "sync-ipi" };
static const char *const workload_names[] = { "gup-race", "async-callback" };
static const char *const onoff_names[] = { "off", "on" };

/* The index of value among names, or a message naming the key and the choices, and status 2. */
static unsigned choose(const char *key, const char *v, unsigned len, const char *const *names, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (word_is(v, len, names[i]))
			return i;
	lock_console();
	kprintf("linux: bad command line: %s=", key);
	for (unsigned i = 0; i < len; i++)
		arch_putc(v[i]);
	kprintf(" (one of:");
	for (unsigned i = 0; i < n; i++)
		kprintf(" %s", names[i]);
	kprintf(")\n");
	die(EXIT_BAD_CMDLINE);
}

static unsigned number(const char *key, const char *v, unsigned len, unsigned lo, unsigned hi)
{
	unsigned x = 0;
	int ok = len > 0 && len < 7;
	for (unsigned i = 0; ok && i < len; i++) {
		ok = v[i] >= '0' && v[i] <= '9';
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	if (!ok || x < lo || x > hi)
		fatal(EXIT_BAD_CMDLINE, "linux: bad command line: %s wants a number from %u to %u\n", key, lo, hi);
	return x;
}

static void parse_cmdline(const char *s)
{
	while (*s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		const char *w = s;
		while (*s && *s != ' ')
			s++;
		unsigned len = (unsigned)(s - w), k = 0;
		while (k < len && w[k] != '=')
			k++;
		const char *v = w + k + 1;
		unsigned vlen = k < len ? len - k - 1 : 0;
		if (word_is(w, k, "flush"))
			cfg.flush = choose("flush", v, vlen, flush_names, 4);
		else if (word_is(w, k, "tablefree"))
			cfg.tablefree = choose("tablefree", v, vlen, tablefree_names, 3);
		else if (word_is(w, k, "workload"))
			cfg.workload = choose("workload", v, vlen, workload_names, 2);
		else if (word_is(w, k, "async-safe"))
			cfg.async_safe = (int)choose("async-safe", v, vlen, onoff_names, 2);
		else if (word_is(w, k, "lazy"))
			cfg.lazy = (int)choose("lazy", v, vlen, onoff_names, 2);
		else if (word_is(w, k, "measure"))
			cfg.measure = (int)choose("measure", v, vlen, onoff_names, 2);
		else if (word_is(w, k, "rounds"))
			cfg.rounds = number("rounds", v, vlen, 1, 100000);
		else if (word_is(w, k, "pages"))
			cfg.pages = number("pages", v, vlen, 1, MAX_PAGES);
		else if (word_is(w, k, "dontneed"))
			cfg.dontneed = number("dontneed", v, vlen, 0, MAX_PAGES);
		else if (word_is(w, k, "gups"))
			cfg.gups = number("gups", v, vlen, 0, 1000);
		else {
			lock_console();
			kprintf("linux: bad command line: unknown word '");
			for (unsigned i = 0; i < len; i++)
				arch_putc(w[i]);
			kprintf("' (flush= tablefree= async-safe= workload= rounds= pages= dontneed= gups= lazy=)\n");
			die(EXIT_BAD_CMDLINE);
		}
	}
	if (cfg.dontneed > cfg.pages)
		fatal(EXIT_BAD_CMDLINE, "linux: bad command line: dontneed=%u is more than pages=%u\n", cfg.dontneed, cfg.pages);
}

/* ── The workload ───────────────────────────────────────────────────────── */

/*
 * The earlier-queued callbacks: they read user memory through this CPU's
 * TLB, as a perf sample copying a user stack would; copy_from_user's fixup
 * turns an unmapped address into -EFAULT, and anything else read must be
 * that address's data. nmi_uaccess_okay: not while this CPU is lazy (its
 * TLB may be behind).
 */
static void read_user(unsigned self, uint64_t va)
{
	uint64_t v;
	if (get_user_u64(va, &v) == 0 && v != STAMP(va))
		corruption("linux: CPU %u: a queued callback read %lx at %lx, not that address's data: "
			   "it went through a stale TLB or paging-structure-cache entry to a freed page or table\n",
			   self, v, va);
}

/* The first callback: the range's last page, which this CPU's TLB then holds, with the walk's table entries. */
static void read_last_page(void *info)
{
	unsigned self = this_cpu();
	stats[self].callbacks++;
	if (!is_lazy(self))
		read_user(self, (uint64_t)(uintptr_t)info + (cfg.pages - 1) * PAGE_SIZE);
}

/*
 * The second: first the first page, which only a walk reaches (through the
 * paging-structure caches the first callback filled, so through a freed
 * table if the flush has not come yet), then the last page again (through
 * its TLB entry, so a freed page if the flush has not come yet).
 */
static void read_first_then_last_page(void *info)
{
	unsigned self = this_cpu();
	uint64_t base = (uint64_t)(uintptr_t)info;
	stats[self].callbacks++;
	if (is_lazy(self))
		return;
	if (cfg.pages > 1)
		read_user(self, base);
	read_user(self, base + (cfg.pages - 1) * PAGE_SIZE);
}

/* The thread's own range: every page read back through the TLB, and written. */
static void touch_range(unsigned self)
{
	uint64_t base = USER_REGION(self);
	for (unsigned i = 0; i < cfg.pages; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)(base + i * PAGE_SIZE);
		if (p[0] != STAMP((uint64_t)(uintptr_t)p))
			corruption("linux: CPU %u: its own page at %lx reads %lx\n", self, (uint64_t)(uintptr_t)p, p[0]);
		p[1] = self;
	}
}

/* gup_fast over the next CPUs' ranges; each pinned page must hold its address's data, then is released. */
static void gup_round(unsigned self)
{
	struct page *pinned[MAX_PAGES];
	for (unsigned g = 0; g < cfg.gups; g++) {
		uint64_t start = USER_REGION((self + 1 + g) % cfg.ncpus);
		int n = gup_fast(start, cfg.pages, pinned);
		stats[self].gups++;
		stats[self].pinned += (unsigned)n;
		if ((unsigned)n < cfg.pages)
			stats[self].gup_misses++;
		for (int i = 0; i < n; i++) {
			uint64_t va = start + (uint64_t)i * PAGE_SIZE;
			uint64_t v = *(volatile uint64_t *)(uintptr_t)page_to_phys(pinned[i]);
			if (v != STAMP(va))
				corruption("linux: CPU %u: gup_fast pinned page %lx for %lx, which holds %lx, not that address's data\n",
					   self, page_to_phys(pinned[i]), va, v);
			put_page(pinned[i]);
		}
	}
}

/* The barriers' counters: boot, each round's mapping (cumulative), the end. */
static volatile uint32_t boot_ready, started, mapped, finished, drained;

static void run_workload(unsigned self)
{
	unsigned next = (self + 1) % cfg.ncpus;
	int callbacks = cfg.workload == WORKLOAD_ASYNC_CALLBACK && cfg.ncpus > 1;
	void *first_page = (void *)(uintptr_t)USER_REGION(self);
	for (unsigned r = 0; r < cfg.rounds; r++) {
		do_mmap(self);
		touch_range(self);
		if (callbacks)
			smp_call_function_single_async(next, read_last_page, first_page);
		/* Every range is mapped before anyone walks or unmaps: the walks meet live tables. */
		barrier_all(&mapped, cfg.ncpus * (r + 1));
		gup_round(self);
		if (cfg.dontneed) {
			if (callbacks)
				smp_call_function_single_async(next, read_first_then_last_page, first_page);
			/* The last pages, so that the walks after it still pin the ones before. */
			do_madvise_dontneed(self, cfg.pages - cfg.dontneed, cfg.dontneed);
		}
		gup_round(self);
		if (callbacks && !cfg.dontneed)
			smp_call_function_single_async(next, read_first_then_last_page, first_page);
		do_munmap(self);
		rcu_note_qs();
		if (cfg.lazy) {
			/* A kernel thread's turn: the mm stays loaded, flushes without freed tables pass this CPU by. */
			enter_lazy_tlb();
			for (unsigned i = 0; i < 8; i++)
				cpu_relax();
			leave_lazy_tlb();
		}
	}
}

/* ── Boot and summary ───────────────────────────────────────────────────── */

static void summary(void)
{
	if (free_frames() != POOL_FRAMES - 1)
		corruption("linux: %u frames of %u are not back in the free list\n", POOL_FRAMES - 1 - free_frames(),
			   POOL_FRAMES - 1);
	for (unsigned c = 0; c < cfg.ncpus; c++) {
		struct cpu_stats *s = &stats[c];
		kprintf("linux: cpu%u mmap=%u munmap=%u dontneed=%u gup=%u pinned=%u missed=%u flush=%u ipi-sent=%u "
			"ipi-taken=%u hypercall=%u callback=%u lazy-flush=%u rcu-batch=%u tables-freed=%u\n",
			c, s->mmaps, s->munmaps, s->dontneeds, s->gups, s->pinned, s->gup_misses, s->flushes, s->ipis_sent,
			s->ipis_taken, s->hypercalls, s->callbacks, s->lazy_flushes, s->rcu_batches, s->tables_freed);
	}
	/* For `shootdown bench linux`, which takes the mean from the sum and the samples. */
	if (cfg.measure)
		kprintf("linux: measure: tables-held-peak=%u tables-held-sum=%lu tables-held-samples=%u\n", rcu_peak_pending,
			tables_held_sum, tables_held_samples);
	kprintf("linux: flush=%s tablefree=%s async-safe=%s workload=%s rounds=%u pages=%u dontneed=%u gups=%u cpus=%u: "
		"no corruption (peak %u tables waiting for a grace period)\n",
		flush_names[cfg.flush], tablefree_names[cfg.tablefree], onoff_names[cfg.async_safe],
		workload_names[cfg.workload], cfg.rounds, cfg.pages, cfg.dontneed, cfg.gups, cfg.ncpus, rcu_peak_pending);
}

int kmain(unsigned cpu, const struct shootdown_boot_info *info)
{
	smp_init_cpu(cpu);
	if (cpu == 0) {
		cfg.ncpus = info->cpu_count;
		if (cfg.ncpus > MAX_CPUS)
			fatal(EXIT_BAD_CMDLINE, "linux: %u CPUs; this kernel runs on at most %u\n", cfg.ncpus, MAX_CPUS);
		if (info->magic == SHOOTDOWN_BOOT_MAGIC && info->cmdline)
			parse_cmdline((const char *)(uintptr_t)info->cmdline);
		mm_init();
		tlb_init();
		__atomic_store_n(&boot_ready, 1, __ATOMIC_SEQ_CST);
		for (unsigned c = 1; c < cfg.ncpus; c++)
			wake_cpu(c);
	}
	/* A wake-up sent before this CPU's APIC was on is lost, but then boot_ready is already set here. */
	wait_until(&boot_ready, ~0u, 1);
	mm_load();
	tlb_init_cpu(cpu);
	barrier_all(&started, cfg.ncpus);
	run_workload(cpu);
	/* Idle from here (an extended quiescent state): once all are, every grace period is over. */
	rcu_idle_enter();
	barrier_all(&finished, cfg.ncpus);
	rcu_barrier();
	barrier_all(&drained, cfg.ncpus);
	if (cpu != 0)
		return 0;
	summary();
	return EXIT_OK;
}
