/* SPDX-License-Identifier: MIT */
/*
 * The Linux-style guest: what its files share. Names follow Linux where the
 * guest models a Linux mechanism (mm/mmu_gather.c, mm/gup.c, kernel/smp.c,
 * arch/x86/mm/tlb.c, arch/x86/hyperv/mmu.c); README.md beside this file says
 * what each command-line option models.
 */
#ifndef LINUX_H
#define LINUX_H

#include "kernel.h"
#include "shootdown-annotate.h" /* guest/c/include: the sanitizer annotations (docs/annotations.md) */

#define MAX_CPUS    16
#define PAGE_SIZE   4096ul
#define PAGE_SHIFT  12
#define POOL_FRAMES 512 /* the page allocator's frames (2 MiB) */
#define MAX_PAGES   32  /* pages= at most: one page table, and a gather that holds them all */

/* Page-table entry bits (SDM Vol.3A 4.5, table 4-19). */
#define _PAGE_PRESENT (1ul << 0)
#define _PAGE_RW      (1ul << 1)
#define _PAGE_USER    (1ul << 2)
#define _PAGE_PSE     (1ul << 7)
#define PTE_PFN_MASK  0x000FFFFFFFFFF000ul

/* The user half: PML4 slot 32, one PDPT shared by every CPU; CPU c maps its range in PDPT entry c. */
#define USER_BASE     0x0000100000000000ul
#define USER_REGION(cpu) (USER_BASE + ((uint64_t)(cpu) << 30))
#define PGD_INDEX(va) (((va) >> 39) & 511)
#define PUD_INDEX(va) (((va) >> 30) & 511)
#define PMD_INDEX(va) (((va) >> 21) & 511)
#define PTE_INDEX(va) (((va) >> 12) & 511)

/*
 * What a data page holds in every word: the user address it was mapped at,
 * with a tag in bits 63:48 and bit 0 set. Read as a page-table entry it is
 * present and points far outside RAM, so a walker that takes a reused data
 * page for a table fails visibly; a reader that gets anything else for a
 * mapped address has read a page that is not that address's.
 */
#define DATA_TAG      0x5D5D000000000001ul
#define STAMP(va)     (DATA_TAG | ((va) & ~(PAGE_SIZE - 1)))
/* Freed frames are filled with this (the slab allocator's POISON_FREE byte): present, reserved bits set. */
#define POISON        0x6b6b6b6b6b6b6b6bul

/* The guest's exit statuses (the debug-exit port). */
#define EXIT_OK         0
#define EXIT_CORRUPTION 1
#define EXIT_BAD_CMDLINE 2
#define EXIT_NO_FLUSH_INTERFACE 3
#define EXIT_OUT_OF_MEMORY 5

enum flush_mode { FLUSH_IPI, FLUSH_HYPERV, FLUSH_XEN, FLUSH_ASYNC };
enum tablefree_mode { TABLEFREE_DIRECT, TABLEFREE_RCU, TABLEFREE_SYNC_IPI };
enum workload { WORKLOAD_GUP_RACE, WORKLOAD_ASYNC_CALLBACK };

struct config {
	enum flush_mode flush;
	enum tablefree_mode tablefree;
	enum workload workload;
	int async_safe;      /* the RFC's condition 1: flushes that free tables stay synchronous */
	int lazy;            /* CPUs go lazy (a kernel thread) between rounds */
	int measure;         /* span annotations for the cost model, and the tables-held line (bench linux) */
	unsigned rounds, pages, dontneed, gups;
	unsigned ncpus;
};
extern struct config cfg;

/* Per-CPU counters for the summary line. */
struct cpu_stats {
	unsigned mmaps, munmaps, dontneeds, gups, pinned, gup_misses;
	unsigned flushes, ipis_sent, ipis_taken, hypercalls, callbacks, lazy_flushes;
	unsigned rcu_batches, tables_freed;
};
extern struct cpu_stats stats[MAX_CPUS];

