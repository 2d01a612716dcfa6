/* SPDX-License-Identifier: GPL-2.0 */
/* Checks ftrace ring-buffer pages as trace_pipe_raw gives them. */
#ifndef VT_PAGE_H
#define VT_PAGE_H

#include <stddef.h>
#include <stdint.h>

#define VT_PAGE_SIZE		4096
#define VT_PAGE_HDR		16	/* u64 time_stamp, local_t commit (64-bit) */
#define VT_PAGE_MISSED_EVENTS	(1ULL << 31)
#define VT_PAGE_MISSED_STORED	(1ULL << 30)

/*
 * Events: a u32 header, type_len:5 and time_delta:27. type_len 1..28:
 * data of type_len * 4 bytes; 0: data length in the next u32.
 */
#define VT_RB_PADDING		29	/* padding or a discarded event */
#define VT_RB_TIME_EXTEND	30	/* delta >> 27 in the next u32 */
#define VT_RB_TIME_STAMP	31	/* absolute time stamp */
#define VT_RB_DELTA_MAX		((1u << 27) - 1)

struct vt_page_info {
	uint64_t time_stamp;	/* page header */
	uint64_t commit;	/* bytes of events */
	int missed;		/* the writer lost events before this page */
	unsigned int events;	/* data events */
	uint64_t first_ts;	/* of the first and last data event */
	uint64_t last_ts;
};

/* 0 for a valid page, -EINVAL with a reason in err otherwise. */
int vt_page_check(const unsigned char *page, struct vt_page_info *pi, char *err,
		  size_t errsz);

#endif
