/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal TAP output in the kselftest style ("ok N - name"). */
#ifndef VT_KTAP_H
#define VT_KTAP_H

#include <stdio.h>

static int ktap_n, ktap_fail;

static inline void ktap_header(int plan)
{
	printf("TAP version 13\n1..%d\n", plan);
}

#define ktap_ok(cond, ...) do {						\
	int c_ = !!(cond);						\
	printf("%sok %d - ", c_ ? "" : "not ", ++ktap_n);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!c_) {							\
		ktap_fail++;						\
		printf("# failed at %s:%d: %s\n", __FILE__, __LINE__,	\
		       #cond);						\
	}								\
} while (0)

static inline int ktap_finish(void)
{
	printf("# Totals: pass:%d fail:%d\n", ktap_n - ktap_fail, ktap_fail);
	return ktap_fail ? 1 : 0;
}

#endif
