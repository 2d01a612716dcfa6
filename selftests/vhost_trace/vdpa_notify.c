// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: notification suppression on the vDPA front end. A device
 * made with VHOST_TRACE_VDPA_ADD is bound to vhost_vdpa and driven through
 * /dev/vhost-vdpa-N by this process (our memory is the map, IOVA ==
 * address; trace port 0's guest-to-host queue is virtio queue 5), with
 * and without VIRTIO_RING_F_EVENT_IDX:
 *   - kicks: once a pass empties the ring, avail_event equals the avail
 *     index (EVENT_IDX) or used->flags is 0 (without); a buffer added then
 *     waits for its kick, and is used after it. While a pass is held (its
 *     pipe sink is full) the device asks for no kick: buffers added then
 *     need none (vring_need_event / VRING_USED_F_NO_NOTIFY say so) and are
 *     used when the pipe is read;
 *   - interrupts: with EVENT_IDX the call eventfd is signalled only when
 *     the used index crosses used_event (once per crossing); without,
 *     unless VRING_AVAIL_F_NO_INTERRUPT is set, and avail_event is never
 *     written;
 *   - garbage in used_event, avail_event, avail->flags and used->flags
 *     hangs nothing: every buffer kicked is used, no queue error.
 * Those with the module's signal_delay_ms and look_delay_ms at 0 (eager,
 * set and put back by the fixture). With them (the uapi header's "Used
 * buffers and the guest's interrupt", as signal.c for the vhost front
 * end):
 *   - lazy signalling: with EVENT_IDX an idle port's interrupt comes
 *     after signal_delay_ms, none when the driver reclaimed the entries
 *     first (moved used_event past them), at once when it holds half of
 *     its ring unreclaimed or when the queue is disabled; closing the
 *     device drops an owed one; without EVENT_IDX at once;
 *   - kick batching: after a pass that took a buffer no kick is asked
 *     for (avail_event stays behind, or VRING_USED_F_NO_NOTIFY stays
 *     set) and a buffer added within look_delay_ms is taken without one;
 *     a look that finds the ring empty asks for the next kick.
 * Skipped where the kernel has no vDPA (6.1).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "vt_guest.h"
#include "vt_pattern.h"
#include "vt_vdpa_lib.h"

#include "kselftest_harness.h"

#define NUM		16
#define PIPE_PAGES	4		/* the pipe sink: 16 KiB */
#define QUEUE		5		/* trace port 0, guest to host */
#define MEM_SIZE	(2u << 20)
/* Time for a pass that wrote its last used entry to end (TCG). */
#define PASS_END_MS	100
#define VDPA_DRV	"/sys/bus/vdpa/drivers/vhost_vdpa"
/* Lazy signalling and kick batching, long enough to tell under TCG. */
#define DELAY_MS	300
#define LOOK_MS		400
#define S_FEATURES	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_FEATURES_OK)

FIXTURE(vn) {
	char name[32];
	int ctl, vfd;
	struct vt_dev d;	/* d.fd = vfd, for vt_dev_set_vring() */
	struct vt_mem mem;
	struct vt_vq q;
	bool q_ok, loaded, skip;
	long old_delay, old_look;	/* the module's, put back */
	uint8_t *pool;
	uint64_t seq;		/* pages posted */
	int pipe[2];
};

FIXTURE_VARIANT(vn) {
	bool event_idx;
};

FIXTURE_VARIANT_ADD(vn, event_idx) {
	.event_idx = true,
};

FIXTURE_VARIANT_ADD(vn, flags) {
	.event_idx = false,
};

static uint16_t ld16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void st16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static uint16_t *avail_event(struct vt_vq *q)
{
	return (uint16_t *)&q->used->ring[q->num];
}

static uint16_t *used_event(struct vt_vq *q)
{
	return &q->avail->ring[q->num];
}

/* Post n one-page buffers (not kicked). */
static int post(FIXTURE_DATA(vn) *self, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++, self->seq++) {
		uint8_t *page = self->pool + (self->seq % NUM) * VT_PAGE;
		struct vt_seg seg = { .addr = page, .len = VT_PAGE };

		vt_fill_words(page, 0, self->seq, 0, VT_PAGE_WORDS);
		if (vt_vq_add(&self->q, &seg, 1, NULL) < 0)
			return -1;
	}
	return 0;
}

