// SPDX-License-Identifier: GPL-2.0
/*
 * The guest agent's control port: version 1 requests (guest/PROTOCOL,
 * through tools/libvt's conn.c and metadir.c), or the upstream orders
 * and their echo.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "vt_conn.h"
#include "vt_cpio.h"
#include "vt_metadir.h"
#include "vt_proto.h"
#include "vt_time.h"

#define REQ_TIMEOUT_MS	30000	/* one version 1 request */
#define META_TIMEOUT_MS	120000	/* meta: kallsyms is a few MB */
#define DRAIN_MAX_MS	5000	/* stale bytes after a restart: the rest is
				   skipped by resync_hello */
#define INPUT_MAX_READS	64	/* agent_input: then back to the loop */
#define ORDER_WAIT_MS	2000	/* port0: room for an order in the guest */

/*
 * The guest's bytes, fit for a log line or DIR/stats: at most dstsz - 1
 * characters, anything not printable ASCII as '?', "..." when cut.
 */
static const char *printable(char *dst, size_t dstsz, const char *src,
			     size_t n)
{
	size_t i, max = dstsz - 1;

	if (n > max && max > 3) {
		n = max - 3;
		memcpy(dst + n, "...", 4);
	} else {
		dst[n] = '\0';
	}
	for (i = 0; i < n; i++)
		dst[i] = src[i] >= 0x20 && src[i] <= 0x7e ? src[i] : '?';
	return dst;
}

/*
 * The agent's port 0: a QEMU chardev's unix socket, or (port0) the control
 * fd of a vDPA device, whose read() and write() carry port 0's bytes
 * (O_NONBLOCK: EAGAIN when there is nothing, or no room in the guest's
 * buffers).
 */
static ssize_t port_recv(struct agent *a, void *buf, size_t n)
{
	return a->port0 ? read(a->fd, buf, n) :
	       recv(a->fd, buf, n, MSG_DONTWAIT);
}

/*
 * All of data to the agent. A vDPA control fd takes what the guest's
 * posted buffers take: the rest waits for room, up to wait_ms.
 */
static int port_send(struct agent *a, const char *data, size_t len,
		     int wait_ms)
{
	long end = vt_now_ms() + wait_ms;

	if (!a->port0)
		return vt_conn_send(a->fd, data, len);
	while (len) {
		struct pollfd p = { .fd = a->fd, .events = POLLOUT };
		ssize_t r = write(a->fd, data, len);
		long left;

		if (r > 0) {
			data += r;
			len -= r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN)
			return -errno;
		if (!r)
			return -EPIPE;
		left = end - vt_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return -errno;
		if (p.revents & (POLLHUP | POLLERR))
			return -EPIPE;
	}
	return 0;
}

