// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the limits and the contract of the uapi header, case by
 * case. A chain longer than VHOST_TRACE_MAX_BUFFER (here 600 descriptors
 * of 4 MiB each, 2.4 GiB: more than an int) is returned unread at once and
 * counted in bad_buffers; a chain of exactly VHOST_TRACE_MAX_BUFFER bytes
 * is written whole. A device-writable descriptor of length 0 maps no
 * memory and is ignored: such a chain is written as its readable
 * descriptors. Needs vhost_trace.ko.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_pattern.h"

#include "kselftest_harness.h"

#define NUM		256
#define BIG		(4u << 20)	/* one descriptor of the huge chain */
#define NBIG		600
#define BLOCK		VHOST_TRACE_POLICY_BLOCK

FIXTURE(limits) {
	struct vt_dev d;
	int file;
	uint8_t *big;
	struct vring_desc *tab;
	char buf[400];
};

FIXTURE_SETUP(limits)
{
	ASSERT_EQ(0, vt_dev_setup(&self->d, 1, NUM,
				  VT_F_VERSION_1 | VT_F_INDIRECT, 8 << 20))
		TH_LOG("%s", vt_error());
	self->big = vt_mem_alloc(&self->d.mem, BIG, 4096);
	self->tab = vt_mem_alloc(&self->d.mem, NBIG * sizeof(*self->tab), 16);
	ASSERT_NE(NULL, self->big);
	ASSERT_NE(NULL, self->tab);
	self->file = vt_tmpfile("/tmp");
	ASSERT_LE(0, self->file);
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->file, BLOCK));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
}

FIXTURE_TEARDOWN(limits)
{
	vt_dev_close(&self->d);
	if (self->file >= 0)
		close(self->file);
}

static off_t file_size(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) ? -1 : sb.st_size;
}

/* Post, kick, wait until it is used; its used length. */
static int send_used(struct vt_vq *q, const struct vt_seg *seg,
		     unsigned int nseg, int64_t *ms)
{
	int64_t t = vt_now_ms();
	uint32_t len;

	if (vt_vq_add(q, seg, nseg, NULL) < 0 || vt_vq_kick_always(q) ||
	    vt_vq_wait(q, 5000))
		return -1;
	*ms = vt_now_ms() - t;
	return vt_vq_reap(q, NULL, &len, 1) == 1 ? (int)len : -1;
}

/* One good page of the pattern, to show the port goes on. */
static void good_page(struct __test_metadata *_metadata,
		      FIXTURE_DATA(limits) *self, uint64_t seq)
{
	struct vt_seg seg = { .addr = self->big, .len = VT_PAGE };
	int64_t ms;

	vt_fill_words(self->big, 0, seq, 0, VT_PAGE_WORDS);
	ASSERT_EQ(0, send_used(&self->d.tx[0], &seg, 1, &ms));
}

TEST_F_TIMEOUT(limits, huge_chain, 30)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;
	struct vt_check c;
	unsigned int i;
	int head;
	int64_t ms;

	memset(self->big, 0xa5, BIG);
	for (i = 0; i < NBIG; i++) {
		self->tab[i].addr = (uintptr_t)self->big;
		self->tab[i].len = BIG;
		self->tab[i].flags = i + 1 < NBIG ? VRING_DESC_F_NEXT : 0;
		self->tab[i].next = i + 1;
	}
	head = vt_vq_get_desc(q);
	ASSERT_LE(0, head);
	q->desc[head].addr = (uintptr_t)self->tab;
	q->desc[head].len = NBIG * sizeof(*self->tab);
	q->desc[head].flags = VRING_DESC_F_INDIRECT;
	vt_vq_publish(q, head, NULL);
	ASSERT_EQ(0, vt_vq_kick_always(q));
	ASSERT_EQ(0, vt_vq_wait(q, 5000)) TH_LOG("the huge chain never came back");
	EXPECT_EQ(1U, vt_vq_reap(q, NULL, NULL, 1));

	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_EQ(1ULL, st.bad_buffers);
	EXPECT_EQ(0ULL, st.bytes);
	EXPECT_EQ(0ULL, st.queue_errors);
	EXPECT_EQ(0, file_size(self->file));

	/* the port goes on */
	good_page(_metadata, self, 0);
	(void)ms;
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	EXPECT_EQ(1ULL, st.buffers);
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(vt_check_file(&c, self->file)) TH_LOG("%s", c.why);
	EXPECT_EQ(1ULL, c.pages);
}

TEST_F_TIMEOUT(limits, max_buffer, 30)
{
	struct vt_vq *q = &self->d.tx[0];
	struct vhost_trace_stats st;
	struct vt_seg seg[2];
	int64_t ms;

	/* exactly the largest: written whole */
	memset(self->big, 0x11, VHOST_TRACE_MAX_BUFFER);
	seg[0].addr = self->big;
	seg[0].len = VHOST_TRACE_MAX_BUFFER / 2;
	seg[0].flags = 0;
	seg[1].addr = self->big + VHOST_TRACE_MAX_BUFFER / 2;
	seg[1].len = VHOST_TRACE_MAX_BUFFER / 2;
	seg[1].flags = 0;
	ASSERT_EQ(0, send_used(q, seg, 2, &ms));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	EXPECT_EQ(1ULL, st.buffers);
	EXPECT_EQ((uint64_t)VHOST_TRACE_MAX_BUFFER, st.bytes);
	EXPECT_EQ(VHOST_TRACE_MAX_BUFFER, file_size(self->file));

	/* one byte more: returned unread */
	seg[1].len++;
	ASSERT_EQ(0, send_used(q, seg, 2, &ms));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_EQ(1ULL, st.bad_buffers);
	EXPECT_EQ(1ULL, st.buffers);
	EXPECT_EQ(VHOST_TRACE_MAX_BUFFER, file_size(self->file));
}

/*
 * Zero-length device-writable descriptors, after and before a readable
 * page: the page is written (as the header says), nothing counted bad.
 */
TEST_F_TIMEOUT(limits, zero_len_writable, 30)
{
	struct vt_vq *q = &self->d.tx[0];
	uint8_t *pg = self->big + VT_PAGE;
	struct vhost_trace_stats st;
	struct vt_seg seg[2];
	struct vt_check c;
	int64_t ms;

	vt_fill_words(self->big, 0, 0, 0, VT_PAGE_WORDS);
	vt_fill_words(pg, 0, 1, 0, VT_PAGE_WORDS);
	seg[0] = (struct vt_seg){ self->big, VT_PAGE, 0 };
	seg[1] = (struct vt_seg){ self->big, 0, VRING_DESC_F_WRITE };
	ASSERT_EQ(0, send_used(q, seg, 2, &ms));
	seg[0] = (struct vt_seg){ pg, 0, VRING_DESC_F_WRITE };
	seg[1] = (struct vt_seg){ pg, VT_PAGE, 0 };
	ASSERT_EQ(0, send_used(q, seg, 2, &ms));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_EQ(2ULL, st.buffers);
	EXPECT_EQ(0ULL, st.bad_buffers + st.queue_errors);
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_BROKEN));
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(vt_check_file(&c, self->file)) TH_LOG("%s", c.why);
	EXPECT_EQ(2ULL, c.pages);
}

TEST_HARNESS_MAIN
