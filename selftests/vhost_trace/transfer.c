// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: pages written by the guest on four ports at once reach the
 * ports' sinks byte for byte (two pipes read as the data comes, two files
 * checked after), with direct and indirect descriptors, with and without
 * EVENT_IDX, and the module's statistics count exactly what was sent.
 * The host-to-guest queues are never serviced. Needs vhost_trace.ko.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_pattern.h"
#include "vt_producer.h"

#include "kselftest_harness.h"

#define NPORTS		4
#define NUM		256
#define PIPE_SIZE	(1 << 20)
#define STALL_MS	10000

FIXTURE(xfer) {
	struct vt_dev d;
	struct vt_producer pr[NPORTS];
	struct vt_reader rd[NPORTS];
	int pipe[NPORTS][2];
	int file[NPORTS];
};

FIXTURE_VARIANT(xfer) {
	unsigned int nseg;	/* descriptors per page */
	bool indirect;
	bool event_idx;
	unsigned int pages;	/* per port */
};

/* 4 variants x 4 ports x 4096 pages: 256 MiB. */
FIXTURE_VARIANT_ADD(xfer, direct) {
	.nseg = 1, .pages = 4096,
};

FIXTURE_VARIANT_ADD(xfer, direct_event_idx) {
	.nseg = 1, .event_idx = true, .pages = 4096,
};

FIXTURE_VARIANT_ADD(xfer, indirect) {
	.nseg = 4, .indirect = true, .pages = 4096,
};

FIXTURE_VARIANT_ADD(xfer, indirect_event_idx) {
	.nseg = 4, .indirect = true, .event_idx = true, .pages = 4096,
};

/* Chains of direct descriptors, one page in 2 segments. */
FIXTURE_VARIANT_ADD(xfer, chained) {
	.nseg = 2, .event_idx = true, .pages = 1024,
};

FIXTURE_SETUP(xfer)
{
	uint64_t f = VT_F_VERSION_1;
	unsigned int p;

	memset(self->pipe, -1, sizeof(self->pipe));
	memset(self->file, -1, sizeof(self->file));
	vt_ignore_sigpipe();
	if (variant->indirect)
		f |= VT_F_INDIRECT;
	if (variant->event_idx)
		f |= VT_F_EVENT_IDX;
	ASSERT_EQ(0, vt_dev_setup(&self->d, NPORTS, NUM, f, 8 << 20))
		TH_LOG("%s", vt_error());
	for (p = 0; p < NPORTS; p++)
		ASSERT_EQ(0, vt_prod_init(&self->pr[p], &self->d.mem,
					  &self->d.tx[p], p, variant->nseg,
					  variant->indirect));
}

FIXTURE_TEARDOWN(xfer)
{
	unsigned int p;

	for (p = 0; p < NPORTS; p++) {
		if (self->pr[p].started)
			vt_prod_join(&self->pr[p]);
		if (self->rd[p].started)
			vt_reader_finish(&self->rd[p], 0);
		vt_prod_free(&self->pr[p]);
		if (self->pipe[p][0] >= 0)
			close(self->pipe[p][0]);
		if (self->pipe[p][1] >= 0)
			close(self->pipe[p][1]);
		if (self->file[p] >= 0)
			close(self->file[p]);
	}
	vt_dev_close(&self->d);
}

/* Writable buffers on the host-to-guest queue, which nobody services. */
static void post_rx(struct vt_dev *d, unsigned int p)
{
	struct vt_vq *q = &d->rx[p];
	struct vt_seg seg = { .len = 256, .flags = VRING_DESC_F_WRITE };
	unsigned int i;

	for (i = 0; i < VT_RX_NUM; i++) {
		seg.addr = vt_mem_alloc(&d->mem, 256, 64);
		vt_vq_add(q, &seg, 1, NULL);
	}
	vt_vq_kick_always(q);
}

