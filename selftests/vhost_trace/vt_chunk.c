// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace selftests: buffers of any size (see vt_chunk.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vt_chunk.h"

int vt_chunks_init(struct vt_chunks *c, size_t size, uint64_t first,
		   bool gaps)
{
	memset(c, 0, sizeof(*c));
	c->size = size;
	c->gaps = gaps;
	c->next = first;
	c->first = -1;
	c->buf = malloc(size);
	return c->buf ? 0 : -ENOMEM;
}

void vt_chunks_free(struct vt_chunks *c)
{
	free(c->buf);
	c->buf = NULL;
}

static bool vt_chunks_fail(struct vt_chunks *c, const char *what,
			   uint64_t seq, size_t word)
{
	c->bad = true;
	snprintf(c->why, sizeof(c->why),
		 "buffer %llu of the sink (byte %llu): %s (seq %llu, word %zu, expected seq %llu)",
		 (unsigned long long)c->count, (unsigned long long)c->bytes,
		 what, (unsigned long long)seq, word,
		 (unsigned long long)c->next);
	return false;
}

static bool vt_chunks_one(struct vt_chunks *c, const uint64_t *w)
{
	uint64_t seq = (w[0] >> 24) & 0xffffffffULL;
	size_t i, n = c->size / 8;

	if (w[0] != VT_CHUNK_WORD(seq, 0))
		return vt_chunks_fail(c, "not the start of a buffer", seq, 0);
	if (c->next == VT_CHUNK_ANY)
		c->next = seq;
	if (seq != c->next && (!c->gaps || seq < c->next))
		return vt_chunks_fail(c, seq < c->next ?
				      "buffer duplicated or reordered" :
				      "buffer missing", seq, 0);
	for (i = 1; i < n; i++)
		if (w[i] != VT_CHUNK_WORD(seq, i))
			return vt_chunks_fail(c, "torn buffer", seq, i);
	if (c->first == (uint64_t)-1)
		c->first = seq;
	c->next = seq + 1;
	c->count++;
	c->bytes += c->size;
	return true;
}

bool vt_chunks_feed(struct vt_chunks *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len && !c->bad) {
		size_t n = c->size - c->have;

		if (n > len)
			n = len;
		memcpy(c->buf + c->have, p, n);
		c->have += n;
		p += n;
		len -= n;
		if (c->have == c->size) {
			c->have = 0;
			vt_chunks_one(c, (const uint64_t *)c->buf);
		}
	}
	return !c->bad;
}

bool vt_chunks_end(struct vt_chunks *c)
{
	if (!c->bad && c->have) {
		c->bad = true;
		snprintf(c->why, sizeof(c->why),
			 "the sink ends in %zu bytes of a buffer after %llu whole ones",
			 c->have, (unsigned long long)c->count);
	}
	return !c->bad;
}

bool vt_chunks_file(struct vt_chunks *c, int fd)
{
	char buf[65536];
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		off += n;
		vt_chunks_feed(c, buf, n);
	}
	return vt_chunks_end(c);
}

bool vt_chunks_drain(struct vt_chunks *c, int fd, size_t max)
{
	char buf[4096];
	ssize_t n;

	while (max) {
		n = read(fd, buf, max < sizeof(buf) ? max : sizeof(buf));
		if (n <= 0)
			break;
		vt_chunks_feed(c, buf, n);
		max -= n;
	}
	return !c->bad;
}

int vt_sender_init(struct vt_sender *s, struct vt_mem *m, struct vt_vq *q,
		   size_t size, unsigned int nseg)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->q = q;
	s->size = size;
	s->nseg = nseg;
	s->slots = vt_mem_alloc(m, (size_t)q->num * size, 4096);
	s->slot_of = calloc(q->num, sizeof(*s->slot_of));
	s->seq_of = calloc(q->num, sizeof(*s->seq_of));
	s->free = calloc(q->num, sizeof(*s->free));
	if (!s->slots || !s->slot_of || !s->seq_of || !s->free)
		return -ENOMEM;
	for (i = 0; i < q->num; i++) {
		s->slot_of[i] = -1;
		s->free[i] = q->num - 1 - i;
	}
	s->nfree = q->num;
	return 0;
}

void vt_sender_free(struct vt_sender *s)
{
	free(s->slot_of);
	free(s->seq_of);
	free(s->free);
	s->slot_of = NULL;
	s->seq_of = NULL;
	s->free = NULL;
}

static void vt_chunk_fill(uint8_t *p, size_t size, uint64_t seq)
{
	uint64_t *w = (uint64_t *)p;
	size_t i;

	for (i = 0; i < size / 8; i++)
		w[i] = VT_CHUNK_WORD(seq, i);
}

static int vt_sender_post_one(struct vt_sender *s, uint64_t seq)
{
	struct vt_seg seg[8];
	unsigned int k, nseg = s->nseg;
	size_t part = s->size / nseg, off = 0;
	uint8_t *p;
	int slot, head;

	if (!s->nfree || s->q->nfree < nseg)
		return -ENOSPC;
	slot = s->free[--s->nfree];
	p = s->slots + (size_t)slot * s->size;
	vt_chunk_fill(p, s->size, seq);
	for (k = 0; k < nseg; k++) {
		seg[k].addr = p + off;
		seg[k].len = k + 1 < nseg ? part : s->size - off;
		seg[k].flags = 0;
		off += seg[k].len;
	}
	head = vt_vq_add(s->q, seg, nseg, NULL);
	if (head < 0) {
		s->nfree++;
		return head;
	}
	s->slot_of[head] = slot;
	s->seq_of[slot] = seq;
	return 0;
}

unsigned int vt_sender_post(struct vt_sender *s, uint64_t total)
{
	unsigned int n = 0;

	while (s->posted < total && !vt_sender_post_one(s, s->posted)) {
		s->posted++;
		n++;
	}
	if (n)
		vt_vq_kick_always(s->q);
	return n;
}

unsigned int vt_sender_reap(struct vt_sender *s)
{
	unsigned int n = 0;

	for (;;) {
		struct vring_used_elem *e;
		unsigned int id;

		if (!vt_vq_pending(s->q))
			break;
		e = &s->q->used->ring[s->q->last_used & (s->q->num - 1)];
		id = e->id;
		vt_vq_reap(s->q, NULL, NULL, 1);
		if (id < s->q->num && s->slot_of[id] >= 0) {
			s->free[s->nfree++] = s->slot_of[id];
			s->slot_of[id] = -1;
			s->done++;
			n++;
		} else {
			s->foreign++;
		}
	}
	return n;
}

int vt_sender_run(struct vt_sender *s, uint64_t total, int stall_ms,
		  void (*poll_fn)(void *), void *arg)
{
	int64_t last = vt_now_ms();

	while (s->done < total) {
		int64_t now;

		vt_sender_post(s, total);
		if (vt_sender_reap(s)) {
			now = vt_now_ms();
			if (now - last > s->max_wait_ms)
				s->max_wait_ms = now - last;
			last = now;
			continue;
		}
		if (poll_fn)
			poll_fn(arg);
		vt_vq_wait(s->q, 5);
		if (vt_now_ms() - last > stall_ms)
			return -ETIMEDOUT;
	}
	return 0;
}

void vt_sender_rewind(struct vt_sender *s)
{
	unsigned int i;

	for (i = 0; i < s->q->num; i++)
		s->slot_of[i] = -1;
	for (i = 0; i < s->q->num; i++)
		s->free[i] = s->q->num - 1 - i;
	s->nfree = s->q->num;
	s->posted = s->done;
}
