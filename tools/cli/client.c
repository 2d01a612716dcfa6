// SPDX-License-Identifier: GPL-2.0
/* The CLI's side of the vhost-traced control socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vt_conn.h"
#include "client.h"

int client_open(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vhost-trace: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = errno;

		fprintf(stderr, "vhost-trace: cannot reach vhost-traced at %s: "
			"%s\n", path, strerror(err));
		if (err == ENOENT || err == ECONNREFUSED)
			fprintf(stderr, "vhost-trace: is vhost-traced running? "
				"(-s PATH or VHOST_TRACED_SOCKET picks another "
				"socket)\n");
		else if (err == EACCES)
			fprintf(stderr, "vhost-trace: the socket is for root "
				"and the daemon's group (vhost-traced -g)\n");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int read_some(int fd, struct vt_buf *in)
{
	char buf[65536];
	ssize_t r;

	do
		r = recv(fd, buf, sizeof(buf), 0);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	return vt_buf_append(in, buf, r);
}

/* send(), with passfd (when >= 0) going along with the first byte */
static ssize_t send_fd(int fd, const char *p, size_t len, int passfd)
{
	return vt_send_fd(fd, p, len, passfd, MSG_NOSIGNAL);
}

int client_call(int fd, char *const *argv, int argc, char *const *extra,
		int nextra, struct vt_buf *body)
{
	return client_call_fd(fd, argv, argc, extra, nextra, -1, body);
}

int client_call_fd(int fd, char *const *argv, int argc, char *const *extra,
		   int nextra, int passfd, struct vt_buf *body)
{
	struct vt_buf req, in;
	size_t len, off;
	int i, ok, rc = EXIT_DAEMON;
	char *nl;

	vt_buf_init(&req);
	vt_buf_init(&in);
	vt_buf_free(body);
	for (i = 0; i < argc; i++)
		ctl_add_word(&req, argv[i]);
	if (nextra >= 0) {
		vt_buf_append(&req, " --", 3);
		for (i = 0; i < nextra; i++)
			ctl_add_word(&req, extra[i]);
	}
	if (vt_buf_append(&req, "\n", 1) || req.len > CTL_MAX_LINE) {
		fprintf(stderr, "vhost-trace: request too long\n");
		goto out;
	}
	for (off = 0; off < req.len;) {
		ssize_t w = send_fd(fd, req.p + off, req.len - off, passfd);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;	/* a refusal may be waiting: read it */
		off += w;
		passfd = -1;	/* it went with the first bytes */
	}
	while (!(in.p && (nl = memchr(in.p, '\n', in.len))))
		if (read_some(fd, &in))
			goto lost;
	*nl = 0;
	if (ctl_parse_reply_header(in.p, &ok, &len)) {
		fprintf(stderr, "vhost-trace: bad reply from the daemon\n");
		goto out;
	}
	off = nl + 1 - in.p;
	while (in.len - off < len)
		if (read_some(fd, &in))
			goto lost;
	vt_buf_append(body, in.p + off, len);
	if (!body->p)
		vt_buf_append(body, "", 0);
	rc = ok ? 0 : EXIT_REFUSED;
	if (!ok && !strncmp(body->p, "permission denied", 17))
		rc = EXIT_DAEMON;
	goto out;
lost:
	fprintf(stderr, "vhost-trace: the daemon closed the connection\n");
out:
	vt_buf_free(&req);
	vt_buf_free(&in);
	return rc;
}
