// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: malformed descriptor chains on port 0 while port 1 carries
 * a normal transfer. As the uapi header says, a chain the vhost core
 * cannot map (address outside the memory table, loop, chain longer than
 * the ring, bad indirect table, ...) fires the queue's error eventfd, is
 * counted in queue_errors and stops that queue; a chain with a
 * device-writable descriptor or of zero length is returned used, unread,
 * and counted in bad_buffers, and the port goes on. Port 1 stays byte
 * exact throughout. Needs vhost_trace.ko; vmrun checks dmesg afterwards.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_pattern.h"
#include "vt_producer.h"

#include "kselftest_harness.h"

#define NUM		256
#define GOOD		8	/* good pages before and after the bad chain */
#define OTHER_PAGES	2048	/* port 1 */
#define BLOCK		VHOST_TRACE_POLICY_BLOCK

enum kind {
	OUTSIDE_MEM,		/* address outside the memory table */
	NEXT_OUT_OF_RANGE,	/* next >= num */
	HEAD_OUT_OF_RANGE,	/* avail ring entry >= num */
	LOOP,			/* a -> b -> a */
	LONGER_THAN_RING,	/* every descriptor, back to the first */
	READABLE_AFTER_WRITABLE,
	IND_BAD_LEN,		/* table length not a multiple of 16 */
	IND_EMPTY,		/* table of length 0 */
	IND_OUTSIDE_MEM,	/* table outside the memory table */
	IND_NESTED,		/* indirect descriptor in the table */
	IND_LOOP,		/* next inside the table loops */
	IND_TOO_LONG,		/* more entries than the device's iovecs */
	WRITABLE_AFTER_READABLE,
	WRITABLE_ONLY,
	IND_WRITABLE,
	ZERO_LEN,
	ZERO_LEN_CHAIN,
};

FIXTURE(hostile) {
	struct vt_dev d;
	struct vt_producer pr[2];
	struct vt_reader rd[2];
	int pipe[2][2];
	void *outside;
	char buf[400];
};

FIXTURE_VARIANT(hostile) {
	enum kind kind;
	bool queue_error;	/* else a bad buffer */
};

FIXTURE_VARIANT_ADD(hostile, OUTSIDE_MEM) {
	.kind = OUTSIDE_MEM, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, NEXT_OUT_OF_RANGE) {
	.kind = NEXT_OUT_OF_RANGE, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, HEAD_OUT_OF_RANGE) {
	.kind = HEAD_OUT_OF_RANGE, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, LOOP) {
	.kind = LOOP, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, LONGER_THAN_RING) {
	.kind = LONGER_THAN_RING, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, READABLE_AFTER_WRITABLE) {
	.kind = READABLE_AFTER_WRITABLE, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, IND_BAD_LEN) {
	.kind = IND_BAD_LEN, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, IND_EMPTY) {
	.kind = IND_EMPTY, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, IND_OUTSIDE_MEM) {
	.kind = IND_OUTSIDE_MEM, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, IND_NESTED) {
	.kind = IND_NESTED, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, IND_LOOP) {
	.kind = IND_LOOP, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, IND_TOO_LONG) {
	.kind = IND_TOO_LONG, .queue_error = true,
};

FIXTURE_VARIANT_ADD(hostile, WRITABLE_AFTER_READABLE) {
	.kind = WRITABLE_AFTER_READABLE,
};

FIXTURE_VARIANT_ADD(hostile, WRITABLE_ONLY) {
	.kind = WRITABLE_ONLY,
};

FIXTURE_VARIANT_ADD(hostile, IND_WRITABLE) {
	.kind = IND_WRITABLE,
};

FIXTURE_VARIANT_ADD(hostile, ZERO_LEN) {
	.kind = ZERO_LEN,
};

FIXTURE_VARIANT_ADD(hostile, ZERO_LEN_CHAIN) {
	.kind = ZERO_LEN_CHAIN,
};

