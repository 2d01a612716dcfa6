// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace selftests: a randomized hostile driver.
 *
 * Plays the guest (vt_guest.c's rings) and the sink manager at once, with
 * random ring contents and random ioctl sequences, and checks after every
 * step what the uapi (linux/vhost_trace.h) promises:
 *   - every sink gets whole buffers, intact, in ring order; no buffer goes
 *     to two sinks or twice to one;
 *   - at a quiescent point (readers drained, sinks attached, queues
 *     running), every buffer the guest posted came back used, and
 *     buffers + dropped_buffers + bad_buffers equals the used entries,
 *     bytes equals what the sinks hold (when no reader was closed under
 *     a sink): "delivered once and in order, or counted as dropped";
 *   - counters never decrease (GET_STATS, on every step, also across a
 *     new control fd);
 *   - no queue is left with posted buffers and no reason to wait, nor
 *     WAITING with nothing to write; a port under the drop policy never
 *     makes the guest wait;
 *   - the error eventfd and queue_errors only for chains the contract says
 *     the vhost core cannot map (outside the memory table, loop, bad
 *     indirect table, readable after writable), each met once: a queue
 *     stopped on one stays stopped through a start until its vring is set
 *     up again; every queue error signalled; such chains are never
 *     returned; writable-after-readable and empty chains come back unread
 *     (used length 0) and are counted in bad_buffers;
 *   - once the device fd is closed (after a quiescent point or in the
 *     middle of everything), what the counters say was written is what
 *     the sinks hold;
 *   - ioctl errors as documented (EINVAL, EBADF, ENOTTY, ENODEV).
 *
 * A run is a sequence of episodes (one device each: open, ports, ring
 * size, features, then random steps, then its fds closed in random
 * order, after a quiescent point or, one time in three, with buffers in
 * flight, sinks full and readers paused). Each episode has its own seed, printed; `--seed N` runs that
 * episode alone. The kernel's timing is not replayed: a seed replays the
 * same choices, which usually reproduces a failure but may not.
 *
 * Usage: vt_fuzz [--time SEC] [--seed N] [--steps N] [--contract 1|2]
 *                [--verbose]
 *   --time SEC   total time (default 10); episodes start until it is up
 *   --seed N     one episode with seed N (then --time is only a bound)
 *   --steps N    most steps per episode (default 600)
 *   --contract 1 the uapi before whole buffers across swaps (see contract)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/vhost.h>

#include "vt_guest.h"
#include "vt_pattern.h"

#define MAX_PORTS	4
#define MAX_NUM		64
#define MAX_SEG		4
#define AREA		(3 * 4096)	/* longest buffer */
#define HDR		24
#define MAGIC		0x56544655u
#define MAX_SINKS	64

/* ---------------------------------------------------------------- PRNG */

static uint64_t rs;

static uint64_t rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 2685821657736338717ULL;
}

static unsigned int rn(unsigned int n)
{
	return n ? rnd() % n : 0;
}

static int chance(unsigned int pct)
{
	return rn(100) < pct;
}

/* ------------------------------------------------------------- state */

enum kind { K_GOOD, K_BAD, K_ERR };

/* A chain the guest posted; vt_vq's token points here. */
struct rec {
	int state;		/* 0 free, 1 posted */
	enum kind kind;
	int maybe_bad;		/* rewritten: may come back as bad */
	uint64_t seq;
	uint32_t len;
	unsigned int nseg;
	int indirect;
	int alt;		/* which of the head's two areas */
	uint16_t head;
	uint16_t desc[MAX_SEG];	/* direct chain's descriptors */
	uint32_t off[MAX_SEG], slen[MAX_SEG];
};

struct sink {
	int used;
	int port;
	int is_pipe;
	int rfd;		/* pipe read end, or the file (-1: closed) */
	int wfd;		/* pipe write end kept for policy flips */
	int paused;
	int eof;		/* pipe: every writer let go */
	int closed_early;	/* read end closed while it may get data */
	uint64_t foff;		/* file: bytes read so far */
	uint8_t buf[AREA + HDR];
	size_t have;
	uint64_t last_seq;
	int any;
	uint64_t bufs, bytes;
};

struct port {
	struct vt_vq *q;
	uint8_t *areas;		/* num heads x 2 areas x AREA */
	struct vring_desc *tables;	/* num heads x MAX_SEG */
	struct rec rec[MAX_NUM];
	uint64_t next_seq;
	uint8_t *delivered;	/* per seq */
	size_t ndeliv;
	int cur;		/* current sink index or -1 */
	unsigned int policy;
	int exact;
	uint64_t err_posted;	/* core-error chains posted, episode */
	uint64_t err_signals;	/* counted on the error eventfd */
	uint64_t err_sig_max;	/* what the posted ones may signal */
	int err_pending;	/* one is in the ring now */
	uint64_t inflight;
	uint64_t used_good, used_bad, maybe_bad_used, bad_posted;
	uint64_t sink_bufs, sink_bytes;	/* intact buffers in sinks */
	uint64_t torn_bytes;	/* a buffer's head a closed sink ended in */
	struct vhost_trace_stats last;
};

static struct vt_dev dev;
static struct port ports[MAX_PORTS];
static struct sink sinks[MAX_SINKS];
static unsigned int nports, num;
static int running, released, verbose, indirect_ok;
/*
 * 2 (default): the contract coming with whole buffers across swaps
 * (the rest of a buffer a pipe took in part goes to that same sink; drop
 * never waits). 1: the uapi before it, where a swap may split a buffer
 * between two sinks and drop may wait for a pipe to take such a rest: a
 * sink's stream may then begin and end inside a buffer, the sums are not
 * checked, and drop_never_waits() is not run.
 */
