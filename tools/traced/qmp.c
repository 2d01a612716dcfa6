// SPDX-License-Identifier: GPL-2.0
/* A small QMP client (see qmp.h). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmp.h"
#include "vt_conn.h"
#include "vt_time.h"

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
	long left = deadline - vt_now_ms();

	if (left <= 0)
		return -ETIMEDOUT;
	if (poll(&p, 1, left) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/*
 * More bytes into q->in. 0, -ETIMEDOUT, -ECONNRESET, -EMSGSIZE, -errno.
 * In big reads: next_msg parses the text again after each (a message of
 * QMP_MAX_MSG bytes: 64 parses, not 1024).
 */
static int fill(struct qmp *q, long deadline)
{
	char buf[65536];		/* session threads: 8 MiB stacks */
	ssize_t r;
	int err;

	for (;;) {
		r = recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0) {
			if (q->in.len + r > QMP_MAX_MSG)
				return -EMSGSIZE;
			return vt_buf_append(&q->in, buf, r);
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

/*
 * The next whole message at the start of q->in, parsed (jansson): QEMU
 * ends each with a newline (pretty-printed ones have more inside), so
 * only the text up to the last newline is parsed, and no token is cut.
 * A text that ends before its object does is waited for; anything else
 * than a JSON object is -EPROTO.
 */
static int next_msg(struct qmp *q, long deadline, json_t **msg,
		    size_t *len)
{
	size_t tried = 0;

	for (;;) {
		const char *nl = q->in.len ? memrchr(q->in.p, '\n', q->in.len)
					   : NULL;
		size_t upto = nl ? (size_t)(nl - q->in.p) + 1 : 0;
		json_error_t je;
		int err;

		if (upto > tried) {
			tried = upto;
			*msg = json_loadb(q->in.p, upto, JSON_DISABLE_EOF_CHECK,
					  &je);
			if (*msg && json_is_object(*msg)) {
				*len = je.position;
				return 0;
			}
			if (*msg || json_error_code(&je) !=
			    json_error_premature_end_of_input) {
				size_t i = strspn(q->in.p, " \t\r\n");
				int n = strcspn(q->in.p + i, "\r\n");

				if (*msg)
					snprintf(je.text, sizeof(je.text),
						 "not an object");
				json_decref(*msg);
				*msg = NULL;
				return fail(q, -EPROTO, "QMP: not a JSON object "
					    "(%s): %.*s", je.text,
					    n > 80 ? 80 : n, q->in.p + i);
			}
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

/* The string member key of obj, or NULL. */
static const char *member_string(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void note_event(struct qmp *q, json_t *msg)
{
	const char *name, *dev;

	q->events++;
	name = member_string(msg, "event");
	if (!q->watch[0] || !name || strcmp(name, "DEVICE_DELETED"))
		return;
	dev = member_string(json_object_get(msg, "data"), "device");
	if (dev && !strcmp(dev, q->watch))
		q->deleted = 1;
}

/* One message from QEMU: 1 an answer (0 return, <0 error), 0 an event. */
static int handle(struct qmp *q, json_t *msg, struct vt_buf *ret, int *answer)
{
	const char *desc;
	json_t *v;
	char *text;

	v = json_object_get(msg, "return");
	if (v) {
		*answer = 0;
		if (ret) {
			ret->len = 0;
			text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			if (!text || vt_buf_append(ret, text, strlen(text)))
				*answer = fail(q, -ENOMEM, "out of memory");
			free(text);
		}
		return 1;
	}
	v = json_object_get(msg, "error");
	if (v) {
		desc = member_string(v, "desc");
		if (desc) {
			snprintf(q->err, sizeof(q->err), "%s", desc);
		} else {
			text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			snprintf(q->err, sizeof(q->err), "QMP error without a "
				 "description: %.200s", text ? text : "?");
			free(text);
		}
		*answer = -EREMOTEIO;
		return 1;
	}
	if (json_object_get(msg, "event"))
		note_event(q, msg);
	return 0;		/* an event, or something to skip */
}

/* Waits for the answer to the command in flight, skipping events. */
static int wait_answer(struct qmp *q, const char *cmd, struct vt_buf *ret,
		       long deadline, int timeout_ms)
{
	json_t *msg;
	size_t len;
	int err, answer = 0;

	for (;;) {
		err = next_msg(q, deadline, &msg, &len);
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
		err = handle(q, msg, ret, &answer);
		json_decref(msg);
		consume(q, len);
		if (err)
			return answer;
	}
}

static int send_msg(struct qmp *q, const char *msg, size_t len, int fd,
		    long deadline)
{
	size_t off = 0;
	ssize_t r;
	int err;

	while (off < len) {
		r = vt_send_fd(q->fd, msg + off, len - off, fd,
			       MSG_NOSIGNAL | MSG_DONTWAIT);
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
	     struct vt_buf *ret, int timeout_ms)
{
	long deadline = vt_now_ms() + timeout_ms;
	struct vt_buf m;
	int err;

	if (q->fd < 0)
		return fail(q, -ENOTCONN, "QMP: not connected");
	vt_buf_init(&m);
	err = vt_buf_append(&m, "{\"execute\":", 11);
	if (!err)
		err = qmp_add_string(&m, cmd);
	if (!err && args)
		err = vt_buf_printf(&m, ",\"arguments\":%s", args);
	if (!err)
		err = vt_buf_append(&m, "}\n", 2);
	if (!err)
		err = send_msg(q, m.p, m.len, fd, deadline);
	vt_buf_free(&m);
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
	long deadline = vt_now_ms() + timeout_ms;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	json_t *msg;
	size_t len;
	int err;

	memset(q, 0, sizeof(*q));
	q->fd = fd;
	vt_buf_init(&q->in);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen)) {
		err = fail(q, -errno, "QMP: SO_PEERCRED: %s", strerror(errno));
		goto out;
	}
	q->pid = cr.pid;
	q->uid = cr.uid;
	q->gid = cr.gid;
	err = next_msg(q, deadline, &msg, &len);
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
	if (!json_object_get(msg, "QMP")) {
		json_decref(msg);
		err = fail(q, -EPROTO, "QMP: not a QMP greeting: %.80s",
			   q->in.p);
		goto out;
	}
	json_decref(msg);
	consume(q, len);
	err = qmp_exec(q, "qmp_capabilities", NULL, -1, NULL,
		       deadline - vt_now_ms() > 0 ? deadline - vt_now_ms() : 0);
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
	long deadline = vt_now_ms() + timeout_ms;
	json_t *msg;
	size_t len;
	int err, answer;

	while (!q->deleted) {
		err = next_msg(q, deadline, &msg, &len);
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
		handle(q, msg, NULL, &answer);
		json_decref(msg);
		consume(q, len);
	}
	return 0;
}

int qmp_add_string(struct vt_buf *b, const char *s)
{
	json_t *j = json_string(s);
	char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	int err = text ? vt_buf_append(b, text, strlen(text)) : -EINVAL;

	free(text);
	json_decref(j);
	return err;
}

int qmp_array_count(const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	int n = json_is_array(j) && json_array_size(j) <= INT_MAX ?
		(int)json_array_size(j) : -EINVAL;

	json_decref(j);
	return n;
}

void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	vt_buf_free(&q->in);
}
