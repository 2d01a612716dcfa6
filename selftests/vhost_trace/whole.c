// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: multi-page buffers (6144 bytes, as the upstream trace-agent
 * sends several pages at once) over a small pipe (64 KiB). A pipe short
 * of room takes only part of such a buffer; whatever happens next - the
 * sink is swapped, the queue is reset, the guest rewrites the waiting
 * ring entry - every sink holds whole buffers only, in order, and the
 * counters only grow. Under drop the guest never waits. Needs
 * vhost_trace.ko.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vt_chunk.h"
#include "vt_pattern.h"

#include "kselftest_harness.h"

#define NUM		64
#define SIZE		6144
#define PIPE_SIZE	(64 * 1024)
#define TOTAL		400
#define BLOCK		VHOST_TRACE_POLICY_BLOCK
#define DROP		VHOST_TRACE_POLICY_DROP

struct sink {
	int rfd, wfd;		/* a pipe; or wfd a file, rfd -1 */
	struct vt_chunks chk;
};

FIXTURE(whole) {
	struct vt_dev d;
	struct vt_sender s;
	struct sink a, b;
	char buf[400];
};

static int sink_pipe(struct sink *k, bool gaps, uint64_t first)
{
	int fds[2], r = vt_pipe(fds, PIPE_SIZE);

	if (r)
		return r;
	k->rfd = fds[0];
	k->wfd = fds[1];
	fcntl(k->rfd, F_SETFL, O_NONBLOCK);
	return vt_chunks_init(&k->chk, SIZE, first, gaps);
}

static void sink_close(struct sink *k)
{
	if (k->rfd >= 0)
		close(k->rfd);
	if (k->wfd >= 0)
		close(k->wfd);
	k->rfd = k->wfd = -1;
	vt_chunks_free(&k->chk);
}

FIXTURE_SETUP(whole)
{
	vt_ignore_sigpipe();
	self->a.rfd = self->a.wfd = self->b.rfd = self->b.wfd = -1;
	ASSERT_EQ(0, vt_dev_setup(&self->d, 1, NUM,
				  VT_F_VERSION_1 | VT_F_EVENT_IDX, 4 << 20))
		TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_sender_init(&self->s, &self->d.mem, &self->d.tx[0],
				    SIZE, 2));
}

FIXTURE_TEARDOWN(whole)
{
	vt_dev_close(&self->d);
	vt_sender_free(&self->s);
	sink_close(&self->a);
	sink_close(&self->b);
}

static void drain_b(void *arg)
{
	struct sink *k = arg;

	vt_chunks_drain(&k->chk, k->rfd, SIZE_MAX);
}

/* The pipe's bytes now (FIONREAD). */
static int pipe_bytes(int fd)
{
	int n = -1;

	ioctl(fd, FIONREAD, &n);
	return n;
}

static int send_all(void *arg, int stall_ms)
{
	return vt_sender_run(arg, TOTAL, stall_ms, NULL, NULL);
}

/*
 * Send until no entry comes back: for 300 ms with the module saying the
 * port waits for room, or for 1 s. -ETIMEDOUT, or 0 if all went.
 */
static int send_until_waiting(FIXTURE_DATA(whole) *self)
{
	struct vt_stall st = {
		.ctl = self->d.ctl, .port = 0, .why = VT_STALL_WAITING,
		.stall_ms = 300, .max_ms = 1000,
		.run = send_all, .arg = &self->s, .done = &self->s.done,
	};

	return vt_run_until_stalled(&st);
}

/*
 * Fill sink a until the port waits, with the pipe holding a buffer's
 * first part (64 KiB is no multiple of 6144).
 */
static void __attribute__((noinline))
fill_a(struct __test_metadata *_metadata,
		   FIXTURE_DATA(whole) *self, unsigned int policy)
{
	struct vhost_trace_stats st;

	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->a.wfd, policy));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	if (policy == BLOCK) {
		EXPECT_EQ(-ETIMEDOUT, send_until_waiting(self));
	} else {
		EXPECT_EQ(0, vt_sender_run(&self->s, TOTAL / 2, 1000, NULL,
					   NULL));
	}
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("a full: pipe %d bytes; %s", pipe_bytes(self->a.rfd),
	       vt_stats_str(&st, self->buf, sizeof(self->buf)));
	if (policy == BLOCK) {
		/* a part of a buffer in the pipe, its rest owed */
		EXPECT_NE(0, pipe_bytes(self->a.rfd) % SIZE);
		EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_WAITING));
	} else {
		/* drop writes a buffer only when it fits whole */
		EXPECT_EQ(0, pipe_bytes(self->a.rfd) % SIZE);
		EXPECT_LT(0ULL, st.dropped_buffers);
	}
}

