// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the control fd and the sink ioctls with good and bad
 * arguments; each error is the one the uapi header documents. Needs
 * vhost_trace.ko.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_pattern.h"

#include "kselftest_harness.h"

#define NPORTS	2

FIXTURE(ctl) {
	struct vt_dev d;
	int pipe[2];
};

FIXTURE_SETUP(ctl)
{
	vt_ignore_sigpipe();
	self->pipe[0] = self->pipe[1] = -1;
	ASSERT_EQ(0, vt_dev_setup(&self->d, NPORTS, 64, VT_F_VERSION_1,
				  1 << 20))
		TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_pipe(self->pipe, 0));
}

FIXTURE_TEARDOWN(ctl)
{
	if (self->pipe[0] >= 0)
		close(self->pipe[0]);
	if (self->pipe[1] >= 0)
		close(self->pipe[1]);
	vt_dev_close(&self->d);
}

/* SET_SINK with raw arguments: 0 or errno. */
static int set_sink(int ctl, unsigned int port, int fd, unsigned int policy,
		    unsigned int flags)
{
	struct vhost_trace_sink s = {
		.port = port, .fd = fd, .policy = policy, .flags = flags,
	};

	return ioctl(ctl, VHOST_TRACE_SET_SINK, &s) ? errno : 0;
}

#define BLOCK	VHOST_TRACE_POLICY_BLOCK
#define DROP	VHOST_TRACE_POLICY_DROP

TEST_F(ctl, ctl_fd)
{
	__u32 n = 0;

	EXPECT_EQ(FD_CLOEXEC, fcntl(self->d.ctl, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, ioctl(self->d.ctl, VHOST_TRACE_GET_PORTS, &n));
	EXPECT_EQ((__u32)NPORTS, n);
}

TEST_F(ctl, good_sinks)
{
	char dir[] = "/tmp/vt-fifo-XXXXXX", fifo[64];
	struct vhost_trace_stats st;
	int file, rd, wr;

	/* pipe, both policies, then detach */
	EXPECT_EQ(0, set_sink(self->d.ctl, 0, self->pipe[1], BLOCK, 0));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_SINK));
	EXPECT_EQ(0, set_sink(self->d.ctl, 1, self->pipe[1], DROP, 0));
	EXPECT_EQ(0, set_sink(self->d.ctl, 0, -1, BLOCK, 0));
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_SINK));
	/* detaching twice is fine */
	EXPECT_EQ(0, set_sink(self->d.ctl, 0, -1, DROP, 0));

	/* regular files, write-only and read-write */
	file = vt_tmpfile("/tmp");
	ASSERT_LE(0, file);
	EXPECT_EQ(0, set_sink(self->d.ctl, 0, file, BLOCK, 0));
	close(file);
	file = open("/tmp", O_TMPFILE | O_WRONLY, 0600);
	ASSERT_LE(0, file);
	EXPECT_EQ(0, set_sink(self->d.ctl, 0, file, BLOCK, 0));
	close(file);

	/* a FIFO with a reader */
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/f", dir);
	ASSERT_EQ(0, mkfifo(fifo, 0600));
	rd = open(fifo, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, rd);
	wr = open(fifo, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, wr);
	EXPECT_EQ(0, set_sink(self->d.ctl, 1, wr, BLOCK, 0));
	EXPECT_EQ(0, set_sink(self->d.ctl, 1, -1, BLOCK, 0));
	close(wr);
	close(rd);
	unlink(fifo);
	rmdir(dir);
}

TEST_F(ctl, port_out_of_range)
{
	struct vhost_trace_stats st = { .port = NPORTS };

	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, NPORTS, self->pipe[1],
				   BLOCK, 0));
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, UINT_MAX, self->pipe[1],
				   BLOCK, 0));
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, NPORTS, -1, BLOCK, 0));
	EXPECT_EQ(-1, ioctl(self->d.ctl, VHOST_TRACE_GET_STATS, &st));
	EXPECT_EQ(EINVAL, errno);
	st.port = UINT_MAX;
	EXPECT_EQ(-1, ioctl(self->d.ctl, VHOST_TRACE_GET_STATS, &st));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(ctl, bad_fd)
{
	int fd = dup(self->pipe[1]);

	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(EBADF, set_sink(self->d.ctl, 0, fd, BLOCK, 0));
	EXPECT_EQ(EBADF, set_sink(self->d.ctl, 0, 100000, BLOCK, 0));
	EXPECT_EQ(EBADF, set_sink(self->d.ctl, 0, -2, BLOCK, 0));
	EXPECT_EQ(EBADF, set_sink(self->d.ctl, 0, INT_MIN, BLOCK, 0));
}

TEST_F(ctl, not_open_for_writing)
{
	int file = vt_tmpfile("/tmp"), ro;
	char path[64];

	ASSERT_LE(0, file);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", file);
	ro = open(path, O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(EBADF, set_sink(self->d.ctl, 0, ro, BLOCK, 0));
	/* the read end of a pipe */
	EXPECT_EQ(EBADF, set_sink(self->d.ctl, 0, self->pipe[0], BLOCK, 0));
	close(ro);
	close(file);
}

TEST_F(ctl, wrong_fd_type)
{
	int sv[2], null, dir, efd, err;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, 0, sv[0], BLOCK, 0));
	close(sv[0]);
	close(sv[1]);

	null = open("/dev/null", O_WRONLY);
	ASSERT_LE(0, null);
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, 0, null, BLOCK, 0));
	close(null);

	efd = eventfd(0, 0);
	ASSERT_LE(0, efd);
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, 0, efd, BLOCK, 0));
	close(efd);

	/* vhost-trace's own files */
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, 0, self->d.fd, BLOCK, 0));
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, 0, self->d.ctl, BLOCK, 0));

	/*
	 * A directory cannot be open for writing, so it is both the wrong
	 * type (EINVAL) and not writable (EBADF); the uapi does not say
	 * which check comes first.
	 */
	dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dir);
	err = set_sink(self->d.ctl, 0, dir, BLOCK, 0);
	EXPECT_TRUE(err == EINVAL || err == EBADF) TH_LOG("directory: %s",
							  strerror(err));
	close(dir);
}