static int contract = 2;
static uint8_t *outside;	/* memory not in the table */
static uint64_t ep_seed, step, total_steps;
/* drains that found buffers in a sink after the used entries were reaped */
static uint64_t drains, late_drains;
static char tmpdir[] = "/tmp";

static void fail(const char *fmt, ...)
{
	va_list ap;
	char b[200];
	unsigned int p;

	printf("not ok vt_fuzz: seed %" PRIu64 " step %" PRIu64 ": ",
	       ep_seed, step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	for (p = 0; p < nports; p++) {
		struct vhost_trace_stats st;

		if (dev.ctl >= 0 && !vt_get_stats(dev.ctl, p, &st))
			printf("#   %s\n", vt_stats_str(&st, b, sizeof(b)));
		printf("#   port %u: posted %" PRIu64 " inflight %" PRIu64
		       " used good %" PRIu64 " bad %" PRIu64
		       " sinks: %" PRIu64 " buffers %" PRIu64
		       " bytes, err chains %" PRIu64 " exact %d\n", p,
		       ports[p].next_seq, ports[p].inflight,
		       ports[p].used_good, ports[p].used_bad,
		       ports[p].sink_bufs, ports[p].sink_bytes,
		       ports[p].err_posted, ports[p].exact);
	}
	for (p = 0; p < MAX_SINKS; p++) {
		struct sink *s = &sinks[p];

		if (s->used)
			printf("#   sink %u: port %d %s%s%s%s%s, %" PRIu64
			       " buffers %" PRIu64 " bytes, %zu pending\n", p,
			       s->port, s->is_pipe ? "pipe" : "file",
			       ports[s->port].cur == (int)p ? " current" : "",
			       s->paused ? " paused" : "",
			       s->eof ? " eof" : "",
			       s->rfd < 0 ? " closed" : "", s->bufs, s->bytes,
			       s->have);
	}
	printf("# rerun: vt_fuzz --seed %" PRIu64 "\n", ep_seed);
	fflush(stdout);
	exit(1);
}

static void note(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	printf("#   %" PRIu64 ": ", step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static uint8_t pat(unsigned int port, uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + port * 29 + (i >> 8));
}

static void fill(uint8_t *dst, unsigned int port, uint64_t seq, uint32_t len)
{
	uint32_t i;

	memset(dst, 0, HDR);
	((uint32_t *)dst)[0] = MAGIC;
	((uint32_t *)dst)[1] = port;
	((uint32_t *)dst)[2] = len;
	memcpy(dst + 16, &seq, 8);
	for (i = HDR; i < len; i++)
		dst[i] = pat(port, seq, i);
}

/* -------------------------------------------------------- sink checks */

static void sink_feed(struct sink *s, const uint8_t *d, size_t n)
{
	struct port *pt = &ports[s->port];

	while (n) {
		size_t need, take;
		uint32_t len = 0, i;
		uint64_t seq;

		need = s->have < HDR ? HDR : ((uint32_t *)s->buf)[2];
		take = need - s->have < n ? need - s->have : n;
		memcpy(s->buf + s->have, d, take);
		s->have += take;
		d += take;
		n -= take;
		if (s->have < HDR)
			continue;
		len = ((uint32_t *)s->buf)[2];
		if (contract < 2 && !s->bufs &&
		    (((uint32_t *)s->buf)[0] != MAGIC ||
		     ((uint32_t *)s->buf)[1] != (uint32_t)s->port ||
		     len < HDR || len > AREA)) {
			/* the rest of a buffer split at a swap: skip a byte */
			memmove(s->buf, s->buf + 1, --s->have);
			continue;
		}
		if (((uint32_t *)s->buf)[0] != MAGIC ||
		    ((uint32_t *)s->buf)[1] != (uint32_t)s->port ||
		    len < HDR || len > AREA)
			fail("port %d sink %ld: not a buffer header after %" PRIu64
			     " whole buffers (%" PRIu64 " bytes): %08x %08x %08x"
			     " (a torn or foreign buffer)", s->port,
			     (long)(s - sinks), s->bufs, s->bytes,
			     ((uint32_t *)s->buf)[0], ((uint32_t *)s->buf)[1],
			     len);
		if (s->have < len)
			continue;
		memcpy(&seq, s->buf + 16, 8);
		if (contract < 2 && !s->bufs && seq >= pt->next_seq) {
			memmove(s->buf, s->buf + 1, --s->have);
			continue;
		}
		for (i = HDR; i < len; i++)
			if (s->buf[i] != pat(s->port, seq, i))
				fail("port %d seq %" PRIu64 ": byte %u of %u "
				     "wrong in sink %ld", s->port, seq, i, len,
				     (long)(s - sinks));
		if (seq >= pt->next_seq)
			fail("port %d: sink got seq %" PRIu64 " never posted",
			     s->port, seq);
		if (s->any && seq <= s->last_seq)
			fail("port %d sink %ld: seq %" PRIu64 " after %" PRIu64
			     ": out of order or twice", s->port,
			     (long)(s - sinks), seq, s->last_seq);
		if (seq < pt->ndeliv && pt->delivered[seq])
			fail("port %d: seq %" PRIu64 " delivered twice (two "
			     "sinks)", s->port, seq);
		if (seq >= pt->ndeliv) {
			size_t nn = (seq + 1) * 2;

			pt->delivered = realloc(pt->delivered, nn);
			memset(pt->delivered + pt->ndeliv, 0, nn - pt->ndeliv);
			pt->ndeliv = nn;
		}
		pt->delivered[seq] = 1;
		s->any = 1;
		s->last_seq = seq;
		s->bufs++;
		s->bytes += len;
		pt->sink_bufs++;
		pt->sink_bytes += len;
		s->have = 0;
	}
}

/* Read what a sink has; 1 when something was read. */
static int sink_pump(struct sink *s)
{
	uint8_t b[65536];
	ssize_t r;
	int got = 0;

	if (!s->used || s->rfd < 0 || s->paused)
		return 0;
	for (;;) {
		if (s->is_pipe)
			r = read(s->rfd, b, sizeof(b));
		else
			r = pread(s->rfd, b, sizeof(b), s->foff);
		if (r <= 0) {
			if (r == 0 && s->is_pipe)
				s->eof = 1;
			if (r < 0 && errno != EAGAIN)
				fail("read sink %ld: %s", (long)(s - sinks),
				     strerror(errno));
			return got;
		}
		s->foff += r;
		sink_feed(s, b, r);
		got = 1;
	}
}

/* A sink's stream ended: a torn tail only where the contract allows it. */
static void sink_end(struct sink *s, int torn_ok)
{
	if (contract < 2)
		torn_ok = 1;
	ports[s->port].torn_bytes += s->have;
	if (s->have && !torn_ok)
		fail("port %d sink %ld: ends in a torn buffer (%zu bytes of %u)",
		     s->port, (long)(s - sinks), s->have,
		     s->have >= HDR ? ((uint32_t *)s->buf)[2] : 0);
}

static void sink_close(struct sink *s, int torn_ok)
{
	if (!s->used)
		return;
	if (s->rfd >= 0) {
		int was = s->paused;

		s->paused = 0;
		sink_pump(s);
		s->paused = was;
		close(s->rfd);
	}
	if (s->wfd >= 0)
		close(s->wfd);
	sink_end(s, torn_ok || s->closed_early);
	s->used = 0;
}

/* ------------------------------------------------------------- rings */

static struct rec *rec_of(struct port *pt, int head)
{
	return &pt->rec[head];
}

/*
 * The error eventfd: for each chain the core cannot map, met once (a
 * queue stopped on one is not started again without a vring setup), one
 * signal, two for a bad indirect table (vhost_get_vq_desc() and
 * get_indirect() both report it).
 */
static void check_err_fd(unsigned int p)
{
	struct port *pt = &ports[p];
	uint64_t v;

	if (read(pt->q->err, &v, sizeof(v)) != sizeof(v))
		return;
	pt->err_signals += v;
	if (pt->err_signals > pt->err_sig_max)
		fail("port %u: error eventfd signalled %" PRIu64 " times, "
		     "%" PRIu64 " chains the vhost core cannot map posted "
		     "(at most %" PRIu64 " signals)", p, pt->err_signals,
		     pt->err_posted, pt->err_sig_max);
}

static void reap(unsigned int p)
{
	struct port *pt = &ports[p];
	void *tok[MAX_NUM];
	uint32_t len[MAX_NUM];
	unsigned int n, i;

	n = vt_vq_reap(pt->q, tok, len, MAX_NUM);
	for (i = 0; i < n; i++) {
		struct rec *r = tok[i];

		if (!r || !r->state)
			fail("port %u: used entry for no posted chain", p);
		if (r->kind == K_ERR)
			fail("port %u: a chain the core cannot map came back "
			     "used", p);
		if (r->kind == K_BAD) {
			if (len[i])
				fail("port %u: bad chain used with length %u",
				     p, len[i]);
			pt->used_bad++;
		} else {
			pt->used_good++;
			if (r->maybe_bad)
				pt->maybe_bad_used++;
		}
		r->state = 0;
		pt->inflight--;
	}
}

static void pump_all(void)
{
	unsigned int p, i;

	for (i = 0; i < MAX_SINKS; i++)
		sink_pump(&sinks[i]);
	for (p = 0; p < nports; p++) {
		reap(p);
		check_err_fd(p);
	}
}

static void check_stats(void)
{
	unsigned int p;

	for (p = 0; p < nports; p++) {
		struct port *pt = &ports[p];
		struct vhost_trace_stats st, *o = &pt->last;
		char b[300];

		if (vt_get_stats(dev.ctl, p, &st))
			fail("GET_STATS port %u: %s", p, vt_error());
#define GROW(f) do { if (st.f < o->f) fail("port %u: " #f " went down "  \
	"%llu -> %llu (%s)", p, (unsigned long long)o->f,                   \
	(unsigned long long)st.f, vt_stats_str(&st, b, sizeof(b))); } while (0)
		GROW(bytes);
		GROW(buffers);
		GROW(dropped_bytes);
		GROW(dropped_buffers);
		GROW(stalls);
		GROW(sink_errors);
		GROW(bad_buffers);
		GROW(queue_errors);
#undef GROW
		if (st.queue_errors > pt->err_posted)
			fail("port %u: queue_errors %llu but %" PRIu64
			     " chains the core cannot map", p,
			     (unsigned long long)st.queue_errors,
			     pt->err_posted);
		if (st.bad_buffers > pt->bad_posted + pt->maybe_bad_used +
		    pt->inflight)
			fail("port %u: bad_buffers %llu, more than posted",
			     p, (unsigned long long)st.bad_buffers);
		/* a vring setup (reset_queue) ends the error stop */
		if ((st.flags & VHOST_TRACE_STATS_BROKEN) && !pt->err_pending)
			fail("port %u: BROKEN with no chain the core cannot "
			     "map in the ring", p);
		if (released && !(st.flags & VHOST_TRACE_STATS_RELEASED))
			fail("port %u: device fd closed, RELEASED not set", p);
		*o = st;
	}
}

