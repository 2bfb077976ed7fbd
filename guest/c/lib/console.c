/* SPDX-License-Identifier: MIT */
/*
 * Console output over the architecture's arch_putc: strings, numbers and a
 * small printf (%s %c %d %u %x %lx %llx %lu %ld %p %%), enough for kernels
 * that report what they computed. No floating point: the CPUs model
 * general registers only.
 */
#include <stdarg.h>
#include "kernel.h"

void kputs(const char *s)
{
	while (*s)
		arch_putc(*s++);
}

static void put_unsigned(uint64_t v, unsigned base, int width, char pad)
{
	char buf[24];
	int n = 0;
	do {
		unsigned d = (unsigned)(v % base);
		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (n < width--)
		arch_putc(pad);
	while (n)
		arch_putc(buf[--n]);
}

void kput_hex(uint64_t v)
{
	kputs("0x");
	put_unsigned(v, 16, 0, '0');
}

void kput_dec(uint64_t v)
{
	put_unsigned(v, 10, 0, '0');
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			arch_putc(*p);
			continue;
		}
		p++;
		char pad = ' ';
		int width = 0;
		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		int longs = 0;
		while (*p == 'l') {
			longs++;
			p++;
		}
		switch (*p) {
		case 's':
			kputs(va_arg(ap, const char *));
			break;
		case 'c':
			arch_putc((char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (v < 0) {
				arch_putc('-');
				v = -v;
			}
			put_unsigned((uint64_t)v, 10, width, pad);
			break;
		}
		case 'u':
			put_unsigned(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad);
			break;
		case 'x':
			put_unsigned(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad);
			break;
		case 'p':
			kput_hex((uint64_t)(uintptr_t)va_arg(ap, void *));
			break;
		case '%':
			arch_putc('%');
			break;
		default:
			arch_putc('?');
		}
	}
	va_end(ap);
}