void agent_fail(struct agent *a, const char *fmt, ...)
{
	char msg[sizeof(a->error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vt_log("agent %s: %s; the agent is no longer "
		"used", a->path, msg);
	if (!a->error[0])
		snprintf(a->error, sizeof(a->error), "%s", msg);
	agent_close(a);
	a->state = AGENT_ERROR;
}

static const char *const names[] = {
	[AGENT_OFF] = "off",
	[AGENT_CONNECTING] = "connecting",
	[AGENT_HELLO] = "hello",
	[AGENT_SILENT] = "silent",
	[AGENT_RUNNING] = "running",
	[AGENT_STOPPED] = "stopped",
	[AGENT_STOP_TIMEOUT] = "stop-timeout",
	[AGENT_STOP_QUIET] = "stop-quiet",
	[AGENT_GONE] = "gone",
	[AGENT_ERROR] = "error",
};

const char *agent_state_name(enum agent_state s)
{
	return names[s];
}

int agent_state_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

void agent_resume(struct agent *a, int proto, enum agent_state was,
		  int stopping)
{
	if (a->state == AGENT_OFF)
		return;
	a->resume = 1;
	a->resume_stopping = stopping;
	a->resume_state = was;
	/* version 1 and unknown: hello again; upstream: no hello */
	a->proto = proto < 0 ? -1 : 0;
	a->state = AGENT_CONNECTING;
}

/*
 * A reply that the old daemon's death cut short may still come out of
 * the chardev (QEMU keeps what the guest wrote while nobody listened):
 * it is not the answer to anything of ours.
 */
static void drain_stale(struct agent *a)
{
	struct pollfd p = { .fd = a->fd, .events = POLLIN };
	long end = vt_now_ms() + DRAIN_MAX_MS;
	size_t n = 0;
	char buf[4096];
	ssize_t r;

	/* a guest that never stops writing: resync_hello skips the rest */
	while (vt_now_ms() < end && poll(&p, 1, n ? 50 : 200) > 0) {
		r = port_recv(a, buf, sizeof(buf));
		if (r <= 0)
			break;
		n += r;
	}
	if (n)
		vt_log("%s: %zu stale byte(s) from "
			"before the restart discarded", a->path, n);
}

void agent_init(struct agent *a, const char *path, int enabled,
		const char *events, const char *clock)
{
	char *c;

	a->fd = -1;
	a->state = enabled ? AGENT_CONNECTING : AGENT_OFF;
	snprintf(a->path, sizeof(a->path), "%s", path);
	snprintf(a->events, sizeof(a->events), "%s", events ? events : "");
	snprintf(a->want_clock, sizeof(a->want_clock), "%s",
		 clock ? clock : "");
	for (c = a->events; *c; c++)
		if (*c == ',')
			*c = ' ';
}

static int send_order(struct agent *a, const char *order)
{
	ssize_t r;

	if (a->fd < 0)
		return -ENOTCONN;
	if (a->port0)
		return port_send(a, order, 2, ORDER_WAIT_MS);
	r = send(a->fd, order, 2, MSG_NOSIGNAL);
	if (r == 2)
		return 0;
	return r < 0 ? -errno : -EAGAIN;
}

static void upstream_start(struct agent *a)
{
	a->proto = -1;
	if (send_order(a, "1\n"))
		a->state = AGENT_ERROR;
	else
		a->state = AGENT_SILENT;
}

static const char hello[] = "hello 1\n";

/*
 * port0: as much of the hello as the guest's buffers take now; it is
 * taken (hello_taken_ms) once all of it went. 0, or -errno.
 */
static int hello_more(struct agent *a)
{
	size_t left = sizeof(hello) - 1 - a->hello_sent;
	ssize_t r;

	if (!left)
		return 0;
	r = write(a->fd, hello + a->hello_sent, left);
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	a->hello_sent += r;
	if (a->hello_sent == sizeof(hello) - 1)
		a->hello_taken_ms = vt_now_ms();
	return 0;
}

int agent_start(struct agent *a)
{
	int err;

	if (a->resume && a->fd >= 0) {
		drain_stale(a);
		if (a->proto < 0) {
			/* upstream orders: nothing to ask, nothing to send */
			a->resume = 0;
			a->state = a->resume_state;
			vt_log("%s: reconnected to an "
				"agent on the upstream orders: no order sent, "
				"agent %s as before", a->path,
				agent_state_name(a->state));
			return 0;
		}
	}
	if (a->proto) {
		err = send_order(a, "1\n");
		if (!err)
			a->state = AGENT_SILENT;
		return err;
	}
	if (a->fd < 0)
		return -ENOTCONN;
	if (a->port0) {
		/* the guest takes it once its agent opened the port */
		a->state = AGENT_HELLO;
		a->hello_taken_ms = 0;
		a->hello_sent = 0;
		return hello_more(a);
	}
	err = vt_conn_send(a->fd, hello, sizeof(hello) - 1);
	if (!err) {
		a->state = AGENT_HELLO;
		a->hello_taken_ms = 0;
	}
	return err;
}

void agent_tick(struct agent *a)
{
	int outq = 0;

	if (a->state != AGENT_HELLO || a->fd < 0)
		return;
	/*
	 * QEMU reads the chardev only when the guest has the port open and
	 * room for it: the hello waits in the socket until the agent (or
	 * whatever the guest runs) reads. From then on it has a while.
	 */
	if (!a->hello_taken_ms && a->port0) {
		if (hello_more(a)) {
			agent_close(a);
			a->state = AGENT_GONE;
		}
		return;
	}
	if (!a->hello_taken_ms) {
		if (!ioctl(a->fd, SIOCOUTQ, &outq) && outq == 0)
			a->hello_taken_ms = vt_now_ms();
		return;
	}
	if (vt_now_ms() - a->hello_taken_ms < AGENT_HELLO_WAIT_MS)
		return;
	vt_log("%s: no answer to hello: upstream "
		"agent, using \"1\\n\"/\"0\\n\"", a->path);
	upstream_start(a);
}

/*
 * One version 1 request; 1 ok (body in *body), 0 err (logged), -errno.
 * A reply that breaks the framing (bad header), or one not complete
 * within timeout_ms (the stream is out of step from then on, unless
 * keep_on_timeout: a stop may take long), ends the agent (agent_fail).
 */
static int request_t(struct agent *a, const char *line, struct vt_buf *body,
		     int timeout_ms, int keep_on_timeout)
{
	char msg[160];
	int ret;

	if (a->fd < 0)
		return -ENOTCONN;
	if (a->timeout_ms)
		timeout_ms = a->timeout_ms;
	body->len = 0;
	ret = port_send(a, line, strlen(line), timeout_ms);
	if (!ret)
		ret = port_send(a, "\n", 1, timeout_ms);
	if (!ret)
		ret = vt_conn_reply_max(a->fd, body, timeout_ms,
				     strcmp(line, "meta") ? AGENT_MAX_REPLY :
				     VT_PROTO_MAX_BODY);
	if (ret == 0)
		vt_log("agent %s: %s: %s", a->path,
			line, body->len ? printable(msg, sizeof(msg), body->p,
				strcspn(body->p, "\n")) : "error");
	else if (ret == -EPROTO)
		agent_fail(a, "%s: bad reply header (not \"ok|err LEN\" with "
			   "LEN <= %u)", line, VT_PROTO_MAX_BODY);
	else if (ret == -EMSGSIZE)
		agent_fail(a, "%s: a reply longer than %u bytes", line,
			   strcmp(line, "meta") ? AGENT_MAX_REPLY :
			   VT_PROTO_MAX_BODY);
	else if (ret == -ETIMEDOUT && !keep_on_timeout)
		agent_fail(a, "%s: no complete reply within %d ms", line,
			   timeout_ms);
	else if (ret < 0)
		vt_log("agent %s: %s: %s", a->path,
			line, strerror(-ret));
	return ret;
}

static int request(struct agent *a, const char *line, struct vt_buf *body,
		   int timeout_ms)
{
	return request_t(a, line, body, timeout_ms, 0);
}

/* release=, machine=: one word of printable ASCII */
static int token_ok(const char *v)
{
	for (; *v; v++)
		if (*v <= 0x20 || *v > 0x7e)
			return 0;
	return 1;
}

/* a trace clock's name: letters, digits, '-', '_' */
static int clock_ok(const char *v)
{
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || *v == '-' || *v == '_'))
			return 0;
	return 1;
}