FIXTURE_SETUP(hostile)
{
	unsigned int p;

	vt_ignore_sigpipe();
	memset(self->pipe, -1, sizeof(self->pipe));
	self->outside = MAP_FAILED;
	ASSERT_EQ(0, vt_dev_setup(&self->d, 2, NUM,
				  VT_F_VERSION_1 | VT_F_INDIRECT |
				  VT_F_EVENT_IDX, 4 << 20))
		TH_LOG("%s", vt_error());
	for (p = 0; p < 2; p++) {
		ASSERT_EQ(0, vt_prod_init(&self->pr[p], &self->d.mem,
					  &self->d.tx[p], p, 1, false));
		ASSERT_EQ(0, vt_pipe(self->pipe[p], 256 * 1024));
		ASSERT_EQ(0, vt_reader_start(&self->rd[p], self->pipe[p][0],
					     p, 0, 0));
		ASSERT_EQ(0, vt_set_sink(self->d.ctl, p, self->pipe[p][1],
					 BLOCK));
	}
	/* a page of ours the memory table does not cover */
	self->outside = mmap(NULL, VT_PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->outside);
	memset(self->outside, 0x5a, VT_PAGE);
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
}

FIXTURE_TEARDOWN(hostile)
{
	unsigned int p;

	for (p = 0; p < 2; p++) {
		if (self->pr[p].started)
			vt_prod_join(&self->pr[p]);
		if (self->rd[p].started)
			vt_reader_finish(&self->rd[p], 0);
		vt_prod_free(&self->pr[p]);
		if (self->pipe[p][0] >= 0)
			close(self->pipe[p][0]);
		if (self->pipe[p][1] >= 0)
			close(self->pipe[p][1]);
	}
	if (self->outside != MAP_FAILED)
		munmap(self->outside, VT_PAGE);
	vt_dev_close(&self->d);
}

