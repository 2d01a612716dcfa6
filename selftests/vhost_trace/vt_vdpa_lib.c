// SPDX-License-Identifier: GPL-2.0
/* vhost-trace selftests: the vDPA front end from userspace (vt_vdpa_lib.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/vhost_trace.h>

#include "vt_vdpa_lib.h"

int vt_vdpa_ioctl(unsigned long cmd, const char *name, unsigned int nports)
{
	struct vhost_trace_vdpa req = { .nports = nports };
	int fd, r;

	fd = open("/dev/vhost-trace", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(req.name, sizeof(req.name), "%s", name);
	r = ioctl(fd, cmd, &req);
	if (r < 0)
		r = -errno;
	close(fd);
	return r;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

int vt_vdpa_bind_vhost(const char *name, char *path, size_t len)
{
	char p[256], drv[256];
	glob_t g;
	ssize_t n;
	int r;

	snprintf(p, sizeof(p), "/sys/bus/vdpa/devices/%s/driver", name);
	n = readlink(p, drv, sizeof(drv) - 1);
	drv[n > 0 ? n : 0] = 0;
	if (n > 0 && !strcmp(strrchr(drv, '/') + 1, "vhost_vdpa"))
		goto found;
	/* from now on only vhost_vdpa takes it */
	snprintf(p, sizeof(p), "/sys/bus/vdpa/devices/%s/driver_override",
		 name);
	r = write_str(p, "vhost_vdpa");
	if (r)
		return r;
	if (n > 0) {
		snprintf(p, sizeof(p), "/sys/bus/vdpa/devices/%s/driver/unbind",
			 name);
		r = write_str(p, name);
		if (r)
			return r;
	}
	r = write_str("/sys/bus/vdpa/drivers/vhost_vdpa/bind", name);
	if (r)
		return r;
found:
	snprintf(p, sizeof(p), "/sys/bus/vdpa/devices/%s/vhost-vdpa-*", name);
	if (glob(p, 0, NULL, &g) || g.gl_pathc != 1) {
		globfree(&g);
		return -ENOENT;
	}
	snprintf(path, len, "/dev/%s", strrchr(g.gl_pathv[0], '/') + 1);
	globfree(&g);
	return 0;
}

int vt_vdpa_iotlb(int vfd, uint8_t type, uint64_t iova, uint64_t size,
		  const void *uaddr, uint8_t perm)
{
	struct vhost_msg_v2 m = { .type = VHOST_IOTLB_MSG_V2 };

	m.iotlb.iova = iova;
	m.iotlb.size = size;
	m.iotlb.uaddr = (uint64_t)(uintptr_t)uaddr;
	m.iotlb.perm = perm;
	m.iotlb.type = type;
	if (write(vfd, &m, sizeof(m)) != sizeof(m))
		return -errno;
	return 0;
}

int vt_vdpa_set_status(int vfd, uint8_t s)
{
	return ioctl(vfd, VHOST_VDPA_SET_STATUS, &s) ? -errno : 0;
}

int vt_vdpa_get_status(int vfd, uint8_t *s)
{
	return ioctl(vfd, VHOST_VDPA_GET_STATUS, s) ? -errno : 0;
}