/*
 * "key=value" lines: value of key into val; 0, or -E2BIG when the value
 * does not fit (the guest's: refused, not cut).
 */
static int line_get_exact(const char *text, const char *key, char *val,
			  size_t valsz);

/* "key=value" lines: value of key, or "" */
static void line_get(const char *text, const char *key, char *val,
		     size_t valsz)
{
	size_t klen = strlen(key), n;
	const char *p = text;

	val[0] = '\0';
	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			p += klen + 1;
			n = strcspn(p, "\n");
			if (n >= valsz)
				n = valsz - 1;
			memcpy(val, p, n);
			val[n] = '\0';
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

static int line_get_exact(const char *text, const char *key, char *val,
			  size_t valsz)
{
	char big[AGENT_MAX_TOKEN + 2];

	line_get(text, key, big, sizeof(big));
	if (strlen(big) >= valsz)
		return -E2BIG;
	memcpy(val, big, strlen(big) + 1);
	return 0;
}

/* info's cpus=: "" unknown (0), else 1..AGENT_MAX_CPUS; 0 or -EINVAL */
static int parse_cpus(const char *v, unsigned int *cpus)
{
	unsigned long n = 0;
	const char *p;

	if (!*v) {
		*cpus = 0;
		return 0;
	}
	for (p = v; *p; p++) {
		if (*p < '0' || *p > '9' || p - v > 6)
			return -EINVAL;
		n = n * 10 + (*p - '0');
	}
	if (n < 1 || n > AGENT_MAX_CPUS)
		return -EINVAL;
	*cpus = n;
	return 0;
}

/*
 * header_page ("\tfield: char data;\toffset:16;\tsize:4080;..."): 0 when
 * its data field's offset is 12..64 (as libtracedat wants it), -ENOENT
 * without a data field, -ENODATA without its offset, -EINVAL otherwise.
 */
static int header_page_ok(const char *d, size_t n)
{
	const char *end = d + n, *nl, *o;
	char line[256];
	size_t l;
	long off;
	char *e;

	for (; d < end; d = nl ? nl + 1 : end) {
		nl = memchr(d, '\n', end - d);
		l = (nl ? nl : end) - d;
		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, d, l);
		line[l] = '\0';
		if (!strstr(line, " data;"))
			continue;
		o = strstr(line, "offset:");
		if (!o)
			return -ENODATA;
		errno = 0;
		off = strtol(o + 7, &e, 10);
		if (e == o + 7 || errno || off < 12 || off > 64)
			return -EINVAL;
		return 0;
	}
	return -ENOENT;
}