/* struct page: one per pool frame. */
enum page_use { PAGE_FREE, PAGE_TABLE, PAGE_DATA };
struct page {
	int32_t refcount;
	uint32_t next;       /* the free list, by index; POOL_FRAMES ends it */
	uint32_t use;
};

/* main.c */
unsigned this_cpu(void);
void lock_console(void);
void unlock_console(void);
void die(int status) __attribute__((noreturn));
/* Print a line under the console lock and end the run with a status (EXIT_*). */
#define fatal(status, ...) \
	do { \
		lock_console(); \
		kprintf(__VA_ARGS__); \
		die(status); \
	} while (0)
/* What the guest found wrong with its own data: status 1. */
#define corruption(...) fatal(EXIT_CORRUPTION, __VA_ARGS__)

/* Interrupt state (arch/x86/include/asm/irqflags.h). */
static inline uint64_t local_irq_save(void)
{
	uint64_t flags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}
static inline void local_irq_restore(uint64_t flags)
{
	if (flags & (1ul << 9))
		__asm__ volatile("sti" : : : "memory");
}
static inline void local_irq_enable(void) { __asm__ volatile("sti" : : : "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" : : : "memory"); }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* mm.c: the page allocator, the address space, mmap/munmap through an mmu_gather, gup_fast. */
void mm_init(void);
void mm_load(void);
struct page *alloc_page(enum page_use use);
void put_page(struct page *page);
uint64_t page_to_phys(struct page *page);
struct page *phys_to_page(uint64_t pa);
unsigned free_frames(void);
void free_table_now(struct page *table);
void do_mmap(unsigned cpu);
void do_madvise_dontneed(unsigned cpu, unsigned first, unsigned count);
void do_munmap(unsigned cpu);
int gup_fast(uint64_t start, unsigned nr, struct page **pages);
extern uint64_t swapper_pgd_phys;

/* uaccess: a load from user memory that returns -EFAULT instead of oopsing (arch/x86/lib/getuser.S). */
int get_user_u64(uint64_t va, uint64_t *out);

/* tlb.c: flush_tlb_mm_range and its back ends, lazy TLB, table freeing (tlb_remove_table, RCU). */
struct flush_tlb_info {
	uint64_t start, end;  /* end exclusive; TLB_FLUSH_ALL for the whole space */
	uint64_t new_tlb_gen;
	uint32_t freed_tables;
	uint32_t initiator;
};
#define TLB_FLUSH_ALL (~0ul)
void tlb_init(void);
void tlb_init_cpu(unsigned cpu);
void flush_tlb_mm_range(uint64_t start, uint64_t end, int freed_tables);
void flush_tlb_func(void *info);
void enter_lazy_tlb(void);
void leave_lazy_tlb(void);
int is_lazy(unsigned cpu);
void tlb_remove_tables(struct page **tables, unsigned n);
void rcu_note_qs(void);
void rcu_barrier(void);
int rcu_idle_enter(void);
void rcu_idle_exit(void);
extern unsigned rcu_peak_pending;
/* measure=on: tables waiting for a grace period, summed over the samples taken as each munmap hands its tables over. */
extern uint64_t tables_held_sum;
extern unsigned tables_held_samples;

/* smp.c: IDT, IPIs and the call-function queue (kernel/smp.c). */
#define CSD_FLAG_LOCK        0x01
#define CSD_FLAG_SYNCHRONOUS 0x02
#define CSD_FLAG_INLINE      0x04 /* Nadav Amit's RFC: the info travels in the CSD and the target copies it */
typedef void (*smp_call_func_t)(void *info);
void smp_init_cpu(unsigned cpu);
void smp_call_function_many(const uint8_t *mask, smp_call_func_t func, void *info, int wait);
void smp_call_function_many_inline(const uint8_t *mask, smp_call_func_t func,
				   const struct flush_tlb_info *info);
void smp_call_function_single_async(unsigned cpu, smp_call_func_t func, void *info);
void wake_cpu(unsigned cpu);
void wait_until(volatile uint32_t *word, uint32_t mask, uint32_t want);
void barrier_all(volatile uint32_t *counter, uint32_t target);

#endif
