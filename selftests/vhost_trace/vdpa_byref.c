// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: a pipe sink fed by reference on the vDPA front end. A
 * device made with VHOST_TRACE_VDPA_ADD is bound to vhost_vdpa and driven
 * through /dev/vhost-vdpa-N by this process, as QEMU would drive it (our
 * memory is the map, IOVA == address; trace port 0's guest-to-host queue
 * is virtio queue 5). The guest's pages go into the pipe without a copy
 * (ref_bytes, copied_bytes 0), intact and in order through read() and
 * splice(), and a buffer is used only once the pipe has let go of it.
 * The queue stops with pages in the pipe:
 *   - the driver disables it: every lent buffer is used at once, and the
 *     queue's state (VHOST_GET_VRING_BASE) equals the used index;
 *   - the device is reset, the vhost_vdpa fd closed, the device deleted:
 *     no used entry is written (the used ring is poisoned after the
 *     reset and must stay so), the pages stay readable, and once the pipe
 *     lets go nothing holds the module;
 *   - the driver (a child) is SIGKILLed: the same as the fd closed.
 * Skipped where the kernel has no vDPA (6.1). Needs vhost_trace.ko; loads
 * vhost_vdpa when it is not loaded (and unloads it again).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "vt_guest.h"
#include "vt_pattern.h"
#include "vt_producer.h"
#include "vt_vdpa_lib.h"

#include "kselftest_harness.h"

#pragma GCC diagnostic ignored "-Wclobbered"

#define NUM		64
#define SLOTS		16		/* pipe of 64 KiB */
#define QUEUE		5		/* trace port 0, guest to host */
#define MEM_SIZE	(4u << 20)
#define BLOCK		VHOST_TRACE_POLICY_BLOCK
#define BY_REF		VHOST_TRACE_SINK_BY_REF
#define POISON		0x5a
#define VDPA_DRV	"/sys/bus/vdpa/drivers/vhost_vdpa"
#define S_FEATURES	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_FEATURES_OK)

/* The userspace driver of one device. */
struct drv {
	char name[32];
	char path[64];		/* /dev/vhost-vdpa-N */
	int ctl;		/* control fd of the device */
	int vfd;		/* /dev/vhost-vdpa-N */
	struct vt_dev d;	/* d.fd = vfd, for vt_dev_set_vring() */
	struct vt_mem mem;
	struct vt_vq q;
	bool q_ok;
	uint64_t backend;
	uint8_t *pool;
	bool deleted;
	bool loaded;		/* vhost_vdpa loaded by us */
};

static int set_sink(int ctl, int fd, unsigned int flags)
{
	struct vhost_trace_sink s = {
		.port = 0, .fd = fd, .policy = BLOCK, .flags = flags,
	};

	return ioctl(ctl, VHOST_TRACE_SET_SINK, &s) ? -errno : 0;
}

static int enable(struct drv *v, int on)
{
	struct vhost_vring_state s = { .index = QUEUE, .num = on };

	return ioctl(v->vfd, VHOST_VDPA_SET_VRING_ENABLE, &s) ? -errno : 0;
}

/* The driver's setup from a reset: features, queue 5, DRIVER_OK. */
static int drv_start(struct drv *v)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_F_ACCESS_PLATFORM) |
		     (1ULL << 1);	/* VIRTIO_CONSOLE_F_MULTIPORT */
	int r;

	r = vt_vdpa_set_status(v->vfd, 0);
	if (!r && !(v->backend & (1ULL << VHOST_BACKEND_F_IOTLB_PERSIST)))
		r = vt_vdpa_iotlb(v->vfd, VHOST_IOTLB_UPDATE,
				  (uintptr_t)v->mem.base, v->mem.size,
				  v->mem.base, VHOST_ACCESS_RW);
	if (!r)
		r = vt_vdpa_set_status(v->vfd, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				       VIRTIO_CONFIG_S_DRIVER);
	if (!r && ioctl(v->vfd, VHOST_SET_FEATURES, &f))
		r = -errno;
	if (!r)
		r = vt_vdpa_set_status(v->vfd, S_FEATURES);
	if (r)
		return r;
	vt_vq_reset(&v->q);
	if (vt_dev_set_vring(&v->d, &v->q))
		return -EIO;
	r = enable(v, 1);
	if (!r)
		r = vt_vdpa_set_status(v->vfd, S_FEATURES |
				       VIRTIO_CONFIG_S_DRIVER_OK);
	return r;
}