/* Write a good buffer into area a of head h; fill the rec's segments. */
static void lay_out(unsigned int p, struct rec *r, uint8_t *area)
{
	uint32_t cut[MAX_SEG + 1], k, pos;
	uint8_t tmp[AREA];

	fill(tmp, p, r->seq, r->len);
	cut[0] = 0;
	cut[r->nseg] = r->len;
	for (k = 1; k < r->nseg; k++) {
		cut[k] = cut[k - 1] + 1 + rn(r->len - cut[k - 1] -
					     (r->nseg - k));
	}
	/* segments in reverse memory order half of the time */
	pos = 0;
	for (k = 0; k < r->nseg; k++) {
		unsigned int j = (r->seq & 1) ? r->nseg - 1 - k : k;

		r->slen[j] = cut[j + 1] - cut[j];
		r->off[j] = pos;
		pos += r->slen[j];
	}
	for (k = 0; k < r->nseg; k++)
		memcpy(area + r->off[k], tmp + cut[k], r->slen[k]);
}

static uint8_t *area_of(struct port *pt, int head, int alt)
{
	return pt->areas + ((size_t)head * 2 + alt) * AREA;
}

static int post_good(unsigned int p, int bad)
{
	struct port *pt = &ports[p];
	struct vt_seg seg[MAX_SEG];
	struct rec tmp = { 0 }, *r;
	unsigned int k;
	int head, ind = indirect_ok && chance(30);
	uint8_t *area;

	tmp.nseg = 1 + rn(MAX_SEG);
	if (!ind && pt->q->nfree < tmp.nseg)
		return 0;
	if (ind && !pt->q->nfree)
		return 0;
	tmp.len = chance(60) ? 4096 : HDR + rn(AREA - HDR + 1);
	if (tmp.len < tmp.nseg)
		tmp.nseg = 1;
	tmp.kind = K_GOOD;
	tmp.seq = pt->next_seq;
	tmp.indirect = ind;
	/* the head is the free list's first entry */
	head = pt->q->free_head;
	area = area_of(pt, head, 0);
	lay_out(p, &tmp, area);
	for (k = 0; k < tmp.nseg; k++) {
		seg[k].addr = area + tmp.off[k];
		seg[k].len = tmp.slen[k];
		seg[k].flags = 0;
	}
	if (bad == 1) {
		/* empty: one readable descriptor of length 0 */
		tmp.nseg = 1;
		seg[0].len = 0;
		tmp.kind = K_BAD;
	} else if (bad == 2) {
		/* writable after readable */
		if (tmp.nseg < 2) {
			tmp.nseg = 2;
			seg[1].addr = area + AREA - 64;
			seg[1].len = 64;
		}
		seg[tmp.nseg - 1].flags = VRING_DESC_F_WRITE;
		tmp.kind = K_BAD;
	}
	/* after the bad cases, which may lengthen the chain */
	if (pt->q->nfree < (ind ? 1 : tmp.nseg))
		return 0;
	r = rec_of(pt, head);
	if (ind) {
		head = vt_vq_add_indirect(pt->q, pt->tables + head * MAX_SEG,
					  seg, tmp.nseg, r);
	} else {
		uint16_t i = head;

		for (k = 0; k < tmp.nseg; k++) {
			tmp.desc[k] = i;
			i = pt->q->desc[i].next;
		}
		head = vt_vq_add(pt->q, seg, tmp.nseg, r);
	}
	if (head < 0)
		fail("vt_vq_add: %d", head);
	if (&pt->rec[head] != r)
		fail("internal: head %d is not the free list's first", head);
	tmp.head = head;
	tmp.state = 1;
	*r = tmp;
	pt->inflight++;
	if (tmp.kind == K_GOOD)
		pt->next_seq++;
	else
		pt->bad_posted++;
	return 1;
}

