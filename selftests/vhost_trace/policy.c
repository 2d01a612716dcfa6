// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: a port's policy when its sink is full or absent.
 * block: the ring fills and the guest sees no used entries any more, the
 * port is counted waiting, nothing is lost, and the transfer completes
 * byte for byte once the reader drains the pipe.
 * drop: the guest never waits; every buffer comes back used and
 * sent == delivered + dropped, in bytes and in buffers, the delivered data
 * being whole pages in order. Needs vhost_trace.ko.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_pattern.h"
#include "vt_producer.h"

#include "kselftest_harness.h"

#define NUM		256
#define PAGES		2048	/* 8 MiB, the ring 8 times over */
#define PIPE_SIZE	(16 * VT_PAGE)
#define STALL_MS	1500	/* no used entry for that long: stalled */
/* or for that long, and the module says the port waits (vt_prod_stall) */
#define SHORT_STALL_MS	500
#define DONE_MS		10000
#define PROMPT_MS	2000	/* drop: longest wait for a used entry */

#define BLOCK	VHOST_TRACE_POLICY_BLOCK
#define DROP	VHOST_TRACE_POLICY_DROP

FIXTURE(policy) {
	struct vt_dev d;
	struct vt_producer pr;
	struct vt_reader rd;
	int pipe[2];
	char buf[400];
};

FIXTURE_SETUP(policy)
{
	vt_ignore_sigpipe();
	self->pipe[0] = self->pipe[1] = -1;
	ASSERT_EQ(0, vt_dev_setup(&self->d, 1, NUM,
				  VT_F_VERSION_1 | VT_F_EVENT_IDX, 4 << 20))
		TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_prod_init(&self->pr, &self->d.mem, &self->d.tx[0], 0,
				  1, false));
	ASSERT_EQ(0, vt_pipe(self->pipe, PIPE_SIZE));
}

FIXTURE_TEARDOWN(policy)
{
	if (self->rd.started)
		vt_reader_finish(&self->rd, 0);
	vt_prod_free(&self->pr);
	if (self->pipe[0] >= 0)
		close(self->pipe[0]);
	if (self->pipe[1] >= 0)
		close(self->pipe[1]);
	vt_dev_close(&self->d);
}

/* A reader on the pipe that does not read yet. */
static int start_stopped_reader(struct vt_reader *rd, int fd,
				unsigned int flags)
{
	int r = vt_reader_start(rd, fd, 0, 0, flags);

	vt_reader_pause(rd, true);
	return r;
}

/* Detach the sink, close our write end: the reader gets EOF. */
static bool finish_reader(struct vt_dev *d, int pipe[2], struct vt_reader *rd)
{
	if (vt_set_sink(d->ctl, 0, -1, BLOCK))
		return false;
	close(pipe[1]);
	pipe[1] = -1;
	return vt_reader_finish(rd, 5000);
}

static int pipe_bytes(int fd)
{
	int n = -1;

	ioctl(fd, FIONREAD, &n);
	return n;
}

TEST_F_TIMEOUT(policy, block_reader_stops, 40)
{
	struct vhost_trace_stats st;
	uint64_t got;

	ASSERT_EQ(0, start_stopped_reader(&self->rd, self->pipe[0], 0));
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->pipe[1], BLOCK));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());

	/* the pipe fills, then the ring: no used entry comes back */
	ASSERT_EQ(-ETIMEDOUT, vt_prod_stall(&self->pr, self->d.ctl, PAGES,
						 SHORT_STALL_MS, STALL_MS));
	TH_LOG("%s", self->pr.why);
	EXPECT_EQ(0U, self->d.tx[0].nfree);
	EXPECT_EQ((unsigned int)NUM, vt_prod_inflight(&self->pr));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("stalled: %s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_WAITING));
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_SINK));
	EXPECT_LE(1ULL, st.stalls);
	EXPECT_EQ(0ULL, st.dropped_buffers);
	EXPECT_EQ(0ULL, st.dropped_bytes);
	EXPECT_EQ(self->pr.done, st.buffers);
	EXPECT_EQ(st.buffers * VT_PAGE, st.bytes);
	/* what was written is in the pipe (or was read before the pause) */
	got = vt_reader_bytes(&self->rd) + pipe_bytes(self->pipe[0]);
	EXPECT_EQ(st.bytes, got);

	/* the reader drains: everything arrives, in order */
	vt_reader_pause(&self->rd, false);
	EXPECT_EQ(0, vt_prod_run(&self->pr, PAGES, DONE_MS))
		TH_LOG("%s", self->pr.why);
	EXPECT_EQ(0, vt_wait_stats(self->d.ctl, 0, PAGES, 2000, &st));
	TH_LOG("done: %s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_EQ((uint64_t)PAGES, st.buffers);
	EXPECT_EQ((uint64_t)PAGES * VT_PAGE, st.bytes);
	EXPECT_EQ(0ULL, st.dropped_buffers);
	EXPECT_EQ(0ULL, st.sink_errors);
	EXPECT_LE(1ULL, st.stalls);
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_WAITING));
	EXPECT_TRUE(finish_reader(&self->d, self->pipe, &self->rd))
		TH_LOG("%s", self->rd.chk.why);
	EXPECT_EQ((uint64_t)PAGES, self->rd.chk.pages);
}

