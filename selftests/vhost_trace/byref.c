// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: a pipe sink fed by reference (VHOST_TRACE_SINK_BY_REF).
 * The guest's pages go into the pipe without a copy (the statistics say
 * so), the stream is intact, and a buffer is returned to the guest only
 * once the pipe has let go of its pages: read, spliced to a file or a
 * socket, tee'd and both pipes read. Teardown with pages in the pipe: the reader
 * closes, the sink is swapped, the device fd is closed, the owner is
 * SIGKILLed (its memory gone: the pipe still reads right), the queue is
 * stopped; no loan is left behind (the module's use count comes back).
 * A guest rewriting a page in the pipe changes what the reader reads
 * (the documented contract). Block lends and waits for free slots, drop
 * copies (the guest never waits); small buffers are copied. Needs
 * vhost_trace.ko.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_pattern.h"
#include "vt_producer.h"

#include "kselftest_harness.h"

/*
 * 6.12's harness keeps a local across its setjmp(); with these test bodies
 * inlined into its wrappers GCC warns about it (the harness's variable,
 * not ours).
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#define NUM		64
#define SLOTS		16		/* pipe of 64 KiB */
#define BLOCK		VHOST_TRACE_POLICY_BLOCK
#define DROP		VHOST_TRACE_POLICY_DROP
#define BY_REF		VHOST_TRACE_SINK_BY_REF

static int set_sink(int ctl, int fd, unsigned int policy, unsigned int flags)
{
	struct vhost_trace_sink s = {
		.port = 0, .fd = fd, .policy = policy, .flags = flags,
	};

	return ioctl(ctl, VHOST_TRACE_SET_SINK, &s) ? -errno : 0;
}

/* The guest's pages: page seq % NUM of a pool. */
static uint8_t *page_of(uint8_t *pool, uint64_t seq)
{
	return pool + (seq % NUM) * VT_PAGE;
}

/* Post pages seq .. seq + n - 1, one buffer each; kick. */
static int post(struct vt_vq *q, uint8_t *pool, uint64_t seq, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct vt_seg seg = { .addr = page_of(pool, seq + i),
				      .len = VT_PAGE };

		vt_fill_words(page_of(pool, seq + i), 0, seq + i, 0,
			      VT_PAGE_WORDS);
		if (vt_vq_add(q, &seg, 1, NULL) < 0)
			return -1;
	}
	return vt_vq_kick_always(q);
}

static unsigned int reap(struct vt_vq *q)
{
	void *tok[NUM];
	uint32_t len[NUM];

	return vt_vq_reap(q, tok, len, NUM);
}

/* Read n pages from fd into the checker. */
static bool read_pages(int fd, struct vt_check *c, unsigned int n)
{
	static uint8_t buf[SLOTS * VT_PAGE * 4];
	size_t want = (size_t)n * VT_PAGE, got = 0;

	while (got < want) {
		ssize_t r = read(fd, buf, want - got);

		if (r <= 0)
			return false;
		if (!vt_check_feed(c, buf, r))
			return false;
		got += r;
	}
	return true;
}

static void get_stats(int ctl, struct vhost_trace_stats *st)
{
	if (vt_get_stats(ctl, 0, st))
		memset(st, 0xff, sizeof(*st));
}

FIXTURE(byref) {
	struct vt_dev d;
	uint8_t *pool;
	int pipe[2];
	long refcnt0;
};

FIXTURE_SETUP(byref)
{
	self->pipe[0] = self->pipe[1] = -1;
	vt_ignore_sigpipe();
	self->refcnt0 = vt_module_refcnt();
	ASSERT_EQ(0, vt_dev_setup(&self->d, 1, NUM, VT_F_VERSION_1, 4 << 20))
		TH_LOG("%s", vt_error());
	self->pool = vt_mem_alloc(&self->d.mem, NUM * VT_PAGE, VT_PAGE);
	ASSERT_NE(NULL, self->pool);
	ASSERT_EQ(0, vt_pipe(self->pipe, SLOTS * VT_PAGE));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
}

FIXTURE_TEARDOWN(byref)
{
	if (self->pipe[0] >= 0)
		close(self->pipe[0]);
	if (self->pipe[1] >= 0)
		close(self->pipe[1]);
	vt_dev_close(&self->d);
}