/* A chain the vhost core cannot map. */
static void post_err(unsigned int p)
{
	struct port *pt = &ports[p];
	struct vt_vq *q = pt->q;
	int a, b, what = rn(indirect_ok ? 5 : 3);
	struct rec *r;

	if (q->nfree < 2)
		return;
	a = vt_vq_get_desc(q);
	r = rec_of(pt, a);
	switch (what) {
	case 0:	/* outside the memory table */
		q->desc[a].addr = (uintptr_t)(chance(50) ? outside :
			dev.mem.base + dev.mem.size - 100);
		q->desc[a].len = 4096;
		q->desc[a].flags = 0;
		break;
	case 1:	/* a loop */
		q->desc[a].addr = (uintptr_t)area_of(pt, a, 0);
		q->desc[a].len = 100;
		q->desc[a].flags = VRING_DESC_F_NEXT;
		q->desc[a].next = a;
		break;
	case 2:	/* readable after writable */
		b = vt_vq_get_desc(q);
		q->desc[a].addr = (uintptr_t)area_of(pt, a, 0);
		q->desc[a].len = 100;
		q->desc[a].flags = VRING_DESC_F_WRITE | VRING_DESC_F_NEXT;
		q->desc[a].next = b;
		q->desc[b].addr = (uintptr_t)area_of(pt, a, 1);
		q->desc[b].len = 100;
		q->desc[b].flags = 0;
		break;
	case 3:	/* indirect table of a length no multiple of 16 */
		q->desc[a].addr = (uintptr_t)(pt->tables + a * MAX_SEG);
		q->desc[a].len = 24;
		q->desc[a].flags = VRING_DESC_F_INDIRECT;
		break;
	default: /* indirect table outside the memory table */
		q->desc[a].addr = (uintptr_t)outside;
		q->desc[a].len = 32;
		q->desc[a].flags = VRING_DESC_F_INDIRECT;
		break;
	}
	memset(r, 0, sizeof(*r));
	r->state = 1;
	r->kind = K_ERR;
	r->head = a;
	vt_vq_publish(q, a, r);
	pt->inflight++;
	pt->err_posted++;
	/* the core reports a bad indirect table twice (get_indirect too) */
	pt->err_sig_max += what >= 3 ? 2 : 1;
	pt->err_pending = 1;
	note("port %u: core-error chain %d", p, what);
}

