/* SPDX-License-Identifier: MIT */
/*
 * The workload of a domain that is not the driver: every vCPU writes the
 * pages it owns (page i belongs to vCPU i mod nvcpus) with the next
 * generation and reads pages at random, checking every word it reads
 * (README.md, "What a word holds" and "What a read must see").
 *
 * The check is exact for the machine's memory model and no stricter. The
 * owner writes a page in word order, one 8-byte store per word, after
 * publishing the generation it is about to write (cur_gen) and before
 * publishing that it has written all of it (done_gen). Its stores become
 * visible in that order and a reader's loads are made in its order (x86
 * TSO, SDM Vol.3A 9.2.2), so the whole history of a page is one sequence of
 * stores, store k*WORDS + w writing generation k into word w, and what a
 * reader can see of word w is the generation of the last of them before its
 * load. A read of the page in word order is correct exactly when there is a
 * non-decreasing sequence of positions in that history, one per word load,
 * each giving the generation seen: the greedy choice (the smallest position
 * each time) finds one if any exists. The first position is at least what
 * done_gen said before the read and what this vCPU had established by its
 * last read of the page; the last is at most the end of the generation
 * cur_gen says after the read. Under copy-on-write the stores go to a new
 * frame that starts as a copy of the shared one, which changes none of
 * this; a write seen by another domain, a stale or wrong frame, or a torn
 * copy breaks it.
 */
#include "sharing.h"

/* The generation the owner is writing or last wrote, and the last it wrote in full; written only by the owner. */
static volatile uint32_t cur_gen[MAX_PAGES], done_gen[MAX_PAGES];
/* Per reader: the smallest position of each page's history its last read proved (0 before any). */
static uint64_t seen_position[MAX_CPUS][MAX_PAGES];
/* Per reader: the highest generation its last read of each page saw. */
static uint32_t seen_gen[MAX_CPUS][MAX_PAGES];

/* Identical pages carry the same tag in every domain; distinct ones the domain id. */
static unsigned page_tag(unsigned page)
{
	return page < cfg.same ? TAG_IDENTICAL : cfg.domid;
}

/*
 * Under driver=dom0 the identical pages keep generation 0: the driver
 * shares them without comparing them, so they must hold the same bytes in
 * every domain at every moment (README.md, "The driver").
 */
static int generation_fixed(unsigned page)
{
	return cfg.driver == DRIVER_DOM0 && page < cfg.same;
}

static uint64_t region_word(unsigned tag, unsigned page, unsigned word, uint32_t gen)
{
	return REGION_WORD(tag, page, word, gen);
}

/* One plain 8-byte store per word, in word order, between the two publications. */
static void write_page(unsigned page, uint32_t gen)
{
	volatile uint64_t *p = REGION_PAGE(page);
	unsigned tag = page_tag(page);
	__atomic_store_n(&cur_gen[page], gen, __ATOMIC_RELEASE);
	for (unsigned w = 0; w < WORDS; w++)
		p[w] = region_word(tag, page, w, gen);
	__atomic_store_n(&done_gen[page], gen, __ATOMIC_RELEASE);
}

static void report(unsigned cpu, unsigned page, unsigned word, uint64_t expected, uint64_t found, const char *why,
		   unsigned a, unsigned b)
{
	lock_console();
	kprintf("sharing: dom%u vcpu%u: page %u word %u: expected %016lx, found %016lx: ", cfg.domid, cpu, page, word,
		expected, found);
	kprintf(why, a, b);
	kprintf("\n");
	die(EXIT_CORRUPTION);
}

/* A word that is not this domain's data for (page, word) at any generation: says whose it looks like. */
static void report_foreign(unsigned cpu, unsigned page, unsigned word, uint64_t expected, uint64_t x)
{
	unsigned tag = (unsigned)(x >> TAG_SHIFT);
	unsigned fpage = (unsigned)(x >> PAGE_FIELD_SHIFT) & 63;
	unsigned fword = (unsigned)(x >> WORD_SHIFT) & (WORDS - 1);
	if ((x & CHECK_MASK) != WORD_CHECK(x & ~CHECK_MASK))
		report(cpu, page, word, expected, x, "not a word of this guest's (its check bits are wrong: torn, zeroed or foreign)", 0, 0);
	if (tag != page_tag(page)) {
		if (tag == TAG_IDENTICAL)
			report(cpu, page, word, expected, x, "an identical page's data in a distinct page", 0, 0);
		if (tag != cfg.domid)
			report(cpu, page, word, expected, x, "another domain's write seen (domain %u's data)", tag, 0);
		report(cpu, page, word, expected, x, "this domain's distinct data in an identical page", 0, 0);
	}
	if (fpage != page)
		report(cpu, page, word, expected, x, "the data of page %u (a wrong frame)", fpage, 0);
	report(cpu, page, word, expected, x, "the data of word %u (a misplaced copy)", fword, 0);
}

