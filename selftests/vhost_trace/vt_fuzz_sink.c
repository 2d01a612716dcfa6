// SPDX-License-Identifier: GPL-2.0
/*
 * vt_fuzz: the sinks (pipes and regular files) and their reader, which
 * checks that each sink gets whole buffers, intact, in ring order, none
 * twice (vt_fuzz.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vt_fuzz.h"
#include "vt_pattern.h"

static const char tmpdir[] = "/tmp";

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
int sink_pump(struct sink *s)
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

void sink_close(struct sink *s, int torn_ok)
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

/* SET_SINK with flags: 0 or -errno (vt_error() says which). */
static int set_sink_flags(unsigned int p, int fd, unsigned int policy,
			  unsigned int flags)
{
	struct vhost_trace_sink sk = {
		.port = p, .fd = fd, .policy = policy, .flags = flags,
	};

	if (!flags)
		return vt_set_sink(dev.ctl, p, fd, policy);
	return ioctl(dev.ctl, VHOST_TRACE_SET_SINK, &sk) ? -errno : 0;
}

/*
 * The queues stopped: the device returned the buffers it had lent to
 * pipes, and the guest may now reuse them. Read those pipes first (the
 * contract: what a reader reads after the guest rewrote a page still in
 * the pipe is the new bytes; a reader that keeps up sees the old ones).
 */
void sink_drain_lent(void)
{
	unsigned int i;

	for (i = 0; i < MAX_SINKS; i++) {
		struct sink *s = &sinks[i];
		int was = s->paused;

		if (!s->used || !s->by_ref || s->rfd < 0)
			continue;
		s->paused = 0;
		sink_pump(s);
		s->paused = was;
	}
}

void attach(unsigned int p, int how)
{
	struct port *pt = &ports[p];
	struct sink *s, *old = pt->cur >= 0 ? &sinks[pt->cur] : NULL;
	unsigned int policy = rn(2), flags = 0;
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
		/* by reference: both front ends lend pages */
		s->by_ref = chance2(50);
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
	if (s && s->by_ref)
		flags = VHOST_TRACE_SINK_BY_REF;
	r = set_sink_flags(p, fd, policy, flags);
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
	note("port %u: sink %ld (%s) policy %u%s", p,
	     s ? (long)(s - sinks) : -1,
	     how == 0 ? "pipe" : how == 1 ? "file" : how == 2 ? "flip" :
	     "detach", policy, flags ? " by reference" : "");
	pt->policy = policy;
	if (old && old != s && old->is_pipe && old->wfd >= 0) {
		/* the device has its own file on it: EOF once it lets go */
		close(old->wfd);
		old->wfd = -1;
	}
	pt->cur = s ? s - sinks : -1;
}

/* Close a pipe sink's read end: its writes fail (EPIPE). */
void close_reader(unsigned int p)
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