/* clocks: "local global ... x86-tsc" */
static int has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	const char *p;

	for (p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return 1;
	return 0;
}

/*
 * The trace clock asked for at launch, when the guest has it (x86-tsc
 * for host/guest merging). Not fatal: the trace is still worth having.
 */
static void v1_clock(struct agent *a, const char *info)
{
	char clocks[512], line[64];
	struct vt_buf body = { 0 };

	line_get(info, "clocks", clocks, sizeof(clocks));
	if (!a->want_clock[0] || !strcmp(a->clock, a->want_clock))
		return;
	if (!has_word(clocks, a->want_clock)) {
		vt_log("agent %s: the guest has no %s "
			"trace clock (it has: %s): keeping %s", a->path,
			a->want_clock, clocks, a->clock);
		return;
	}
	snprintf(line, sizeof(line), "clock %s", a->want_clock);
	if (request(a, line, &body, REQ_TIMEOUT_MS) == 1 &&
	    (line_get_exact(body.p, "clock", a->clock, sizeof(a->clock)) ||
	     !clock_ok(a->clock))) {
		a->clock[0] = '\0';
		agent_fail(a, "clock: the answer's clock= is not a clock name "
			   "(letters, digits, -, _; < %zu bytes)",
			   sizeof(a->clock));
	}
	vt_buf_free(&body);
}

/*
 * Reconnected after a daemon restart: 1 when the agent needs no start
 * (it runs: adopted; or the stop goes on), 0 when it is to be started.
 */
static int v1_resume(struct agent *a, const char *info)
{
	char v[32];

	a->resume = 0;
	line_get(info, "state", v, sizeof(v));
	if (!strcmp(v, "running")) {
		vt_log("%s: reconnected: the agent "
			"runs: adopted (no events, no start sent)", a->path);
		a->state = AGENT_RUNNING;
		return 1;
	}
	if (a->resume_stopping) {
		vt_log("%s: reconnected: the agent "
			"is %s: the stop goes on", a->path, v[0] ? v : "?");
		a->state = AGENT_STOPPED;
		return 1;
	}
	vt_log("%s: reconnected: the agent is %s: "
		"starting it again", a->path, v[0] ? v : "?");
	return 0;
}

