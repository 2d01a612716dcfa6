// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: lazy used signalling (the uapi header's "Used buffers and
 * the guest's interrupt"). With EVENT_IDX the call eventfd fires at once
 * when the guest holds half of its ring or more unreclaimed (a full ring),
 * otherwise after the module's signal_delay_ms, and not at all when the
 * guest reclaimed the entries first (moved used_event past them); a guest
 * that writes, waits for its entry by looking at the ring and reclaims it
 * gets (almost) no interrupt where an eager device gives one per buffer.
 * Stopping the queue gives a deferred interrupt at once, closing the
 * device drops it (no timer runs after the device is gone), and without
 * EVENT_IDX every batch is signalled at once unless the guest set
 * VRING_AVAIL_F_NO_INTERRUPT. Kicks are batched the same way: after a
 * pass that took buffers the device asks for no kick and looks at the
 * ring again after look_delay_ms; a look that finds nothing asks for the
 * next kick. The tests set signal_delay_ms to DELAY_MS and look_delay_ms
 * to LOOK_MS (so that the timing holds under TCG) and put them back.
 * Needs vhost_trace.ko.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_pattern.h"

#include "kselftest_harness.h"

#define NUM		256
#define DELAY_MS	300
#define PARAM		VT_SIGNAL_DELAY
#define LOOK		VT_LOOK_DELAY
#define LOOK_MS		400
#define EIDX		(VT_F_VERSION_1 | VT_F_EVENT_IDX)

static int set_delay(long ms)
{
	return vt_write_long(PARAM, ms);
}

static void set_used_event(struct vt_vq *q, uint16_t v)
{
	__atomic_store_n(&q->avail->ring[q->num], v, __ATOMIC_SEQ_CST);
}

/* What virtio_ring does on get_buf: reap, ask for the next entry. */
static void reclaim(struct vt_vq *q)
{
	vt_vq_reap(q, NULL, NULL, NUM);
	set_used_event(q, q->last_used);
}

FIXTURE(sig) {
	struct vt_dev d;
	struct vt_vq *q;
	int file;
	long old_delay, old_look;
	void *page;
};

FIXTURE_SETUP(sig)
{
	memset(&self->d, 0, sizeof(self->d));
	self->d.fd = self->d.ctl = -1;
	self->file = -1;
	self->old_delay = vt_read_long(PARAM);
	ASSERT_LE(0, self->old_delay)
		TH_LOG("no %s: the module has no lazy signalling", PARAM);
	ASSERT_EQ(0, set_delay(DELAY_MS));
	self->old_look = vt_read_long(LOOK);
	ASSERT_LE(0, self->old_look)
		TH_LOG("no %s: the module has no kick batching", LOOK);
}

FIXTURE_TEARDOWN(sig)
{
	vt_dev_close(&self->d);
	if (self->file >= 0)
		close(self->file);
	if (self->old_delay >= 0)
		set_delay(self->old_delay);
	if (self->old_look >= 0)
		vt_write_long(LOOK, self->old_look);
}

/* One port of NUM entries into a file, running. */
static int start(struct __test_metadata *_metadata, FIXTURE_DATA(sig) *self,
		 uint64_t features)
{
	if (vt_dev_setup(&self->d, 1, NUM, features, 4 << 20)) {
		TH_LOG("%s", vt_error());
		return -1;
	}
	self->q = &self->d.tx[0];
	self->page = vt_mem_alloc(&self->d.mem, VT_PAGE, VT_PAGE);
	self->file = vt_tmpfile("/tmp");
	if (!self->page || self->file < 0 ||
	    vt_set_sink(self->d.ctl, 0, self->file,
			VHOST_TRACE_POLICY_BLOCK) ||
	    vt_dev_run(&self->d, 1)) {
		TH_LOG("%s", vt_error());
		return -1;
	}
	return 0;
}

/* n one-page buffers, one kick. */
static int post(FIXTURE_DATA(sig) *self, unsigned int n)
{
	struct vt_seg seg = { .addr = self->page, .len = VT_PAGE };
	unsigned int i;

	for (i = 0; i < n; i++)
		if (vt_vq_add(self->q, &seg, 1, NULL) < 0)
			return -1;
	return vt_vq_kick_always(self->q);
}

