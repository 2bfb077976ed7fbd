/* SPDX-License-Identifier: MIT */
/*
 * What the example kernels share: console output, exit, and the
 * general-register helpers of lib/ (memset, memcpy and the libgcc routines
 * whose Debian builds use vector registers, which the CPUs do not model).
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include "shootdown.h"

/* Console (lib/console.c over arch_putc). */
void arch_putc(char c);
void kputs(const char *s);
void kput_hex(uint64_t v);
void kput_dec(uint64_t v);
void kprintf(const char *fmt, ...);

/* Ends the run: status 0 is success. Does not return. */
void arch_exit(int status) __attribute__((noreturn));

/* The CPU this code runs on, 0..n-1. */
unsigned arch_cpu_index(void);

/* lib/string.c: GCC may call these even in freestanding code (GCC manual, "Standards"). */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
