/* SPDX-License-Identifier: MIT */
/*
 * Memory: a page allocator with a free list, the address space every CPU
 * shares (4-level tables), mmap, MADV_DONTNEED and munmap through an
 * mmu_gather (mm/mmu_gather.c: unhook → TLB invalidate → free, mechanisms
 * §2.4), and gup_fast (mm/gup.c, mechanisms §2.3).
 *
 * Freed frames are poisoned and go to the head of the free list, so the
 * next allocation on any CPU reuses them at once: a reader that still holds
 * a pointer to a freed table or page reads poison or someone else's data,
 * and fails visibly.
 */
#include "linux.h"

static uint8_t pool[POOL_FRAMES * PAGE_SIZE] __attribute__((aligned(4096)));
static struct page pages[POOL_FRAMES];
/*
 * The free list's head: a frame index in bits 31:0 and a count of changes
 * in bits 63:32, so that a compare-and-swap from a stale head fails even
 * when the same frame is back at the top (the ABA problem). Lock-free, so
 * that no CPU ever waits for one that the scheduler has set aside.
 */
static uint64_t free_head;
static volatile uint32_t free_count;

/* The kernel's own tables: the first 32 MiB identity-mapped with 2 MiB pages (kernel, stacks, pool). */
static uint64_t swapper_pgd[512] __attribute__((aligned(4096)));
static uint64_t kernel_pud[512] __attribute__((aligned(4096)));
static uint64_t kernel_pmd[512] __attribute__((aligned(4096)));
uint64_t swapper_pgd_phys;
static uint64_t *user_pud; /* the PDPT under PGD_INDEX(USER_BASE), never freed */

/* Each CPU's current mapping: its PMD (page directory) and PTE page, while mapped. */
static struct page *region_pmd[MAX_CPUS], *region_pte[MAX_CPUS];

uint64_t page_to_phys(struct page *page)
{
	return (uint64_t)(uintptr_t)pool + (uint64_t)(page - pages) * PAGE_SIZE;
}

/* pfn_to_page for the pool; NULL for a frame that is not one of its pages. */
struct page *phys_to_page(uint64_t pa)
{
	uint64_t base = (uint64_t)(uintptr_t)pool;
	if (pa < base || pa >= base + sizeof(pool))
		return 0;
	return &pages[(pa - base) >> PAGE_SHIFT];
}

static inline uint64_t *table_of(struct page *page)
{
	return (uint64_t *)(uintptr_t)page_to_phys(page);
}

static inline void fill_page(struct page *page, uint64_t value)
{
	uint64_t *p = table_of(page);
	uint64_t n = PAGE_SIZE / 8;
	__asm__ volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(value) : "memory");
}

/* __free_pages: poison, then to the head of the free list, where the next alloc_page takes it. */
static void free_frame(struct page *page)
{
	sd_annot_free(page_to_phys(page) >> PAGE_SHIFT);
	page->use = PAGE_FREE;
	fill_page(page, POISON);
	uint32_t index = (uint32_t)(page - pages);
	uint64_t head = __atomic_load_n(&free_head, __ATOMIC_ACQUIRE);
	do
		page->next = (uint32_t)head;
	while (!__atomic_compare_exchange_n(&free_head, &head, ((head >> 32) + 1) << 32 | index, 0, __ATOMIC_SEQ_CST,
					    __ATOMIC_ACQUIRE));
	__atomic_add_fetch(&free_count, 1, __ATOMIC_SEQ_CST);
}

/* Pops the free list's head; NULL when it is empty. */
static struct page *pop_free(void)
{
	uint64_t head = __atomic_load_n(&free_head, __ATOMIC_ACQUIRE);
	for (;;) {
		uint32_t index = (uint32_t)head;
		if (index == POOL_FRAMES)
			return 0;
		uint32_t next = __atomic_load_n(&pages[index].next, __ATOMIC_RELAXED);
		if (__atomic_compare_exchange_n(&free_head, &head, ((head >> 32) + 1) << 32 | next, 0, __ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE)) {
			__atomic_sub_fetch(&free_count, 1, __ATOMIC_SEQ_CST);
			return &pages[index];
		}
	}
}

