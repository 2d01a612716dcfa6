/* SPDX-License-Identifier: GPL-2.0 */
/* The daemon's log: one line on stderr, "vhost-traced: ..." */
#ifndef VT_LOG_H
#define VT_LOG_H

__attribute__((format(printf, 1, 2)))
void vt_log(const char *fmt, ...);

/* "vhost-traced: NAME: ..." for session s */
#define sess_log(s, fmt, ...) \
	vt_log("%s: " fmt, (s)->te.name, ##__VA_ARGS__)

#endif