/* Read what the pipe holds, up to max bytes, for ms: bytes read. */
static size_t drain_pipe(int fd, size_t max, int ms)
{
	static uint8_t buf[PIPE_PAGES * VT_PAGE];
	int64_t end = vt_now_ms() + ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;

	while (got < max && vt_now_ms() < end) {
		size_t ask = max - got < sizeof(buf) ? max - got : sizeof(buf);
		ssize_t r;

		if (poll(&p, 1, 50) <= 0)
			continue;
		r = read(fd, buf, ask);
		if (r <= 0)
			break;
		got += r;
	}
	return got;
}

static int set_sink(int ctl, int fd)
{
	struct vhost_trace_sink s = {
		.port = 0, .fd = fd, .policy = VHOST_TRACE_POLICY_BLOCK,
	};

	return ioctl(ctl, VHOST_TRACE_SET_SINK, &s) ? -errno : 0;
}

/* Device, driver, memory, ring, DRIVER_OK; 0, or a line in why. */
static int drv_setup(FIXTURE_DATA(vn) *self, bool event_idx, char *why,
		     size_t len)
{
	uint64_t backend, want = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
		(1ULL << VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_F_ACCESS_PLATFORM) |
		     (1ULL << 1);	/* VIRTIO_CONSOLE_F_MULTIPORT */
	struct vhost_vring_state s = { .index = QUEUE, .num = 1 };
	uint64_t dev_f;
	char path[64];
	int r;

	snprintf(self->name, sizeof(self->name), "vtnf%d", (int)getpid());
	self->ctl = vt_vdpa_ioctl(VHOST_TRACE_VDPA_ADD, self->name, 1);
	if (self->ctl < 0)
		return snprintf(why, len, "VDPA_ADD: %s", strerror(-self->ctl));
	r = vt_vdpa_bind_vhost(self->name, path, sizeof(path));
	if (r)
		return snprintf(why, len, "bind: %s", strerror(-r));
	if (vt_mem_init_shared(&self->mem, MEM_SIZE))
		return snprintf(why, len, "memory: %s", vt_error());
	if (vt_vq_init(&self->q, &self->mem, NUM, event_idx))
		return snprintf(why, len, "queue: %s", vt_error());
	self->q_ok = true;
	self->q.index = QUEUE;
	self->pool = vt_mem_alloc(&self->mem, NUM * VT_PAGE, VT_PAGE);
	if (!self->pool)
		return snprintf(why, len, "pool");

	self->vfd = open(path, O_RDWR | O_CLOEXEC);
	if (self->vfd < 0)
		return snprintf(why, len, "%s: %m", path);
	self->d.fd = self->vfd;
	if (ioctl(self->vfd, VHOST_SET_OWNER) ||
	    ioctl(self->vfd, VHOST_GET_BACKEND_FEATURES, &backend))
		return snprintf(why, len, "owner, backend features: %m");
	backend &= want;
	if (ioctl(self->vfd, VHOST_SET_BACKEND_FEATURES, &backend))
		return snprintf(why, len, "SET_BACKEND_FEATURES: %m");
	if (ioctl(self->vfd, VHOST_GET_FEATURES, &dev_f))
		return snprintf(why, len, "GET_FEATURES: %m");
	if (!(dev_f & VT_F_EVENT_IDX))
		return snprintf(why, len, "EVENT_IDX not offered: %#llx",
				(unsigned long long)dev_f);
	if (event_idx)
		f |= VT_F_EVENT_IDX;
	r = vt_vdpa_set_status(self->vfd, 0);
	if (!r)
		r = vt_vdpa_iotlb(self->vfd, VHOST_IOTLB_UPDATE,
				  (uintptr_t)self->mem.base, self->mem.size,
				  self->mem.base, VHOST_ACCESS_RW);
	if (!r)
		r = vt_vdpa_set_status(self->vfd, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				       VIRTIO_CONFIG_S_DRIVER);
	if (!r && ioctl(self->vfd, VHOST_SET_FEATURES, &f))
		r = -errno;
	if (!r)
		r = vt_vdpa_set_status(self->vfd, S_FEATURES);
	if (r)
		return snprintf(why, len, "status, features: %s",
				strerror(-r));
	if (vt_dev_set_vring(&self->d, &self->q))
		return snprintf(why, len, "vring: %s", vt_error());
	if (ioctl(self->vfd, VHOST_VDPA_SET_VRING_ENABLE, &s))
		return snprintf(why, len, "enable: %m");
	r = vt_vdpa_set_status(self->vfd, S_FEATURES |
			       VIRTIO_CONFIG_S_DRIVER_OK);
	if (r)
		return snprintf(why, len, "DRIVER_OK: %s", strerror(-r));
	if (vt_pipe(self->pipe, PIPE_PAGES * VT_PAGE))
		return snprintf(why, len, "pipe: %m");
	r = set_sink(self->ctl, self->pipe[1]);
	if (r)
		return snprintf(why, len, "SET_SINK: %s", strerror(-r));
	return 0;
}

