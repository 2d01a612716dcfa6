/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic ftrace ring-buffer pages for tests, laid out as the kernel
 * does (64-bit): page header u64 timestamp, u64 commit, then events with a
 * u32 header (type_len:5, time_delta:27). type_len 1..28: data of
 * type_len * 4 bytes; 0: length in array[0]; 29: padding/discarded;
 * 30: time extend (delta >> 27 in array[0]).
 */
#ifndef RBPAGE_H
#define RBPAGE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vt_le.h"
#include "vt_page.h"	/* the layout, as tools/libvt's checker reads it */

#define RB_HDR		VT_PAGE_HDR
#define RB_PADDING	VT_RB_PADDING
#define RB_EXTEND	VT_RB_TIME_EXTEND
#define RB_DELTA_MAX	VT_RB_DELTA_MAX

struct rbw {
	int fd;
	unsigned int psize;
	unsigned char *page;
	unsigned int used;	/* bytes of data after the header */
	uint64_t last_ts;
	int pages;
	int err;
};

static inline int rb_init(struct rbw *w, int fd, unsigned int psize)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->psize = psize;
	w->page = calloc(1, psize);
	return w->page ? 0 : -1;
}

static inline void rb_flush(struct rbw *w)
{
	if (!w->used)
		return;
	vt_le_put(w->page + 8, w->used, 8);
	if (write(w->fd, w->page, w->psize) != (ssize_t)w->psize)
		w->err = -1;
	memset(w->page, 0, w->psize);
	w->used = 0;
	w->pages++;
}

static inline unsigned char *rb_put(struct rbw *w, unsigned int type_len,
				    uint32_t delta)
{
	unsigned char *p = w->page + RB_HDR + w->used;

	vt_le_put(p, type_len | (delta << 5), 4);
	return p + 4;
}

/* Event of @len bytes at absolute time @ts; new page when it won't fit. */
static inline void rb_event(struct rbw *w, uint64_t ts, const void *data,
			    unsigned int len)
{
	unsigned int alen = (len + 3) & ~3u;
	unsigned int size = alen + 4 + (alen > 112 ? 4 : 0);
	uint64_t delta;
	unsigned char *p;

	delta = w->used ? ts - w->last_ts : 0;
	if (RB_HDR + w->used + size + (delta > RB_DELTA_MAX ? 8 : 0) > w->psize) {
		rb_flush(w);
		delta = 0;
	}
	if (!w->used) {
		vt_le_put(w->page, ts, 8);
		delta = 0;
	}
	if (delta > RB_DELTA_MAX) {
		p = rb_put(w, RB_EXTEND, delta & RB_DELTA_MAX);
		vt_le_put(p, delta >> 27, 4);
		w->used += 8;
		delta = 0;
	}
	if (alen > 112) {
		p = rb_put(w, 0, delta);
		vt_le_put(p, alen + 4, 4);
		p += 4;
	} else {
		p = rb_put(w, alen / 4, delta);
	}
	memcpy(p, data, len);
	w->used += size;
	w->last_ts = ts;
}

/* A discarded event (padding with a length) of @len data bytes at @ts. */
static inline void rb_discard(struct rbw *w, uint64_t ts, unsigned int len)
{
	unsigned int alen = (len + 3) & ~3u;
	uint64_t delta = ts - w->last_ts;
	unsigned char *p;

	if (!w->used || delta == 0 || delta > RB_DELTA_MAX ||
	    RB_HDR + w->used + 8 + alen > w->psize)
		return;
	p = rb_put(w, RB_PADDING, delta);
	vt_le_put(p, alen + 4, 4);	/* bytes after the header */
	w->used += 8 + alen;
	w->last_ts = ts;
}

/* Fill the rest of the page with padding (delta 0) and flush. */
static inline void rb_pad_flush(struct rbw *w)
{
	unsigned int left = w->psize - RB_HDR - w->used;
	unsigned char *p;

	if (w->used && left >= 8) {
		p = rb_put(w, RB_PADDING, 0);
		vt_le_put(p, left - 4, 4);
		w->used += left;
	}
	rb_flush(w);
}

#endif /* RBPAGE_H */