/*
 * The first signal after a start is given whatever used_event says
 * (vhost's signalled_used is not valid yet): have it, reclaim.
 */
static int warm_up(FIXTURE_DATA(sig) *self)
{
	if (post(self, 1) || vt_vq_poll_used(self->q, 1, 5000) != 1 ||
	    vt_vq_call_within(self->q, DELAY_MS + 5000) < 0)
		return -1;
	vt_vq_calls(self->q);
	reclaim(self->q);
	return 0;
}

#define START(features) do { \
	ASSERT_EQ(0, start(_metadata, self, features)); \
} while (0)

/* n buffers posted and kicked, all used (not yet reaped) */
#define POST_USED(n) do { \
	ASSERT_EQ(0, post(self, n)); \
	ASSERT_EQ((unsigned int)(n), vt_vq_poll_used(self->q, n, 5000)); \
} while (0)

/* (a) The whole ring posted, used_event armed: at once. */
TEST_F_TIMEOUT(sig, full_ring_at_once, 30)
{
	int64_t t;
	int ms;

	START(EIDX);
	ASSERT_EQ(0, warm_up(self));
	ASSERT_EQ(0, post(self, NUM));
	ASSERT_EQ((unsigned int)NUM, vt_vq_poll_used(self->q, NUM, 10000));
	t = vt_now_ms();
	ms = vt_vq_call_within(self->q, 5000);
	TH_LOG("interrupt %d ms after the last used entry (delay %d ms)",
	       ms, DELAY_MS);
	ASSERT_LE(0, ms);
	/* at once, in the pass: already there when the entries are */
	EXPECT_GT(DELAY_MS / 2, ms);
	EXPECT_GT(DELAY_MS / 2, vt_now_ms() - t);
	/* one interrupt for the ring: used_event was crossed once */
	EXPECT_EQ(1ULL, vt_vq_calls(self->q));
	reclaim(self->q);
	EXPECT_EQ(-1, vt_vq_call_within(self->q, DELAY_MS + 200));
}

/* (b) A few buffers on an idle port: after the delay, not never. */
TEST_F_TIMEOUT(sig, idle_port_after_delay, 30)
{
	int ms;

	START(EIDX);
	ASSERT_EQ(0, warm_up(self));
	POST_USED(2);
	ms = vt_vq_call_within(self->q, DELAY_MS + 5000);
	TH_LOG("interrupt %d ms after the used entries (delay %d ms)",
	       ms, DELAY_MS);
	ASSERT_LE(0, ms);
	EXPECT_LE(DELAY_MS / 2, ms);
	EXPECT_GE(DELAY_MS + 1000, ms);
	EXPECT_EQ(1ULL, vt_vq_calls(self->q));
}

/* (c) The guest reclaims before the delay ends: no interrupt. */
TEST_F_TIMEOUT(sig, reclaimed_no_interrupt, 30)
{
	int64_t t;

	START(EIDX);
	ASSERT_EQ(0, warm_up(self));
	POST_USED(2);
	t = vt_now_ms();
	reclaim(self->q);
	TH_LOG("reclaimed %lld ms after the used entries",
	       (long long)(vt_now_ms() - t));
	EXPECT_EQ(-1, vt_vq_call_within(self->q, DELAY_MS + 500));
	EXPECT_EQ(0ULL, vt_vq_calls(self->q));
	/* and the port goes on: the next one is signalled after the delay */
	POST_USED(1);
	EXPECT_LE(0, vt_vq_call_within(self->q, DELAY_MS + 5000));
}

/*
 * A guest that writes one buffer at a time and reclaims it as it appears
 * (looking at the ring): about one interrupt per buffer with
 * signal_delay_ms 0 (eager, as before), next to none with the delay.
 * Eager, a round whose entry the guest reclaims between the device's
 * used idx update and its used_event read has no interrupt (as with any
 * vhost device): not quite one per buffer on a slow (debug) kernel.
 */