TEST_F(ctl, fifo_without_reader)
{
	char dir[] = "/tmp/vt-fifo-XXXXXX", fifo[64];
	int rd, wr;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/f", dir);
	ASSERT_EQ(0, mkfifo(fifo, 0600));
	rd = open(fifo, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, rd);
	wr = open(fifo, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, wr);
	close(rd);
	EXPECT_EQ(ENXIO, set_sink(self->d.ctl, 0, wr, BLOCK, 0));
	close(wr);
	unlink(fifo);
	rmdir(dir);
}

TEST_F(ctl, unknown_policy_or_flags)
{
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, 0, self->pipe[1], 2, 0));
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, 0, self->pipe[1], UINT_MAX,
				   0));
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, 0, self->pipe[1], BLOCK, 2));
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, 0, self->pipe[1], DROP,
				   1U << 31));
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, 0, -1, 2, 0));
	EXPECT_EQ(EINVAL, set_sink(self->d.ctl, 0, -1, BLOCK, 2));
	/* the one known flag, on a pipe and on a detach */
	EXPECT_EQ(0, set_sink(self->d.ctl, 0, self->pipe[1], BLOCK,
			      VHOST_TRACE_SINK_BY_REF));
	EXPECT_EQ(0, set_sink(self->d.ctl, 0, -1, BLOCK,
			      VHOST_TRACE_SINK_BY_REF));
}

/* GET_STATS as built before the struct grew (80 bytes) still answers. */
TEST_F(ctl, stats_old_size)
{
	unsigned long old = _IOC(_IOC_READ | _IOC_WRITE, VHOST_VIRTIO, 0xA5,
				 80);
	struct vhost_trace_stats st;

	ASSERT_EQ(80UL, offsetof(struct vhost_trace_stats, ref_bytes));
	memset(&st, 0x5a, sizeof(st));
	st.port = 0;
	ASSERT_EQ(0, ioctl(self->d.ctl, old, &st));
	EXPECT_EQ(0, st.last_error);
	/* nothing past the old end is written */
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, st.ref_bytes);
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, st.ref_pending);
	memset(&st, 0x5a, sizeof(st));
	st.port = 0;
	ASSERT_EQ(0, ioctl(self->d.ctl, VHOST_TRACE_GET_STATS, &st));
	EXPECT_EQ(0ULL, st.ref_bytes);
	EXPECT_EQ(0ULL, st.ref_pending);
}

TEST_F(ctl, bad_pointers)
{
	EXPECT_EQ(-1, ioctl(self->d.ctl, VHOST_TRACE_SET_SINK, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->d.ctl, VHOST_TRACE_GET_STATS, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(ctl, set_running_not_owner)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int on = 1, ctl;

		/* the child has another mm: not the owner */
		if (!ioctl(self->d.fd, VHOST_TRACE_SET_RUNNING, &on))
			_exit(1);
		if (errno != EPERM)
			_exit(2);
		/* but anyone holding the device fd gets a control fd */
		ctl = ioctl(self->d.fd, VHOST_TRACE_GET_CTL_FD);
		if (ctl < 0)
			_exit(3);
		if (set_sink(ctl, 0, self->pipe[1], BLOCK, 0))
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, vt_dev_run(&self->d, 1)) TH_LOG("%s", vt_error());
	EXPECT_EQ(0, vt_dev_run(&self->d, 0)) TH_LOG("%s", vt_error());
}

TEST_F(ctl, after_device_closed)
{
	struct vhost_trace_stats st;
	__u32 n = 0;

	ASSERT_EQ(0, set_sink(self->d.ctl, 0, self->pipe[1], BLOCK, 0));
	vt_dev_close_fd(&self->d);
	EXPECT_EQ(ENODEV, set_sink(self->d.ctl, 0, self->pipe[1], BLOCK, 0));
	EXPECT_EQ(ENODEV, set_sink(self->d.ctl, 1, -1, DROP, 0));
	/* statistics stay readable, the sink is gone */
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_RELEASED));
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_SINK));
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_RUNNING));
	EXPECT_EQ(0, ioctl(self->d.ctl, VHOST_TRACE_GET_PORTS, &n));
	EXPECT_EQ((__u32)NPORTS, n);
	/* the module's reference to the pipe is gone: EOF, not EAGAIN */
	close(self->pipe[1]);
	self->pipe[1] = -1;
	fcntl(self->pipe[0], F_SETFL, O_NONBLOCK);
	EXPECT_EQ(0, read(self->pipe[0], &n, sizeof(n))) TH_LOG("read: %s",
								strerror(errno));
}

TEST(ctl_fd_before_ports)
{
	int fd = open(VT_DEV, O_RDWR);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, VHOST_TRACE_GET_CTL_FD));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(set_running_without_owner)
{
	int fd = open(VT_DEV, O_RDWR), on = 1;
	__u32 n = 1;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_TRACE_SET_PORTS, &n));
	EXPECT_EQ(-1, ioctl(fd, VHOST_TRACE_SET_RUNNING, &on));
	EXPECT_EQ(EPERM, errno);
	close(fd);
}

TEST_HARNESS_MAIN
