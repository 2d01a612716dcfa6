// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: a sink that cannot take data holds nothing else up.
 *  - A regular file on a frozen ext4 (a loop device, FIFREEZE): the
 *    writes wait (nothing lands on the frozen filesystem), GET_STATS and
 *    stopping the queue answer at once, and after the thaw the transfer
 *    goes on with nothing lost or doubled.
 *  - The device fd is closed while its sink is frozen: release finishes
 *    at once and lets go of the file (the filesystem then unmounts).
 *  - The same with a full pipe nobody reads.
 *  - A user (nobody) fills the ext4 through the module: the writes end in
 *    ENOSPC with root's reserved blocks still free, as the user's own
 *    writes would (the worker has every capability on 6.1).
 * Needs vhost_trace.ko, root, mkfs.ext4 and losetup; vmrun checks that
 * dmesg stays clean (6.1's vfs_iter_write() takes no freeze protection:
 * a write landing on a frozen ext4 trips its WARN_ONs).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <grp.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fs.h>

#include "vt_guest.h"
#include "vt_pattern.h"
#include "vt_producer.h"

#include "kselftest_harness.h"

#define NUM		256
#define PAGES		4096
#define BLOCK		VHOST_TRACE_POLICY_BLOCK
#define AT_ONCE_MS	300	/* "at once" under TCG */
#define RACE_MS		15000	/* a call stuck behind a write in the vfs */

FIXTURE(freeze) {
	struct vt_dev d;
	struct vt_producer pr;
	char dir[64];
	char img[96];
	char mnt[96];
	char path[128];
	char loop[64];
	int mfd;		/* the mount point, for FIFREEZE */
	int file;
	bool mounted, frozen;
	char buf[400];
};

static int sh(const char *cmd)
{
	return system(cmd);
}

