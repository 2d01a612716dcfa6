// SPDX-License-Identifier: GPL-2.0
/* A small QMP client (see qmp.h). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "qmp.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct qmp *q, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	return err;
}

/* Waits for fd to be ready for events until deadline: 0, -ETIMEDOUT. */
static int wait_fd(struct qmp *q, short events, long deadline)
{
	struct pollfd p = { .fd = q->fd, .events = events };
	long left = deadline - now_ms();

	if (left <= 0)
		return -ETIMEDOUT;
	if (poll(&p, 1, left) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* More bytes into q->in. 0, -ETIMEDOUT, -ECONNRESET, -EMSGSIZE, -errno. */
static int fill(struct qmp *q, long deadline)
{
	char buf[4096];
	ssize_t r;
	int err;

	for (;;) {
		r = recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0) {
			if (q->in.len + r > QMP_MAX_MSG)
				return -EMSGSIZE;
			return sbuf_add(&q->in, buf, r);
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		err = wait_fd(q, POLLIN, deadline);
		if (err)
			return err;
	}
}

/* The length of the next whole message at the start of q->in. */
static int next_msg(struct qmp *q, long deadline, size_t *len)
{
	for (;;) {
		ssize_t n = json_value_len(q->in.p ? q->in.p : "", q->in.len);
		size_t i = strspn(q->in.p ? q->in.p : "", " \t\r\n");
		int err;

		if (n < 0 || (n > 0 && q->in.p[i] != '{'))
			return fail(q, -EPROTO, "QMP: not a JSON object: %.*s",
				    (int)strcspn(q->in.p + i, "\r\n"),
				    q->in.p + i);
		if (n > 0) {
			*len = n;
			return 0;
		}
		err = fill(q, deadline);
		if (err)
			return err;
	}
}

static void consume(struct qmp *q, size_t n)
{
	memmove(q->in.p, q->in.p + n, q->in.len - n);
	q->in.len -= n;
	q->in.p[q->in.len] = '\0';
}

/* A member of msg that is a string, decoded into out; 0 or -errno. */
static int member_string(const char *msg, size_t len, const char *key,
			 char *out, size_t outsz)
{
	const char *v;
	size_t vl;
	int err = json_member(msg, len, key, &v, &vl);

	return err ? err : json_string(v, vl, out, outsz);
}

static void note_event(struct qmp *q, const char *msg, size_t len)
{
	char name[64], dev[QMP_ID_MAX];
	const char *data;
	size_t dlen;

	q->events++;
	if (!q->watch[0] ||
	    member_string(msg, len, "event", name, sizeof(name)) ||
	    strcmp(name, "DEVICE_DELETED") ||
	    json_member(msg, len, "data", &data, &dlen) ||
	    member_string(data, dlen, "device", dev, sizeof(dev)))
		return;
	if (!strcmp(dev, q->watch))
		q->deleted = 1;
}

/* One message from QEMU: 1 an answer (0 return, <0 error), 0 an event. */
static int handle(struct qmp *q, const char *msg, size_t len,
		  struct sbuf *ret, int *answer)
{
	const char *v;
	size_t vl;
	int err;

	if (!json_member(msg, len, "return", &v, &vl)) {
		*answer = 0;
		if (ret) {
			ret->len = 0;
			if (sbuf_add(ret, v, vl))
				*answer = fail(q, -ENOMEM, "out of memory");
		}
		return 1;
	}
	if (!json_member(msg, len, "error", &v, &vl)) {
		err = member_string(v, vl, "desc", q->err, sizeof(q->err));
		if (err && err != -E2BIG)
			snprintf(q->err, sizeof(q->err), "QMP error without "
				 "a description: %.*s",
				 (int)(vl < 200 ? vl : 200), v);
		*answer = -EREMOTEIO;
		return 1;
	}
	if (!json_member(msg, len, "event", &v, &vl))
		note_event(q, msg, len);
	return 0;		/* an event, or something to skip */
}

/* Waits for the answer to the command in flight, skipping events. */
static int wait_answer(struct qmp *q, const char *cmd, struct sbuf *ret,
		       long deadline, int timeout_ms)
{
	size_t len;
	int err, answer = 0;

	for (;;) {
		err = next_msg(q, deadline, &len);
		if (err == -ETIMEDOUT)
			return fail(q, err, "QMP: no answer to %s within %d ms",
				    cmd, timeout_ms);
		if (err == -ECONNRESET)
			return fail(q, err, "QMP: QEMU closed the connection "
				    "(during %s)", cmd);
		if (err == -EMSGSIZE)
			return fail(q, err, "QMP: a message longer than %d "
				    "bytes", QMP_MAX_MSG);
		if (err == -EPROTO)
			return err;
		if (err)
			return fail(q, err, "QMP: %s: %s", cmd, strerror(-err));
		err = handle(q, q->in.p, len, ret, &answer);
		consume(q, len);
		if (err)
			return answer;
	}
}

static int send_msg(struct qmp *q, const char *msg, size_t len, int fd,
		    long deadline)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	size_t off = 0;
	ssize_t r;
	int err;

	while (off < len) {
		struct iovec iov = { (char *)msg + off, len - off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (fd >= 0) {
			memset(&c, 0, sizeof(c));
			mh.msg_control = c.buf;
			mh.msg_controllen = sizeof(c.buf);
			c.h.cmsg_level = SOL_SOCKET;
			c.h.cmsg_type = SCM_RIGHTS;
			c.h.cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(&c.h), &fd, sizeof(int));
		}
		r = sendmsg(q->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r > 0) {
			off += r;
			fd = -1;	/* it went with the first bytes */
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN)
			return errno == EPIPE ? -ECONNRESET : -errno;
		err = wait_fd(q, POLLOUT, deadline);
		if (err)
			return err;
	}
	return 0;
}

int qmp_exec(struct qmp *q, const char *cmd, const char *args, int fd,
	     struct sbuf *ret, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	struct sbuf m;
	int err;

	if (q->fd < 0)
		return fail(q, -ENOTCONN, "QMP: not connected");
	sbuf_init(&m);
	err = sbuf_add(&m, "{\"execute\":", 11);
	if (!err)
		err = json_add_string(&m, cmd);
	if (!err && args)
		err = sbuf_printf(&m, ",\"arguments\":%s", args);
	if (!err)
		err = sbuf_add(&m, "}\n", 2);
	if (!err)
		err = send_msg(q, m.p, m.len, fd, deadline);
	sbuf_free(&m);
	if (err == -ECONNRESET)
		return fail(q, err, "QMP: QEMU closed the connection (sending "
			    "%s)", cmd);
	if (err)
		return fail(q, err, "QMP: sending %s: %s", cmd, strerror(-err));
	err = wait_answer(q, cmd, ret, deadline, timeout_ms);
	if (err && err != -EREMOTEIO) {
		/* out of step (a late answer would pass for the next one's) */
		close(q->fd);
		q->fd = -1;
	}
	return err;
}

int qmp_open(struct qmp *q, int fd, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	const char *v;
	size_t len, vl;
	int err;

	memset(q, 0, sizeof(*q));
	q->fd = fd;
	sbuf_init(&q->in);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen)) {
		err = fail(q, -errno, "QMP: SO_PEERCRED: %s", strerror(errno));
		goto out;
	}
	q->pid = cr.pid;
	q->uid = cr.uid;
	q->gid = cr.gid;
	err = next_msg(q, deadline, &len);
	if (err == -ETIMEDOUT)
		err = fail(q, err, "QMP: no greeting within %d ms (is another "
			   "client connected to this monitor?)", timeout_ms);
	else if (err == -ECONNRESET)
		err = fail(q, err, "QMP: QEMU closed the connection before "
			   "its greeting");
	else if (err && err != -EPROTO)
		err = fail(q, err, "QMP: greeting: %s", strerror(-err));
	if (err)
		goto out;
	if (json_member(q->in.p, len, "QMP", &v, &vl)) {
		err = fail(q, -EPROTO, "QMP: not a QMP greeting: %.80s",
			   q->in.p);
		goto out;
	}
	consume(q, len);
	err = qmp_exec(q, "qmp_capabilities", NULL, -1, NULL,
		       deadline - now_ms() > 0 ? deadline - now_ms() : 0);