/* Reads the page in word order and checks every word (the essay at the top). */
static void read_page(unsigned cpu, unsigned page)
{
	volatile uint64_t *p = REGION_PAGE(page);
	unsigned tag = page_tag(page);
	uint32_t done = __atomic_load_n(&done_gen[page], __ATOMIC_ACQUIRE);
	/* A position in the page's history: generation * WORDS + word, the store last made when word was written. */
	uint64_t pos = (uint64_t)done * WORDS + WORDS - 1;
	if (seen_position[cpu][page] > pos)
		pos = seen_position[cpu][page];
	uint32_t max_gen = 0;
	unsigned max_word = 0;
	uint64_t max_found = 0;
	for (unsigned w = 0; w < WORDS; w++) {
		uint64_t x = p[w];
		/* The generation word w has at position pos: the latest written at or before it. */
		uint32_t at = (uint32_t)((pos - w) / WORDS);
		uint64_t expected = region_word(tag, page, w, at);
		uint32_t gen = (uint32_t)(x >> GEN_SHIFT) & GEN_MASK;
		if (x != expected) {
			/* Not this domain's (page, word) at any generation, or its check bits do not hold. */
			if ((x & ~(GEN_FIELD | CHECK_MASK)) != (expected & ~(GEN_FIELD | CHECK_MASK)) ||
			    (x & CHECK_MASK) != WORD_CHECK(x & ~CHECK_MASK))
				report_foreign(cpu, page, w, expected, x);
			/* The same word at another generation: an older one than pos allows is a stale read. */
			if (gen < at)
				report(cpu, page, w, expected, x,
				       "generation %u where %u or later was due (a stale read: the writer or this vCPU's "
				       "earlier reads had got further)",
				       gen, at);
			/* A newer one: the first position at which word w holds gen, later than pos, so the read moved on. */
			pos = (uint64_t)gen * WORDS + w;
		}
		if (gen > max_gen || w == 0) {
			max_gen = gen;
			max_word = w;
			max_found = x;
		}
	}
	uint32_t cur = __atomic_load_n(&cur_gen[page], __ATOMIC_ACQUIRE);
	if (max_gen > cur)
		report(cpu, page, max_word, region_word(tag, page, max_word, cur), max_found,
		       "generation %u, which this domain has not written to this page (its latest is %u): another domain's write?",
		       max_gen, cur);
	seen_position[cpu][page] = pos;
	if (max_gen > seen_gen[cpu][page])
		stats[cpu].changed++;
	seen_gen[cpu][page] = max_gen;
	stats[cpu].reads++;
}

/*
 * Boot: each vCPU gives its distinct pages this domain's content of
 * generation 0 (the identical pages have theirs from the image). The
 * caller waits for every vCPU before anyone reads.
 */
void workload_init(unsigned cpu)
{
	for (unsigned page = cpu; page < cfg.pages; page += cfg.ncpus)
		if (page >= cfg.same)
			write_page(page, 0);
}

void run_workload(unsigned cpu)
{
	unsigned owned = cpu < cfg.pages ? (cfg.pages - cpu + cfg.ncpus - 1) / cfg.ncpus : 0;
	uint64_t prng = cfg.seed ^ ((uint64_t)cfg.domid << 32) ^ ((uint64_t)cpu << 48);
	for (unsigned r = 0; r < cfg.rounds; r++) {
		if (owned) {
			unsigned page = cpu + (r % owned) * cfg.ncpus;
			write_page(page, generation_fixed(page) ? 0 : cur_gen[page] + 1);
			stats[cpu].writes++;
		}
		for (unsigned k = 0; k < cfg.reads; k++)
			read_page(cpu, prng_below(&prng, cfg.pages));
		stats[cpu].rounds++;
	}
}
