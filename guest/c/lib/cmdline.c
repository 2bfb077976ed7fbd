/* SPDX-License-Identifier: MIT */
/* The command line, word by word (include/cmdline.h). */
#include "kernel.h"
#include "cmdline.h"

int cmdline_next(const char **s, struct cmdline_word *w)
{
	const char *p = *s;
	while (*p == ' ')
		p++;
	if (!*p)
		return 0;
	w->text = p;
	while (*p && *p != ' ')
		p++;
	*s = p;
	w->len = (unsigned)(p - w->text);
	w->key_len = 0;
	while (w->key_len < w->len && w->text[w->key_len] != '=')
		w->key_len++;
	w->has_value = w->key_len < w->len;
	w->value = w->text + w->key_len + w->has_value;
	w->value_len = w->has_value ? w->len - w->key_len - 1 : 0;
	return 1;
}

static int span_is(const char *span, unsigned len, const char *s)
{
	unsigned n = (unsigned)strlen(s);
	return len == n && memcmp(span, s, n) == 0;
}

int cmdline_is(const struct cmdline_word *w, const char *key)
{
	return w->has_value && span_is(w->text, w->key_len, key);
}

static void put_span(const char *span, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		arch_putc(span[i]);
}

unsigned cmdline_choose(const char *who, const struct cmdline_word *w, const char *const *names, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (span_is(w->value, w->value_len, names[i]))
			return i;
	kprintf("%s: bad command line: ", who);
	put_span(w->text, w->len);
	kprintf(" (one of:");
	for (unsigned i = 0; i < n; i++)
		kprintf(" %s", names[i]);
	kprintf(")\n");
	arch_exit(CMDLINE_BAD_STATUS);
}

uint64_t cmdline_number(const char *who, const struct cmdline_word *w, uint64_t lo, uint64_t hi)
{
	uint64_t x = 0;
	/* At most 19 digits, so that the value cannot overflow before the range check. */
	int ok = w->value_len > 0 && w->value_len <= 19;
	for (unsigned i = 0; ok && i < w->value_len; i++) {
		ok = w->value[i] >= '0' && w->value[i] <= '9';
		x = x * 10 + (uint64_t)(w->value[i] - '0');
	}
	if (ok && x >= lo && x <= hi)
		return x;
	kprintf("%s: bad command line: ", who);
	put_span(w->text, w->key_len);
	kprintf(" wants a number from %lu to %lu\n", lo, hi);
	arch_exit(CMDLINE_BAD_STATUS);
}

void cmdline_unknown(const char *who, const struct cmdline_word *w, const char *known)
{
	kprintf("%s: bad command line: unknown word '", who);
	put_span(w->text, w->len);
	kprintf("' (%s)\n", known);
	arch_exit(CMDLINE_BAD_STATUS);
}