/* Pages by reference, returned as they are read; the stream intact. */
TEST_F_TIMEOUT(byref, returned_when_read, 30)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;
	struct vt_producer pr;
	struct vt_reader rd;
	struct vt_check c;
	char buf[400];
	int fds[2];

	vt_check_init(&c, 0, 0, 0);
	ASSERT_EQ(0, set_sink(self->d.ctl, self->pipe[1], BLOCK, BY_REF));
	ASSERT_EQ(0, post(q, self->pool, 0, 8));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 8, 5000, &st));
	TH_LOG("%s", vt_stats_str(&st, buf, sizeof(buf)));
	EXPECT_EQ(8ULL * VT_PAGE, st.bytes);
	EXPECT_EQ(8ULL * VT_PAGE, st.ref_bytes);
	EXPECT_EQ(0ULL, st.copied_bytes);
	EXPECT_EQ(8ULL, st.ref_buffers);
	EXPECT_EQ(8ULL, st.ref_pending);
	/* in the pipe, not returned */
	EXPECT_EQ(0U, vt_vq_settle(q));

	ASSERT_TRUE(read_pages(self->pipe[0], &c, 3)) TH_LOG("%s", c.why);
	EXPECT_EQ(3U, vt_vq_wait_used(q, 3, 3000));
	EXPECT_EQ(3U, vt_vq_settle(q));
	get_stats(self->d.ctl, &st);
	EXPECT_EQ(5ULL, st.ref_pending);
	ASSERT_TRUE(read_pages(self->pipe[0], &c, 5)) TH_LOG("%s", c.why);
	EXPECT_EQ(8U, vt_vq_wait_used(q, 8, 3000));
	EXPECT_EQ(8U, reap(q));
	get_stats(self->d.ctl, &st);
	EXPECT_EQ(0ULL, st.ref_pending);

	/* a stream of 2048 pages through a reader thread, ring kept full */
	ASSERT_EQ(0, vt_pipe(fds, SLOTS * VT_PAGE));
	ASSERT_EQ(0, set_sink(self->d.ctl, fds[1], BLOCK, BY_REF));
	close(fds[1]);
	ASSERT_EQ(0, vt_prod_init(&pr, &self->d.mem, q, 0, 1, false));
	ASSERT_EQ(0, vt_reader_start(&rd, fds[0], 0, 0, 0));
	ASSERT_EQ(0, vt_prod_start(&pr, 2048, 10000));
	EXPECT_EQ(0, vt_prod_join(&pr)) TH_LOG("%s", pr.why);
	EXPECT_EQ(0, set_sink(self->d.ctl, -1, BLOCK, 0));
	EXPECT_TRUE(vt_reader_finish(&rd, 5000)) TH_LOG("%s", rd.chk.why);
	EXPECT_EQ(2048ULL, rd.chk.pages);
	vt_prod_free(&pr);
	close(fds[0]);
	get_stats(self->d.ctl, &st);
	TH_LOG("%s", vt_stats_str(&st, buf, sizeof(buf)));
	EXPECT_EQ((8ULL + 2048) * VT_PAGE, st.ref_bytes);
	EXPECT_EQ(0ULL, st.copied_bytes);
	EXPECT_EQ(0ULL, st.ref_pending);
}