FIXTURE_SETUP(vn)
{
	char why[200];
	int r;

	self->ctl = self->vfd = -1;
	self->pipe[0] = self->pipe[1] = -1;
	self->old_delay = self->old_look = -1;
	vt_ignore_sigpipe();
	/* ENOENT where the module is a vDPA parent, else EOPNOTSUPP */
	r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_DEL, "vtnf-none", 0);
	if (r == -EOPNOTSUPP) {
		self->skip = true;
		SKIP(return, "no vDPA in this kernel");
	}
	ASSERT_EQ(-ENOENT, r);
	self->old_delay = vt_read_long(VT_SIGNAL_DELAY);
	self->old_look = vt_read_long(VT_LOOK_DELAY);
	ASSERT_LE(0, self->old_delay);
	ASSERT_LE(0, self->old_look);
	ASSERT_EQ(0, vt_write_long(VT_SIGNAL_DELAY, 0));
	ASSERT_EQ(0, vt_write_long(VT_LOOK_DELAY, 0));
	if (access(VDPA_DRV, F_OK)) {
		self->loaded = true;
		if (system("modprobe vhost_vdpa") || access(VDPA_DRV, F_OK)) {
			self->skip = true;
			SKIP(return, "no vhost_vdpa");
		}
	}
	ASSERT_EQ(0, drv_setup(self, variant->event_idx, why, sizeof(why)))
		TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(vn)
{
	if (self->pipe[0] >= 0)
		close(self->pipe[0]);
	if (self->pipe[1] >= 0)
		close(self->pipe[1]);
	if (self->vfd >= 0)
		close(self->vfd);
	if (self->ctl >= 0) {
		vt_vdpa_ioctl(VHOST_TRACE_VDPA_DEL, self->name, 0);
		close(self->ctl);
	}
	if (self->q_ok)
		vt_vq_close(&self->q);
	if (self->mem.base)
		vt_mem_free(&self->mem);
	if (self->loaded && system("modprobe -r vhost_vdpa"))
		TH_LOG("modprobe -r vhost_vdpa failed");
	if (self->old_delay >= 0)
		vt_write_long(VT_SIGNAL_DELAY, self->old_delay);
	if (self->old_look >= 0)
		vt_write_long(VT_LOOK_DELAY, self->old_look);
}

/* The ring was emptied by a pass: kicks are asked for at the avail index. */
static void expect_armed(struct __test_metadata *_metadata,
			 FIXTURE_DATA(vn) *self, bool event_idx)
{
	struct vt_vq *q = &self->q;

	if (event_idx) {
		EXPECT_EQ(q->avail_idx, ld16(avail_event(q)));
	} else {
		EXPECT_EQ(0, ld16(&q->used->flags));
		EXPECT_EQ(0, ld16(avail_event(q)));	/* never written */
	}
}