/* The agent answered hello: version 1 from now on. */
static void v1_start(struct agent *a)
{
	struct vt_buf body = { 0 };
	char line[sizeof(a->events) + 16], v[32];
	int ret;

	a->proto = 1;
	a->state = AGENT_ERROR;
	ret = request(a, "info", &body, REQ_TIMEOUT_MS);
	if (ret < 0)
		goto out;
	if (ret == 1) {
		char bad[48];

		line_get(body.p, "cpus", v, sizeof(v));
		if (parse_cpus(v, &a->cpus)) {
			agent_fail(a, "info: cpus=%s is not a number in 1..%d",
				   printable(bad, sizeof(bad), v, strlen(v)),
				   AGENT_MAX_CPUS);
			goto out;
		}
		if (line_get_exact(body.p, "release", a->release,
				   sizeof(a->release)) ||
		    !token_ok(a->release) ||
		    line_get_exact(body.p, "machine", a->machine,
				   sizeof(a->machine)) ||
		    !token_ok(a->machine) ||
		    line_get_exact(body.p, "clock", a->clock,
				   sizeof(a->clock)) ||
		    !clock_ok(a->clock)) {
			a->release[0] = a->machine[0] = a->clock[0] = '\0';
			agent_fail(a, "info: release=, machine= or clock= is not "
				   "one word of printable ASCII (release < %zu, "
				   "machine < %zu, clock < %zu bytes)",
				   sizeof(a->release), sizeof(a->machine),
				   sizeof(a->clock));
			goto out;
		}
		v1_clock(a, body.p);
		if (a->fd < 0)
			goto out;
	}
	if (a->resume && ret == 1 && v1_resume(a, body.p))
		goto out;
	a->resume = 0;
	if (a->events[0]) {
		snprintf(line, sizeof(line), "events %s", a->events);
		if (request(a, line, &body, REQ_TIMEOUT_MS) != 1)
			goto out;
	}
	if (request(a, "start", &body, REQ_TIMEOUT_MS) != 1)
		goto out;
	a->state = AGENT_RUNNING;
out:
	if (a->error[0])
		a->state = AGENT_ERROR;
	else if (ret < 0 || a->fd < 0)
		a->state = AGENT_GONE;
	vt_buf_free(&body);
}

/*
 * After a daemon restart the chardev may still carry the rest of a reply
 * the old daemon was reading (a metadata archive: megabytes; the guest
 * goes on writing it once a host is connected again). Whatever comes
 * before the answer to our "hello 1" is skipped: that answer is "ok
 * LEN\n" and a body that begins "proto=" (guest/PROTOCOL), which a
 * cut-off archive does not produce by chance. Read in bulk: megabytes a
 * byte at a time take minutes in a slow VM.
 */
#define RESYNC_CHUNK	65536
#define RESYNC_KEEP	64	/* a header cut by a chunk's end */

/* In b[0..n): the offset of "ok LEN\nproto=", LEN and where the body starts. */
static int find_hello_answer(const char *b, size_t n, size_t *at,
			     size_t *len, size_t *body)
{
	static const char mark[] = "proto=";
	size_t i, d;

	for (i = 0; i + 3 < n; i++) {
		if (b[i] != 'o' || b[i + 1] != 'k' || b[i + 2] != ' ')
			continue;
		for (d = i + 3, *len = 0; d < n && b[d] >= '0' && b[d] <= '9' &&
		     d - i < 13; d++)
			*len = *len * 10 + (b[d] - '0');
		if (d == i + 3 || d >= n || b[d] != '\n')
			continue;
		if (n - d - 1 < sizeof(mark) - 1)
			return 0;	/* perhaps: wait for more */
		if (memcmp(b + d + 1, mark, sizeof(mark) - 1) ||
		    *len < sizeof(mark) - 1 || *len > (1U << 20))
			continue;
		*at = i;
		*body = d + 1;
		return 1;
	}
	return 0;
}

