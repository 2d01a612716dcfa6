// SPDX-License-Identifier: GPL-2.0
/* "ok LEN\n" / "err LEN\n" reply headers (vt_reply.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vt_reply.h"

int vt_reply_header(char *out, size_t outsz, int ok, size_t len)
{
	return snprintf(out, outsz, "%s %zu\n", ok ? "ok" : "err", len);
}

int vt_reply_parse(const char *line, size_t max, int *ok, size_t *len)
{
	const char *num;
	char *end;
	unsigned long long v;

	if (!strncmp(line, "ok ", 3)) {
		*ok = 1;
		num = line + 3;
	} else if (!strncmp(line, "err ", 4)) {
		*ok = 0;
		num = line + 4;
	} else {
		return -EINVAL;
	}
	if (*num < '0' || *num > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(num, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*len = v;
	return 0;
}
