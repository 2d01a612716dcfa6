// SPDX-License-Identifier: GPL-2.0
/* virtio-serial ports by name, online CPUs, waiting without spinning. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

/*
 * /dev/virtio-ports/NAME is a udev link; a guest without udev may lack it,
 * so fall back to /sys/class/virtio-ports/vport*\/name -> /dev/vportNpM.
 */
int port_find(const char *name, char *path, size_t len)
{
	char p[600], n[256];
	struct dirent *d;
	DIR *dir;
	int found = -ENOENT;

	snprintf(p, sizeof(p), "%s/%s", agent.port_dir, name);
	if (access(p, W_OK) == 0) {
		snprintf(path, len, "%s", p);
		return 0;
	}
	dir = opendir("/sys/class/virtio-ports");
	if (!dir)
		return -ENOENT;
	while (found && (d = readdir(dir))) {
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name",
			 d->d_name);
		f = fopen(p, "re");
		if (!f)
			continue;
		if (fgets(n, sizeof(n), f)) {
			n[strcspn(n, "\n")] = '\0';
			snprintf(p, sizeof(p), "/dev/%s", d->d_name);
			if (!strcmp(n, name) && access(p, W_OK) == 0) {
				snprintf(path, len, "%s", p);
				found = 0;
			}
		}
		fclose(f);
	}
	closedir(dir);
	return found;
}

/* Parses /sys/devices/system/cpu/online ("0-3,5"); returns the count. */
int cpu_online_list(unsigned char *online, int max)
{
	char line[4096], *p;
	int a, b, n, count = 0;
	FILE *f;

	memset(online, 0, max);
	f = fopen("/sys/devices/system/cpu/online", "re");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	for (p = line; *p && *p != '\n'; ) {
		if (sscanf(p, "%d%n", &a, &n) != 1)
			return -EINVAL;
		p += n;
		b = a;
		if (*p == '-') {
			if (sscanf(p + 1, "%d%n", &b, &n) != 1)
				return -EINVAL;
			p += n + 1;
		}
		for (; a <= b && a < max; a++) {
			if (a >= 0 && !online[a]) {
				online[a] = 1;
				count++;
			}
		}
		if (*p == ',')
			p++;
	}
	return count;
}

int nap(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return 0;
}

/*
 * Waits until the port takes a buffer. The driver reports POLLHUP while
 * the host side is disconnected, and poll would return at once: nap then.
 * timeout_ms < 0 waits forever. 0, or -ETIMEDOUT.
 */
int port_wait_writable(int fd, int timeout_ms)
{
	long long end = vt_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	for (;;) {
		int left = timeout_ms < 0 ? 1000 : (int)(end - vt_now_ms());
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (left > 1000)
			left = 1000;
		n = poll(&pfd, 1, left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && (pfd.revents & POLLOUT))
			return 0;
		if (n > 0 && (pfd.revents & (POLLHUP | POLLERR)))
			nap(left < 100 ? left : 100);
	}
}

/* For a nonblocking port: one write per call, retried on EAGAIN. */
int port_write_all(int fd, const void *data, size_t len, int timeout_ms)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EAGAIN) {
			int ret = port_wait_writable(fd, timeout_ms);

			if (ret)
				return ret;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}