static int resync_hello(struct agent *a, struct vt_buf *body, int timeout_ms)
{
	long end = vt_now_ms() + timeout_ms;
	size_t n = 0, at, len, start, have, skipped = 0;
	char *b = malloc(RESYNC_CHUNK + RESYNC_KEEP);
	int ret = -ENOMEM;

	while (b) {
		struct pollfd p = { .fd = a->fd, .events = POLLIN };
		long left = end - vt_now_ms();
		ssize_t r;

		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		if (poll(&p, 1, left) <= 0)
			continue;
		r = port_recv(a, b + n, RESYNC_CHUNK + RESYNC_KEEP - n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			ret = r ? -errno : -EPIPE;
			break;
		}
		n += r;
		if (find_hello_answer(b, n, &at, &len, &start)) {
			have = n - start < len ? n - start : len;
			ret = vt_buf_reserve(body, len) ? -ENOMEM : 0;
			if (!ret) {
				memcpy(body->p, b + start, have);
				ret = vt_conn_read(a->fd, body->p + have,
						len - have, left);
			}
			if (ret)
				break;
			body->len = len;
			body->p[len] = '\0';
			skipped += at;
			if (skipped)
				vt_log("%s: %zu more stale "
					"byte(s) skipped before the answer to "
					"hello", a->path, skipped);
			ret = 1;
			break;
		}
		if (n > RESYNC_KEEP) {	/* keep the tail: a header may span */
			skipped += n - RESYNC_KEEP;
			memmove(b, b + n - RESYNC_KEEP, RESYNC_KEEP);
			n = RESYNC_KEEP;
		}
	}
	free(b);
	return ret;
}

/* The answer to "hello 1" is there (or the connection ended). */
static void hello_answer(struct agent *a)
{
	struct vt_buf body = { 0 };
	int tmo = a->timeout_ms ? a->timeout_ms :
		  a->resume ? META_TIMEOUT_MS : REQ_TIMEOUT_MS;
	int ret = a->resume ? resync_hello(a, &body, tmo) :
		  vt_conn_reply_max(a->fd, &body, tmo, AGENT_MAX_REPLY);

	vt_buf_free(&body);
	if (ret == 1) {
		v1_start(a);
		return;
	}
	if (ret == 0) {
		vt_log("%s: hello 1 refused: using "
			"\"1\\n\"/\"0\\n\"", a->path);
		upstream_start(a);
		return;
	}
	if (ret == -EPROTO) {
		agent_fail(a, "hello: bad reply header (not \"ok|err LEN\" with "
			   "LEN <= %u)", VT_PROTO_MAX_BODY);
		return;
	}
	if (ret == -EMSGSIZE) {
		agent_fail(a, "hello: an answer longer than %u bytes",
			   AGENT_MAX_REPLY);
		return;
	}
	if (ret == -ETIMEDOUT) {
		agent_fail(a, "hello: no complete answer within %d ms", tmo);
		return;
	}
	vt_log("%s: hello: %s", a->path,
		strerror(-ret));
	agent_close(a);
	a->state = AGENT_GONE;
}

/*
 * Scans what the agent wrote: the answer to hello; for an upstream agent
 * the echo of an order. A version 1 agent says nothing unasked.
 */
void agent_input(struct agent *a)
{
	char buf[256];
	ssize_t r, i;
	int reads;

	if (a->fd < 0)
		return;
	if (a->state == AGENT_HELLO) {
		hello_answer(a);
		return;
	}
	/* a guest that writes without end: the rest at the next poll */
	for (reads = 0; reads < INPUT_MAX_READS; reads++) {
		r = port_recv(a, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		/* a vDPA device deleted under us: not to be polled again */
		if (r < 0 && a->port0 && errno != EAGAIN) {
			agent_close(a);
			a->state = AGENT_GONE;
			return;
		}
		if (r < 0)
			return;
		if (r == 0) {
			agent_close(a);
			a->state = AGENT_GONE;
			return;
		}
		for (i = 0; a->proto < 0 && i + 1 < r; i++) {
			if (buf[i + 1] != '\n')
				continue;
			if (buf[i] == '1' && a->state == AGENT_SILENT)
				a->state = AGENT_RUNNING;
			else if (buf[i] == '0')
				a->state = AGENT_STOPPED;
		}
	}
}

static int v1_stop(struct agent *a, int timeout_ms)
{
	int ret;

	a->state = AGENT_STOP_TIMEOUT;
	ret = request_t(a, "stop", &a->stop_body, timeout_ms, 1);
	if (ret == 1) {
		a->state = AGENT_STOPPED;
		return 0;
	}
	if (ret == 0) {
		a->state = AGENT_ERROR;
		return -EPROTO;
	}
	if (a->error[0]) {
		a->state = AGENT_ERROR;
	} else if (ret != -ETIMEDOUT) {
		agent_close(a);
		a->state = AGENT_GONE;
	}
	return ret;
}

/*
 * The upstream orders: an agent that echoed "1" echoes "0" once stopped.
 * One that never echoed anything (still AGENT_SILENT: linux's
 * tools/virtio/virtio-trace answers no order) never will: waiting for it
 * would take the whole timeout, so it is left in AGENT_STOP_QUIET for
 * agent_wait_quiet, the caller's one wait for the ports.
 */
static int upstream_stop(struct agent *a, int timeout_ms)
{
	long end = vt_now_ms() + timeout_ms;
	int silent = a->state == AGENT_SILENT, err;

	err = send_order(a, "0\n");
	if (err)
		return err;
	if (silent) {
		a->state = AGENT_STOP_QUIET;
		return 1;
	}
	a->state = AGENT_STOP_TIMEOUT;
	while (a->state == AGENT_STOP_TIMEOUT && a->fd >= 0) {
		struct pollfd p = { .fd = a->fd, .events = POLLIN };
		long left = end - vt_now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left) > 0)
			agent_input(a);
	}
	return a->state == AGENT_STOPPED ? 0 : -ENOTCONN;
}