/* Rewrite a posted chain before (or while) the device reads it. */
static void rewrite(unsigned int p)
{
	struct port *pt = &ports[p];
	struct rec *r = NULL;
	unsigned int k, tries;
	uint8_t *area;

	for (tries = 0; tries < 8; tries++) {
		r = &pt->rec[rn(num)];
		if (r->state && r->kind == K_GOOD && !r->indirect)
			break;
		r = NULL;
	}
	if (!r)
		return;
	switch (rn(3)) {
	case 0:	/* the same bytes from the other area */
		r->alt ^= 1;
		area = area_of(pt, r->head, r->alt);
		for (k = 0; k < r->nseg; k++) {
			memcpy(area + r->off[k],
			       area_of(pt, r->head, !r->alt) + r->off[k],
			       r->slen[k]);
		}
		for (k = 0; k < r->nseg; k++)
			__atomic_store_n(&pt->q->desc[r->desc[k]].addr,
					 (uintptr_t)(area + r->off[k]),
					 __ATOMIC_RELEASE);
		break;
	case 1:	/* the last descriptor becomes writable */
		if (r->nseg < 2 && chance(50))
			return;
		__atomic_or_fetch(&pt->q->desc[r->desc[r->nseg - 1]].flags,
				  VRING_DESC_F_WRITE, __ATOMIC_RELEASE);
		r->maybe_bad = 1;
		break;
	default: /* a one-descriptor chain becomes empty */
		if (r->nseg != 1)
			return;
		__atomic_store_n(&pt->q->desc[r->desc[0]].len, 0,
				 __ATOMIC_RELEASE);
		r->maybe_bad = 1;
		break;
	}
	note("port %u: rewrote head %u", p, r->head);
}

/* ------------------------------------------------------------- sinks */

static struct sink *new_sink(unsigned int p, int is_pipe)
{
	unsigned int i;

	for (i = 0; i < MAX_SINKS; i++)
		if (!sinks[i].used)
			break;
	if (i == MAX_SINKS)
		return NULL;
	memset(&sinks[i], 0, sizeof(sinks[i]));
	sinks[i].used = 1;
	sinks[i].port = p;
	sinks[i].is_pipe = is_pipe;
	sinks[i].rfd = sinks[i].wfd = -1;
	return &sinks[i];
}

static void attach(unsigned int p, int how)
{
	struct port *pt = &ports[p];
	struct sink *s, *old = pt->cur >= 0 ? &sinks[pt->cur] : NULL;
	unsigned int policy = rn(2);
	int fd = -1, r;

	if (how == 0) {		/* a new pipe */
		int fds[2];
		static const unsigned int sz[] = { 4096, 8192, 16384, 65536 };

		s = new_sink(p, 1);
		if (!s)
			return;
		if (vt_pipe(fds, sz[rn(4)]))
			fail("pipe: %s", strerror(errno));
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
		s->rfd = fds[0];
		s->wfd = fds[1];
		s->paused = chance(20);
		fd = fds[1];
	} else if (how == 1) {	/* a new regular file */
		s = new_sink(p, 0);
		if (!s)
			return;
		fd = vt_tmpfile(tmpdir);
		if (fd < 0)
			fail("tmpfile: %s", strerror(-fd));
		s->rfd = fd;
	} else if (how == 2 && old) {	/* the same sink, the policy flipped */
		fd = old->is_pipe ? old->wfd : old->rfd;
		if (fd < 0)
			return;
		policy = !pt->policy;
		s = old;
	} else {		/* detach */
		s = NULL;
	}
	r = vt_set_sink(dev.ctl, p, fd, policy);
	if (released) {
		if (r != -ENODEV)
			fail("SET_SINK after the device fd closed: %d, not "
			     "ENODEV", r);
		if (s && s != old)
			sink_close(s, 0);
		return;
	}
	if (r)
		fail("SET_SINK port %u fd %d policy %u: %s", p, fd, policy,
		     vt_error());
	note("port %u: sink %ld (%s) policy %u", p, s ? (long)(s - sinks) : -1,
	     how == 0 ? "pipe" : how == 1 ? "file" : how == 2 ? "flip" :
	     "detach", policy);
	pt->policy = policy;
	if (old && old != s && old->is_pipe && old->wfd >= 0) {
		/* the device has its own file on it: EOF once it lets go */
		close(old->wfd);
		old->wfd = -1;
	}
	pt->cur = s ? s - sinks : -1;
}

/* Close a pipe sink's read end: its writes fail (EPIPE). */
static void close_reader(unsigned int p)
{
	unsigned int i = rn(MAX_SINKS), k;

	for (k = 0; k < MAX_SINKS; k++, i = (i + 1) % MAX_SINKS) {
		struct sink *s = &sinks[i];

		if (s->used && s->port == (int)p && s->is_pipe && s->rfd >= 0)
			break;
	}
	if (k == MAX_SINKS)
		return;
	/* bytes in flight to it are lost to the checker: no exact sums */
	ports[p].exact = 0;
	sinks[i].closed_early = 1;
	note("port %u: close reader of sink %u", p, i);
	sink_close(&sinks[i], 1);
	if (ports[p].cur == (int)i)
		ports[p].cur = -1;	/* it stays attached until EPIPE */
}

/* -------------------------------------------------------- queue ops */

static void set_running(int on)
{
	struct vhost_trace_stats st;
	unsigned int p, broken = 0;
	int r;

	for (p = 0; on && p < nports; p++) {
		if (vt_get_stats(dev.ctl, p, &st))
			fail("GET_STATS: %s", vt_error());
		if (st.flags & VHOST_TRACE_STATS_BROKEN)
			broken |= 1u << p;
	}
	r = vt_dev_run(&dev, on);
	if (r)
		fail("SET_RUNNING %d: %s", on, vt_error());
	/*
	 * A queue stopped on an error stays stopped through a start until
	 * its vring is set up again (reset_queue): the same chain is not
	 * met, counted or signalled again (check_err_fd, check_stats).
	 */
	for (p = 0; p < nports; p++) {
		if (!(broken & (1u << p)))
			continue;
		if (vt_get_stats(dev.ctl, p, &st))
			fail("GET_STATS: %s", vt_error());
		if ((st.flags & VHOST_TRACE_STATS_RUNNING) ||
		    !(st.flags & VHOST_TRACE_STATS_BROKEN))
			fail("port %u: stopped on an error, started again "
			     "without a vring setup (flags %#x)", p, st.flags);
	}
	running = on;
}

