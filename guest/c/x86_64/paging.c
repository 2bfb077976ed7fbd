/* SPDX-License-Identifier: MIT */
/*
 * Page tables built in C (SDM Vol.3A 4.5, 4-level paging), and the three
 * things a kernel does with a mapping, each with the invalidation it needs
 * (SDM Vol.3A 4.10.4):
 *
 *   map    a not-present entry becomes present: no invalidation is needed,
 *          since the TLB caches no not-present translation (4.10.2.3);
 *   remap  a present entry points elsewhere: INVLPG, or the CPU may go on
 *          using the old page;
 *   unmap  a present entry becomes not-present: INVLPG, then an access
 *          faults, and the #PF handler maps the page again (demand paging).
 *
 * The window is at a 64-bit address, so GCC reads it with MOVABS. CPU 0
 * does it all; the other CPUs stop.
 */
#include "kernel.h"

#define PTE_P  (1ul << 0)
#define PTE_RW (1ul << 1)
#define PTE_PS (1ul << 7)
#define PAGE_SIZE 4096ul

/* The window: a 4 KiB page at a canonical address above 4 GiB. */
#define WINDOW 0x0000123456789000ul
#define IDX(va, level) (((va) >> (12 + 9 * (level))) & 511)

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt_low[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pdpt_win[512] __attribute__((aligned(4096)));
static uint64_t pd_win[512] __attribute__((aligned(4096)));
static uint64_t pt_win[512] __attribute__((aligned(4096)));
static uint64_t page_a[512] __attribute__((aligned(4096)));
static uint64_t page_b[512] __attribute__((aligned(4096)));

/* The interrupt descriptor table: only #PF (vector 14) is used. */
struct idt_gate {
	uint16_t offset_low, selector;
	uint8_t ist, type;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
} __attribute__((packed));
static struct idt_gate idt[32] __attribute__((aligned(16)));

struct interrupt_frame;
typedef unsigned long long uword_t;

static volatile uint64_t faults, fault_address;

static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* #PF: map the window to page A again, so that the faulting access succeeds when it is retried. */
__attribute__((interrupt)) static void page_fault(struct interrupt_frame *frame, uword_t error_code)
{
	(void)frame;
	(void)error_code;
	fault_address = read_cr2();
	faults++;
	pt_win[IDX(WINDOW, 0)] = (uint64_t)(uintptr_t)page_a | PTE_P | PTE_RW;
}

static void set_gate(unsigned vector, void *handler)
{
	uint64_t a = (uint64_t)(uintptr_t)handler;
	idt[vector] = (struct idt_gate){
		.offset_low = (uint16_t)a, .selector = 0x08, .ist = 0, .type = 0x8E, /* present 64-bit interrupt gate */
		.offset_mid = (uint16_t)(a >> 16), .offset_high = (uint32_t)(a >> 32),
	};
}

static void load_idt(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

static void build_tables(void)
{
	/* The first GiB identity-mapped with 2 MiB pages: the kernel, its stacks and the boot GDT at 0x2000. */
	for (unsigned i = 0; i < 512; i++)
		pd_low[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	pdpt_low[0] = (uint64_t)(uintptr_t)pd_low | PTE_P | PTE_RW;
	pml4[0] = (uint64_t)(uintptr_t)pdpt_low | PTE_P | PTE_RW;
	/* The window's path, down to a page table whose entry is still not present. */
	pml4[IDX(WINDOW, 3)] = (uint64_t)(uintptr_t)pdpt_win | PTE_P | PTE_RW;
	pdpt_win[IDX(WINDOW, 2)] = (uint64_t)(uintptr_t)pd_win | PTE_P | PTE_RW;
	pd_win[IDX(WINDOW, 1)] = (uint64_t)(uintptr_t)pt_win | PTE_P | PTE_RW;
	__asm__ volatile("mov %0, %%cr3" : : "r"((uint64_t)(uintptr_t)pml4) : "memory");
}

static int check(const char *what, uint64_t got, uint64_t want)
{
	kprintf("%s: %lx (%s)\n", what, got, got == want ? "ok" : "WRONG");
	return got == want;
}

int kmain(unsigned cpu, const struct shootdown_boot_info *info)
{
	(void)info;
	if (cpu != 0) {
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	int ok = 1;
	set_gate(14, (void *)page_fault);
	load_idt();
	build_tables();
	page_a[0] = 0xaaaa;
	page_b[0] = 0xbbbb;
	volatile uint64_t *window = (volatile uint64_t *)WINDOW;

	/* map: not present → present; nothing to invalidate. */
	pt_win[IDX(WINDOW, 0)] = (uint64_t)(uintptr_t)page_a | PTE_P | PTE_RW;
	ok &= check("map: the window reads page A", *window, 0xaaaa);
	*window = 0xa1;
	ok &= check("map: a write through the window lands in page A", page_a[0], 0xa1);

	/* remap: present → another page; INVLPG drops the old translation. */
	pt_win[IDX(WINDOW, 0)] = (uint64_t)(uintptr_t)page_b | PTE_P | PTE_RW;
	invlpg(WINDOW);
	ok &= check("remap: after INVLPG the window reads page B", *window, 0xbbbb);

	/* unmap: present → not present; INVLPG, then the access faults and the handler maps page A back. */
	pt_win[IDX(WINDOW, 0)] = 0;
	invlpg(WINDOW);
	uint64_t v = *window;
	ok &= check("unmap: page faults taken", faults, 1);
	ok &= check("unmap: the fault's address (CR2)", fault_address, WINDOW);
	ok &= check("unmap: after the fault the window reads page A", v, 0xa1);
	kprintf(ok ? "paging: all checks passed\n" : "paging: FAILED\n");
	return ok ? 0 : 1;
}