/* Detach, close our ends, read what is left: whole buffers only. */
static void __attribute__((noinline))
finish(struct __test_metadata *_metadata,
		   FIXTURE_DATA(whole) *self)
{
	struct sink *k[2] = { &self->a, &self->b };
	int i;

	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, -1, BLOCK));
	for (i = 0; i < 2; i++) {
		int64_t end = vt_now_ms() + 3000;
		ssize_t n;

		close(k[i]->wfd);
		k[i]->wfd = -1;
		fcntl(k[i]->rfd, F_SETFL, 0);
		/* EOF once the module let go of it */
		do {
			char buf[4096];

			n = read(k[i]->rfd, buf, sizeof(buf));
			if (n > 0)
				vt_chunks_feed(&k[i]->chk, buf, n);
		} while (n > 0 && vt_now_ms() < end);
		EXPECT_EQ(0, n);
		EXPECT_TRUE(vt_chunks_end(&k[i]->chk))
			TH_LOG("sink %c: %s", 'a' + i, k[i]->chk.why);
		TH_LOG("sink %c: %llu whole buffers, seq %lld..%llu", 'a' + i,
		       (unsigned long long)k[i]->chk.count,
		       (long long)k[i]->chk.first,
		       (unsigned long long)k[i]->chk.next - 1);
	}
}

/* Block: a swap while a buffer is half in the full pipe. */
TEST_F_TIMEOUT(whole, swap_block, 40)
{
	struct vhost_trace_stats st;

	ASSERT_EQ(0, sink_pipe(&self->a, false, 0));
	ASSERT_EQ(0, sink_pipe(&self->b, false, VT_CHUNK_ANY));
	fill_a(_metadata, self, BLOCK);

	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->b.wfd, BLOCK));
	/* a is still owed the rest of its buffer: b waits for it */
	EXPECT_EQ(-ETIMEDOUT, vt_sender_run(&self->s, TOTAL, 500, drain_b,
					    &self->b));
	EXPECT_EQ(0ULL, self->b.chk.bytes);
	/* a's reader reads: its buffer completes, then b gets the rest */
	vt_chunks_drain(&self->a.chk, self->a.rfd, SIZE_MAX);
	EXPECT_EQ(0, vt_sender_run(&self->s, TOTAL, 5000, drain_b, &self->b));
	finish(_metadata, self);
	EXPECT_EQ(0ULL, self->b.chk.bad);
	EXPECT_EQ(self->a.chk.next, self->b.chk.first);
	EXPECT_EQ((uint64_t)TOTAL, self->a.chk.count + self->b.chk.count);
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_EQ((uint64_t)TOTAL, st.buffers);
	EXPECT_EQ((uint64_t)TOTAL * SIZE, st.bytes);
	EXPECT_EQ(0ULL, st.dropped_buffers + st.sink_errors);
}

/* Drop: a swap away from a full pipe; the guest never waits. */
TEST_F_TIMEOUT(whole, swap_drop, 40)
{
	struct vhost_trace_stats st;

	ASSERT_EQ(0, sink_pipe(&self->a, true, 0));
	ASSERT_EQ(0, sink_pipe(&self->b, true, VT_CHUNK_ANY));
	fill_a(_metadata, self, DROP);
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->b.wfd, DROP));
	EXPECT_EQ(0, vt_sender_run(&self->s, TOTAL, 1000, drain_b, &self->b));
	TH_LOG("longest wait for a used entry: %lld ms",
	       (long long)self->s.max_wait_ms);
	EXPECT_GT(1000, self->s.max_wait_ms);
	vt_chunks_drain(&self->a.chk, self->a.rfd, SIZE_MAX);
	finish(_metadata, self);
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_EQ((uint64_t)TOTAL, st.buffers + st.dropped_buffers);
	EXPECT_EQ((uint64_t)TOTAL * SIZE, st.bytes + st.dropped_bytes);
	EXPECT_EQ(st.buffers, self->a.chk.count + self->b.chk.count);
	EXPECT_EQ(st.bytes, self->a.chk.bytes + self->b.chk.bytes);
	EXPECT_LT(self->a.chk.next - 1, self->b.chk.first);
}

/* Detach while a buffer is half in the pipe: the pipe gets its rest. */
TEST_F_TIMEOUT(whole, detach_block, 40)
{
	struct vhost_trace_stats st;
	int64_t end;

	ASSERT_EQ(0, sink_pipe(&self->a, false, 0));
	ASSERT_EQ(0, sink_pipe(&self->b, false, VT_CHUNK_ANY));
	fill_a(_metadata, self, BLOCK);
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, -1, BLOCK));
	/* the rest of the torn buffer arrives (2 s at most) */
	end = vt_now_ms() + 2000;
	do {
		vt_chunks_drain(&self->a.chk, self->a.rfd, SIZE_MAX);
		if (!self->a.chk.have)
			break;
		usleep(10 * 1000);
	} while (vt_now_ms() < end);
	EXPECT_EQ(0U, self->a.chk.have) TH_LOG("a ends in a torn buffer");
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->b.wfd, BLOCK));
	EXPECT_EQ(0, vt_sender_run(&self->s, TOTAL, 5000, drain_b, &self->b));
	finish(_metadata, self);
	EXPECT_EQ(self->a.chk.next, self->b.chk.first);
	EXPECT_EQ((uint64_t)TOTAL, self->a.chk.count + self->b.chk.count);
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	EXPECT_EQ((uint64_t)TOTAL, st.buffers);
}