int agent_stop(struct agent *a, int timeout_ms)
{
	if (a->fd < 0)
		return -ENOTCONN;
	if (a->state == AGENT_HELLO)	/* never started */
		return -ENOTCONN;
	if (a->proto > 0)
		return v1_stop(a, timeout_ms);
	return upstream_stop(a, timeout_ms);
}

/*
 * A confirmed stop: its pages were counted (or are about to be), the
 * window since the stop began is only for the last ones to leave the
 * rings. An unconfirmed one: the stillness is the only sign that the
 * agent stopped, so all of its window is watched from here.
 */
int agent_wait_quiet(struct agent *a, const struct agent_quiet *quiet,
		     long since_ms, long end_ms)
{
	int unconfirmed = a->state == AGENT_STOP_QUIET;
	long window = unconfirmed ? AGENT_QUIET_MS : AGENT_SETTLE_MS;
	long still = unconfirmed ? vt_now_ms() : since_ms;
	uint64_t last = quiet->bytes(quiet->arg), now;

	while (vt_now_ms() - still < window) {
		if (vt_now_ms() >= end_ms) {
			if (unconfirmed)
				a->state = AGENT_STOP_TIMEOUT;
			return -ETIMEDOUT;
		}
		usleep(AGENT_QUIET_POLL_MS * 1000);
		now = quiet->bytes(quiet->arg);
		if (now != last)
			still = vt_now_ms();
		last = now;
	}
	return 0;
}