/* splice() to a file returns the buffers; tee() keeps them out until both. */
TEST_F_TIMEOUT(byref, splice_and_tee, 30)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;
	struct vt_check c;
	int file, p2[2];
	ssize_t r;

	ASSERT_EQ(0, set_sink(self->d.ctl, self->pipe[1], BLOCK, BY_REF));
	ASSERT_EQ(0, post(q, self->pool, 0, 4));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 4, 5000, &st));
	file = vt_tmpfile("/tmp");
	ASSERT_LE(0, file);
	r = splice(self->pipe[0], NULL, file, NULL, 4 * VT_PAGE, 0);
	EXPECT_EQ((ssize_t)(4 * VT_PAGE), r);
	EXPECT_EQ(4U, vt_vq_wait_used(q, 4, 3000));
	EXPECT_EQ(4U, reap(q));
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(vt_check_file(&c, file)) TH_LOG("%s", c.why);
	EXPECT_EQ(4ULL, c.pages);
	close(file);

	/* tee into a second pipe: out until both pipes are read */
	ASSERT_EQ(0, vt_pipe(p2, SLOTS * VT_PAGE));
	ASSERT_EQ(0, post(q, self->pool, 4, 4));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 8, 5000, &st));
	r = tee(self->pipe[0], p2[1], 4 * VT_PAGE, 0);
	EXPECT_EQ((ssize_t)(4 * VT_PAGE), r);
	vt_check_init(&c, 0, 4, 0);
	EXPECT_TRUE(read_pages(self->pipe[0], &c, 4)) TH_LOG("%s", c.why);
	EXPECT_EQ(0U, vt_vq_settle(q));
	get_stats(self->d.ctl, &st);
	EXPECT_EQ(4ULL, st.ref_pending);
	vt_check_init(&c, 0, 4, 0);
	EXPECT_TRUE(read_pages(p2[0], &c, 4)) TH_LOG("%s", c.why);
	EXPECT_EQ(4U, vt_vq_wait_used(q, 4, 3000));
	get_stats(self->d.ctl, &st);
	EXPECT_EQ(0ULL, st.ref_pending);
	EXPECT_EQ(0ULL, st.copied_bytes);
	close(p2[0]);
	close(p2[1]);
	EXPECT_EQ(4U, reap(q));

	/*
	 * splice to a socket: the socket takes page references of its own
	 * and the buffers come back at once, before the peer reads them
	 * (the documented caveat: the guest may reuse them meanwhile).
	 */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, p2));
	ASSERT_EQ(0, post(q, self->pool, 8, 4));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 12, 5000, &st));
	r = splice(self->pipe[0], NULL, p2[1], NULL, 4 * VT_PAGE, 0);
	EXPECT_EQ((ssize_t)(4 * VT_PAGE), r);
	EXPECT_EQ(4U, vt_vq_wait_used(q, 4, 3000));
	vt_check_init(&c, 0, 8, 0);
	EXPECT_TRUE(read_pages(p2[0], &c, 4)) TH_LOG("%s", c.why);
	get_stats(self->d.ctl, &st);
	EXPECT_EQ(0ULL, st.ref_pending);
	EXPECT_EQ(12ULL * VT_PAGE, st.ref_bytes);
	close(p2[0]);
	close(p2[1]);
}

/*
 * The reader closes with pages in the pipe: the next buffer meets EPIPE,
 * the module lets go of the pipe, and the lent buffers come back.
 */
TEST_F_TIMEOUT(byref, reader_closes, 30)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;

	ASSERT_EQ(0, set_sink(self->d.ctl, self->pipe[1], BLOCK, BY_REF));
	close(self->pipe[1]);
	self->pipe[1] = -1;
	ASSERT_EQ(0, post(q, self->pool, 0, 4));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 4, 5000, &st));
	close(self->pipe[0]);
	self->pipe[0] = -1;
	EXPECT_EQ(0U, vt_vq_settle(q));
	ASSERT_EQ(0, post(q, self->pool, 4, 1));
	/* the four lent ones; the fifth waits for a sink (block) */
	EXPECT_EQ(4U, vt_vq_wait_used(q, 4, 3000));
	EXPECT_EQ(4U, vt_vq_settle(q));
	get_stats(self->d.ctl, &st);
	EXPECT_EQ(1ULL, st.sink_errors);
	EXPECT_EQ(EPIPE, st.last_error);
	EXPECT_EQ(0ULL, st.ref_pending);
}

/* A swap leaves the lent pages in the old pipe, returned as it is read. */
TEST_F_TIMEOUT(byref, sink_swapped, 30)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;
	struct vt_check c;
	int p2[2];

	ASSERT_EQ(0, vt_pipe(p2, SLOTS * VT_PAGE));
	ASSERT_EQ(0, set_sink(self->d.ctl, self->pipe[1], BLOCK, BY_REF));
	ASSERT_EQ(0, post(q, self->pool, 0, 4));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 4, 5000, &st));
	ASSERT_EQ(0, set_sink(self->d.ctl, p2[1], BLOCK, BY_REF));
	ASSERT_EQ(0, post(q, self->pool, 4, 4));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 8, 5000, &st));
	EXPECT_EQ(0U, vt_vq_settle(q));
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(read_pages(self->pipe[0], &c, 4)) TH_LOG("%s", c.why);
	EXPECT_EQ(4U, vt_vq_wait_used(q, 4, 3000));
	EXPECT_EQ(4U, vt_vq_settle(q));
	EXPECT_TRUE(read_pages(p2[0], &c, 4)) TH_LOG("%s", c.why);
	EXPECT_EQ(8U, vt_vq_wait_used(q, 8, 3000));
	close(p2[0]);
	close(p2[1]);
}