/*
 * A queue reset (stop, rings set up again from scratch, start) while a
 * buffer is half in the pipe: the sink still holds whole buffers, and
 * after the guest sends again from its first buffer not used, nothing is
 * lost or doubled. Stop answers at once although the sink is full.
 */
TEST_F_TIMEOUT(whole, reset_mid_buffer, 40)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;
	int64_t t;

	ASSERT_EQ(0, sink_pipe(&self->a, false, 0));
	self->b.rfd = self->b.wfd = -1;
	fill_a(_metadata, self, BLOCK);

	t = vt_now_ms();
	ASSERT_EQ(0, vt_dev_run(&self->d, 0)) TH_LOG("%s", vt_error());
	t = vt_now_ms() - t;
	TH_LOG("stop took %lld ms", (long long)t);
	EXPECT_GT(500, t);
	vt_sender_reap(&self->s);
	vt_vq_reset(q);
	vt_sender_rewind(&self->s);
	ASSERT_EQ(0, vt_dev_set_vring(&self->d, q)) TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());

	EXPECT_EQ(0, vt_sender_run(&self->s, TOTAL, 5000, drain_b, &self->a));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, TOTAL, 2000, &st));
	vt_chunks_drain(&self->a.chk, self->a.rfd, SIZE_MAX);
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, -1, BLOCK));
	close(self->a.wfd);
	self->a.wfd = -1;
	usleep(100 * 1000);
	vt_chunks_drain(&self->a.chk, self->a.rfd, SIZE_MAX);
	EXPECT_TRUE(vt_chunks_end(&self->a.chk)) TH_LOG("%s", self->a.chk.why);
	EXPECT_EQ((uint64_t)TOTAL, self->a.chk.count);
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_EQ((uint64_t)TOTAL, st.buffers);
	EXPECT_EQ((uint64_t)TOTAL * SIZE, st.bytes);
}

static bool grown(const struct vhost_trace_stats *a,
		  const struct vhost_trace_stats *b)
{
	return b->bytes >= a->bytes && b->buffers >= a->buffers &&
	       b->dropped_bytes >= a->dropped_bytes &&
	       b->dropped_buffers >= a->dropped_buffers &&
	       b->stalls >= a->stalls && b->sink_errors >= a->sink_errors &&
	       b->bad_buffers >= a->bad_buffers &&
	       b->queue_errors >= a->queue_errors;
}

/*
 * The guest rewrites the length of the ring entry the port waits on,
 * again and again, while the pipe drains a little at a time: the counters
 * only grow, and the sink got exactly the bytes counted.
 */
static void rewrite_between_retries(struct __test_metadata *_metadata,
				    FIXTURE_DATA(whole) *self,
				    unsigned int policy)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats prev, st, base;
	uint64_t got = 0;
	char buf[1024];
	int i;

	sink_close(&self->a);
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &base));
	ASSERT_EQ(0, sink_pipe(&self->a, false, 0));
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->a.wfd, policy));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	vt_sender_run(&self->s, self->s.posted + TOTAL, 300, NULL, NULL);
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &prev));
	srand(1);
	for (i = 0; i < 300; i++) {
		unsigned int k;
		ssize_t n;

		/* every descriptor posted and not used: a new length */
		for (k = 0; k < q->num; k++)
			if (self->s.slot_of[k] >= 0)
				q->desc[k].len = 1 + rand() % (2 * SIZE);
		vt_vq_kick_always(q);
		n = read(self->a.rfd, buf, 1 + rand() % sizeof(buf));
		if (n > 0)
			got += n;
		vt_sender_reap(&self->s);
		vt_sender_post(&self->s, self->s.posted + 4);
		usleep(1000);
		ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
		ASSERT_TRUE(grown(&prev, &st))
			TH_LOG("round %d: counters went back: %s", i,
			       vt_stats_str(&st, self->buf, sizeof(self->buf)));
		prev = st;
	}
	/* the rest in the pipe, once the port has let go of it */
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, -1, policy));
	close(self->a.wfd);
	self->a.wfd = -1;
	fcntl(self->a.rfd, F_SETFL, 0);
	for (;;) {
		ssize_t n = read(self->a.rfd, buf, sizeof(buf));

		if (n <= 0)
			break;
		got += n;
	}
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("%s; the pipe gave %llu bytes",
	       vt_stats_str(&st, self->buf, sizeof(self->buf)),
	       (unsigned long long)got);
	EXPECT_TRUE(grown(&prev, &st));
	EXPECT_EQ(st.bytes - base.bytes, got);
	EXPECT_LT(base.buffers + 10, st.buffers);
}

TEST_F_TIMEOUT(whole, rewrite_between_retries, 60)
{
	unsigned int policy;

	for (policy = BLOCK; policy <= DROP; policy++) {
		TH_LOG("policy %s", policy == BLOCK ? "block" : "drop");
		rewrite_between_retries(_metadata, self, policy);
	}
}

TEST_HARNESS_MAIN
