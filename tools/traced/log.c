// SPDX-License-Identifier: GPL-2.0
/* The daemon's log (see log.h). */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void vt_log(const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write: lines of concurrent sessions do not mix */
	fprintf(stderr, "vhost-traced: %s\n", line);
}
