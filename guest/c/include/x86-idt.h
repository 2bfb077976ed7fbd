/* SPDX-License-Identifier: MIT */
/*
 * An x86-64 IDT for the C kernels: the 16-byte gate (SDM Vol.3A 6.14.1,
 * figure 6-8), filling one as a present 64-bit interrupt gate on the boot
 * GDT's kernel code selector (0x08, docs/boot.md), and LIDT.
 */
#ifndef X86_IDT_H
#define X86_IDT_H

#include <stdint.h>

struct idt_gate {
	uint16_t offset_low, selector;
	uint8_t ist, type;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
} __attribute__((packed));

/* The frame an __attribute__((interrupt)) handler receives (SDM Vol.3A 6.14.2). */
struct interrupt_frame {
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Does the exception push an error code (#DF, #TS, #NP, #SS, #GP, #PF, #AC)? Its handler must take one. */
static inline int idt_vector_has_error_code(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

static inline void idt_set_gate(struct idt_gate *table, unsigned vector, void *handler)
{
	uint64_t a = (uint64_t)(uintptr_t)handler;
	table[vector] = (struct idt_gate){
		.offset_low = (uint16_t)a, .selector = 0x08, .type = 0x8E, /* present 64-bit interrupt gate */
		.offset_mid = (uint16_t)(a >> 16), .offset_high = (uint32_t)(a >> 32),
	};
}

static inline void idt_load(const struct idt_gate *table, unsigned entries)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { (uint16_t)(entries * sizeof(struct idt_gate) - 1), (uint64_t)(uintptr_t)table };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

#endif
