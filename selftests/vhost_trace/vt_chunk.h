/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace selftests: buffers of any size (a multiple of 8 bytes), as
 * the upstream trace-agent sends several pages in one buffer. Word i of
 * buffer seq is VT_CHUNK_WORD(seq, i), so a sink can be checked to hold
 * whole buffers only, in order. A small synchronous guest sends them.
 */
#ifndef _VT_CHUNK_H
#define _VT_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vt_guest.h"

#define VT_CHUNK_WORD(seq, i)	((0xc5ULL << 56) | ((uint64_t)(seq) << 24) | (i))

/* Checks a sink's bytes, fed in order. */
struct vt_chunks {
	size_t size;		/* bytes per buffer */
	bool gaps;		/* buffers may be missing (drop) */
	uint64_t next;		/* expected (gaps: least) next seq */
	uint64_t first;		/* seq of the first buffer, -1 if none */
	uint64_t count;		/* whole buffers seen */
	uint64_t bytes;
	size_t have;		/* bytes of buf holding a part */
	uint8_t *buf;
	bool bad;
	char why[200];
};

/* first: the seq of the first buffer, or VT_CHUNK_ANY */
#define VT_CHUNK_ANY	((uint64_t)-1)
int vt_chunks_init(struct vt_chunks *c, size_t size, uint64_t first,
		   bool gaps);
void vt_chunks_free(struct vt_chunks *c);
bool vt_chunks_feed(struct vt_chunks *c, const void *data, size_t len);
/* Every byte fed was part of a whole buffer. */
bool vt_chunks_end(struct vt_chunks *c);
/* Read a whole file from offset 0 into the checker and end it. */
bool vt_chunks_file(struct vt_chunks *c, int fd);
/* Read what a non-blocking pipe holds now into the checker. */
bool vt_chunks_drain(struct vt_chunks *c, int fd, size_t max);

/* The guest: nslot buffers of size bytes on q, sent as nseg segments. */
struct vt_sender {
	struct vt_vq *q;
	size_t size;
	unsigned int nseg;
	uint8_t *slots;
	int *slot_of;		/* per head: slot, -1 free */
	uint64_t *seq_of;	/* per slot: seq posted in it */
	int *free;
	unsigned int nfree;
	uint64_t posted, done, foreign;
	int64_t max_wait_ms;
};

int vt_sender_init(struct vt_sender *s, struct vt_mem *m, struct vt_vq *q,
		   size_t size, unsigned int nseg);
void vt_sender_free(struct vt_sender *s);
/* Post buffers up to total (and what the ring takes); kicks. */
unsigned int vt_sender_post(struct vt_sender *s, uint64_t total);
/* Reap used entries; returns how many. */
unsigned int vt_sender_reap(struct vt_sender *s);
/*
 * Post and reap until done == total; -ETIMEDOUT if no entry came back
 * for stall_ms. Between rounds, calls poll_fn(arg) (e.g. drain a pipe).
 */
int vt_sender_run(struct vt_sender *s, uint64_t total, int stall_ms,
		  void (*poll_fn)(void *), void *arg);
/* The queue was reset: what was in flight is posted again, in order. */
void vt_sender_rewind(struct vt_sender *s);

#endif /* _VT_CHUNK_H */
