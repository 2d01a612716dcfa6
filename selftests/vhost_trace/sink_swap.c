// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: a port's sink is swapped while the guest writes
 * (file -> pipe -> file -> ...). Every byte goes to exactly one sink: the
 * sinks put end to end are the guest's stream, nothing lost or doubled.
 * A swapped-out pipe gets EOF once the test closes its own write end, so
 * the module let go of it. Needs vhost_trace.ko.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_pattern.h"
#include "vt_producer.h"

#include "kselftest_harness.h"

#define NUM		256
#define NSINKS		7	/* file, pipe, file, pipe, file, pipe, file */
#define PIPE_SIZE	(256 * 1024)
#define BLOCK		VHOST_TRACE_POLICY_BLOCK

struct sink {
	bool is_pipe;
	int fd;			/* file, or the pipe's write end */
	int rfd;		/* the pipe's read end */
	struct vt_reader rd;
};

FIXTURE(swap) {
	struct vt_dev d;
	struct vt_producer pr;
	struct sink s[NSINKS];
	char buf[400];
};

FIXTURE_VARIANT(swap) {
	bool indirect;
	bool event_idx;
	unsigned int pages;
};

FIXTURE_VARIANT_ADD(swap, direct) {
	.pages = 8192,
};

FIXTURE_VARIANT_ADD(swap, indirect_event_idx) {
	.indirect = true, .event_idx = true, .pages = 8192,
};

FIXTURE_SETUP(swap)
{
	uint64_t f = VT_F_VERSION_1;
	unsigned int k;

	vt_ignore_sigpipe();
	for (k = 0; k < NSINKS; k++)
		self->s[k].fd = self->s[k].rfd = -1;
	if (variant->indirect)
		f |= VT_F_INDIRECT;
	if (variant->event_idx)
		f |= VT_F_EVENT_IDX;
	ASSERT_EQ(0, vt_dev_setup(&self->d, 1, NUM, f, 4 << 20))
		TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_prod_init(&self->pr, &self->d.mem, &self->d.tx[0], 0,
				  variant->indirect ? 2 : 1,
				  variant->indirect));
}

FIXTURE_TEARDOWN(swap)
{
	unsigned int k;

	if (self->pr.started)
		vt_prod_join(&self->pr);
	for (k = 0; k < NSINKS; k++) {
		if (self->s[k].rd.started)
			vt_reader_finish(&self->s[k].rd, 0);
		if (self->s[k].fd >= 0)
			close(self->s[k].fd);
		if (self->s[k].rfd >= 0)
			close(self->s[k].rfd);
	}
	vt_prod_free(&self->pr);
	vt_dev_close(&self->d);
}

/* Sink k: a pipe with a reader, or a file. 0 or -errno. */
static int make_sink(struct sink *s, bool is_pipe)
{
	int fds[2], r;

	s->is_pipe = is_pipe;
	if (!is_pipe) {
		s->fd = vt_tmpfile("/tmp");
		return s->fd < 0 ? s->fd : 0;
	}
	r = vt_pipe(fds, PIPE_SIZE);
	if (r)
		return r;
	s->rfd = fds[0];
	s->fd = fds[1];
	return vt_reader_start(&s->rd, s->rfd, 0, 0, VT_CHECK_ANY_START);
}

/* Wait until the guest has had count pages used (or is done). */
static void wait_done(struct vt_producer *pr, uint64_t count)
{
	while (vt_prod_done(pr) < count &&
	       __atomic_load_n(&pr->result, __ATOMIC_ACQUIRE) == 0 &&
	       vt_prod_done(pr) < pr->total)
		usleep(1000);
}

TEST_F_TIMEOUT(swap, concatenation_exact, 40)
{
	uint64_t pages = variant->pages, next = 0, total = 0;
	struct vhost_trace_stats st;
	unsigned int k;

	for (k = 0; k < NSINKS; k++)
		ASSERT_EQ(0, make_sink(&self->s[k], k & 1));
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->s[0].fd, BLOCK))
		TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_prod_start(&self->pr, pages, 10000));

	for (k = 1; k < NSINKS; k++) {
		wait_done(&self->pr, pages * k / NSINKS);
		ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->s[k].fd, BLOCK))
			TH_LOG("%s", vt_error());
		/* a pipe swapped out: only the module could still hold it */
		if (self->s[k - 1].is_pipe) {
			close(self->s[k - 1].fd);
			self->s[k - 1].fd = -1;
		}
	}
	ASSERT_EQ(0, vt_prod_join(&self->pr)) TH_LOG("%s", self->pr.why);
	EXPECT_EQ(0, vt_wait_stats(self->d.ctl, 0, pages, 2000, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_EQ(pages, st.buffers);
	EXPECT_EQ(pages * VT_PAGE, st.bytes);
	EXPECT_EQ(0ULL, st.dropped_buffers);
	EXPECT_EQ(0ULL, st.sink_errors);

	/* end to end, the sinks hold pages 0 .. pages - 1 once each */
	for (k = 0; k < NSINKS; k++) {
		struct sink *s = &self->s[k];
		struct vt_check c, *chk = &c;

		if (s->is_pipe) {
			EXPECT_TRUE(vt_reader_finish(&s->rd, 5000))
				TH_LOG("sink %u: %s", k, s->rd.chk.why);
			chk = &s->rd.chk;
			EXPECT_TRUE(!chk->pages || chk->first_seq == next)
				TH_LOG("sink %u (pipe) starts at page %llu, expected %llu",
				       k, (unsigned long long)chk->first_seq,
				       (unsigned long long)next);
		} else {
			vt_check_init(&c, 0, next, 0);
			EXPECT_TRUE(vt_check_file(&c, s->fd))
				TH_LOG("sink %u (file): %s", k, c.why);
		}
		TH_LOG("sink %u (%s): pages %llu .. %llu", k,
		       s->is_pipe ? "pipe" : "file",
		       (unsigned long long)next,
		       (unsigned long long)(next + chk->pages - 1));
		if (chk->pages)
			next = chk->next_seq;
		total += chk->pages;
	}
	EXPECT_EQ(pages, next);
	EXPECT_EQ(pages, total);
}

/* A port waiting for room in a full pipe goes on into the new sink. */
TEST_F_TIMEOUT(swap, away_from_full_pipe, 30)
{
	struct vhost_trace_stats st;
	struct vt_check c;
	uint64_t pages = 1024;

	ASSERT_EQ(0, make_sink(&self->s[0], true));
	vt_reader_pause(&self->s[0].rd, true);
	ASSERT_EQ(0, make_sink(&self->s[1], false));
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->s[0].fd, BLOCK));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	ASSERT_EQ(-ETIMEDOUT, vt_prod_stall(&self->pr, self->d.ctl, pages, 500,
					     1000));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_WAITING))
		TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));

	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->s[1].fd, BLOCK));
	EXPECT_EQ(0, vt_prod_run(&self->pr, pages, 10000))
		TH_LOG("%s", self->pr.why);
	close(self->s[0].fd);
	self->s[0].fd = -1;
	EXPECT_TRUE(vt_reader_finish(&self->s[0].rd, 5000))
		TH_LOG("%s", self->s[0].rd.chk.why);
	vt_check_init(&c, 0, self->s[0].rd.chk.next_seq, 0);
	EXPECT_TRUE(vt_check_file(&c, self->s[1].fd)) TH_LOG("%s", c.why);
	EXPECT_EQ(pages, self->s[0].rd.chk.pages + c.pages);
	EXPECT_EQ(0ULL, self->s[0].rd.chk.first_seq);
}

TEST_HARNESS_MAIN