/*
 * A pass that empties the ring asks for the next kick; a buffer added
 * then waits for it. A pass held by a full pipe asks for none: buffers
 * added meanwhile need no kick, and are used once the pipe is read.
 */
TEST_F_TIMEOUT(vn, kicks, 40)
{
	struct vt_vq *q = &self->q;
	struct vhost_trace_stats st;
	unsigned int round;
	uint64_t kicks;

	if (self->skip)
		return;
	/* the passes of the start and of SET_SINK found it empty */
	usleep(PASS_END_MS * 1000);
	expect_armed(_metadata, self, variant->event_idx);
	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, post(self, 1 + round));
		kicks = q->kicks;
		ASSERT_EQ(0, vt_vq_kick(q));
		/* the ring was empty and armed: this one kicks */
		EXPECT_EQ(kicks + 1, q->kicks);
		EXPECT_EQ(1U + round, vt_vq_poll_used(q, 1 + round, 3000));
		EXPECT_EQ(round + 1, vt_vq_reap(q, NULL, NULL, NUM));
		EXPECT_EQ((1 + round) * VT_PAGE,
			  drain_pipe(self->pipe[0], (1 + round) * VT_PAGE,
				     3000));
		usleep(PASS_END_MS * 1000);	/* the pass ends after its entry */
		expect_armed(_metadata, self, variant->event_idx);
	}

	/* added after the pass: waits for its kick */
	ASSERT_EQ(0, post(self, 1));
	EXPECT_EQ(0U, vt_vq_settle(q));
	kicks = q->kicks;
	ASSERT_EQ(0, vt_vq_kick(q));
	EXPECT_EQ(kicks + 1, q->kicks);
	EXPECT_EQ(1U, vt_vq_poll_used(q, 1, 3000));
	EXPECT_EQ(1U, vt_vq_reap(q, NULL, NULL, NUM));
	EXPECT_EQ(VT_PAGE, drain_pipe(self->pipe[0], VT_PAGE, 3000));

	/* a pass held by the full pipe: 4 pages in it, the 5th waits */
	ASSERT_EQ(0, post(self, 8));
	ASSERT_EQ(0, vt_vq_kick(q));
	EXPECT_EQ(0, vt_wait_stats(self->ctl, 0, self->seq - 4, 5000, &st));
	EXPECT_EQ(PIPE_PAGES, (int)vt_vq_poll_used(q, PIPE_PAGES, 3000));
	EXPECT_EQ((unsigned int)PIPE_PAGES, vt_vq_settle(q));
	if (variant->event_idx) {
		EXPECT_NE(q->avail_idx, ld16(avail_event(q)));
	} else {
		EXPECT_EQ(VRING_USED_F_NO_NOTIFY, ld16(&q->used->flags));
	}
	/* more meanwhile: no kick asked for */
	ASSERT_EQ(0, post(self, 4));
	kicks = q->kicks;
	ASSERT_EQ(0, vt_vq_kick(q));
	EXPECT_EQ(kicks, q->kicks);
	/* the pipe read: all 12 used, no kick */
	EXPECT_EQ(12 * VT_PAGE, drain_pipe(self->pipe[0], 12 * VT_PAGE,
					   10000));
	EXPECT_EQ(12U, vt_vq_poll_used(q, 12, 3000));
	EXPECT_EQ(kicks, q->kicks);
	EXPECT_EQ(12U, vt_vq_reap(q, NULL, NULL, NUM));
	usleep(PASS_END_MS * 1000);
	expect_armed(_metadata, self, variant->event_idx);
	EXPECT_EQ(0, vt_get_stats(self->ctl, 0, &st));
	EXPECT_EQ(self->seq, st.buffers);
	EXPECT_EQ(self->seq * VT_PAGE, st.bytes);
	EXPECT_EQ(0ULL, st.queue_errors);
}

