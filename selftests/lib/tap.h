/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP in the kselftest style ("ok N - name") for the C unit tests of
 * guest/, tools/libvt, tools/agent-ctl and tools/traced: the one helper.
 *
 *	tap_plan("suite", 3);		"TAP version 13", "1..3", "# suite"
 *	tap_ok(x == 1, "x is %d", x);	a point; a failure says where
 *	tap_skip("no cpio(1)");
 *	return tap_done();		summary; 1 if a point failed
 */
#ifndef VT_TAP_H
#define VT_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

/* suite may be NULL */
static inline void tap_plan(const char *suite, int n)
{
	printf("TAP version 13\n1..%d\n", n);
	if (suite)
		printf("# %s\n", suite);
}

__attribute__((format(printf, 5, 6)))
static inline int tap_ok_at(const char *file, int line, const char *expr,
			    int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond) {
		tap_failed++;
		printf("# failed at %s:%d: %s\n", file, line, expr);
	}
	fflush(stdout);
	return cond;
}

/* tap_ok(COND, FMT, ...): one point; returns COND as 0 or 1 */
#define tap_ok(cond, ...) \
	tap_ok_at(__FILE__, __LINE__, #cond, !!(cond), __VA_ARGS__)

static inline void tap_skip(const char *why)
{
	printf("ok %d # SKIP %s\n", ++tap_n, why);
	fflush(stdout);
}

static inline int tap_done(void)
{
	printf("# %d passed, %d failed\n", tap_n - tap_failed, tap_failed);
	return tap_failed ? 1 : 0;
}

#endif
