// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: a sink is written with the rights of the one who opened
 * it, on every kernel (the worker is a kernel thread with every
 * capability on 6.1, a thread of the owner on 6.12). A user (nobody)
 * opens the sink and sets it through the control fd:
 *  - on a tmpfs of 64 KiB the writes end in ENOSPC, the file holds whole
 *    pages, exactly those counted;
 *  - under that user's RLIMIT_FSIZE (taken at SET_SINK) they end in EFBIG
 *    at the limit, and nobody gets SIGXFSZ (not the owner either);
 *  - a setuid file of the user loses its setuid bit on the first write,
 *    as a write by the user would do; opened by root it keeps it.
 * Needs vhost_trace.ko and root (mount, setuid).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_pattern.h"
#include "vt_producer.h"

#include "kselftest_harness.h"

#define NUM		64
#define NOBODY		65534
#define BLOCK		VHOST_TRACE_POLICY_BLOCK

static volatile sig_atomic_t xfsz;

static void on_xfsz(int sig)
{
	xfsz++;
}

FIXTURE(rights) {
	struct vt_dev d;
	struct vt_producer pr;
	char dir[64];
	char path[96];
	bool mounted;
	char buf[400];
};

FIXTURE_SETUP(rights)
{
	vt_ignore_sigpipe();
	signal(SIGXFSZ, on_xfsz);
	xfsz = 0;
	snprintf(self->dir, sizeof(self->dir), "/tmp/vt-rights-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/sink", self->dir);
	ASSERT_EQ(0, vt_dev_setup(&self->d, 1, NUM,
				  VT_F_VERSION_1 | VT_F_EVENT_IDX, 4 << 20))
		TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_prod_init(&self->pr, &self->d.mem, &self->d.tx[0], 0,
				  1, false));
	ASSERT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
}

FIXTURE_TEARDOWN(rights)
{
	vt_dev_close(&self->d);
	vt_prod_free(&self->pr);
	unlink(self->path);
	if (self->mounted)
		umount2(self->dir, MNT_DETACH);
	rmdir(self->dir);
}

static int mount_tmpfs(FIXTURE_DATA(rights) *self, const char *size)
{
	char opt[64];

	snprintf(opt, sizeof(opt), "size=%s,mode=1777", size);
	if (mount("tmpfs", self->dir, "tmpfs", 0, opt))
		return -errno;
	self->mounted = true;
	return 0;
}

/*
 * As uid (a child process): open path (mode; setuid bit with fchmod),
 * under an RLIMIT_FSIZE of fsize (0: none), and make it the sink of
 * port 0. Returns 0 or the child's failure.
 */
static int set_sink_as(int ctl, const char *path, uid_t uid, mode_t mode,
		       rlim_t fsize)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct rlimit rl = { fsize, fsize };
		int fd;

		if (uid && (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
			_exit(10);
		if (fsize && setrlimit(RLIMIT_FSIZE, &rl))
			_exit(11);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  mode & 0777);
		if (fd < 0)
			_exit(12);
		if ((mode & S_ISUID) && fchmod(fd, mode))
			_exit(13);
		if (vt_set_sink(ctl, 0, fd, BLOCK))
			_exit(14);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static off_t size_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : sb.st_size;
}

/* The guest sends until the sink fails; checks the file against stats. */
static void __attribute__((noinline))
until_failure(struct __test_metadata *_metadata, FIXTURE_DATA(rights) *self,
	      int err, off_t want_size)
{
	struct vhost_trace_stats st;
	struct vt_check c;
	int fd;

	EXPECT_EQ(-ETIMEDOUT, vt_prod_stall(&self->pr, self->d.ctl, 256, 500,
					     1500));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("%s; file %lld bytes",
	       vt_stats_str(&st, self->buf, sizeof(self->buf)),
	       (long long)size_of(self->path));
	EXPECT_EQ(1ULL, st.sink_errors);
	EXPECT_EQ(err, st.last_error);
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_SINK));
	EXPECT_EQ((off_t)st.bytes, size_of(self->path));
	if (want_size >= 0)
		EXPECT_EQ(want_size, size_of(self->path));
	EXPECT_LT(0ULL, st.buffers);
	fd = open(self->path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	vt_check_init(&c, 0, 0, 0);
	EXPECT_TRUE(vt_check_file(&c, fd)) TH_LOG("%s", c.why);
	EXPECT_EQ(st.buffers, c.pages);
	close(fd);
	EXPECT_EQ(0, xfsz);
}

TEST_F_TIMEOUT(rights, user_tmpfs_full, 30)
{
	ASSERT_EQ(0, mount_tmpfs(self, "64k"));
	ASSERT_EQ(0, set_sink_as(self->d.ctl, self->path, NOBODY, 0600, 0));
	until_failure(_metadata, self, ENOSPC, -1);
	EXPECT_GE(64 * 1024, size_of(self->path));
}

TEST_F_TIMEOUT(rights, user_rlimit_fsize, 30)
{
	struct rlimit rl;

	/* the owner (this process) has no limit: the user's applies */
	ASSERT_EQ(0, getrlimit(RLIMIT_FSIZE, &rl));
	ASSERT_EQ(RLIM_INFINITY, rl.rlim_cur);
	ASSERT_EQ(0, mount_tmpfs(self, "1m"));
	ASSERT_EQ(0, set_sink_as(self->d.ctl, self->path, NOBODY, 0600,
				 10 * VT_PAGE));
	until_failure(_metadata, self, EFBIG, 10 * VT_PAGE);
}

/* Inlined: otherwise the harness's wrapper warns about its setjmp. */
static inline __attribute__((always_inline)) void
setuid_case(struct __test_metadata *_metadata, FIXTURE_DATA(rights) *self,
	    uid_t uid, bool kept)
{
	struct vhost_trace_stats st;
	uint64_t done = self->pr.done;
	struct stat sb;

	ASSERT_EQ(0, set_sink_as(self->d.ctl, self->path, uid, 04755, 0));
	ASSERT_EQ(0, stat(self->path, &sb));
	ASSERT_TRUE(!!(sb.st_mode & S_ISUID));
	EXPECT_EQ(0, vt_prod_run(&self->pr, done + 4, 5000))
		TH_LOG("%s", self->pr.why);
	ASSERT_EQ(0, vt_wait_stats(self->d.ctl, 0, done + 4, 2000, &st));
	EXPECT_EQ(done + 4, st.buffers);
	ASSERT_EQ(0, stat(self->path, &sb));
	TH_LOG("opened by uid %u: mode %o after the writes", uid,
	       sb.st_mode & 07777);
	EXPECT_EQ(kept, !!(sb.st_mode & S_ISUID));
	EXPECT_EQ(4 * VT_PAGE, sb.st_size);
}

/* A user's setuid file loses the bit; opened by root it keeps it. */
TEST_F_TIMEOUT(rights, setuid_follows_opener, 30)
{
	ASSERT_EQ(0, mount_tmpfs(self, "1m"));
	setuid_case(_metadata, self, NOBODY, false);
	setuid_case(_metadata, self, 0, true);
}

TEST_HARNESS_MAIN