FIXTURE_SETUP(freeze)
{
	char cmd[256];
	FILE *p;

	vt_ignore_sigpipe();
	self->mfd = self->file = -1;
	snprintf(self->dir, sizeof(self->dir), "/tmp/vt-freeze-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	/* a user reaches mnt/pub (user_no_reserved_blocks) */
	ASSERT_EQ(0, chmod(self->dir, 0755));
	snprintf(self->img, sizeof(self->img), "%s/img", self->dir);
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	snprintf(self->path, sizeof(self->path), "%s/mnt/sink", self->dir);
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	if (sh("command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null"))
		SKIP(return, "no mkfs.ext4 or losetup");
	sh("modprobe loop 2>/dev/null; modprobe ext4 2>/dev/null");
	snprintf(cmd, sizeof(cmd),
		 "truncate -s 32M %s && mkfs.ext4 -q -F %s >/dev/null 2>&1",
		 self->img, self->img);
	ASSERT_EQ(0, sh(cmd));
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s", self->img);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, fgets(self->loop, sizeof(self->loop), p));
	pclose(p);
	self->loop[strcspn(self->loop, "\n")] = 0;
	ASSERT_EQ(0, mount(self->loop, self->mnt, "ext4", 0, NULL))
		TH_LOG("mount %s: %s", self->loop, strerror(errno));
	self->mounted = true;
	self->mfd = open(self->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	self->file = open(self->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0600);
	ASSERT_LE(0, self->file);

	ASSERT_EQ(0, vt_dev_setup(&self->d, 1, NUM,
				  VT_F_VERSION_1 | VT_F_EVENT_IDX, 4 << 20))
		TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_prod_init(&self->pr, &self->d.mem, &self->d.tx[0], 0,
				  1, false));
}

FIXTURE_TEARDOWN(freeze)
{
	char cmd[128];

	if (self->frozen)
		ioctl(self->mfd, FITHAW, 0);
	if (self->pr.started)
		vt_prod_join(&self->pr);
	vt_dev_close(&self->d);
	vt_prod_free(&self->pr);
	if (self->file >= 0)
		close(self->file);
	if (self->mfd >= 0)
		close(self->mfd);
	if (self->mounted)
		umount2(self->mnt, MNT_DETACH);
	if (self->loop[0]) {
		snprintf(cmd, sizeof(cmd), "losetup -d %s", self->loop);
		sh(cmd);
	}
	unlink(self->img);
	rmdir(self->mnt);
	rmdir(self->dir);
}

/* GET_STATS, timed. */
static int64_t stats_ms(int ctl, struct vhost_trace_stats *st)
{
	int64_t t = vt_now_ms();

	if (vt_get_stats(ctl, 0, st))
		return -1;
	return vt_now_ms() - t;
}


/*
 * The module takes a regular file's freeze protection without waiting
 * and holds it over the write (vhost-trace/sink.c): no write waits for a
 * thaw on any kernel. Should one (a regression: a freeze starting between
 * a check and a write that takes the protection itself, as 6.7+'s
 * vfs_iter_write() does), a stop or release behind it runs with a guard
 * that thaws after RACE_MS, so the test fails instead of hanging.
 */
struct thaw_guard {
	pthread_t t;
	int mfd;
	volatile int done, thawed;
};

static void *thaw_later(void *arg)
{
	struct thaw_guard *g = arg;
	int i;

	for (i = 0; i < RACE_MS / 50 && !g->done; i++)
		usleep(50 * 1000);
	if (!g->done) {
		g->thawed = 1;
		ioctl(g->mfd, FITHAW, 0);
	}
	return NULL;
}

static void guard_start(struct thaw_guard *g, int mfd)
{
	g->mfd = mfd;
	g->done = 0;
	g->thawed = 0;
	if (pthread_create(&g->t, NULL, thaw_later, g))
		g->done = 1;
}

/* 1: the guard had to thaw (the call waited for a write in the vfs) */
static int guard_end(struct thaw_guard *g)
{
	if (!g->done) {
		g->done = 1;
		pthread_join(g->t, NULL);
	}
	return g->thawed;
}

/* The guest writes; freeze once some pages are in; the port waits. */
static void __attribute__((noinline))
freeze_mid_transfer(struct __test_metadata *_metadata,
		    FIXTURE_DATA(freeze) *self, int stall_ms)
{
	struct vhost_trace_stats st, st2;
	int64_t ms, end;

	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->file, BLOCK));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_prod_start(&self->pr, PAGES, stall_ms));
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, 256, 10000, &st));
	ASSERT_EQ(0, ioctl(self->mfd, FIFREEZE, 0)) TH_LOG("FIFREEZE: %s",
							    strerror(errno));
	self->frozen = true;
	/* the port's write waits for the thaw (5 s at most) */
	end = vt_now_ms() + 5000;
	while (!vt_get_stats(self->d.ctl, 0, &st) &&
	       !(st.flags & VHOST_TRACE_STATS_WAITING) && vt_now_ms() < end)
		usleep(10 * 1000);

	/* nothing is written while frozen; statistics answer at once */
	ms = stats_ms(self->d.ctl, &st);
	TH_LOG("frozen: GET_STATS %lld ms: %s", (long long)ms,
	       vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_LE(0, ms);
	EXPECT_GT(AT_ONCE_MS, ms);
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_WAITING));
	EXPECT_GT((uint64_t)PAGES, st.buffers);
	usleep(500 * 1000);
	ms = stats_ms(self->d.ctl, &st2);
	EXPECT_GT(AT_ONCE_MS, ms);
	EXPECT_EQ(st.bytes, st2.bytes);
	EXPECT_EQ(st.buffers, st2.buffers);
	EXPECT_LE(1ULL, st2.stalls);
	EXPECT_EQ(0ULL, st2.sink_errors);
}

