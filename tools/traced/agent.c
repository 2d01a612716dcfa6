// SPDX-License-Identifier: GPL-2.0
/* The guest agent's control port: upstream orders and their echo. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

static const char *const names[] = {
	[AGENT_OFF] = "off",
	[AGENT_CONNECTING] = "connecting",
	[AGENT_SILENT] = "silent",
	[AGENT_RUNNING] = "running",
	[AGENT_STOPPED] = "stopped",
	[AGENT_STOP_TIMEOUT] = "stop-timeout",
	[AGENT_GONE] = "gone",
};

const char *agent_state_name(enum agent_state s)
{
	return names[s];
}

void agent_init(struct agent *a, const char *path, int enabled)
{
	a->fd = -1;
	a->state = enabled ? AGENT_CONNECTING : AGENT_OFF;
	snprintf(a->path, sizeof(a->path), "%s", path);
}

int agent_connect(struct agent *a)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (a->fd >= 0)
		return 1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", a->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = errno;

		close(fd);
		return err == ENOENT || err == ECONNREFUSED ? 0 : -err;
	}
	a->fd = fd;
	return 1;
}

static int send_order(struct agent *a, const char *order)
{
	ssize_t r;

	if (a->fd < 0)
		return -ENOTCONN;
	r = send(a->fd, order, 2, MSG_NOSIGNAL);
	if (r == 2)
		return 0;
	return r < 0 ? -errno : -EAGAIN;
}

int agent_start(struct agent *a)
{
	int err = send_order(a, "1\n");

	if (!err)
		a->state = AGENT_SILENT;
	return err;
}

/* Scans what the agent wrote for the echo of an order. */
void agent_input(struct agent *a)
{
	char buf[256];
	ssize_t r, i;

	if (a->fd < 0)
		return;
	for (;;) {
		r = recv(a->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return;
		if (r == 0) {
			agent_close(a);
			a->state = AGENT_GONE;
			return;
		}
		for (i = 0; i + 1 < r; i++) {
			if (buf[i + 1] != '\n')
				continue;
			if (buf[i] == '1' && a->state == AGENT_SILENT)
				a->state = AGENT_RUNNING;
			else if (buf[i] == '0')
				a->state = AGENT_STOPPED;
		}
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

int agent_stop(struct agent *a, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	int err = send_order(a, "0\n");

	if (err)
		return err;
	a->state = AGENT_STOP_TIMEOUT;
	while (a->state == AGENT_STOP_TIMEOUT && a->fd >= 0) {
		struct pollfd p = { .fd = a->fd, .events = POLLIN };
		long left = end - now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left) > 0)
			agent_input(a);
	}
	return a->state == AGENT_STOPPED ? 0 : -ENOTCONN;
}

void agent_close(struct agent *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}
