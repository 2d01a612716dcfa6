// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the device file and its ioctls, from a process that owns it
 * and from one that does not. Needs vhost_trace.ko loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/vhost_trace.h>

#include "kselftest_harness.h"

#define DEV "/dev/vhost-trace"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(DEV, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", DEV, strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST_F(dev, owner_and_features)
{
	__u64 f = 0, want = (1ULL << VIRTIO_F_VERSION_1) |
		(1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
		(1ULL << VIRTIO_RING_F_EVENT_IDX) | (1ULL << VHOST_F_LOG_ALL);

	ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_OWNER));
	ASSERT_EQ(0, ioctl(self->fd, VHOST_GET_FEATURES, &f));
	EXPECT_EQ(want, f & want) TH_LOG("features %#llx", f);
	EXPECT_EQ(0, ioctl(self->fd, VHOST_SET_FEATURES, &f));
	f = 1ULL << VIRTIO_F_VERSION_1;
	EXPECT_EQ(0, ioctl(self->fd, VHOST_SET_FEATURES, &f));
	/* a second owner is refused */
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_SET_OWNER));
	EXPECT_EQ(EBUSY, errno);
}

TEST_F(dev, unsupported_features)
{
	__u64 f = 1ULL << 63;

	ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_OWNER));
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_SET_FEATURES, &f));
	EXPECT_EQ(EOPNOTSUPP, errno);
}

TEST_F(dev, unknown_ioctls)
{
	__u64 v = 0;
	struct vhost_vring_file vf = { .index = 0, .fd = -1 };

	/* unused number in the vhost range */
	EXPECT_EQ(-1, ioctl(self->fd, _IOW(VHOST_VIRTIO, 0xAF, __u64), &v));
	EXPECT_EQ(ENOTTY, errno);
	/* other vhost devices' ioctls */
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_NET_SET_BACKEND, &vf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_VSOCK_SET_GUEST_CID, &v));
	EXPECT_EQ(ENOTTY, errno);
	/* a bad pointer does not turn ENOTTY into EFAULT */
	EXPECT_EQ(-1, ioctl(self->fd, _IOW(VHOST_VIRTIO, 0xAE, __u64), 8));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, ports)
{
	__u32 n = 0;

	ASSERT_EQ(0, ioctl(self->fd, VHOST_TRACE_GET_PORTS, &n));
	EXPECT_EQ(0U, n);
	n = 0;
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_TRACE_SET_PORTS, &n));
	EXPECT_EQ(EINVAL, errno);
	n = VHOST_TRACE_MAX_PORTS + 1;
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_TRACE_SET_PORTS, &n));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_TRACE_SET_PORTS, NULL));
	EXPECT_EQ(EFAULT, errno);
	n = 4;
	ASSERT_EQ(0, ioctl(self->fd, VHOST_TRACE_SET_PORTS, &n));
	n = 0;
	ASSERT_EQ(0, ioctl(self->fd, VHOST_TRACE_GET_PORTS, &n));
	EXPECT_EQ(4U, n);
	/* set once */
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_TRACE_SET_PORTS, &n));
	EXPECT_EQ(EBUSY, errno);
}

TEST_F(dev, max_ports)
{
	__u32 n = VHOST_TRACE_MAX_PORTS;

	ASSERT_EQ(0, ioctl(self->fd, VHOST_TRACE_SET_PORTS, &n));
	ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_OWNER));
}

TEST_F(dev, ports_after_owner)
{
	__u32 n = 2;

	ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_OWNER));
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_TRACE_SET_PORTS, &n));
	EXPECT_EQ(EBUSY, errno);
}

TEST_F(dev, vring_index_range)
{
	__u32 n = 2;
	struct vhost_vring_state s = { .num = 256 };

	ASSERT_EQ(0, ioctl(self->fd, VHOST_TRACE_SET_PORTS, &n));
	ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_OWNER));
	for (s.index = 0; s.index < 2 * n; s.index++)
		EXPECT_EQ(0, ioctl(self->fd, VHOST_SET_VRING_NUM, &s));
	s.index = 2 * n;
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_SET_VRING_NUM, &s));
	EXPECT_EQ(ENOBUFS, errno);
}

TEST_F(dev, non_owner_refused)
{
	__u32 n = 1;
	struct vhost_vring_state s = { .index = 0, .num = 256 };
	pid_t pid;
	int status;

	ASSERT_EQ(0, ioctl(self->fd, VHOST_TRACE_SET_PORTS, &n));
	ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_OWNER));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* the child has another mm: not the owner */
		if (ioctl(self->fd, VHOST_SET_VRING_NUM, &s) == 0)
			_exit(1);
		_exit(errno == EPERM ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