out:
	if (err) {
		char why[sizeof(q->err)];

		memcpy(why, q->err, sizeof(why));
		qmp_close(q);
		memcpy(q->err, why, sizeof(why));
	}
	return err;
}

int qmp_connect(struct qmp *q, const char *path, int timeout_ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	if (strlen(path) >= sizeof(sun.sun_path))
		return fail(q, -ENAMETOOLONG, "QMP socket path too long: %s",
			    path);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(q, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = errno;

		close(fd);
		return fail(q, -err, "cannot connect to QMP socket %s: %s",
			    path, strerror(err));
	}
	return qmp_open(q, fd, timeout_ms);
}

void qmp_watch_deleted(struct qmp *q, const char *id)
{
	snprintf(q->watch, sizeof(q->watch), "%s", id);
	q->deleted = 0;
}

int qmp_wait_deleted(struct qmp *q, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	size_t len;
	int err, answer;

	while (!q->deleted) {
		err = next_msg(q, deadline, &len);
		if (err == -ETIMEDOUT)
			return fail(q, err, "no DEVICE_DELETED for %s within "
				    "%d ms (the guest did not release the "
				    "device)", q->watch, timeout_ms);
		if (err == -ECONNRESET)
			return fail(q, err, "QMP: QEMU closed the connection "
				    "(waiting for DEVICE_DELETED)");
		if (err && err != -EPROTO)
			return fail(q, err, "QMP: %s", strerror(-err));
		if (err)
			return err;
		handle(q, q->in.p, len, NULL, &answer);
		consume(q, len);
	}
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	sbuf_free(&q->in);
}