/*
 * The owner stops the queue: every lent buffer is returned at once, the
 * pages stay readable in the pipe. Then the device fd is closed with
 * pages in the pipe: never returned, still readable, no loan left.
 */
TEST_F_TIMEOUT(byref, stop_and_close, 30)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;
	struct vt_check c;

	ASSERT_EQ(0, set_sink(self->d.ctl, self->pipe[1], BLOCK, BY_REF));
	ASSERT_EQ(0, post(q, self->pool, 0, 4));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 4, 5000, &st));
	EXPECT_EQ(0U, vt_vq_settle(q));
	ASSERT_EQ(0, vt_dev_run(&self->d, 0));
	EXPECT_EQ(4U, vt_vq_pending(q));
	EXPECT_EQ(4U, reap(q));
	get_stats(self->d.ctl, &st);
	EXPECT_EQ(4ULL, st.ref_pending);
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(read_pages(self->pipe[0], &c, 4)) TH_LOG("%s", c.why);
	EXPECT_EQ(0U, vt_vq_settle(q));
	get_stats(self->d.ctl, &st);
	EXPECT_EQ(0ULL, st.ref_pending);

	ASSERT_EQ(0, vt_dev_run(&self->d, 1));
	ASSERT_EQ(0, post(q, self->pool, 4, 4));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 8, 5000, &st));
	vt_dev_close_fd(&self->d);
	get_stats(self->d.ctl, &st);
	EXPECT_TRUE((st.flags & VHOST_TRACE_STATS_RELEASED) != 0);
	EXPECT_EQ(4ULL, st.ref_pending);
	EXPECT_TRUE(read_pages(self->pipe[0], &c, 4)) TH_LOG("%s", c.why);
	EXPECT_EQ(0U, vt_vq_settle(q));
	get_stats(self->d.ctl, &st);
	EXPECT_EQ(0ULL, st.ref_pending);
}

/*
 * The owner is SIGKILLed with its pages in the pipe: they outlive its
 * memory, read right, and once the pipe is gone nothing holds the module.
 */
TEST_F_TIMEOUT(byref, owner_killed, 30)
{
	struct vt_check c;
	int p2[2], sync[2], status;
	long base;
	pid_t pid;
	char ch;

	/* only the child's device: let go of the fixture's */
	vt_dev_close(&self->d);
	base = vt_module_refcnt();
	ASSERT_EQ(0, vt_pipe(p2, SLOTS * VT_PAGE));
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vhost_trace_stats st;
		struct vt_dev d;
		uint8_t *pool;

		close(sync[0]);
		if (vt_dev_setup(&d, 1, NUM, VT_F_VERSION_1, 4 << 20))
			_exit(1);
		pool = vt_mem_alloc(&d.mem, NUM * VT_PAGE, VT_PAGE);
		if (!pool || vt_dev_run(&d, 1) ||
		    set_sink(d.ctl, p2[1], BLOCK, BY_REF) ||
		    post(&d.tx[0], pool, 0, 8) ||
		    vt_wait_stats(d.ctl, 0, 8, 5000, &st))
			_exit(1);
		if (write(sync[1], "k", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(sync[1]);
	close(p2[1]);
	ASSERT_EQ(1, read(sync[0], &ch, 1));
	close(sync[0]);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	/* its memory is gone; the pipe still holds the pages it lent */
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(read_pages(p2[0], &c, 8)) TH_LOG("%s", c.why);
	close(p2[0]);
	EXPECT_EQ(base, vt_module_refcnt());
}

/* A guest that rewrites a page in the pipe changes what the reader reads. */
TEST_F_TIMEOUT(byref, guest_rewrites, 30)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;
	uint8_t buf[VT_PAGE];
	unsigned int i, same = 0;

	ASSERT_EQ(0, set_sink(self->d.ctl, self->pipe[1], BLOCK, BY_REF));
	ASSERT_EQ(0, post(q, self->pool, 0, 1));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 1, 5000, &st));
	memset(page_of(self->pool, 0), 0xa5, VT_PAGE);
	ASSERT_EQ((ssize_t)VT_PAGE, read(self->pipe[0], buf, VT_PAGE));
	for (i = 0; i < VT_PAGE; i++)
		same += buf[i] == 0xa5;
	EXPECT_EQ(VT_PAGE, same);
	EXPECT_EQ(1U, vt_vq_wait_used(q, 1, 3000));
}