/* Reset one queue, as a driver does: stop, forget, set up, start. */
static void reset_queue(unsigned int p)
{
	struct port *pt = &ports[p];
	unsigned int h;
	int was = running;

	if (running)
		set_running(0);
	reap(p);
	check_err_fd(p);
	for (h = 0; h < num; h++)
		pt->rec[h].state = 0;
	pt->inflight = 0;
	pt->err_pending = 0;
	vt_vq_reset(pt->q);
	if (vt_dev_set_vring(&dev, pt->q))
		fail("set vring: %s", vt_error());
	if (was || chance(80))
		set_running(1);
	note("port %u: queue reset", p);
}

/* ---------------------------------------------------- invalid ioctls */

static void expect_err(int r, int err, const char *what)
{
	if (r != -err)
		fail("%s: %d (%s), expected %s", what, r, strerror(-r),
		     strerror(err));
}

static void bad_ioctls(void)
{
	struct vhost_trace_sink s = { .port = 0, .fd = -1 };
	struct vhost_trace_stats st = { .port = nports + rn(5) };
	int r, fd;

	switch (rn(7)) {
	case 0:
		s.port = nports + rn(1000);
		r = ioctl(dev.ctl, VHOST_TRACE_SET_SINK, &s) ? -errno : 0;
		if (!(released && r == -ENODEV))
			expect_err(r, EINVAL, "SET_SINK bad port");
		break;
	case 1:
		s.policy = 2 + rn(100);
		r = ioctl(dev.ctl, VHOST_TRACE_SET_SINK, &s) ? -errno : 0;
		if (r != -EINVAL && !(released && r == -ENODEV))
			expect_err(r, EINVAL, "SET_SINK bad policy");
		break;
	case 2:
		s.flags = 1u << rn(32);
		r = ioctl(dev.ctl, VHOST_TRACE_SET_SINK, &s) ? -errno : 0;
		if (r != -EINVAL && !(released && r == -ENODEV))
			expect_err(r, EINVAL, "SET_SINK bad flags");
		break;
	case 3:	/* a read-only file */
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		s.fd = fd;
		r = ioctl(dev.ctl, VHOST_TRACE_SET_SINK, &s) ? -errno : 0;
		close(fd);
		if (r != -EBADF && r != -EINVAL && !(released && r == -ENODEV))
			expect_err(r, EBADF, "SET_SINK read-only fd");
		break;
	case 4:	/* neither pipe nor file */
		fd = eventfd(0, EFD_CLOEXEC);
		s.fd = fd;
		r = ioctl(dev.ctl, VHOST_TRACE_SET_SINK, &s) ? -errno : 0;
		close(fd);
		if (!(released && r == -ENODEV))
			expect_err(r, EINVAL, "SET_SINK eventfd");
		break;
	case 5:
		r = ioctl(dev.ctl, VHOST_TRACE_GET_STATS, &st) ? -errno : 0;
		expect_err(r, EINVAL, "GET_STATS bad port");
		break;
	default:
		r = ioctl(rn(2) || dev.fd < 0 ? dev.ctl : dev.fd,
			  _IO(VHOST_VIRTIO, 0xB0 + rn(0x40))) ? -errno : 0;
		expect_err(r, ENOTTY, "unknown ioctl");
		break;
	}
}

/*
 * A new control fd for the sink manager, the old one closed: the same
 * ports, sinks and counters (check_stats compares with the last ones).
 */
static void new_ctl(void)
{
	int fd;

	if (dev.fd < 0)
		return;
	fd = ioctl(dev.fd, VHOST_TRACE_GET_CTL_FD);
	if (fd < 0)
		fail("GET_CTL_FD: %s", strerror(errno));
	close(dev.ctl);
	dev.ctl = fd;
	note("new control fd");
}

/* ------------------------------------------------------- quiescence */

/*
 * Readers resumed, a sink on every port, queues running, broken queues
 * reset: everything posted must come back, the sums must match.
 */
