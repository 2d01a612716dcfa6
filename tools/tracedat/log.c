// SPDX-License-Identifier: GPL-2.0
/* Error and warning reporting through a replaceable hook. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static void (*log_fn)(int level, const char *msg);

void tracedat_set_log(void (*fn)(int level, const char *msg))
{
	log_fn = fn;
}

static void td_vlog(int level, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_fn)
		log_fn(level, msg);
	else
		fprintf(stderr, "tracedat: %s%s\n",
			level ? "warning: " : "", msg);
}

void td_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	td_vlog(0, fmt, ap);
	va_end(ap);
}

void td_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	td_vlog(1, fmt, ap);
	va_end(ap);
}
