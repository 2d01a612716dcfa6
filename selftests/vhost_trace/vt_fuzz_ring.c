// SPDX-License-Identifier: GPL-2.0
/*
 * vt_fuzz: the guest's side of the rings: good chains of random shape,
 * refused ones, ones the device cannot map, rewrites of posted chains,
 * the used entries and the error eventfd, the queue's eventfds replaced,
 * unbound and closed (vt_fuzz.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <linux/vhost.h>

#include "vt_fuzz.h"

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
static void count_err_fd(unsigned int p, int fd)
{
	struct port *pt = &ports[p];
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	pt->err_signals += v;
	if (pt->err_signals > pt->err_sig_max)
		fail("port %u: error eventfd signalled %" PRIu64 " times, "
		     "%" PRIu64 " chains the vhost core cannot map posted "
		     "(at most %" PRIu64 " signals)", p, pt->err_signals,
		     pt->err_posted, pt->err_sig_max);
}

void check_err_fd(unsigned int p)
{
	count_err_fd(p, ports[p].q->err);
}

void reap(unsigned int p)
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

void pump_all(void)
{
	unsigned int p, i;

	for (i = 0; i < MAX_SINKS; i++)
		sink_pump(&sinks[i]);
	for (p = 0; p < nports; p++) {
		reap(p);
		check_err_fd(p);
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

int post_good(unsigned int p, int bad)
{
	struct port *pt = &ports[p];
	struct vt_seg seg[MAX_SEG];
	struct rec tmp = { 0 }, *r;
	unsigned int k;
	int head, ind = indirect_ok && chance(30);
	uint16_t garbage = 0;
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
	/* flags the split ring does not define are ignored (vhost core) */
	if (chance2(10)) {
		garbage = (uint16_t)((1 + rn2(0x1fff)) << 3);
		for (k = 0; k < tmp.nseg; k++)
			seg[k].flags |= garbage;
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
		if (head >= 0)
			pt->q->desc[head].flags |= garbage;
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

/*
 * A chain of 2..MAX_SEG readable pieces of head a's area, one of them out
 * of the map (an address never mapped, or running off the map's end):
 * direct (in the ring's descriptors, from a) or in table d. Returns the
 * number of pieces.
 */
static unsigned int partly_out(struct port *pt, struct vring_desc *d, int a,
			       int direct)
{
	unsigned int n = 2 + rn2(MAX_SEG - 1), k, out;
	uint16_t idx[MAX_SEG];

	if (direct && n > pt->q->nfree + 1)
		n = pt->q->nfree + 1;
	idx[0] = direct ? a : 0;
	for (k = 1; k < n; k++)
		idx[k] = direct ? (uint16_t)vt_vq_get_desc(pt->q) : k;
	out = rn2(n);
	for (k = 0; k < n; k++) {
		struct vring_desc *e = &d[idx[k]];

		e->addr = (uintptr_t)area_of(pt, a, 0) + k * 512;
		e->len = 512;
		e->flags = k + 1 < n ? VRING_DESC_F_NEXT : 0;
		e->next = k + 1 < n ? idx[k + 1] : 0;
		if (k == out) {
			e->addr = (uintptr_t)(chance2(50) ? outside :
				dev.mem.base + dev.mem.size - 100);
			e->len = 4096;
		}
	}
	return n;
}

/* A chain the vhost core cannot map. */
void post_err(unsigned int p)
{
	struct port *pt = &ports[p];
	struct vt_vq *q = pt->q;
	int a, b, what = rn(indirect_ok ? 5 : 3), ind;
	struct rec *r;

	if (q->nfree < 2)
		return;
	/* good chains with a piece out of the map (the second stream) */
	if (chance2(40))
		what = 5 + rn2(indirect_ok ? 2 : 1);
	ind = what == 3 || what == 4 || what == 6;
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
	case 4: /* indirect table outside the memory table */
		q->desc[a].addr = (uintptr_t)outside;
		q->desc[a].len = 32;
		q->desc[a].flags = VRING_DESC_F_INDIRECT;
		break;
	case 5:	/* a good chain, one piece out of the map */
		partly_out(pt, q->desc, a, 1);
		break;
	default: /* a good indirect table, one piece out of the map */
		q->desc[a].len = sizeof(struct vring_desc) *
			partly_out(pt, pt->tables + a * MAX_SEG, a, 0);
		q->desc[a].addr = (uintptr_t)(pt->tables + a * MAX_SEG);
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
	pt->err_sig_max += ind ? fe->err_sig_ind : fe->err_sig;
	pt->err_pending = 1;
	note("port %u: core-error chain %d", p, what);
}

/* Rewrite a posted chain before (or while) the device reads it. */
void rewrite(unsigned int p)
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
	/* flags the split ring does not define: still a good chain */
	if (chance2(15))
		__atomic_or_fetch(&pt->q->desc[r->desc[rn2(r->nseg)]].flags,
				  (uint16_t)((1 + rn2(0x1fff)) << 3),
				  __ATOMIC_RELEASE);
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


/* Forget what was posted on port p's queue (the device was told). */
void forget_queue(unsigned int p)
{
	struct port *pt = &ports[p];
	unsigned int h;

	reap(p);
	check_err_fd(p);
	for (h = 0; h < num; h++)
		pt->rec[h].state = 0;
	pt->inflight = 0;
	pt->err_pending = 0;
	vt_vq_reset(pt->q);
}

static int *efd_of(struct vt_vq *q, int which)
{
	return which == 0 ? &q->kick : which == 1 ? &q->call : &q->err;
}

static void bind_efd(unsigned int p, int which, int fd)
{
	static const unsigned long cmd[] = {
		VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL, VHOST_SET_VRING_ERR
	};
	static const char *const name[] = { "KICK", "CALL", "ERR" };
	struct vhost_vring_file f = { .index = ports[p].q->index, .fd = fd };

	if (ioctl(dev.fd, cmd[which], &f))
		fail("port %u: VHOST_SET_VRING_%s fd %d: %s", p, name[which],
		     fd, strerror(errno));
}

/*
 * One of port p's eventfds (which: 0 kick, 1 call, 2 error) mid-run. how
 * 0: a new one bound, the old one closed; 1: unbound (VHOST_FILE_UNBIND),
 * ours kept; 2: ours closed while the device holds it, a new one kept
 * unbound. Error signals the checker cannot see make its count inexact.
 */
void swap_eventfd(unsigned int p, int which, int how)
{
	struct port *pt = &ports[p];
	int *fdp = efd_of(pt->q, which), old = *fdp, nfd;
	unsigned int bit = 1u << which;

	if (dev.fd < 0)
		return;
	if (how == 1 && (pt->unbound & bit))
		how = 0;
	nfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (nfd < 0)
		fail("eventfd: %s", strerror(errno));
	if (which == 2)
		check_err_fd(p);
	switch (how) {
	case 0:
		bind_efd(p, which, nfd);
		/* the signals up to the swap went to the old one */
		if (which == 2)
			count_err_fd(p, old);
		close(old);
		*fdp = nfd;
		pt->unbound &= ~bit;
		break;
	case 1:
		bind_efd(p, which, -1);
		if (which == 2) {
			count_err_fd(p, old);
			pt->err_lossy = 1;
		}
		close(nfd);
		pt->unbound |= bit;
		break;
	default:
		close(old);
		*fdp = nfd;
		if (which == 2 && !(pt->unbound & bit))
			pt->err_lossy = 1;
		pt->unbound |= bit;
		break;
	}
	note("port %u: %s eventfd %s", p,
	     which == 0 ? "kick" : which == 1 ? "call" : "error",
	     how == 0 ? "replaced" : how == 1 ? "unbound" :
	     "closed while bound");
}

/* Every eventfd of port p bound again (a new one where ours is closed). */
void rebind_eventfds(unsigned int p)
{
	int which;

	for (which = 0; which < 3; which++)
		if (ports[p].unbound & (1u << which))
			swap_eventfd(p, which, 0);
}
