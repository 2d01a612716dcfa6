/* SPDX-License-Identifier: GPL-2.0 */
/* Time for timeouts. */
#ifndef VT_TIME_H
#define VT_TIME_H

/* CLOCK_MONOTONIC in milliseconds. */
long long vt_now_ms(void);

#endif