TEST_F_TIMEOUT(xfer, bytes_exact, 40)
{
	uint64_t pages = variant->pages;
	struct vhost_trace_stats st;
	int64_t t0 = vt_now_ms();
	bool stuck = false;
	unsigned int p;
	char buf[400];

	/* ports 0 and 1 into pipes, 2 and 3 into files */
	for (p = 0; p < NPORTS; p++) {
		int fd;

		if (p < 2) {
			ASSERT_EQ(0, vt_pipe(self->pipe[p], PIPE_SIZE));
			ASSERT_EQ(0, vt_reader_start(&self->rd[p],
						     self->pipe[p][0], p, 0, 0));
			fd = self->pipe[p][1];
		} else {
			self->file[p] = vt_tmpfile("/tmp");
			ASSERT_LE(0, self->file[p]);
			fd = self->file[p];
		}
		ASSERT_EQ(0, vt_set_sink(self->d.ctl, p, fd,
					 VHOST_TRACE_POLICY_BLOCK))
			TH_LOG("%s", vt_error());
		post_rx(&self->d, p);
	}
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());

	for (p = 0; p < NPORTS; p++)
		ASSERT_EQ(0, vt_prod_start(&self->pr[p], pages, STALL_MS));
	for (p = 0; p < NPORTS; p++) {
		int r = vt_prod_join(&self->pr[p]);

		EXPECT_EQ(0, r) TH_LOG("%s", self->pr[p].why);
		if (r)
			stuck = true;
	}
	ASSERT_FALSE(stuck);

	for (p = 0; p < NPORTS; p++) {
		EXPECT_EQ(0, vt_wait_stats(self->d.ctl, p, pages, 2000, &st));
		TH_LOG("%s", vt_stats_str(&st, buf, sizeof(buf)));
		EXPECT_EQ(pages * VT_PAGE, st.bytes);
		EXPECT_EQ(pages, st.buffers);
		EXPECT_EQ(0ULL, st.dropped_bytes);
		EXPECT_EQ(0ULL, st.dropped_buffers);
		EXPECT_EQ(0ULL, st.sink_errors);
		EXPECT_EQ(0ULL, st.bad_buffers);
		EXPECT_EQ(0ULL, st.queue_errors);
		EXPECT_EQ(0, st.last_error);
		EXPECT_EQ(VHOST_TRACE_STATS_SINK | VHOST_TRACE_STATS_RUNNING,
			  st.flags & (VHOST_TRACE_STATS_SINK |
				      VHOST_TRACE_STATS_RUNNING |
				      VHOST_TRACE_STATS_BROKEN |
				      VHOST_TRACE_STATS_RELEASED));
		EXPECT_EQ(0ULL, self->pr[p].foreign);
		/* the host-to-guest queue was left alone */
		EXPECT_EQ(0U, vt_vq_pending(&self->d.rx[p]));
	}

	/* detached, the pipes see EOF once our write ends are closed */
	for (p = 0; p < NPORTS; p++)
		EXPECT_EQ(0, vt_set_sink(self->d.ctl, p, -1,
					 VHOST_TRACE_POLICY_BLOCK))
			TH_LOG("%s", vt_error());
	for (p = 0; p < 2; p++) {
		close(self->pipe[p][1]);
		self->pipe[p][1] = -1;
		EXPECT_TRUE(vt_reader_finish(&self->rd[p], 5000))
			TH_LOG("%s", self->rd[p].chk.why);
		EXPECT_EQ(pages, self->rd[p].chk.pages);
	}
	for (p = 2; p < NPORTS; p++) {
		struct vt_check c;

		vt_check_init(&c, p, 0, 0);
		EXPECT_TRUE(vt_check_file(&c, self->file[p])) TH_LOG("%s", c.why);
		EXPECT_EQ(pages, c.pages);
	}
	TH_LOG("%u MiB in %lld ms, kicks %llu %llu %llu %llu",
	       (unsigned int)(pages * NPORTS * VT_PAGE >> 20),
	       (long long)(vt_now_ms() - t0),
	       (unsigned long long)self->d.tx[0].kicks,
	       (unsigned long long)self->d.tx[1].kicks,
	       (unsigned long long)self->d.tx[2].kicks,
	       (unsigned long long)self->d.tx[3].kicks);
}

TEST_HARNESS_MAIN
