// SPDX-License-Identifier: GPL-2.0
/*
 * vt_fuzz: the uapi's promises checked: counters, quiescent points (every
 * byte delivered once and in order or counted), drop never waits, the
 * sums once the device is gone, ioctl errors (vt_fuzz.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vt_fuzz.h"
#include "vt_pattern.h"
#include <sys/eventfd.h>
#include <sys/ioctl.h>

void check_stats(void)
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

void expect_err(int r, int err, const char *what)
{
	if (r != -err)
		fail("%s: %d (%s), expected %s", what, r, strerror(-r),
		     strerror(err));
}

void bad_ioctls(void)
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
	case 2:	/* an unknown flag (bit 0 is VHOST_TRACE_SINK_BY_REF) */
		s.flags = 1u << rn(32);
		if (s.flags == VHOST_TRACE_SINK_BY_REF)
			s.flags = 1u << 31;
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
		/* (vhost_vdpa's own ioctls are not ours to judge) */
		r = ioctl(rn(2) || dev.fd < 0 || fe == &fz_vdpa ? dev.ctl :
			  dev.fd,
			  _IO(VHOST_VIRTIO, 0xB0 + rn(0x40))) ? -errno : 0;
		expect_err(r, ENOTTY, "unknown ioctl");
		break;
	}
}

/*
 * Readers resumed, a sink on every port, queues running, broken queues
 * reset: everything posted must come back, the sums must match.
 */
void drain(void)
{
	int64_t end;
	unsigned int p, i;
	uint64_t before;

	for (p = 0; p < nports; p++) {
		if (ports[p].cur < 0 || chance(10))
			attach(p, rn(2));
		/* an unbound kick is a reason to wait */
		rebind_eventfds(p);
	}
	/* after the attaches: a new pipe may start paused */
	for (i = 0; i < MAX_SINKS; i++)
		sinks[i].paused = 0;
	if (!running)
		fe->run(1);
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
				fe->reset_queue(p);
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

		/*
		 * every queue error was signalled (read after the stats),
		 * where the front end signals them and the eventfd was held
		 */
		check_err_fd(p);
		if (fe->err_sig && !pt->err_lossy &&
		    pt->err_signals < st->queue_errors)
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
	if (fe->drain)
		fe->drain();
	drains++;
	note("drained");
}

/*
 * Drop never waits: a port under the drop policy, running, with no chain
 * the core cannot map in its ring, returns everything posted whatever its
 * sink does (full, paused reader, a rest owed to an old sink). Except the
 * buffers lent to a pipe under block before (ref_pending): they come
 * back when their pipe lets go of them.
 */
static uint64_t lent_now(unsigned int p)
{
	struct vhost_trace_stats st;

	if (vt_get_stats(dev.ctl, p, &st))
		fail("GET_STATS: %s", vt_error());
	return st.ref_pending;
}

void drop_never_waits(unsigned int p)
{
	struct port *pt = &ports[p];
	int64_t end;

	if (contract < 2 || pt->policy != VHOST_TRACE_POLICY_DROP || !running ||
	    pt->err_pending || released || !pt->inflight ||
	    (pt->unbound & FZ_KICK))
		return;
	vt_vq_kick_always(pt->q);
	end = vt_now_ms() + 10000;
	while (pt->inflight > lent_now(p)) {
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
void released_sums(void)
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

