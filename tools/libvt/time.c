// SPDX-License-Identifier: GPL-2.0
/* Time for timeouts (vt_time.h). */
#include <time.h>

#include "vt_time.h"

long long vt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}