TEST_F_TIMEOUT(sig, streaming_interrupts, 40)
{
	const unsigned int rounds = 100;
	uint64_t eager, lazy;
	unsigned int i;
	int64_t t;

	START(EIDX);
	ASSERT_EQ(0, warm_up(self));
	ASSERT_EQ(0, set_delay(0));
	for (i = 0; i < rounds; i++) {
		POST_USED(1);
		reclaim(self->q);
	}
	usleep(100 * 1000);
	eager = vt_vq_calls(self->q);
	ASSERT_EQ(0, set_delay(DELAY_MS));
	t = vt_now_ms();
	for (i = 0; i < rounds; i++) {
		POST_USED(1);
		reclaim(self->q);
	}
	t = vt_now_ms() - t;
	usleep((DELAY_MS + 200) * 1000);
	lazy = vt_vq_calls(self->q);
	TH_LOG("%u buffers: %llu interrupts eager, %llu lazy in %lld ms",
	       rounds, (unsigned long long)eager, (unsigned long long)lazy,
	       (long long)t);
	EXPECT_LE(rounds / 2, eager);
	EXPECT_GE(rounds, eager);
	/* at most one per delay that the rounds took, and one more */
	EXPECT_GE(t / DELAY_MS + 1, (int64_t)lazy);
	EXPECT_GT(eager / 4, lazy);
}

/* (d) Stopping the queue gives a pending interrupt at once. */
TEST_F_TIMEOUT(sig, stop_signals_pending, 30)
{
	int64_t t;

	START(EIDX);
	ASSERT_EQ(0, warm_up(self));
	POST_USED(2);
	t = vt_now_ms();
	ASSERT_EQ(0, vt_dev_run(&self->d, 0));
	EXPECT_LE(0, vt_vq_call_within(self->q, 0));
	EXPECT_GT(DELAY_MS / 2, vt_now_ms() - t);
	EXPECT_EQ(1ULL, vt_vq_calls(self->q));
	/* nothing more comes from the stopped queue */
	EXPECT_EQ(-1, vt_vq_call_within(self->q, DELAY_MS + 200));
	/* started again, it goes on */
	ASSERT_EQ(0, vt_dev_run(&self->d, 1));
	reclaim(self->q);
	POST_USED(1);
	EXPECT_LE(0, vt_vq_call_within(self->q, DELAY_MS + 5000));
}

/* (d) Closing the device with a deferred interrupt: dropped, no hang. */
TEST_F_TIMEOUT(sig, close_drops_pending, 30)
{
	int64_t t;

	START(EIDX);
	ASSERT_EQ(0, warm_up(self));
	POST_USED(2);
	t = vt_now_ms();
	vt_dev_close_fd(&self->d);
	t = vt_now_ms() - t;
	TH_LOG("closed in %lld ms", (long long)t);
	EXPECT_GT(1000, t);
	/* no timer or work ran after the device was gone */
	EXPECT_EQ(-1, vt_vq_call_within(self->q, DELAY_MS + 500));
}

/*
 * (d) Close and stop racing the timer: short delays, many devices. The
 * debug kernel (KASAN, kmemleak) watches.
 */
TEST_F_TIMEOUT(sig, teardown_races_timer, 40)
{
	unsigned int i;

	for (i = 0; i < 40; i++) {
		ASSERT_EQ(0, set_delay(1 + i % 4));
		START(EIDX);
		ASSERT_EQ(0, post(self, 1 + i % 3));
		usleep((i % 5) * 1000);
		if (i % 2)
			ASSERT_EQ(0, vt_dev_run(&self->d, 0));
		vt_dev_close(&self->d);
		close(self->file);
		self->file = -1;
	}
	/* the module's state is sound: a device still works */
	ASSERT_EQ(0, set_delay(DELAY_MS));
	START(EIDX);
	ASSERT_EQ(0, warm_up(self));
}

