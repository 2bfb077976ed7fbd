/* SPDX-License-Identifier: MIT */
/*
 * The memory-sharing scenario guest (issue 19): boot, the command line,
 * which domain this is, and the final line. Every domain of a run boots
 * this image with the same command line; the domain id from Xen's CPUID
 * leaves decides what it does: domain 0 under driver=dom0 nominates and
 * shares pages of the others (driver.c), every other domain writes and
 * checks its region (workload.c). README.md is the contract.
 *
 * Command line: pages=N same=N rounds=N reads=N driver=none|dom0
 * targets=identical|any domains=N shares=N seed=N (README.md).
 */
#include "sharing.h"
#include "cmdline.h" /* guest/c/include: the command line, word by word */

struct config cfg = {
	.pages = 16, .same = ~0u, .rounds = 100, .reads = 2, .driver = DRIVER_NONE, .targets = TARGETS_IDENTICAL,
	.domains = 2, .shares = 100, .seed = 1,
};
struct cpu_stats stats[MAX_CPUS];

extern char stacks[];

/* The vCPU index from the stack pointer (start.S gives vCPU n the n-th 64 KiB stack); interrupts run on it too. */
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

static void unlock_console(void)
{
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

void die(int status)
{
	arch_exit(status);
}

/* ── The command line (parsed by vCPU 0 while the others wait) ──────────── */

_Static_assert(EXIT_BAD_CMDLINE == CMDLINE_BAD_STATUS, "cmdline.h ends a bad command line with this guest's status");

static const char *const driver_names[] = { "none", "dom0" };
static const char *const targets_names[] = { "identical", "any" };

static void parse_cmdline(const char *s)
{
	struct cmdline_word w;
	while (cmdline_next(&s, &w)) {
		if (cmdline_is(&w, "pages"))
			cfg.pages = (unsigned)cmdline_number("sharing", &w, 1, MAX_PAGES);
		else if (cmdline_is(&w, "same"))
			cfg.same = (unsigned)cmdline_number("sharing", &w, 0, MAX_PAGES);
		else if (cmdline_is(&w, "rounds"))
			cfg.rounds = (unsigned)cmdline_number("sharing", &w, 1, 100000);
		else if (cmdline_is(&w, "reads"))
			cfg.reads = (unsigned)cmdline_number("sharing", &w, 0, 64);
		else if (cmdline_is(&w, "driver"))
			cfg.driver = cmdline_choose("sharing", &w, driver_names, 2);
		else if (cmdline_is(&w, "targets"))
			cfg.targets = cmdline_choose("sharing", &w, targets_names, 2);
		else if (cmdline_is(&w, "domains"))
			cfg.domains = (unsigned)cmdline_number("sharing", &w, 2, DOMID_FIRST_RESERVED - 1);
		else if (cmdline_is(&w, "shares"))
			cfg.shares = (unsigned)cmdline_number("sharing", &w, 0, 100000);
		else if (cmdline_is(&w, "seed"))
			cfg.seed = cmdline_number("sharing", &w, 0, 0xffffffffu);
		else
			cmdline_unknown("sharing", &w, "pages= same= rounds= reads= driver= targets= domains= shares= seed=");
	}
	if (cfg.same == ~0u)
		cfg.same = cfg.pages / 2;
	if (cfg.same > cfg.pages)
		fatal(EXIT_BAD_CMDLINE, "sharing: bad command line: same=%u is more than pages=%u\n", cfg.same, cfg.pages);
	if (cfg.driver == DRIVER_DOM0 && cfg.targets == TARGETS_IDENTICAL && cfg.same == 0)
		fatal(EXIT_BAD_CMDLINE, "sharing: bad command line: driver=dom0 targets=identical needs same= of at least 1\n");
}

/* ── Which domain this is ───────────────────────────────────────────────── */

/* Xen's HVM-specific CPUID leaf, "leaf 5" at base+4 (xen/include/public/arch-x86/cpuid.h). */
#define XEN_CPUID_LEAF_HVM             4
#define XEN_HVM_CPUID_VCPU_ID_PRESENT  (1u << 3)
#define XEN_HVM_CPUID_DOMID_PRESENT    (1u << 4)

static uint32_t xen_base, xen_hvm_flags;

/*
 * xen_cpuid_base (arch/x86/include/asm/xen/hypervisor.h, through
 * hypervisor_cpuid_base): "XenVMMXenVMM" at 0x40000000 + k*0x100 with at
 * least two leaves after the base; Xen moves its leaves to 0x40000100 when
 * it also offers Viridian. Then leaf base+4: ECX is the domain id when EAX
 * has XEN_HVM_CPUID_DOMID_PRESENT. Without either this is domain 1, alone.
 */
static void find_domain(void)
{
	cfg.domid = 1;
	for (uint32_t k = 0; k < 0x100; k++) {
		uint32_t base = 0x40000000u + k * 0x100, a, b, c, d;
		cpuid(base, &a, &b, &c, &d);
		if (b == 0x566e6558 && c == 0x65584d4d && d == 0x4d4d566e && a - base >= 2) { /* "XenV" "MMXe" "nVMM" */
			cfg.xen = 1;
			xen_base = base;
			if (a - base >= XEN_CPUID_LEAF_HVM) {
				cpuid(base + XEN_CPUID_LEAF_HVM, &xen_hvm_flags, &b, &c, &d);
				if (xen_hvm_flags & XEN_HVM_CPUID_DOMID_PRESENT) {
					cfg.domid_present = 1;
					cfg.domid = c;
				}
			}
			return;
		}
	}
}

/* With XEN_HVM_CPUID_VCPU_ID_PRESENT, EBX of leaf base+4 is the vCPU id: it must be the boot protocol's CPU index. */
static void check_vcpu_id(unsigned cpu)
{
	uint32_t a, b, c, d;
	if (!cfg.xen || !(xen_hvm_flags & XEN_HVM_CPUID_VCPU_ID_PRESENT))
		return;
	cpuid(xen_base + XEN_CPUID_LEAF_HVM, &a, &b, &c, &d);
	if (b != cpu)
		fatal(EXIT_CORRUPTION, "sharing: dom%u vcpu%u: CPUID leaf %x gives vCPU id %u, not this vCPU's index %u\n",
		      cfg.domid, cpu, xen_base + XEN_CPUID_LEAF_HVM, b, cpu);
}

/* ── Boot and the final line ────────────────────────────────────────────── */

static volatile uint32_t boot_ready, initialized, finished;

static void boot(const struct shootdown_boot_info *info)
{
	cfg.ncpus = info->cpu_count;
	if (info->magic == SHOOTDOWN_BOOT_MAGIC && info->cmdline)
		parse_cmdline((const char *)(uintptr_t)info->cmdline);
	if (cfg.ncpus > MAX_CPUS)
		fatal(EXIT_BAD_CMDLINE, "sharing: %u vCPUs; this kernel runs on at most %u\n", cfg.ncpus, MAX_CPUS);
	find_domain();
	if (cfg.driver == DRIVER_DOM0 && !sharing_op_present())
		fatal(EXIT_NO_INTERFACE, "sharing: driver=dom0: %s\n",
		      cfg.xen ? "Xen's CPUID leaf base+4 gives no domain id (XEN_HVM_CPUID_DOMID_PRESENT), so no domain can tell it is domain 0"
			      : "no Xen (no \"XenVMMXenVMM\" CPUID leaf from 0x40000000), so no XENMEM_sharing_op");
	if (cfg.domid >= DOMID_FIRST_RESERVED)
		fatal(EXIT_NO_INTERFACE, "sharing: CPUID gives domain id %u, a reserved one\n", cfg.domid);
	if (info->ram_size < REGION_BASE + MAX_PAGES * PAGE_SIZE)
		fatal(EXIT_OUT_OF_MEMORY, "sharing: dom%u: %lu bytes of RAM; the region needs up to %lx\n", cfg.domid,
		      info->ram_size, REGION_BASE + MAX_PAGES * PAGE_SIZE);
}

static void final_line(void)
{
	if (cfg.driver == DRIVER_DOM0 && cfg.domid == 0) {
		lock_console();
		driver_summary();
		unlock_console();
		return;
	}
	unsigned reads = 0, writes = 0, changed = 0;
	for (unsigned c = 0; c < cfg.ncpus; c++) {
		if (stats[c].rounds != cfg.rounds)
			fatal(EXIT_CORRUPTION, "sharing: dom%u: vcpu%u did %u rounds of %u\n", cfg.domid, c, stats[c].rounds,
			      cfg.rounds);
		reads += stats[c].reads;
		writes += stats[c].writes;
		changed += stats[c].changed;
	}
	lock_console();
	kprintf("sharing: dom%u vcpus=%u pages=%u same=%u rounds=%u reads=%u writes=%u changed=%u driver=%s: data correct\n",
		cfg.domid, cfg.ncpus, cfg.pages, cfg.same, cfg.rounds, reads, writes, changed, driver_names[cfg.driver]);
	unlock_console();
}

int kmain(unsigned cpu, const struct shootdown_boot_info *info)
{
	smp_init_cpu(cpu);
	if (cpu == 0) {
		boot(info);
		__atomic_store_n(&boot_ready, 1, __ATOMIC_SEQ_CST);
		for (unsigned c = 1; c < cfg.ncpus; c++)
			wake_cpu(c);
	}
	/* A wake-up sent before this vCPU's APIC was on is lost, but then boot_ready is already set here. */
	wait_until(&boot_ready, 1);
	check_vcpu_id(cpu);
	if (cfg.driver == DRIVER_DOM0 && cfg.domid == 0) {
		run_driver(cpu);
	} else {
		workload_init(cpu);
		barrier(&initialized, cfg.ncpus, 0, cfg.ncpus);
		run_workload(cpu);
	}
	barrier(&finished, cfg.ncpus, 0, cfg.ncpus);
	if (cpu != 0)
		return 0;
	final_line();
	return EXIT_OK;
}