/*
 * Drop copies (a lent buffer would keep the guest waiting for the reader):
 * what the pipe has no room for is dropped whole and returned at once,
 * the rest returned as written. Block lends, and a buffer the pipe has
 * no free slots for waits in the ring until the reader reads.
 */
TEST_F_TIMEOUT(byref, policies, 30)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;
	struct vt_check c;

	ASSERT_EQ(0, set_sink(self->d.ctl, self->pipe[1], DROP, BY_REF));
	ASSERT_EQ(0, post(q, self->pool, 0, SLOTS + 4));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, SLOTS + 4, 5000, &st));
	EXPECT_EQ(0ULL, st.ref_buffers);
	EXPECT_EQ((unsigned long long)SLOTS * VT_PAGE, st.copied_bytes);
	EXPECT_EQ(4ULL, st.dropped_buffers);
	EXPECT_EQ((unsigned int)SLOTS + 4, vt_vq_wait_used(q, SLOTS + 4, 3000));
	EXPECT_EQ((unsigned int)SLOTS + 4, reap(q));
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(read_pages(self->pipe[0], &c, SLOTS)) TH_LOG("%s", c.why);

	/* block: the last 4 wait in the ring, then follow in order */
	ASSERT_EQ(0, set_sink(self->d.ctl, self->pipe[1], BLOCK, BY_REF));
	ASSERT_EQ(0, post(q, self->pool, 100, SLOTS + 4));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 2 * SLOTS + 4, 5000, &st));
	EXPECT_EQ(0U, vt_vq_settle(q));
	get_stats(self->d.ctl, &st);
	EXPECT_EQ((unsigned long long)SLOTS, st.ref_pending);
	EXPECT_TRUE((st.flags & VHOST_TRACE_STATS_WAITING) != 0);
	vt_check_init(&c, 0, 100, 0);
	EXPECT_TRUE(read_pages(self->pipe[0], &c, SLOTS + 4))
		TH_LOG("%s", c.why);
	EXPECT_EQ((unsigned int)SLOTS + 4, vt_vq_wait_used(q, SLOTS + 4, 3000));
	get_stats(self->d.ctl, &st);
	EXPECT_EQ((unsigned long long)SLOTS + 4, st.ref_buffers);
	EXPECT_EQ(4ULL, st.dropped_buffers);
	EXPECT_EQ((unsigned long long)SLOTS * VT_PAGE, st.copied_bytes);
}

/* Small buffers are copied (a slot each would fill the pipe). */
TEST_F_TIMEOUT(byref, small_copied, 30)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;
	char buf[4096];
	unsigned int i;
	ssize_t r;

	ASSERT_EQ(0, set_sink(self->d.ctl, self->pipe[1], BLOCK, BY_REF));
	for (i = 0; i < 40; i++) {
		struct vt_seg seg = { .addr = self->pool + i * 64, .len = 10 };

		memset(self->pool + i * 64, 'a' + i % 26, 10);
		ASSERT_LE(0, vt_vq_add(q, &seg, 1, NULL));
	}
	vt_vq_kick_always(q);
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 40, 5000, &st));
	EXPECT_EQ(400ULL, st.copied_bytes);
	EXPECT_EQ(0ULL, st.ref_bytes);
	EXPECT_EQ(40U, vt_vq_wait_used(q, 40, 3000));
	r = read(self->pipe[0], buf, sizeof(buf));
	EXPECT_EQ(400, r);
	for (i = 0; r == 400 && i < 400; i++)
		if (buf[i] != (char)('a' + (i / 10) % 26))
			break;
	EXPECT_EQ(400U, i);
}

TEST_HARNESS_MAIN