TEST_F_TIMEOUT(freeze, writes_wait_for_thaw, 60)
{
	struct vhost_trace_stats st;
	struct vt_check c;
	int64_t t;
	int fd;

	struct thaw_guard g;

	freeze_mid_transfer(_metadata, self, 30000);

	/* stopping the queue answers at once, starting it again too */
	guard_start(&g, self->mfd);
	t = vt_now_ms();
	ASSERT_EQ(0, vt_dev_run(&self->d, 0)) TH_LOG("%s", vt_error());
	t = vt_now_ms() - t;
	TH_LOG("stop took %lld ms", (long long)t);
	if (guard_end(&g)) {
		self->frozen = false;
		ASSERT_TRUE(false) TH_LOG("the stop waited for the thaw");
	}
	EXPECT_GT(AT_ONCE_MS, t);
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_RUNNING));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());

	/* a sink change answers at once too (the same file again) */
	t = vt_now_ms();
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, self->file, BLOCK));
	EXPECT_GT(AT_ONCE_MS, vt_now_ms() - t);

	/* thaw: the transfer goes on, nothing lost or doubled */
	ASSERT_EQ(0, ioctl(self->mfd, FITHAW, 0));
	self->frozen = false;
	EXPECT_EQ(0, vt_prod_join(&self->pr)) TH_LOG("%s", self->pr.why);
	EXPECT_EQ(0, vt_wait_stats(self->d.ctl, 0, PAGES, 5000, &st));
	TH_LOG("thawed: %s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_EQ((uint64_t)PAGES, st.buffers);
	EXPECT_EQ((uint64_t)PAGES * VT_PAGE, st.bytes);
	EXPECT_EQ(0ULL, st.sink_errors + st.dropped_buffers);
	fd = open(self->path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(vt_check_file(&c, fd)) TH_LOG("%s", c.why);
	EXPECT_EQ((uint64_t)PAGES, c.pages);
	close(fd);
}

TEST_F_TIMEOUT(freeze, release_while_frozen, 60)
{
	struct vhost_trace_stats st;
	int64_t t;
	int r;

	struct thaw_guard g;

	freeze_mid_transfer(_metadata, self, 1000);
	close(self->file);
	self->file = -1;

	guard_start(&g, self->mfd);
	t = vt_now_ms();
	vt_dev_close_fd(&self->d);
	t = vt_now_ms() - t;
	TH_LOG("release took %lld ms", (long long)t);
	if (guard_end(&g)) {
		self->frozen = false;
		ASSERT_TRUE(false) TH_LOG("the release waited for the thaw");
	}
	EXPECT_GT(AT_ONCE_MS, t);
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_RELEASED));
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_SINK));
	EXPECT_EQ(-ETIMEDOUT, vt_prod_join(&self->pr));

	/* the module let go of the file: the filesystem unmounts */
	ASSERT_EQ(0, ioctl(self->mfd, FITHAW, 0));
	self->frozen = false;
	close(self->mfd);
	self->mfd = -1;
	r = umount(self->mnt);
	EXPECT_EQ(0, r) TH_LOG("umount: %s", strerror(errno));
	if (!r)
		self->mounted = false;
}

TEST_F_TIMEOUT(freeze, release_with_full_pipe, 30)
{
	struct vhost_trace_stats st;
	int pfd[2];
	int64_t t;
	char c;

	ASSERT_EQ(0, vt_pipe(pfd, 16 * VT_PAGE));
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, pfd[1], BLOCK));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	EXPECT_EQ(-ETIMEDOUT, vt_prod_stall(&self->pr, self->d.ctl, PAGES, 500,
					     1000));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_WAITING));

	t = vt_now_ms();
	vt_dev_close_fd(&self->d);
	t = vt_now_ms() - t;
	TH_LOG("release took %lld ms", (long long)t);
	EXPECT_GT(AT_ONCE_MS, t);
	/* the module's file on the pipe is gone: EOF after the 16 pages */
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	while (read(pfd[0], self->buf, sizeof(self->buf)) > 0)
		;
	EXPECT_EQ(0, read(pfd[0], &c, 1));
	close(pfd[0]);
}

/* As nobody: open path and make it the sink of port 0 (a child). */
static int set_sink_as_nobody(int ctl, const char *path)
{
	pid_t pid = fork();
	int st, fd;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(10);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			_exit(11);
		_exit(vt_set_sink(ctl, 0, fd, BLOCK) ? 12 : 0);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST_F_TIMEOUT(freeze, user_no_reserved_blocks, 60)
{
	struct vhost_trace_stats st;
	struct statvfs sv;
	char pub[128];

	snprintf(pub, sizeof(pub), "%s/pub", self->mnt);
	ASSERT_EQ(0, mkdir(pub, 01777));
	ASSERT_EQ(0, chmod(pub, 01777));
	snprintf(pub, sizeof(pub), "%s/pub/user", self->mnt);
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	ASSERT_EQ(0, set_sink_as_nobody(self->d.ctl, pub));
	EXPECT_EQ(-ETIMEDOUT, vt_prod_stall(&self->pr, self->d.ctl, 1 << 20,
					     500, 3000));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	ASSERT_EQ(0, statvfs(self->mnt, &sv));
	TH_LOG("%s; free %llu KiB, available to users %llu KiB",
	       vt_stats_str(&st, self->buf, sizeof(self->buf)),
	       (unsigned long long)sv.f_bfree * sv.f_bsize / 1024,
	       (unsigned long long)sv.f_bavail * sv.f_bsize / 1024);
	EXPECT_EQ(1ULL, st.sink_errors);
	EXPECT_EQ(ENOSPC, st.last_error);
	EXPECT_LT(8ULL << 20, st.bytes);
	/* root's reserve (5% of 32 MiB) is left; users have nothing */
	EXPECT_LE(1ULL << 20, (unsigned long long)sv.f_bfree * sv.f_bsize);
	EXPECT_GT(1ULL << 20, (unsigned long long)sv.f_bavail * sv.f_bsize);
	unlink(pub);
}

TEST_HARNESS_MAIN