int agent_sent_bytes(struct agent *a, unsigned int cpu, uint64_t *bytes)
{
	char key[32], v[32];
	const char *p = a->stop_body.p;
	size_t klen;

	if (a->proto <= 0 || a->state != AGENT_STOPPED || !p)
		return -ENOENT;
	klen = snprintf(key, sizeof(key), "cpu%u ", cpu);
	while (*p) {
		if (!strncmp(p, key, klen)) {
			char line[512];
			size_t n = strcspn(p, "\n");

			if (n >= sizeof(line))
				n = sizeof(line) - 1;
			memcpy(line, p, n);
			line[n] = '\0';
			if (a->session_counts) {
				if (vt_proto_kv_get(line, "session_pages", v,
						    sizeof(v)))
					return -ENOENT;
				*bytes = strtoull(v, NULL, 10) * 4096;
				return 0;
			}
			if (vt_proto_kv_get(line, "bytes", v, sizeof(v)))
				return -ENOENT;
			*bytes = strtoull(v, NULL, 10);
			return 0;
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return -ENOENT;
}

/* "cpuN k=v ..." lines: the line of cpu in text, or NULL */
static const char *cpu_line(const char *text, unsigned int cpu, char *line,
			    size_t size)
{
	char key[32];
	size_t klen = snprintf(key, sizeof(key), "cpu%u ", cpu), n;
	const char *p = text;

	while (p && *p) {
		n = strcspn(p, "\n");
		if (!strncmp(p, key, klen)) {
			if (n >= size)
				n = size - 1;
			memcpy(line, p, n);
			line[n] = '\0';
			return line;
		}
		p += n;
		if (*p)
			p++;
	}
	return NULL;
}

static uint64_t kv_u64(const char *line, const char *key)
{
	char v[32];

	if (vt_proto_kv_get(line, key, v, sizeof(v)))
		return 0;
	return strtoull(v, NULL, 10);
}

int agent_lost_events(struct agent *a, uint64_t *lost, unsigned int n)
{
	struct vt_buf body = { 0 };
	char line[1024];
	unsigned int cpu;
	int ret;

	if (a->fd < 0 || a->proto <= 0 ||
	    (a->state != AGENT_RUNNING && a->state != AGENT_STOPPED))
		return -ENOTCONN;
	ret = request(a, "stats", &body, REQ_TIMEOUT_MS);
	if (ret != 1) {
		vt_buf_free(&body);
		return ret < 0 ? ret : -EIO;
	}
	for (cpu = 0; cpu < n; cpu++) {
		if (!cpu_line(body.p, cpu, line, sizeof(line))) {
			lost[cpu] = UINT64_MAX;
			continue;
		}
		/* overwritten in the ring buffer, or never written to it */
		lost[cpu] = kv_u64(line, "overrun");
		if (lost[cpu] + kv_u64(line, "dropped_events") < lost[cpu])
			lost[cpu] = UINT64_MAX - 1;	/* the guest's sum */
		else
			lost[cpu] += kv_u64(line, "dropped_events");
	}
	vt_buf_free(&body);
	return 0;
}

/*
 * The guest's metadata archive, before anything of it is written: a
 * well-formed cpio of safe names (vt_cpio_next), at most AGENT_MAX_META_FILES
 * files, and a header_page whose data field has an offset in 12..64 (the
 * ring-buffer page header: the host reads pages with it). 0, or -EINVAL
 * with the reason in err.
 */
static int check_meta(const char *ar, size_t len, char *err, size_t errsz)
{
	struct vt_cpio_entry e;
	size_t off = 0, pos, nfiles = 0;
	int ret, hp = 0;

	for (;;) {
		pos = off;
		ret = vt_cpio_next(ar, len, &off, &e);
		if (ret <= 0)
			break;
		if (++nfiles > AGENT_MAX_META_FILES) {
			snprintf(err, errsz, "meta: more than %d files",
				 AGENT_MAX_META_FILES);
			return -EINVAL;
		}
		if (strcmp(e.name, "events/header_page") &&
		    strcmp(e.name, "header_page"))
			continue;
		ret = header_page_ok(e.data, e.size);
		if (ret) {
			snprintf(err, errsz, "meta: %s: %s", e.name,
				 ret == -ENOENT ? "no data field" :
				 ret == -ENODATA ? "the data field has no "
				 "offset" : "the data field's offset is not a "
				 "number in 12..64");
			return -EINVAL;
		}
		hp = 1;
	}
	if (ret < 0) {
		snprintf(err, errsz, "meta: malformed or unsafe cpio archive "
			 "(entry at byte %zu of %zu)", pos, len);
		return -EINVAL;
	}
	if (!hp) {
		snprintf(err, errsz, "meta: no events/header_page");
		return -EINVAL;
	}
	return 0;
}

int agent_fetch_meta(struct agent *a, const char *dir, char *err,
		     size_t errsz)
{
	struct vt_buf body = { 0 };
	int ret;

	if (a->fd < 0 || a->proto <= 0) {
		snprintf(err, errsz, "no version 1 agent");
		return -ENOTCONN;
	}
	ret = request(a, "meta", &body, META_TIMEOUT_MS);
	if (ret == 1 && check_meta(body.p, body.len, err, errsz)) {
		agent_fail(a, "%s", err);
		ret = -EINVAL;
	} else if (ret == 1)
		ret = vt_metadir_unpack(body.p, body.len, dir, err, errsz);
	else
		snprintf(err, errsz, "meta: %s", ret ? strerror(-ret) :
			 "refused");
	if (ret == 0)
		ret = -EPROTO;
	vt_buf_free(&body);
	return ret;
}

void agent_close(struct agent *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

void agent_free(struct agent *a)
{
	agent_close(a);
	vt_buf_free(&a->stop_body);
}