static void drain(void)
{
	int64_t end;
	unsigned int p, i;
	uint64_t before;

	for (p = 0; p < nports; p++) {
		if (ports[p].cur < 0 || chance(10))
			attach(p, rn(2));
	}
	/* after the attaches: a new pipe may start paused */
	for (i = 0; i < MAX_SINKS; i++)
		sinks[i].paused = 0;
	if (!running)
		set_running(1);
	end = vt_now_ms() + 20000;
	for (i = 0;; i++) {
		int busy = 0;

		/* a buffer posted without a kick has a reason to wait */
		if (i % 100 == 0)
			for (p = 0; p < nports; p++)
				vt_vq_kick_always(ports[p].q);
		pump_all();
		for (p = 0; p < nports; p++) {
			struct port *pt = &ports[p];
			struct vhost_trace_stats st;

			if (vt_get_stats(dev.ctl, p, &st))
				fail("GET_STATS: %s", vt_error());
			/*
			 * Not quiescent yet: the restart may still write the
			 * rest of a buffer this port's sink took in part.
			 */
			if (pt->err_pending &&
			    (st.flags & VHOST_TRACE_STATS_BROKEN)) {
				reset_queue(p);
				busy = 1;
				continue;
			}
			if (pt->inflight)
				busy = 1;
			/* the device counts a buffer just after using it */
			if (st.buffers + st.dropped_buffers + st.bad_buffers !=
			    pt->used_good + pt->used_bad)
				busy = 1;
		}
		if (!busy)
			break;
		if (vt_now_ms() > end) {
			for (p = 0; p < nports; p++)
				if (ports[p].inflight)
					fail("port %u: %" PRIu64 " buffers left "
					     "in the ring with a sink attached, "
					     "reader reading, queue running%s", p,
					     ports[p].inflight,
					     ports[p].err_pending ? " (a core-"
					     "error chain is in it: not "
					     "reported?)" : "");
			fail("counters do not match the used entries");
		}
		usleep(1000);
	}
	check_stats();
	/*
	 * pump_all() reads the sinks before it reaps: the buffers whose used
	 * entries the last reap found were written after that read. The
	 * device writes a buffer before it returns it, so they are in the
	 * sinks now.
	 */
	before = 0;
	for (p = 0; p < nports; p++)
		before += ports[p].sink_bufs;
	for (i = 0; i < MAX_SINKS; i++)
		sink_pump(&sinks[i]);
	for (p = 0; p < nports; p++)
		before -= ports[p].sink_bufs;
	if (before)
		late_drains++;
	/* sinks the device let go of (no longer current, read to EOF) */
	for (i = 0; i < MAX_SINKS; i++) {
		struct sink *s = &sinks[i];

		if (s->used && ports[s->port].cur != (int)i &&
		    (s->eof || !s->is_pipe))
			sink_close(s, 0);
	}
	for (p = 0; p < nports; p++) {
		struct port *pt = &ports[p];
		struct vhost_trace_stats *st = &pt->last;

		/* every queue error was signalled (read after the stats) */
		check_err_fd(p);
		if (pt->err_signals < st->queue_errors)
			fail("port %u: queue_errors %llu, the error eventfd "
			     "signalled %" PRIu64 " times", p,
			     (unsigned long long)st->queue_errors,
			     pt->err_signals);
		/* nothing in the ring, no rest owed: no reason to wait */
		if (st->flags & VHOST_TRACE_STATS_WAITING)
			fail("port %u: WAITING with nothing to write", p);
		if (st->bad_buffers < pt->used_bad ||
		    st->bad_buffers > pt->used_bad + pt->maybe_bad_used)
			fail("port %u: bad_buffers %llu, used bad chains %"
			     PRIu64 " (+%" PRIu64 " rewritten)", p,
			     (unsigned long long)st->bad_buffers, pt->used_bad,
			     pt->maybe_bad_used);
		if (!pt->exact)
			continue;
		/* files and pipes read to the end of what is there */
		if (st->buffers != pt->sink_bufs || st->bytes != pt->sink_bytes)
			fail("port %u: stats say %llu buffers %llu bytes "
			     "written, the sinks hold %" PRIu64 " whole "
			     "buffers %" PRIu64 " bytes", p,
			     (unsigned long long)st->buffers,
			     (unsigned long long)st->bytes, pt->sink_bufs,
			     pt->sink_bytes);
	}
	drains++;
	note("drained");
}

/*
 * Drop never waits: a port under the drop policy, running, with no chain
 * the core cannot map in its ring, returns everything posted whatever its
 * sink does (full, paused reader, a rest owed to an old sink).
 */
static void drop_never_waits(unsigned int p)
{
	struct port *pt = &ports[p];
	int64_t end;

	if (contract < 2 || pt->policy != VHOST_TRACE_POLICY_DROP || !running ||
	    pt->err_pending || released || !pt->inflight)
		return;
	vt_vq_kick_always(pt->q);
	end = vt_now_ms() + 10000;
	while (pt->inflight) {
		pump_all();
		if (vt_now_ms() > end)
			fail("port %u: drop policy, running, %" PRIu64
			     " buffers still in the ring after 10 s: the guest "
			     "waits", p, pt->inflight);
		usleep(1000);
	}
	note("port %u: drop policy, nothing waits", p);
}

/*
 * The device fd is closed, every sink read to its end: what the counters
 * say was written is what the sinks hold, whole buffers and the head of
 * the one whose rest the release dropped (counted dropped).
 */
static void released_sums(void)
{
	unsigned int p;

	check_stats();
	for (p = 0; p < nports; p++) {
		struct port *pt = &ports[p];
		struct vhost_trace_stats *st = &pt->last;

		if (!pt->exact)
			continue;
		if (st->buffers != pt->sink_bufs ||
		    st->bytes != pt->sink_bytes + pt->torn_bytes)
			fail("port %u, released: stats say %llu buffers %llu "
			     "bytes written, the sinks hold %" PRIu64 " whole "
			     "buffers %" PRIu64 " bytes and %" PRIu64 " bytes "
			     "of torn ones", p,
			     (unsigned long long)st->buffers,
			     (unsigned long long)st->bytes, pt->sink_bufs,
			     pt->sink_bytes, pt->torn_bytes);
	}
}

/* -------------------------------------------------------- an episode */