/*
 * Open the vhost_vdpa device as its owner (this process's mm), the map,
 * the driver's setup; 0, or a line in why.
 */
static int drv_open(struct drv *v, char *why, size_t len)
{
	uint64_t want = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
			(1ULL << VHOST_BACKEND_F_IOTLB_BATCH) |
			(1ULL << VHOST_BACKEND_F_IOTLB_PERSIST) |
			(1ULL << VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
	int r;

	v->vfd = open(v->path, O_RDWR | O_CLOEXEC);
	if (v->vfd < 0)
		return snprintf(why, len, "%s: %m", v->path);
	v->d.fd = v->vfd;
	if (ioctl(v->vfd, VHOST_SET_OWNER) ||
	    ioctl(v->vfd, VHOST_GET_BACKEND_FEATURES, &v->backend))
		return snprintf(why, len, "owner, backend features: %m");
	v->backend &= want;
	if (ioctl(v->vfd, VHOST_SET_BACKEND_FEATURES, &v->backend))
		return snprintf(why, len, "SET_BACKEND_FEATURES: %m");
	/* with IOTLB_PERSIST the map outlives resets: mapped once */
	if ((v->backend & (1ULL << VHOST_BACKEND_F_IOTLB_PERSIST)) &&
	    vt_vdpa_iotlb(v->vfd, VHOST_IOTLB_UPDATE, (uintptr_t)v->mem.base,
			  v->mem.size, v->mem.base, VHOST_ACCESS_RW))
		return snprintf(why, len, "IOTLB update: %m");
	r = drv_start(v);
	if (r)
		return snprintf(why, len, "start: %s", strerror(-r));
	return 0;
}

/* Device, driver, memory, rings; 0, or a line in why. */
static int drv_setup(struct drv *v, char *why, size_t len)
{
	int r;

	snprintf(v->name, sizeof(v->name), "vtbr%d", (int)getpid());
	v->ctl = vt_vdpa_ioctl(VHOST_TRACE_VDPA_ADD, v->name, 1);
	if (v->ctl < 0)
		return snprintf(why, len, "VDPA_ADD: %s", strerror(-v->ctl));
	r = vt_vdpa_bind_vhost(v->name, v->path, sizeof(v->path));
	if (r)
		return snprintf(why, len, "bind: %s", strerror(-r));
	if (vt_mem_init_shared(&v->mem, MEM_SIZE))
		return snprintf(why, len, "memory: %s", vt_error());
	if (vt_vq_init(&v->q, &v->mem, NUM, false))
		return snprintf(why, len, "queue: %s", vt_error());
	v->q_ok = true;
	v->q.index = QUEUE;
	v->pool = vt_mem_alloc(&v->mem, NUM * VT_PAGE, VT_PAGE);
	if (!v->pool)
		return snprintf(why, len, "pool");
	return drv_open(v, why, len);
}

static void drv_close_fd(struct drv *v)
{
	if (v->vfd >= 0)
		close(v->vfd);
	v->vfd = -1;
}

static int drv_del(struct drv *v)
{
	int r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_DEL, v->name, 0);

	if (!r)
		v->deleted = true;
	return r;
}

static uint8_t *page_of(struct drv *v, uint64_t seq)
{
	return v->pool + (seq % NUM) * VT_PAGE;
}

/* Post pages seq .. seq + n - 1, one buffer each; kick. */
static int post(struct drv *v, uint64_t seq, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct vt_seg seg = { .addr = page_of(v, seq + i),
				      .len = VT_PAGE };

		vt_fill_words(page_of(v, seq + i), 0, seq + i, 0,
			      VT_PAGE_WORDS);
		if (vt_vq_add(&v->q, &seg, 1, NULL) < 0)
			return -1;
	}
	return vt_vq_kick_always(&v->q);
}

static unsigned int reap(struct vt_vq *q)
{
	void *tok[NUM];
	uint32_t len[NUM];

	return vt_vq_reap(q, tok, len, NUM);
}

static uint16_t used_idx(struct vt_vq *q)
{
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
}

