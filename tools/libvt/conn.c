// SPDX-License-Identifier: GPL-2.0
/* Talking to the agent through QEMU's unix socket chardev. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vt_conn.h"
#include "vt_proto.h"
#include "vt_time.h"

/* Retries while the socket is not there yet (QEMU starting). */
int vt_conn_open(const char *sock, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long end = vt_now_ms() + timeout_ms;
	int fd, err;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		err = errno;
		close(fd);
		if ((err != ENOENT && err != ECONNREFUSED) || vt_now_ms() >= end)
			return -err;
		usleep(100000);
	}
}

int vt_conn_send(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= n;
	}
	return 0;
}

int vt_conn_read(int fd, void *data, size_t len, int timeout_ms)
{
	long long end = vt_now_ms() + timeout_ms;
	char *p = data;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = end - vt_now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		n = read(fd, p, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

int vt_conn_request(int fd, const char *line, struct vt_buf *body, int timeout_ms)
{
	int ret;

	ret = vt_conn_send(fd, line, strlen(line));
	if (!ret)
		ret = vt_conn_send(fd, "\n", 1);
	if (ret)
		return ret;
	return vt_conn_reply(fd, body, timeout_ms);
}

/*
 * One deadline for the whole reply, header and body: a peer that sends a
 * byte now and then must not stretch it (timeout_ms per byte was ~30 min
 * for a 64-byte header).
 */
int vt_conn_reply(int fd, struct vt_buf *body, int timeout_ms)
{
	return vt_conn_reply_max(fd, body, timeout_ms, VT_PROTO_MAX_BODY);
}

int vt_conn_reply_max(int fd, struct vt_buf *body, int timeout_ms, size_t max)
{
	long long end = vt_now_ms() + timeout_ms;
	char hdr[64];
	size_t i, len;
	int ok, ret;

	for (i = 0; i < sizeof(hdr) - 1; i++) {
		ret = vt_conn_read(fd, hdr + i, 1, (int)(end - vt_now_ms()));
		if (ret)
			return ret;
		if (hdr[i] == '\n')
			break;
	}
	hdr[i] = '\0';
	if (vt_proto_parse_reply(hdr, &ok, &len)) {
		for (len = 0; len < i; len++)	/* the peer's bytes: printable */
			if (hdr[len] < 0x20 || hdr[len] > 0x7e)
				hdr[len] = '?';
		fprintf(stderr, "agent-ctl: bad reply header '%.64s'\n", hdr);
		return -EPROTO;
	}
	if (len > max) {
		fprintf(stderr, "agent-ctl: reply of %zu bytes, more than %zu\n",
			len, max);
		return -EMSGSIZE;
	}
	ret = vt_buf_reserve(body, len);
	if (ret)
		return ret;
	ret = vt_conn_read(fd, body->p + body->len, len, (int)(end - vt_now_ms()));
	if (ret)
		return ret;
	body->len += len;
	body->p[body->len] = '\0';
	return ok;
}

ssize_t vt_send_fd(int sock, const void *p, size_t len, int passfd, int flags)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = { (void *)p, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (passfd >= 0) {
		memset(&c, 0, sizeof(c));
		mh.msg_control = c.buf;
		mh.msg_controllen = sizeof(c.buf);
		c.h.cmsg_level = SOL_SOCKET;
		c.h.cmsg_type = SCM_RIGHTS;
		c.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&c.h), &passfd, sizeof(int));
	}
	return sendmsg(sock, &mh, flags);
}