TEST_F_TIMEOUT(policy, drop_reader_stops, 40)
{
	struct vhost_trace_stats st;

	ASSERT_EQ(0, start_stopped_reader(&self->rd, self->pipe[0],
					  VT_CHECK_GAPS));
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->pipe[1], DROP));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());

	/* the guest never waits long for the stopped reader */
	EXPECT_EQ(0, vt_prod_run(&self->pr, PAGES, PROMPT_MS))
		TH_LOG("%s", self->pr.why);
	TH_LOG("longest wait for a used entry: %lld ms",
	       (long long)self->pr.max_wait_ms);
	EXPECT_EQ(0, vt_wait_stats(self->d.ctl, 0, PAGES, 2000, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_EQ((uint64_t)PAGES, st.buffers + st.dropped_buffers);
	EXPECT_EQ((uint64_t)PAGES * VT_PAGE, st.bytes + st.dropped_bytes);
	EXPECT_EQ(st.buffers * VT_PAGE, st.bytes);
	EXPECT_EQ(st.dropped_buffers * VT_PAGE, st.dropped_bytes);
	EXPECT_LT(0ULL, st.dropped_buffers);
	EXPECT_LT(0ULL, st.buffers);
	EXPECT_EQ(0ULL, st.bad_buffers);
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_WAITING));

	/* delivered: whole pages, in order, exactly those counted */
	EXPECT_TRUE(finish_reader(&self->d, self->pipe, &self->rd))
		TH_LOG("%s", self->rd.chk.why);
	EXPECT_EQ(st.buffers, self->rd.chk.pages);
	EXPECT_EQ(st.bytes, self->rd.chk.bytes);
}

TEST_F_TIMEOUT(policy, drop_without_sink, 30)
{
	struct vhost_trace_stats st;

	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, -1, DROP));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	EXPECT_EQ(0, vt_prod_run(&self->pr, PAGES, PROMPT_MS))
		TH_LOG("%s", self->pr.why);
	EXPECT_EQ(0, vt_wait_stats(self->d.ctl, 0, PAGES, 2000, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_EQ((uint64_t)PAGES, st.dropped_buffers);
	EXPECT_EQ((uint64_t)PAGES * VT_PAGE, st.dropped_bytes);
	EXPECT_EQ(0ULL, st.buffers);
	EXPECT_EQ(0ULL, st.bytes);
}

TEST_F_TIMEOUT(policy, block_without_sink, 30)
{
	struct vhost_trace_stats st;

	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, -1, BLOCK));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	/* nothing is used without a sink */
	EXPECT_EQ(-ETIMEDOUT, vt_prod_stall(&self->pr, self->d.ctl, PAGES,
						 SHORT_STALL_MS, STALL_MS));
	EXPECT_EQ(0ULL, self->pr.done);
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	EXPECT_EQ(0ULL, st.buffers + st.dropped_buffers);

	/* a sink comes: everything arrives */
	ASSERT_EQ(0, vt_reader_start(&self->rd, self->pipe[0], 0, 0, 0));
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->pipe[1], BLOCK));
	EXPECT_EQ(0, vt_prod_run(&self->pr, PAGES, DONE_MS))
		TH_LOG("%s", self->pr.why);
	EXPECT_EQ(0, vt_wait_stats(self->d.ctl, 0, PAGES, 2000, &st));
	EXPECT_EQ((uint64_t)PAGES, st.buffers);
	EXPECT_EQ(0ULL, st.dropped_buffers);
	EXPECT_TRUE(finish_reader(&self->d, self->pipe, &self->rd))
		TH_LOG("%s", self->rd.chk.why);
	EXPECT_EQ((uint64_t)PAGES, self->rd.chk.pages);
}