/*
 * alloc_pages: tables come zeroed, data pages stamped with their address by
 * the caller. An empty pool waits for RCU to give frames back (it holds
 * them for a grace period), reporting quiescent states meanwhile.
 */
struct page *alloc_page(enum page_use use)
{
	for (unsigned tries = 0; tries < 100000; tries++) {
		struct page *page = pop_free();
		if (page) {
			sd_annot_alloc(page_to_phys(page) >> PAGE_SHIFT);
			page->use = use;
			__atomic_store_n(&page->refcount, 1, __ATOMIC_RELEASE);
			if (use == PAGE_TABLE)
				fill_page(page, 0);
			return page;
		}
		rcu_note_qs();
		cpu_relax();
	}
	fatal(EXIT_OUT_OF_MEMORY, "linux: CPU %u: out of memory (%u frames)\n", this_cpu(), POOL_FRAMES);
}

unsigned free_frames(void)
{
	return free_count;
}

/* get_page_unless_zero (include/linux/mm.h): a reference only on a page that still has one. */
static int get_page_unless_zero(struct page *page)
{
	int32_t c = __atomic_load_n(&page->refcount, __ATOMIC_RELAXED);
	while (c > 0)
		if (__atomic_compare_exchange_n(&page->refcount, &c, c + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			return 1;
	return 0;
}

void put_page(struct page *page)
{
	if (__atomic_sub_fetch(&page->refcount, 1, __ATOMIC_SEQ_CST) == 0)
		free_frame(page);
}

/* A page-table page leaves through here once nothing can walk it: refcount 1, the table's own. */
void free_table_now(struct page *table)
{
	put_page(table);
}

void mm_init(void)
{
	uint32_t head = POOL_FRAMES;
	for (int i = POOL_FRAMES - 1; i >= 0; i--) {
		pages[i].next = head;
		pages[i].use = PAGE_FREE;
		head = (uint32_t)i;
	}
	free_head = head;
	free_count = POOL_FRAMES;
	for (unsigned i = 0; i < 16; i++)
		kernel_pmd[i] = ((uint64_t)i << 21) | _PAGE_PRESENT | _PAGE_RW | _PAGE_PSE;
	kernel_pud[0] = (uint64_t)(uintptr_t)kernel_pmd | _PAGE_PRESENT | _PAGE_RW;
	swapper_pgd[0] = (uint64_t)(uintptr_t)kernel_pud | _PAGE_PRESENT | _PAGE_RW;
	struct page *pud = alloc_page(PAGE_TABLE);
	user_pud = table_of(pud);
	swapper_pgd[PGD_INDEX(USER_BASE)] = page_to_phys(pud) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;
	swapper_pgd_phys = (uint64_t)(uintptr_t)swapper_pgd;
}

void mm_load(void)
{
	write_cr3(swapper_pgd_phys);
}

/* mmap + populate: PMD and PTE pages, then the data pages, each stamped; hooked bottom-up, the PUD entry last. */
void do_mmap(unsigned cpu)
{
	uint64_t base = USER_REGION(cpu);
	struct page *pmd = alloc_page(PAGE_TABLE), *pte = alloc_page(PAGE_TABLE);
	uint64_t *pt = table_of(pte);
	for (unsigned i = 0; i < cfg.pages; i++) {
		struct page *data = alloc_page(PAGE_DATA);
		fill_page(data, STAMP(base + i * PAGE_SIZE));
		pt[PTE_INDEX(base) + i] = page_to_phys(data) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;
	}
	table_of(pmd)[PMD_INDEX(base)] = page_to_phys(pte) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;
	region_pmd[cpu] = pmd;
	region_pte[cpu] = pte;
	/* pud_populate: the release store publishes the filled tables to walkers on other CPUs. */
	__atomic_store_n(&user_pud[PUD_INDEX(base)], page_to_phys(pmd) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER,
			 __ATOMIC_RELEASE);
	stats[cpu].mmaps++;
}

/* struct mmu_gather (include/asm-generic/tlb.h): the pages and tables to free once the TLBs are clean. */
struct mmu_gather {
	uint64_t start, end;
	int freed_tables;
	struct page *pages[MAX_PAGES];
	unsigned nr_pages;
	struct page *tables[2];
	unsigned nr_tables;
};

static void tlb_gather_mmu(struct mmu_gather *tlb)
{
	tlb->start = ~0ul;
	tlb->end = 0;
	tlb->freed_tables = 0;
	tlb->nr_pages = 0;
	tlb->nr_tables = 0;
}

/* zap_pte_range: clear each PTE (ptep_get_and_clear) and batch its page (tlb_remove_page). */
static void zap_pte_range(struct mmu_gather *tlb, unsigned cpu, unsigned first, unsigned count)
{
	uint64_t *pt = table_of(region_pte[cpu]);
	uint64_t base = USER_REGION(cpu);
	for (unsigned i = first; i < first + count; i++) {
		uint64_t va = base + i * PAGE_SIZE;
		uint64_t old = __atomic_exchange_n(&pt[PTE_INDEX(va)], 0, __ATOMIC_SEQ_CST);
		if (!(old & _PAGE_PRESENT))
			continue;
		tlb->pages[tlb->nr_pages++] = phys_to_page(old & PTE_PFN_MASK);
		if (va < tlb->start)
			tlb->start = va;
		if (va + PAGE_SIZE > tlb->end)
			tlb->end = va + PAGE_SIZE;
	}
}

/*
 * free_pgtables → free_pmd_range / free_pud_range: unhook the PTE page from
 * its PMD entry (pmd_clear), then the PMD page from its PUD entry
 * (pud_clear), and hand both to pte_free_tlb / pmd_free_tlb. Until the TLB
 * flush, other CPUs' paging-structure caches and walkers may still hold
 * them.
 */
static void free_pgtables(struct mmu_gather *tlb, unsigned cpu)
{
	uint64_t base = USER_REGION(cpu);
	__atomic_store_n(&table_of(region_pmd[cpu])[PMD_INDEX(base)], 0, __ATOMIC_SEQ_CST);
	sd_table_unhook(page_to_phys(region_pte[cpu]) >> PAGE_SHIFT);
	tlb->tables[tlb->nr_tables++] = region_pte[cpu];
	__atomic_store_n(&user_pud[PUD_INDEX(base)], 0, __ATOMIC_SEQ_CST);
	sd_table_unhook(page_to_phys(region_pmd[cpu]) >> PAGE_SHIFT);
	tlb->tables[tlb->nr_tables++] = region_pmd[cpu];
	region_pte[cpu] = region_pmd[cpu] = 0;
	tlb->freed_tables = 1;
	if (base < tlb->start)
		tlb->start = base;
	if (base + cfg.pages * PAGE_SIZE > tlb->end)
		tlb->end = base + cfg.pages * PAGE_SIZE;
}

/* tlb_finish_mmu → tlb_flush_mmu: tlb_flush_mmu_tlbonly, then tlb_flush_mmu_free (tables, then pages). */
static void tlb_finish_mmu(struct mmu_gather *tlb)
{
	if (tlb->end > tlb->start)
		flush_tlb_mm_range(tlb->start, tlb->end, tlb->freed_tables);
	if (tlb->nr_tables)
		tlb_remove_tables(tlb->tables, tlb->nr_tables);
	for (unsigned i = 0; i < tlb->nr_pages; i++)
		put_page(tlb->pages[i]);
}

/* madvise(MADV_DONTNEED): zap_page_range over some pages; the tables stay, so no freed_tables. */
void do_madvise_dontneed(unsigned cpu, unsigned first, unsigned count)
{
	struct mmu_gather tlb;
	tlb_gather_mmu(&tlb);
	zap_pte_range(&tlb, cpu, first, count);
	tlb_finish_mmu(&tlb);
	stats[cpu].dontneeds++;
}

/* munmap of the CPU's whole range: unmap_vmas, free_pgtables, tlb_finish_mmu. */
void do_munmap(unsigned cpu)
{
	struct mmu_gather tlb;
	if (cfg.measure)
		sd_span_begin(SD_SPAN_MUNMAP);
	tlb_gather_mmu(&tlb);
	zap_pte_range(&tlb, cpu, 0, cfg.pages);
	free_pgtables(&tlb, cpu);
	tlb_finish_mmu(&tlb);
	stats[cpu].munmaps++;
	if (cfg.measure)
		sd_span_end(SD_SPAN_MUNMAP);
}

/*
 * The entry a walk follows must name a frame of the pool: Linux would
 * compute a struct page from whatever it read (pfn_to_page), here a value
 * that is no page — poison, a data page's words — is reported.
 */
static struct page *entry_page(uint64_t entry, const char *level, uint64_t va)
{
	struct page *page = phys_to_page(entry & PTE_PFN_MASK);
	if (!page)
		corruption("linux: CPU %u: gup_fast read %s entry %lx for %lx: no such page (a freed or reused table)\n",
			   this_cpu(), level, entry, va);
	return page;
}

/*
 * gup_fast (mm/gup.c, lockless_pages_from_mm): interrupts off for the whole
 * walk, so that a table freed under it must first wait for this CPU to take
 * an IPI; each level's entry read once (READ_ONCE); for each page a
 * speculative reference (try_grab_folio ≈ get_page_unless_zero) and a
 * re-read of the PTE, dropping the reference if it changed. Returns the
 * pages pinned from the start of the range.
 */
int gup_fast(uint64_t start, unsigned nr, struct page **out)
{
	int n = 0;
	uint64_t flags = local_irq_save();
	/* measure=on: the span is the interrupts-off section, what gup_fast holds a flush IPI up for. */
	if (cfg.measure)
		sd_span_begin(SD_SPAN_GUP_FAST);
	sd_walk_begin();
	uint64_t pgd = __atomic_load_n(&swapper_pgd[PGD_INDEX(start)], __ATOMIC_RELAXED);
	if (!(pgd & _PAGE_PRESENT))
		goto out;
	uint64_t *pud_table = table_of(entry_page(pgd, "PGD", start));
	uint64_t pud = __atomic_load_n(&pud_table[PUD_INDEX(start)], __ATOMIC_RELAXED);
	if (!(pud & _PAGE_PRESENT))
		goto out;
	uint64_t *pmd_table = table_of(entry_page(pud, "PUD", start));
	uint64_t pmd = __atomic_load_n(&pmd_table[PMD_INDEX(start)], __ATOMIC_RELAXED);
	if (!(pmd & _PAGE_PRESENT))
		goto out;
	uint64_t *pte_table = table_of(entry_page(pmd, "PMD", start));
	for (unsigned i = 0; i < nr; i++) {
		uint64_t va = start + i * PAGE_SIZE;
		volatile uint64_t *ptep = &pte_table[PTE_INDEX(va)];
		uint64_t pte = *ptep;
		if (!(pte & _PAGE_PRESENT))
			break;
		struct page *page = entry_page(pte, "PTE", va);
		if (!get_page_unless_zero(page))
			break;
		if (*ptep != pte) {
			put_page(page);
			break;
		}
		out[n++] = page;
	}
out:
	sd_walk_end();
	/* Flush IPIs it held off are taken at the restore, outside the span, and priced where they land. */
	if (cfg.measure)
		sd_span_end(SD_SPAN_GUP_FAST);
	local_irq_restore(flags);
	return n;
}

/*
 * The uaccess load: a #PF at __get_user_8_insn resumes at
 * __get_user_8_fixup (the exception table's one entry, see main.c's #PF
 * handler), which returns -EFAULT (-14).
 */
__asm__(".text\n"
	".globl get_user_u64\n"
	"get_user_u64:\n"
	"	xor %eax, %eax\n"
	".globl __get_user_8_insn\n"
	"__get_user_8_insn:\n"
	"	mov (%rdi), %rdx\n"
	"	mov %rdx, (%rsi)\n"
	"	ret\n"
	".globl __get_user_8_fixup\n"
	"__get_user_8_fixup:\n"
	"	mov $-14, %eax\n"
	"	ret\n");