/* Post n, kick, wait until used and read; the call eventfd's count. */
static uint64_t round_calls(struct __test_metadata *_metadata,
			    FIXTURE_DATA(vn) *self, unsigned int n)
{
	struct vt_vq *q = &self->q;

	EXPECT_EQ(0, post(self, n));
	EXPECT_EQ(0, vt_vq_kick_always(q));
	EXPECT_EQ(n * VT_PAGE, drain_pipe(self->pipe[0], n * VT_PAGE, 3000));
	EXPECT_EQ(n, vt_vq_poll_used(q, n, 3000));
	EXPECT_EQ(n, vt_vq_reap(q, NULL, NULL, NUM));
	usleep(PASS_END_MS * 1000);
	return vt_vq_calls(q);
}

/*
 * Interrupts. EVENT_IDX: only when the used index crosses used_event,
 * once per crossing. Without: unless NO_INTERRUPT.
 */
TEST_F_TIMEOUT(vn, interrupts, 40)
{
	struct vt_vq *q = &self->q;
	uint16_t u;

	if (self->skip)
		return;
	/* the first use after a start always signals */
	st16(used_event(q), 0);
	EXPECT_EQ(1ULL, round_calls(_metadata, self, 1));
	if (!variant->event_idx) {
		st16(&q->avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
		EXPECT_EQ(0ULL, round_calls(_metadata, self, 2));
		EXPECT_EQ(0ULL, round_calls(_metadata, self, 1));
		st16(&q->avail->flags, 0);
		EXPECT_LE(1ULL, round_calls(_metadata, self, 2));
		EXPECT_EQ(0, ld16(avail_event(q)));
		return;
	}
	u = q->last_used;
	/* used_event behind the range: none */
	st16(used_event(q), u - 10);
	EXPECT_EQ(0ULL, round_calls(_metadata, self, 2));
	/* ahead of it: none */
	u = q->last_used;
	st16(used_event(q), u + 5);
	EXPECT_EQ(0ULL, round_calls(_metadata, self, 2));
	/* crossed (u + 5 in [u + 2, u + 6)): one */
	EXPECT_EQ(1ULL, round_calls(_metadata, self, 4));
	/* passed: none again */
	EXPECT_EQ(0ULL, round_calls(_metadata, self, 3));
	/* the very next entry: one */
	st16(used_event(q), q->last_used);
	EXPECT_EQ(1ULL, round_calls(_metadata, self, 1));
	/* NO_INTERRUPT is not looked at with EVENT_IDX */
	st16(&q->avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	st16(used_event(q), q->last_used);
	EXPECT_EQ(1ULL, round_calls(_metadata, self, 1));
}

/*
 * Garbage in every suppression field, rewritten between rounds: nothing
 * hangs, every buffer kicked is used, no queue error; the queue then
 * behaves again once the fields are sane.
 */
TEST_F_TIMEOUT(vn, garbage, 60)
{
	struct vt_vq *q = &self->q;
	struct vhost_trace_stats st;
	unsigned int i, n;
	uint32_t rs = 12345;

	if (self->skip)
		return;
	for (i = 0; i < 60; i++) {
		rs = rs * 1103515245 + 12345;
		st16(used_event(q), rs >> 16);
		st16(avail_event(q), rs);
		rs = rs * 1103515245 + 12345;
		st16(&q->avail->flags, rs >> 16);
		st16(&q->used->flags, rs);
		n = 1 + (rs >> 8) % 4;
		ASSERT_EQ(0, post(self, n));
		ASSERT_EQ(0, vt_vq_kick_always(q));
		ASSERT_EQ(n * VT_PAGE,
			  drain_pipe(self->pipe[0], n * VT_PAGE, 3000));
		ASSERT_EQ(n, vt_vq_poll_used(q, n, 3000));
		ASSERT_EQ(n, vt_vq_reap(q, NULL, NULL, NUM));
	}
	vt_vq_calls(q);
	EXPECT_EQ(0, vt_get_stats(self->ctl, 0, &st));
	EXPECT_EQ(self->seq, st.buffers);
	EXPECT_EQ(0ULL, st.queue_errors);
	EXPECT_EQ(0ULL, st.bad_buffers);
	EXPECT_EQ(0U, st.flags & VHOST_TRACE_STATS_BROKEN);

	/* sane again: a kick asked for once the ring is empty */
	st16(&q->avail->flags, 0);
	st16(used_event(q), q->last_used);
	ASSERT_EQ(0, post(self, 1));
	ASSERT_EQ(0, vt_vq_kick_always(q));
	EXPECT_EQ(VT_PAGE, drain_pipe(self->pipe[0], VT_PAGE, 3000));
	EXPECT_EQ(1U, vt_vq_poll_used(q, 1, 3000));
	EXPECT_EQ(1U, vt_vq_reap(q, NULL, NULL, NUM));
	usleep(PASS_END_MS * 1000);
	if (variant->event_idx) {
		EXPECT_EQ(q->avail_idx, ld16(avail_event(q)));
	}
	EXPECT_LE(1ULL, vt_vq_calls(q));
	/* and one kick suffices for the next */
	ASSERT_EQ(0, post(self, 1));
	ASSERT_EQ(0, vt_vq_kick(q));
	EXPECT_EQ(VT_PAGE, drain_pipe(self->pipe[0], VT_PAGE, 3000));
	EXPECT_EQ(1U, vt_vq_poll_used(q, 1, 3000));
}

/* What virtio_ring does on get_buf: reap, ask for the next entry. */
static void reclaim(struct vt_vq *q)
{
	vt_vq_reap(q, NULL, NULL, NUM);
	st16(used_event(q), q->last_used);
}

/* n posted and kicked, read from the pipe, used (not reaped): 0 or -1. */
static int post_used(FIXTURE_DATA(vn) *self, unsigned int n)
{
	if (post(self, n) || vt_vq_kick_always(&self->q) ||
	    drain_pipe(self->pipe[0], n * VT_PAGE, 5000) != n * VT_PAGE)
		return -1;
	return vt_vq_poll_used(&self->q, n, 5000) == n ? 0 : -1;
}

/*
 * Lazy signalling. Without EVENT_IDX: at once. With: the first use after
 * a start signals whatever used_event says; then an idle port after the
 * delay, none once reclaimed, at once with half the ring unreclaimed and
 * when the queue is disabled (nothing after).
 */
TEST_F_TIMEOUT(vn, lazy_signal, 60)
{
	struct vhost_vring_state off = { .index = QUEUE, .num = 0 };
	struct vt_vq *q = &self->q;
	int64_t t;
	int ms;

	if (self->skip)
		return;
	ASSERT_EQ(0, vt_write_long(VT_SIGNAL_DELAY, DELAY_MS));
	usleep(PASS_END_MS * 1000);
	vt_vq_calls(q);
	if (!variant->event_idx) {
		ASSERT_EQ(0, post_used(self, 2));
		ms = vt_vq_call_within(q, 5000);
		TH_LOG("interrupt %d ms after the used entries", ms);
		ASSERT_LE(0, ms);
		EXPECT_GT(DELAY_MS / 2, ms);
		return;
	}
	ASSERT_EQ(0, post_used(self, 1));
	ASSERT_LE(0, vt_vq_call_within(q, DELAY_MS + 5000));
	vt_vq_calls(q);
	reclaim(q);

	/* an idle port: after the delay */
	ASSERT_EQ(0, post_used(self, 2));
	ms = vt_vq_call_within(q, DELAY_MS + 5000);
	TH_LOG("idle: interrupt %d ms after the used entries (delay %d ms)",
	       ms, DELAY_MS);
	ASSERT_LE(0, ms);
	EXPECT_LE(DELAY_MS / 2, ms);
	EXPECT_GE(DELAY_MS + 1000, ms);
	EXPECT_EQ(1ULL, vt_vq_calls(q));
	reclaim(q);

	/* reclaimed before the delay ends: none */
	ASSERT_EQ(0, post_used(self, 2));
	reclaim(q);
	EXPECT_EQ(-1, vt_vq_call_within(q, DELAY_MS + 500));
	EXPECT_EQ(0ULL, vt_vq_calls(q));

	/* half of the ring unreclaimed: at once, one for all */
	ASSERT_EQ(0, post_used(self, NUM / 2));
	ms = vt_vq_call_within(q, 5000);
	TH_LOG("half the ring: interrupt %d ms after the used entries", ms);
	ASSERT_LE(0, ms);
	EXPECT_GT(DELAY_MS / 2, ms);
	usleep(PASS_END_MS * 1000);
	EXPECT_EQ(1ULL, vt_vq_calls(q));
	reclaim(q);

	/* the queue disabled with one owed: at once, nothing after */
	ASSERT_EQ(0, post_used(self, 2));
	t = vt_now_ms();
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_VDPA_SET_VRING_ENABLE, &off));
	EXPECT_LE(0, vt_vq_call_within(q, 0));
	EXPECT_GT(DELAY_MS / 2, vt_now_ms() - t);
	EXPECT_EQ(1ULL, vt_vq_calls(q));
	EXPECT_EQ(-1, vt_vq_call_within(q, DELAY_MS + 200));
}