/* Stop the reader thread and close the read end: the pipe has no reader. */
static void kill_reader(struct vt_reader *rd, int pipe[2])
{
	vt_reader_finish(rd, 0);
	close(pipe[0]);
	pipe[0] = -1;
}

/*
 * After the sink failed, a new sink gets the rest: the port resumes
 * with the first page not written, and nothing is lost after it.
 */
static void resume_into_new_pipe(struct __test_metadata *_metadata,
				 FIXTURE_DATA(policy) *self, uint64_t first)
{
	struct vhost_trace_stats st;

	close(self->pipe[1]);
	ASSERT_EQ(0, vt_pipe(self->pipe, PIPE_SIZE));
	ASSERT_EQ(0, vt_reader_start(&self->rd, self->pipe[0], 0, 0,
				     VT_CHECK_ANY_START));
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->pipe[1], BLOCK));
	EXPECT_EQ(0, vt_prod_run(&self->pr, PAGES, DONE_MS))
		TH_LOG("%s", self->pr.why);
	EXPECT_EQ(0, vt_wait_stats(self->d.ctl, 0, PAGES, 2000, &st));
	EXPECT_EQ((uint64_t)PAGES, st.buffers);
	EXPECT_TRUE(finish_reader(&self->d, self->pipe, &self->rd))
		TH_LOG("%s", self->rd.chk.why);
	EXPECT_EQ(first, self->rd.chk.first_seq);
	EXPECT_EQ((uint64_t)PAGES, self->rd.chk.next_seq);
}

/* The reader goes away: the next write fails with EPIPE, counted. */
TEST_F_TIMEOUT(policy, reader_gone, 30)
{
	struct vhost_trace_stats st;
	int64_t end;

	ASSERT_EQ(0, vt_reader_start(&self->rd, self->pipe[0], 0, 0, 0));
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->pipe[1], BLOCK));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_prod_run(&self->pr, PAGES / 4, DONE_MS));
	end = vt_now_ms() + 5000;
	while (vt_reader_bytes(&self->rd) < PAGES / 4 * VT_PAGE &&
	       vt_now_ms() < end)
		usleep(1000);
	ASSERT_EQ((uint64_t)PAGES / 4, self->rd.chk.pages);
	kill_reader(&self->rd, self->pipe);

	/* block: what cannot be written waits in the ring */
	EXPECT_EQ(-ETIMEDOUT, vt_prod_stall(&self->pr, self->d.ctl, PAGES,
						 SHORT_STALL_MS, STALL_MS));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_LE(1ULL, st.sink_errors);
	EXPECT_EQ(EPIPE, st.last_error);
	EXPECT_EQ((uint64_t)PAGES / 4, st.buffers);
	EXPECT_EQ((uint64_t)PAGES / 4 * VT_PAGE, st.bytes);
	resume_into_new_pipe(_metadata, self, PAGES / 4);
}

/*
 * The reader goes away while the port waits for room in the full pipe:
 * there will never be room, the write fails with EPIPE and is counted,
 * and the port no longer says it waits for room.
 */
TEST_F_TIMEOUT(policy, reader_gone_while_waiting, 30)
{
	struct vhost_trace_stats st;
	uint64_t first;
	int64_t end;

	ASSERT_EQ(0, start_stopped_reader(&self->rd, self->pipe[0], 0));
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->pipe[1], BLOCK));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	ASSERT_EQ(-ETIMEDOUT, vt_prod_stall(&self->pr, self->d.ctl, PAGES,
						 SHORT_STALL_MS, STALL_MS));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	ASSERT_TRUE(!!(st.flags & VHOST_TRACE_STATS_WAITING));
	/* the pages in the pipe are lost with it; the rest must not be */
	first = self->rd.chk.pages + pipe_bytes(self->pipe[0]) / VT_PAGE;
	EXPECT_EQ(st.buffers, first);
	kill_reader(&self->rd, self->pipe);

	end = vt_now_ms() + 3000;
	do {
		usleep(10000);
		ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	} while (!st.sink_errors && vt_now_ms() < end);
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_LE(1ULL, st.sink_errors)
		TH_LOG("the port still waits for room in a pipe without reader");
	EXPECT_EQ(EPIPE, st.last_error);
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_WAITING));
	EXPECT_EQ(first, st.buffers);
	resume_into_new_pipe(_metadata, self, first);
}

TEST_HARNESS_MAIN