/* (e) Without EVENT_IDX: at once, unless the guest said no interrupt. */
TEST_F_TIMEOUT(sig, no_event_idx_at_once, 30)
{
	int64_t t;

	START(VT_F_VERSION_1);
	POST_USED(2);
	t = vt_now_ms();
	EXPECT_LE(0, vt_vq_call_within(self->q, DELAY_MS / 2));
	EXPECT_GT(DELAY_MS / 2, vt_now_ms() - t);
	EXPECT_LE(1ULL, vt_vq_calls(self->q));
	reclaim(self->q);

	__atomic_store_n(&self->q->avail->flags, VRING_AVAIL_F_NO_INTERRUPT,
			 __ATOMIC_SEQ_CST);
	POST_USED(2);
	EXPECT_EQ(-1, vt_vq_call_within(self->q, DELAY_MS + 200));
	reclaim(self->q);

	__atomic_store_n(&self->q->avail->flags, 0, __ATOMIC_SEQ_CST);
	POST_USED(1);
	EXPECT_LE(0, vt_vq_call_within(self->q, DELAY_MS / 2));
}

/* The device's avail_event: the avail index it wants a kick after. */
static uint16_t avail_event(struct vt_vq *q)
{
	return __atomic_load_n((uint16_t *)&q->used->ring[q->num],
			       __ATOMIC_SEQ_CST);
}

/* One page buffer, kicked only if the device asks: whether it asked. */
static int post_asked(FIXTURE_DATA(sig) *self)
{
	struct vt_seg seg = { .addr = self->page, .len = VT_PAGE };
	uint64_t kicks = self->q->kicks;

	if (vt_vq_add(self->q, &seg, 1, NULL) < 0 || vt_vq_kick(self->q))
		return -1;
	return self->q->kicks != kicks;
}

/*
 * (f) Kick batching: after a pass that took a buffer the device asks for
 * no kick (avail_event stays behind) and takes a buffer added then within
 * the look delay; a look that finds the ring empty asks for the next kick
 * (avail_event = the avail index). With look_delay_ms 0: asked at once.
 */
TEST_F_TIMEOUT(sig, kicks_batched, 40)
{
	int64_t t;

	ASSERT_EQ(0, vt_write_long(LOOK, LOOK_MS));
	START(EIDX);
	ASSERT_EQ(0, warm_up(self));
	/* warm_up waited DELAY_MS + more: the look found nothing */
	usleep((LOOK_MS + 300) * 1000);
	EXPECT_EQ(self->q->avail_idx, avail_event(self->q));
	ASSERT_EQ(1, post_asked(self));
	ASSERT_EQ(1U, vt_vq_poll_used(self->q, 1, 5000));
	t = vt_now_ms();
	/* the pass took it: no kick wanted until its look */
	EXPECT_NE(self->q->avail_idx, avail_event(self->q));
	ASSERT_EQ(0, post_asked(self));
	ASSERT_EQ(2U, vt_vq_poll_used(self->q, 2, LOOK_MS + 5000));
	TH_LOG("a buffer added without a kick: taken %lld ms later "
	       "(look %d ms)", (long long)(vt_now_ms() - t), LOOK_MS);
	/* by the look: the pass had ended before its entry was used */
	EXPECT_LE(LOOK_MS / 2, vt_now_ms() - t);
	/* that look took a buffer: another look; then one finds nothing */
	usleep((2 * LOOK_MS + 300) * 1000);
	EXPECT_EQ(self->q->avail_idx, avail_event(self->q));
	ASSERT_EQ(1, post_asked(self));
	ASSERT_EQ(3U, vt_vq_poll_used(self->q, 3, 5000));
	reclaim(self->q);

	/* look_delay_ms 0 (once that pass's look is done): each asks */
	usleep((LOOK_MS + 300) * 1000);
	ASSERT_EQ(0, vt_write_long(LOOK, 0));
	ASSERT_EQ(1, post_asked(self));
	ASSERT_EQ(1U, vt_vq_poll_used(self->q, 1, 5000));
	usleep(100 * 1000);
	EXPECT_EQ(self->q->avail_idx, avail_event(self->q));
	ASSERT_EQ(1, post_asked(self));
	ASSERT_EQ(2U, vt_vq_poll_used(self->q, 2, 5000));
}

TEST_HARNESS_MAIN