/* Closing the device with an interrupt owed: dropped, no hang. */
TEST_F_TIMEOUT(vn, close_drops_owed, 30)
{
	struct vt_vq *q = &self->q;
	int64_t t;

	if (self->skip)
		return;
	if (!variant->event_idx)
		SKIP(return, "nothing is deferred without EVENT_IDX");
	ASSERT_EQ(0, vt_write_long(VT_SIGNAL_DELAY, DELAY_MS));
	ASSERT_EQ(0, post_used(self, 1));
	ASSERT_LE(0, vt_vq_call_within(q, DELAY_MS + 5000));
	vt_vq_calls(q);
	reclaim(q);
	ASSERT_EQ(0, post_used(self, 2));
	t = vt_now_ms();
	close(self->vfd);
	self->vfd = -1;
	t = vt_now_ms() - t;
	TH_LOG("closed in %lld ms", (long long)t);
	EXPECT_GT(1000, t);
	EXPECT_EQ(-1, vt_vq_call_within(q, DELAY_MS + 500));
}

/* One buffer, kicked only if the device asks: 1 if it asked, 0, -1. */
static int post_asked(FIXTURE_DATA(vn) *self)
{
	uint64_t kicks = self->q.kicks;

	if (post(self, 1) || vt_vq_kick(&self->q))
		return -1;
	return self->q.kicks != kicks;
}