static void episode(uint64_t seed, uint64_t max_steps, int64_t deadline)
{
	static const unsigned int nums[] = { 8, 16, 32, 64 };
	uint64_t features = VT_F_VERSION_1;
	unsigned int p, i, order[MAX_PORTS + 2];
	uint64_t steps;
	int busy_end;

	ep_seed = seed;
	rs = seed * 0x9E3779B97F4A7C15ULL + 1;
	step = 0;
	running = released = 0;
	nports = 1 + rn(MAX_PORTS);
	num = nums[rn(4)];
	if (chance(50))
		features |= VT_F_INDIRECT;
	if (chance(50))
		features |= VT_F_EVENT_IDX;
	indirect_ok = !!(features & VT_F_INDIRECT);
	memset(ports, 0, sizeof(ports));
	memset(sinks, 0, sizeof(sinks));
	if (vt_dev_setup(&dev, nports, num, features, 8 << 20))
		fail("device setup: %s", vt_error());
	for (p = 0; p < nports; p++) {
		struct port *pt = &ports[p];

		pt->q = &dev.tx[p];
		pt->cur = -1;
		pt->exact = contract >= 2;
		pt->areas = vt_mem_alloc(&dev.mem, (size_t)num * 2 * AREA,
					 4096);
		pt->tables = vt_mem_alloc(&dev.mem,
					  num * MAX_SEG * sizeof(*pt->tables),
					  16);
		if (!pt->areas || !pt->tables)
			fail("guest memory");
		if (chance(70))
			attach(p, rn(2));
	}
	if (chance(90))
		set_running(1);
	steps = 50 + rn(max_steps);
	for (step = 1; step <= steps && vt_now_ms() < deadline; step++) {
		unsigned int w = rn(100), k;

		p = rn(nports);
		if (w < 40) {
			for (k = 1 + rn(num); k; k--)
				if (!post_good(p, 0))
					break;
			if (chance(85))
				vt_vq_kick(ports[p].q);
		} else if (w < 45) {
			post_good(p, 1 + rn(2));
			vt_vq_kick_always(ports[p].q);
		} else if (w < 47) {
			post_err(p);
			vt_vq_kick_always(ports[p].q);
		} else if (w < 53) {
			rewrite(p);
		} else if (w < 58) {
			vt_vq_kick_always(ports[p].q);
		} else if (w < 70) {
			attach(p, rn(4));
		} else if (w < 75) {
			if (ports[p].cur >= 0)
				sinks[ports[p].cur].paused ^= 1;
		} else if (w < 77) {
			close_reader(p);
		} else if (w < 80) {
			set_running(!running);
		} else if (w < 83) {
			reset_queue(p);
		} else if (w < 88) {
			bad_ioctls();
		} else if (w < 90) {
			drain();
		} else if (w < 92) {
			drop_never_waits(p);
		} else if (w < 93) {
			new_ctl();
		} else {
			usleep(rn(3000));
		}
		pump_all();
		check_stats();
	}
	/* most episodes end quiescent, some with everything in flight */
	busy_end = chance(33);
	if (!busy_end)
		drain();
	else
		note("closing while busy");
	total_steps += step - 1;

	/* close everything in a random order: 0 device fd, 1 ctl, 2 sinks */
	for (i = 0; i < 3; i++)
		order[i] = i;
	for (i = 2; i > 0; i--) {
		unsigned int j = rn(i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < 3; i++) {
		switch (order[i]) {
		case 0:
			vt_dev_close_fd(&dev);
			released = 1;
			if (dev.ctl >= 0) {
				check_stats();
				bad_ioctls();
				attach(rn(nports), rn(2));
			}
			break;
		case 1:
			close(dev.ctl);
			dev.ctl = -1;
			break;
		default:
			/* while busy a sink may end in a buffer's head */
			for (p = 0; p < MAX_SINKS; p++)
				sink_close(&sinks[p], released || busy_end);
			if (released && dev.ctl >= 0)
				released_sums();
			break;
		}
	}
	vt_dev_close(&dev);
	for (p = 0; p < MAX_PORTS; p++)
		free(ports[p].delivered);
	memset(ports, 0, sizeof(ports));
}

static void on_alarm(int sig)
{
	char b[160];
	int n = snprintf(b, sizeof(b), "not ok vt_fuzz: seed %" PRIu64
			 " step %" PRIu64 ": no progress (an ioctl or the "
			 "driver hangs)\n", ep_seed, step);

	(void)sig;
	if (write(1, b, n) < 0)
		_exit(1);
	_exit(1);
}

int main(int argc, char **argv)
{
	int64_t t0, deadline, secs = 10;
	uint64_t seed = 0, max_steps = 600, episodes = 0, first;
	int one = 0, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--time") && i + 1 < argc)
			secs = strtoll(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
			one = 1;
		} else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
			max_steps = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--contract") && i + 1 < argc)
			contract = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			verbose = 1;
		else {
			fprintf(stderr, "usage: vt_fuzz [--time SEC] [--seed N] "
				"[--steps N] [--contract 1|2] [--verbose]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access(VT_DEV, R_OK | W_OK)) {
		printf("ok 1 # SKIP vt_fuzz: no %s\n", VT_DEV);
		return 4;
	}
	vt_ignore_sigpipe();
	signal(SIGALRM, on_alarm);
	outside = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!one) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000003u + ts.tv_nsec % 1000003u;
		seed %= 1000000000u;
	}
	first = seed;
	printf("# vt_fuzz: first seed %" PRIu64 ", %s, contract %d\n", seed,
	       one ? "one episode" : "episodes until the time is up",
	       contract);
	t0 = vt_now_ms();
	deadline = t0 + secs * 1000;
	do {
		uint64_t before = total_steps;

		alarm(secs + 120);
		episode(seed, max_steps, one ? deadline + 3600000 : deadline);
		printf("# episode seed %" PRIu64 ": %u ports, ring %u, %"
		       PRIu64 " steps\n", seed, nports, num,
		       total_steps - before);
		episodes++;
		seed++;
	} while (!one && vt_now_ms() < deadline);
	alarm(0);
	t0 = vt_now_ms() - t0;
	printf("# vt_fuzz: %" PRIu64 " episodes (seeds %" PRIu64 "..%" PRIu64
	       "), %" PRIu64 " steps in %.1f s: %.0f steps/s\n", episodes,
	       first, seed - 1, total_steps, t0 / 1000.0,
	       t0 ? total_steps * 1000.0 / t0 : 0.0);
	printf("# vt_fuzz: %" PRIu64 " quiescent points checked, %" PRIu64
	       " with buffers read only after their used entries\n", drains,
	       late_drains);
	printf("ok 1 vt_fuzz\n");
	return 0;
}