static void desc_set(struct vring_desc *d, const void *addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	d->addr = (uintptr_t)addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/*
 * Post the malformed chain of kind k on q. Junk is a page in guest memory
 * that must never reach the sink (it is no page of the pattern).
 */
static int post_bad(struct vt_vq *q, struct vt_mem *m, enum kind k,
		    void *outside)
{
	uint8_t *junk = vt_mem_alloc(m, VT_PAGE, VT_PAGE);
	struct vring_desc *tab = NULL;
	int a, b, n, i, first;

	if (!junk)
		return -ENOMEM;
	memset(junk, 0xa5, VT_PAGE);
	a = vt_vq_get_desc(q);
	b = vt_vq_get_desc(q);
	if (a < 0 || b < 0)
		return -ENOSPC;
	if (k >= IND_BAD_LEN && k <= IND_TOO_LONG) {
		tab = vt_mem_alloc(m, 2048 * sizeof(*tab), 16);
		if (!tab)
			return -ENOMEM;
	}

	switch (k) {
	case OUTSIDE_MEM:
		desc_set(&q->desc[a], outside, VT_PAGE, 0, 0);
		break;
	case NEXT_OUT_OF_RANGE:
		desc_set(&q->desc[a], junk, 64, VRING_DESC_F_NEXT, q->num + 5);
		break;
	case HEAD_OUT_OF_RANGE:
		vt_vq_publish(q, q->num + 1, NULL);
		return 0;
	case LOOP:
		desc_set(&q->desc[a], junk, 64, VRING_DESC_F_NEXT, b);
		desc_set(&q->desc[b], junk + 64, 64, VRING_DESC_F_NEXT, a);
		break;
	case LONGER_THAN_RING:
		/* every descriptor in one chain that comes back to a */
		first = a;
		desc_set(&q->desc[a], junk, 16, VRING_DESC_F_NEXT, b);
		n = b;
		while ((i = vt_vq_get_desc(q)) >= 0) {
			desc_set(&q->desc[n], junk, 16, VRING_DESC_F_NEXT, i);
			n = i;
		}
		desc_set(&q->desc[n], junk, 16, VRING_DESC_F_NEXT, first);
		break;
	case READABLE_AFTER_WRITABLE:
		desc_set(&q->desc[a], junk, 64, VRING_DESC_F_WRITE |
			 VRING_DESC_F_NEXT, b);
		desc_set(&q->desc[b], junk + 64, 64, 0, 0);
		break;
	case IND_BAD_LEN:
		desc_set(&tab[0], junk, 64, 0, 0);
		desc_set(&q->desc[a], tab, 24, VRING_DESC_F_INDIRECT, 0);
		break;
	case IND_EMPTY:
		desc_set(&q->desc[a], tab, 0, VRING_DESC_F_INDIRECT, 0);
		break;
	case IND_OUTSIDE_MEM:
		desc_set(&q->desc[a], outside, 4 * sizeof(*tab),
			 VRING_DESC_F_INDIRECT, 0);
		break;
	case IND_NESTED:
		desc_set(&tab[0], junk, 64, VRING_DESC_F_NEXT, 1);
		desc_set(&tab[1], tab, 16, VRING_DESC_F_INDIRECT, 0);
		desc_set(&q->desc[a], tab, 2 * sizeof(*tab),
			 VRING_DESC_F_INDIRECT, 0);
		break;
	case IND_LOOP:
		desc_set(&tab[0], junk, 64, VRING_DESC_F_NEXT, 1);
		desc_set(&tab[1], junk + 64, 64, VRING_DESC_F_NEXT, 0);
		desc_set(&q->desc[a], tab, 2 * sizeof(*tab),
			 VRING_DESC_F_INDIRECT, 0);
		break;
	case IND_TOO_LONG:
		for (i = 0; i < 2048; i++)
			desc_set(&tab[i], junk + (i & 511) * 8, 8,
				 i < 2047 ? VRING_DESC_F_NEXT : 0, i + 1);
		desc_set(&q->desc[a], tab, 2048 * sizeof(*tab),
			 VRING_DESC_F_INDIRECT, 0);
		break;
	case WRITABLE_AFTER_READABLE:
		desc_set(&q->desc[a], junk, 2048, VRING_DESC_F_NEXT, b);
		desc_set(&q->desc[b], junk + 2048, 2048, VRING_DESC_F_WRITE, 0);
		break;
	case WRITABLE_ONLY:
		desc_set(&q->desc[a], junk, VT_PAGE, VRING_DESC_F_WRITE, 0);
		break;
	case IND_WRITABLE:
		tab = vt_mem_alloc(m, 2 * sizeof(*tab), 16);
		if (!tab)
			return -ENOMEM;
		desc_set(&tab[0], junk, 2048, VRING_DESC_F_NEXT, 1);
		desc_set(&tab[1], junk + 2048, 2048, VRING_DESC_F_WRITE, 0);
		desc_set(&q->desc[a], tab, 2 * sizeof(*tab),
			 VRING_DESC_F_INDIRECT, 0);
		break;
	case ZERO_LEN:
		desc_set(&q->desc[a], junk, 0, 0, 0);
		break;
	case ZERO_LEN_CHAIN:
		desc_set(&q->desc[a], junk, 0, VRING_DESC_F_NEXT, b);
		desc_set(&q->desc[b], junk, 0, 0, 0);
		break;
	}
	vt_vq_publish(q, a, NULL);
	return 0;
}

static bool err_fired(struct vt_vq *q, int timeout_ms)
{
	struct pollfd pfd = { .fd = q->err, .events = POLLIN };
	uint64_t v;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	return read(q->err, &v, sizeof(v)) == sizeof(v);
}

TEST_F_TIMEOUT(hostile, other_port_unharmed, 30)
{
	struct vt_producer *bad = &self->pr[0], *good = &self->pr[1];
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;
	uint64_t sent0 = GOOD;
	unsigned int p;

	ASSERT_EQ(0, vt_prod_start(good, OTHER_PAGES, 10000));

	/* port 0: good pages, the bad chain, good pages */
	ASSERT_EQ(0, vt_prod_run(bad, GOOD, 5000)) TH_LOG("%s", bad->why);
	ASSERT_EQ(0, post_bad(q, &self->d.mem, variant->kind, self->outside));
	ASSERT_EQ(0, vt_vq_kick_always(q));

	if (variant->queue_error) {
		EXPECT_TRUE(err_fired(q, 5000))
			TH_LOG("no event on the error eventfd");
		/* the queue is stopped: later buffers stay in the ring */
		bad->total = 2 * GOOD;
		vt_prod_post(bad);
		vt_vq_kick_always(q);
		usleep(300 * 1000);
		vt_vq_kick_always(q);
		usleep(200 * 1000);
		EXPECT_EQ(0U, vt_vq_pending(q));
		ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
		TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
		EXPECT_EQ(1ULL, st.queue_errors);
		EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_BROKEN));
		EXPECT_EQ(0ULL, st.bad_buffers);
	} else {
		/* the chain comes back used, the port goes on */
		while (!bad->foreign && vt_vq_wait(q, 5000) == 0)
			vt_prod_reap(bad);
		EXPECT_EQ(1ULL, bad->foreign);
		EXPECT_EQ(0, vt_prod_run(bad, 2 * GOOD, 5000))
			TH_LOG("%s", bad->why);
		sent0 = 2 * GOOD;
		EXPECT_EQ(0, vt_wait_stats(self->d.ctl, 0, sent0 + 1, 2000,
					   &st));
		TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
		EXPECT_EQ(1ULL, st.bad_buffers);
		EXPECT_EQ(0ULL, st.queue_errors);
		EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_BROKEN));
		EXPECT_FALSE(err_fired(q, 0));
	}
	EXPECT_EQ(sent0, st.buffers);
	EXPECT_EQ(sent0 * VT_PAGE, st.bytes);

	/* port 1 did not notice */
	EXPECT_EQ(0, vt_prod_join(good)) TH_LOG("%s", good->why);
	EXPECT_EQ(0, vt_wait_stats(self->d.ctl, 1, OTHER_PAGES, 2000, &st));
	EXPECT_EQ((uint64_t)OTHER_PAGES, st.buffers);
	EXPECT_EQ((uint64_t)OTHER_PAGES * VT_PAGE, st.bytes);
	EXPECT_EQ(0ULL, st.bad_buffers + st.queue_errors);
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_BROKEN));
	EXPECT_FALSE(err_fired(&self->d.tx[1], 0));

	/* the sinks hold exactly the good pages */
	for (p = 0; p < 2; p++) {
		uint64_t want = p ? OTHER_PAGES : sent0;

		EXPECT_EQ(0, vt_set_sink(self->d.ctl, p, -1, BLOCK));
		close(self->pipe[p][1]);
		self->pipe[p][1] = -1;
		EXPECT_TRUE(vt_reader_finish(&self->rd[p], 5000))
			TH_LOG("%s", self->rd[p].chk.why);
		EXPECT_EQ(want, self->rd[p].chk.pages);
	}
}