/*
 * Kick batching: a pass that took a buffer asks for no kick; one added
 * within the look delay is taken by the look, without a kick; a look that
 * finds nothing asks for the next one.
 */
TEST_F_TIMEOUT(vn, kicks_batched, 60)
{
	struct vt_vq *q = &self->q;
	int64_t t;

	if (self->skip)
		return;
	ASSERT_EQ(0, vt_write_long(VT_LOOK_DELAY, LOOK_MS));
	usleep(PASS_END_MS * 1000);
	expect_armed(_metadata, self, variant->event_idx);
	ASSERT_EQ(1, post_asked(self));
	ASSERT_EQ(1U, vt_vq_poll_used(q, 1, 5000));
	t = vt_now_ms();
	if (variant->event_idx) {
		EXPECT_NE(q->avail_idx, ld16(avail_event(q)));
	} else {
		EXPECT_EQ(VRING_USED_F_NO_NOTIFY, ld16(&q->used->flags));
	}
	ASSERT_EQ(0, post_asked(self));
	ASSERT_EQ(2U, vt_vq_poll_used(q, 2, LOOK_MS + 5000));
	TH_LOG("a buffer added without a kick: taken %lld ms later (look %d ms)",
	       (long long)(vt_now_ms() - t), LOOK_MS);
	EXPECT_LE(LOOK_MS / 2, vt_now_ms() - t);
	EXPECT_EQ(2 * VT_PAGE, drain_pipe(self->pipe[0], 2 * VT_PAGE, 3000));
	/* that look took one: another look; it finds nothing and asks */
	usleep((2 * LOOK_MS + 300) * 1000);
	expect_armed(_metadata, self, variant->event_idx);
	ASSERT_EQ(1, post_asked(self));
	ASSERT_EQ(3U, vt_vq_poll_used(q, 3, 5000));
	EXPECT_EQ(VT_PAGE, drain_pipe(self->pipe[0], VT_PAGE, 3000));
}

TEST_HARNESS_MAIN