/* The used ring after a reset: the device must never write it again. */
static void poison_used(struct vt_vq *q)
{
	memset(q->used, POISON, 4 + 8 * q->num);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static bool still_poisoned(struct vt_vq *q)
{
	const uint8_t *p = (const uint8_t *)q->used;
	unsigned int i;

	usleep(100 * 1000);
	for (i = 0; i < 4 + 8 * q->num; i++)
		if (__atomic_load_n(&p[i], __ATOMIC_RELAXED) != POISON)
			return false;
	return true;
}

/* Read n pages from fd into the checker. */
static bool read_pages(int fd, struct vt_check *c, unsigned int n)
{
	static uint8_t buf[SLOTS * VT_PAGE];
	size_t want = (size_t)n * VT_PAGE, got = 0;

	while (got < want) {
		size_t ask = want - got < sizeof(buf) ? want - got : sizeof(buf);
		ssize_t r = read(fd, buf, ask);

		if (r <= 0 || !vt_check_feed(c, buf, r))
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

/* The module's use count, once it settled at want (or after 2 s). */
static long refcnt_at(long want)
{
	long n = vt_module_refcnt();
	int i;

	for (i = 0; i < 20 && n != want; i++) {
		usleep(100 * 1000);
		n = vt_module_refcnt();
	}
	return n;
}

FIXTURE(vbr) {
	struct drv v;
	int pipe[2];
	long refcnt0;
	bool skip;
};

FIXTURE_SETUP(vbr)
{
	char why[200];
	int r;

	self->v.ctl = self->v.vfd = -1;
	self->pipe[0] = self->pipe[1] = -1;
	vt_ignore_sigpipe();
	/* ENOENT where the module is a vDPA parent, else EOPNOTSUPP */
	r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_DEL, "vtbr-none", 0);
	if (r == -EOPNOTSUPP) {
		self->skip = true;
		SKIP(return, "no vDPA in this kernel");
	}
	ASSERT_EQ(-ENOENT, r);
	if (access(VDPA_DRV, F_OK)) {
		self->v.loaded = true;
		if (system("modprobe vhost_vdpa") || access(VDPA_DRV, F_OK)) {
			self->skip = true;
			SKIP(return, "no vhost_vdpa");
		}
	}
	self->refcnt0 = vt_module_refcnt();
	ASSERT_EQ(0, drv_setup(&self->v, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, vt_pipe(self->pipe, SLOTS * VT_PAGE));
	ASSERT_EQ(0, set_sink(self->v.ctl, self->pipe[1], BY_REF));
}

FIXTURE_TEARDOWN(vbr)
{
	struct drv *v = &self->v;

	if (self->pipe[0] >= 0)
		close(self->pipe[0]);
	if (self->pipe[1] >= 0)
		close(self->pipe[1]);
	drv_close_fd(v);
	if (v->ctl >= 0 && !v->deleted)
		drv_del(v);
	if (v->ctl >= 0)
		close(v->ctl);
	if (v->q_ok)
		vt_vq_close(&v->q);
	if (v->mem.base)
		vt_mem_free(&v->mem);
	if (v->loaded && system("modprobe -r vhost_vdpa"))
		TH_LOG("modprobe -r vhost_vdpa failed");
}

/* Four pages from seq posted and lent to the pipe: none used yet. */
static void lend_four(struct __test_metadata *_metadata,
		      FIXTURE_DATA(vbr) *self, unsigned int seq)
{
	struct vhost_trace_stats st;

	ASSERT_EQ(0, post(&self->v, seq, 4));
	ASSERT_EQ(0, vt_wait_stats(self->v.ctl, 0, seq + 4, 5000, &st));
	EXPECT_EQ(0U, vt_vq_settle(&self->v.q));
}

/* Four more lent, read by c's checker, then used (a queue that runs). */
static void lend_read_four(struct __test_metadata *_metadata,
			   FIXTURE_DATA(vbr) *self, unsigned int seq,
			   struct vt_check *c)
{
	lend_four(_metadata, self, seq);
	EXPECT_TRUE(read_pages(self->pipe[0], c, 4)) TH_LOG("%s", c->why);
	EXPECT_EQ(4U, vt_vq_wait_used(&self->v.q, 4, 3000));
}

/*
 * The ring stopped (reset, fd closed) with four pages lent: nothing used
 * by the stop or after it (the used ring poisoned stays so), the pages
 * read right into c's checker, no loan left.
 */
static void stopped_pages_read(struct __test_metadata *_metadata,
			       FIXTURE_DATA(vbr) *self, struct vt_check *c)
{
	struct vt_vq *q = &self->v.q;
	struct vhost_trace_stats st;

	EXPECT_EQ(0U, used_idx(q));
	poison_used(q);
	get_stats(self->v.ctl, &st);
	EXPECT_EQ(4ULL, st.ref_pending);
	EXPECT_EQ(0U, st.flags & VHOST_TRACE_STATS_RUNNING);
	vt_check_init(c, 0, 0, 0);
	EXPECT_TRUE(read_pages(self->pipe[0], c, 4)) TH_LOG("%s", c->why);
	EXPECT_TRUE(still_poisoned(q));
	get_stats(self->v.ctl, &st);
	EXPECT_EQ(0ULL, st.ref_pending);
}

/*
 * Pages by reference, used only as they are read or spliced; a stream
 * through a reader thread, intact, all by reference.
 */
TEST_F_TIMEOUT(vbr, returned_when_read, 40)
{
	struct vt_vq *q = &self->v.q;
	struct vhost_trace_stats st;
	struct vt_producer pr;
	struct vt_reader rd;
	struct vt_check c;
	char buf[400];
	int fds[2], file;
	ssize_t r, n;

	if (self->skip)
		return;
	vt_check_init(&c, 0, 0, 0);
	ASSERT_EQ(0, post(&self->v, 0, 8));
	ASSERT_EQ(0, vt_wait_stats(self->v.ctl, 0, 8, 5000, &st));
	TH_LOG("%s", vt_stats_str(&st, buf, sizeof(buf)));
	EXPECT_EQ(8ULL * VT_PAGE, st.bytes);
	EXPECT_EQ(8ULL * VT_PAGE, st.ref_bytes);
	EXPECT_EQ(0ULL, st.copied_bytes);
	EXPECT_EQ(8ULL, st.ref_buffers);
	EXPECT_EQ(8ULL, st.ref_pending);
	/* in the pipe: not used */
	EXPECT_EQ(0U, vt_vq_settle(q));

	ASSERT_TRUE(read_pages(self->pipe[0], &c, 3)) TH_LOG("%s", c.why);
	EXPECT_EQ(3U, vt_vq_wait_used(q, 3, 3000));
	EXPECT_EQ(3U, vt_vq_settle(q));
	get_stats(self->v.ctl, &st);
	EXPECT_EQ(5ULL, st.ref_pending);

	/* splice the rest to a file: used as the pipe lets go */
	file = vt_tmpfile("/tmp");
	ASSERT_LE(0, file);
	for (n = 0; n < 5 * VT_PAGE; n += r) {
		r = splice(self->pipe[0], NULL, file, NULL, 5 * VT_PAGE - n, 0);
		if (r <= 0)
			break;
	}
	EXPECT_EQ((ssize_t)(5 * VT_PAGE), n);
	EXPECT_EQ(8U, vt_vq_wait_used(q, 8, 3000));
	EXPECT_EQ(8U, reap(q));
	vt_check_init(&c, 0, 3, 0);
	EXPECT_TRUE(vt_check_file(&c, file)) TH_LOG("%s", c.why);
	EXPECT_EQ(5ULL, c.pages);
	close(file);
	get_stats(self->v.ctl, &st);
	EXPECT_EQ(0ULL, st.ref_pending);

	/* 1024 pages through a reader thread, the ring kept full */
	ASSERT_EQ(0, vt_pipe(fds, SLOTS * VT_PAGE));
	ASSERT_EQ(0, set_sink(self->v.ctl, fds[1], BY_REF));
	close(fds[1]);
	ASSERT_EQ(0, vt_prod_init(&pr, &self->v.mem, q, 0, 1, false));
	ASSERT_EQ(0, vt_reader_start(&rd, fds[0], 0, 0, 0));
	ASSERT_EQ(0, vt_prod_start(&pr, 1024, 10000));
	EXPECT_EQ(0, vt_prod_join(&pr)) TH_LOG("%s", pr.why);
	EXPECT_EQ(0, set_sink(self->v.ctl, -1, 0));
	EXPECT_TRUE(vt_reader_finish(&rd, 5000)) TH_LOG("%s", rd.chk.why);
	EXPECT_EQ(1024ULL, rd.chk.pages);
	vt_prod_free(&pr);
	close(fds[0]);
	get_stats(self->v.ctl, &st);
	TH_LOG("%s", vt_stats_str(&st, buf, sizeof(buf)));
	EXPECT_EQ((8ULL + 1024) * VT_PAGE, st.ref_bytes);
	EXPECT_EQ(0ULL, st.copied_bytes);
	EXPECT_EQ(8ULL + 1024, st.ref_buffers);
	EXPECT_EQ(0ULL, st.ref_pending);
}

/*
 * The driver disables the queue: every lent buffer is used at once, and
 * the queue's state equals the used index; the pages stay readable. The
 * queue enabled again goes on where it was.
 */
TEST_F_TIMEOUT(vbr, disable_returns_all, 30)
{
	struct vhost_vring_state s = { .index = QUEUE };
	struct vt_vq *q = &self->v.q;
	struct vhost_trace_stats st;
	struct vt_check c;

	if (self->skip)
		return;
	ASSERT_EQ(0, post(&self->v, 0, 4));
	ASSERT_EQ(0, vt_wait_stats(self->v.ctl, 0, 4, 5000, &st));
	EXPECT_EQ(4ULL, st.ref_pending);
	EXPECT_EQ(0U, vt_vq_settle(q));
	ASSERT_EQ(0, enable(&self->v, 0));
	/* written before the ioctl returned */
	EXPECT_EQ(4U, vt_vq_pending(q));
	ASSERT_EQ(0, ioctl(self->v.vfd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(4U, s.num);
	EXPECT_EQ(4U, used_idx(q));
	EXPECT_EQ(4U, reap(q));
	get_stats(self->v.ctl, &st);
	EXPECT_EQ(4ULL, st.ref_pending);
	EXPECT_EQ(0ULL, st.copied_bytes);
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(read_pages(self->pipe[0], &c, 4)) TH_LOG("%s", c.why);
	/* returned already: no second used entry */
	EXPECT_EQ(0U, vt_vq_settle(q));
	EXPECT_EQ(4U, used_idx(q));
	get_stats(self->v.ctl, &st);
	EXPECT_EQ(0ULL, st.ref_pending);

	ASSERT_EQ(0, enable(&self->v, 1));
	lend_read_four(_metadata, self, 4, &c);
	EXPECT_EQ(8U, used_idx(q));
	get_stats(self->v.ctl, &st);
	EXPECT_EQ(8ULL * VT_PAGE, st.ref_bytes);
	EXPECT_EQ(0ULL, st.ref_pending);
}

/*
 * A reset with pages in the pipe: no used entry after it, the pages
 * readable, nothing left once read; the device works after a new start.
 */
TEST_F_TIMEOUT(vbr, reset, 30)
{
	struct vhost_trace_stats st;
	struct vt_check c;

	if (self->skip)
		return;
	lend_four(_metadata, self, 0);
	ASSERT_EQ(0, vt_vdpa_set_status(self->v.vfd, 0));
	stopped_pages_read(_metadata, self, &c);

	ASSERT_EQ(0, drv_start(&self->v));
	lend_read_four(_metadata, self, 4, &c);
	get_stats(self->v.ctl, &st);
	EXPECT_EQ(8ULL * VT_PAGE, st.ref_bytes);
	EXPECT_EQ(0ULL, st.copied_bytes);
	EXPECT_EQ(0ULL, st.ref_pending);
}

/* The vhost_vdpa fd closed with pages in the pipe (it resets the device). */
TEST_F_TIMEOUT(vbr, fd_closed, 30)
{
	struct vhost_trace_stats st;
	struct vt_check c;

	if (self->skip)
		return;
	lend_four(_metadata, self, 0);
	drv_close_fd(&self->v);
	stopped_pages_read(_metadata, self, &c);
	get_stats(self->v.ctl, &st);
	EXPECT_EQ(4ULL * VT_PAGE, st.ref_bytes);
	EXPECT_EQ(0, drv_del(&self->v));
}

/*
 * The device deleted with pages in the pipe (after its fd closed):
 * readable after, and once the pipe lets go nothing holds the module.
 */
TEST_F_TIMEOUT(vbr, deleted, 30)
{
	struct vt_vq *q = &self->v.q;
	struct vhost_trace_stats st;
	struct vt_check c;

	if (self->skip)
		return;
	lend_four(_metadata, self, 0);
	/* vhost_vdpa has an owner: not now */
	EXPECT_EQ(-EBUSY, drv_del(&self->v));
	drv_close_fd(&self->v);
	EXPECT_EQ(0U, used_idx(q));
	poison_used(q);
	ASSERT_EQ(0, drv_del(&self->v));
	get_stats(self->v.ctl, &st);
	EXPECT_TRUE((st.flags & VHOST_TRACE_STATS_RELEASED) != 0);
	EXPECT_EQ(4ULL, st.ref_pending);
	close(self->v.ctl);
	self->v.ctl = -1;
	/* the device is gone; its loans hold the module */
	EXPECT_LT(self->refcnt0, vt_module_refcnt());
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(read_pages(self->pipe[0], &c, 2)) TH_LOG("%s", c.why);
	EXPECT_TRUE(still_poisoned(q));
	EXPECT_LT(self->refcnt0, vt_module_refcnt());
	EXPECT_TRUE(read_pages(self->pipe[0], &c, 2)) TH_LOG("%s", c.why);
	close(self->pipe[0]);
	self->pipe[0] = -1;
	close(self->pipe[1]);
	self->pipe[1] = -1;
	EXPECT_EQ(self->refcnt0, refcnt_at(self->refcnt0));
	EXPECT_TRUE(still_poisoned(q));
}

/*
 * The driver (a child, as QEMU) is SIGKILLed with its pages in the pipe:
 * no used entry after, the pages read right (the memory is shared with
 * us here, and nothing rewrites it), the device deleted, the pipe closed:
 * nothing holds the module.
 */
TEST_F_TIMEOUT(vbr, owner_killed, 30)
{
	struct vt_vq *q = &self->v.q;
	struct vhost_trace_stats st;
	int sync[2], status;
	struct vt_check c;
	pid_t pid;
	char ch;

	if (self->skip)
		return;
	/* the child is the driver from now on */
	drv_close_fd(&self->v);
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char why[200];

		close(sync[0]);
		if (drv_open(&self->v, why, sizeof(why)) ||
		    post(&self->v, 0, 8) ||
		    vt_wait_stats(self->v.ctl, 0, 8, 5000, &st) ||
		    write(sync[1], "k", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(sync[1]);
	ASSERT_EQ(1, read(sync[0], &ch, 1));
	close(sync[0]);
	EXPECT_EQ(0U, vt_vq_settle(q));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0U, used_idx(q));
	poison_used(q);
	get_stats(self->v.ctl, &st);
	EXPECT_EQ(8ULL, st.ref_pending);
	EXPECT_EQ(8ULL * VT_PAGE, st.ref_bytes);
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(read_pages(self->pipe[0], &c, 8)) TH_LOG("%s", c.why);
	EXPECT_TRUE(still_poisoned(q));
	get_stats(self->v.ctl, &st);
	EXPECT_EQ(0ULL, st.ref_pending);
	EXPECT_EQ(0, drv_del(&self->v));
	close(self->v.ctl);
	self->v.ctl = -1;
	close(self->pipe[0]);
	self->pipe[0] = -1;
	close(self->pipe[1]);
	self->pipe[1] = -1;
	EXPECT_EQ(self->refcnt0, refcnt_at(self->refcnt0));
}

/* Pages left in the pipe when it is closed after the device is deleted. */
TEST_F_TIMEOUT(vbr, deleted_pipe_closed, 30)
{
	struct vhost_trace_stats st;

	if (self->skip)
		return;
	ASSERT_EQ(0, post(&self->v, 0, 4));
	ASSERT_EQ(0, vt_wait_stats(self->v.ctl, 0, 4, 5000, &st));
	drv_close_fd(&self->v);
	ASSERT_EQ(0, drv_del(&self->v));
	close(self->v.ctl);
	self->v.ctl = -1;
	EXPECT_LT(self->refcnt0, vt_module_refcnt());
	close(self->pipe[0]);
	self->pipe[0] = -1;
	close(self->pipe[1]);
	self->pipe[1] = -1;
	EXPECT_EQ(self->refcnt0, refcnt_at(self->refcnt0));
}

TEST_HARNESS_MAIN