/*
 * A queue stopped on an error works again once the owner sets it up
 * again (stop, vring setup, start), as QEMU does on a device reset; a
 * stop and start alone leave it stopped, and the chain is not met again.
 */
TEST_F_TIMEOUT(hostile, set_up_again, 30)
{
	struct vt_producer *pr = &self->pr[0];
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;

	if (!variant->queue_error)
		SKIP(return, "the queue does not stop on a bad buffer");
	ASSERT_EQ(0, vt_prod_run(pr, GOOD, 5000)) TH_LOG("%s", pr->why);
	ASSERT_EQ(0, post_bad(q, &self->d.mem, variant->kind, self->outside));
	ASSERT_EQ(0, vt_vq_kick_always(q));
	ASSERT_TRUE(err_fired(q, 5000));

	/* stop and start without a vring setup: still stopped */
	ASSERT_EQ(0, vt_dev_run(&self->d, 0)) TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_vq_kick_always(q));
	EXPECT_FALSE(err_fired(q, 200))
		TH_LOG("a start without a setup met the bad chain again");
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_BROKEN));
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_RUNNING));
	EXPECT_EQ(1ULL, st.queue_errors);
	EXPECT_EQ((uint64_t)GOOD, st.buffers);

	ASSERT_EQ(0, vt_dev_run(&self->d, 0)) TH_LOG("%s", vt_error());
	vt_vq_reset(q);
	vt_prod_rewind(pr);
	ASSERT_EQ(0, vt_dev_set_vring(&self->d, q)) TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	EXPECT_EQ(0, vt_prod_run(pr, 4 * GOOD, 5000)) TH_LOG("%s", pr->why);

	EXPECT_EQ(0, vt_wait_stats(self->d.ctl, 0, 4 * GOOD, 2000, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_BROKEN));
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_RUNNING));
	EXPECT_EQ(1ULL, st.queue_errors);
	EXPECT_EQ((uint64_t)4 * GOOD, st.buffers);
	EXPECT_EQ(0, vt_set_sink(self->d.ctl, 0, -1, BLOCK));
	close(self->pipe[0][1]);
	self->pipe[0][1] = -1;
	EXPECT_TRUE(vt_reader_finish(&self->rd[0], 5000))
		TH_LOG("%s", self->rd[0].chk.why);
	EXPECT_EQ((uint64_t)4 * GOOD, self->rd[0].chk.pages);
}

TEST_HARNESS_MAIN
