/* SPDX-License-Identifier: MIT */
/*
 * The command line of the boot-information block, word by word
 * (lib/cmdline.c): key=value words, a choice among names, a number in a
 * range, and one line naming the word that is wrong, ending the run with
 * status 2, as the scenario guests do. Meant for CPU 0 while the others
 * wait: the lines are printed without a console lock.
 *
 *   const char *s = (const char *)(uintptr_t)info->cmdline;
 *   struct cmdline_word w;
 *   while (cmdline_next(&s, &w)) {
 *           if (cmdline_is(&w, "rounds"))
 *                   rounds = cmdline_number("mykernel", &w, 1, 1000);
 *           else
 *                   cmdline_unknown("mykernel", &w, "rounds=");
 *   }
 */
#ifndef CMDLINE_H
#define CMDLINE_H

#include <stdint.h>

#define CMDLINE_BAD_STATUS 2

struct cmdline_word {
	const char *text;       /* the whole word */
	unsigned len;
	unsigned key_len;       /* the part before '=', or the whole word when it has none */
	int has_value;          /* it has an '=' */
	const char *value;      /* after the '=' (empty when there is none) */
	unsigned value_len;
};

/* The next space-separated word of *s, and *s moved past it; 0 when none is left. */
int cmdline_next(const char **s, struct cmdline_word *w);

/* Is the word key=…? */
int cmdline_is(const struct cmdline_word *w, const char *key);

/* The index of the value among names, or "WHO: bad command line: key=value (one of: …)" and status 2. */
unsigned cmdline_choose(const char *who, const struct cmdline_word *w, const char *const *names, unsigned n);

/* The value as a decimal number from lo to hi, or "WHO: bad command line: key wants a number from lo to hi" and status 2. */
uint64_t cmdline_number(const char *who, const struct cmdline_word *w, uint64_t lo, uint64_t hi);

/* "WHO: bad command line: unknown word 'word' (known)" and status 2. */
void cmdline_unknown(const char *who, const struct cmdline_word *w, const char *known) __attribute__((noreturn));

#endif
