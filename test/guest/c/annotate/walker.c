/* SPDX-License-Identifier: MIT */
/*
 * shootdown-annotate.h from C, on one CPU: a walker section that reads a
 * frame freed inside it (event (a), status 4 under shootdown), or, built
 * with -DREALLOC, the same frame taken back before the read (no report).
 * It prints whether the annotations are present; on QEMU, where they are
 * not, the calls do nothing and the kernel ends cleanly either way.
 */
#include "kernel.h"
#include "shootdown-annotate.h"

static volatile uint64_t victim[512] __attribute__((aligned(4096))) = { 0x1234 };

int kmain(unsigned cpu, const struct shootdown_boot_info *info)
{
	(void)cpu;
	(void)info;
	int present = sd_annot_present();
	kprintf("annotations %s\n", present ? "present" : "absent");
	uint64_t pfn = (uint64_t)(uintptr_t)victim >> 12;
	sd_walk_begin();
	sd_annot_free(pfn);
#ifdef REALLOC
	sd_annot_alloc(pfn);
#endif
	uint64_t v = victim[0];
	sd_walk_end();
	kprintf("read %s\n", v == 0x1234 ? "0x1234" : "something else");
	return 0;
}
