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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "vt_conn.h"
#include "vt_metadir.h"
#include "vt_proto.h"

#define REQ_TIMEOUT_MS	30000	/* one version 1 request */
#define META_TIMEOUT_MS	120000	/* meta: kallsyms is a few MB */

static const char *const names[] = {
	[AGENT_OFF] = "off",
	[AGENT_CONNECTING] = "connecting",
	[AGENT_HELLO] = "hello",
	[AGENT_SILENT] = "silent",
	[AGENT_RUNNING] = "running",
	[AGENT_STOPPED] = "stopped",
	[AGENT_STOP_TIMEOUT] = "stop-timeout",
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
	size_t n = 0;
	char buf[4096];
	ssize_t r;

	while (poll(&p, 1, n ? 50 : 200) > 0) {
		r = recv(a->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r <= 0)
			break;
		n += r;
	}
	if (n)
		fprintf(stderr, "vhost-traced: %s: %zu stale byte(s) from "
			"before the restart discarded\n", a->path, n);
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

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void upstream_start(struct agent *a)
{
	a->proto = -1;
	if (send_order(a, "1\n"))
		a->state = AGENT_ERROR;
	else
		a->state = AGENT_SILENT;
}

int agent_start(struct agent *a)
{
	static const char hello[] = "hello 1\n";
	int err;

	if (a->resume && a->fd >= 0) {
		drain_stale(a);
		if (a->proto < 0) {
			/* upstream orders: nothing to ask, nothing to send */
			a->resume = 0;
			a->state = a->resume_state;
			fprintf(stderr, "vhost-traced: %s: reconnected to an "
				"agent on the upstream orders: no order sent, "
				"agent %s as before\n", a->path,
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
	if (!a->hello_taken_ms) {
		if (!ioctl(a->fd, SIOCOUTQ, &outq) && outq == 0)
			a->hello_taken_ms = now_ms();
		return;
	}
	if (now_ms() - a->hello_taken_ms < AGENT_HELLO_WAIT_MS)
		return;
	fprintf(stderr, "vhost-traced: %s: no answer to hello: upstream "
		"agent, using \"1\\n\"/\"0\\n\"\n", a->path);
	upstream_start(a);
}

/* One version 1 request; 1 ok (body in *body), 0 err (logged), -errno. */
static int request(struct agent *a, const char *line, struct vt_buf *body,
		   int timeout_ms)
{
	int ret;

	body->len = 0;
	ret = vt_conn_request(a->fd, line, body, timeout_ms);
	if (ret == 0)
		fprintf(stderr, "vhost-traced: agent %s: %s: %s", a->path,
			line, body->len ? body->p : "error\n");
	else if (ret < 0)
		fprintf(stderr, "vhost-traced: agent %s: %s: %s\n", a->path,
			line, strerror(-ret));
	return ret;
}

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

	line_get(info, "clock", a->clock, sizeof(a->clock));
	line_get(info, "clocks", clocks, sizeof(clocks));
	if (!a->want_clock[0] || !strcmp(a->clock, a->want_clock))
		return;
	if (!has_word(clocks, a->want_clock)) {
		fprintf(stderr, "vhost-traced: agent %s: the guest has no %s "
			"trace clock (it has: %s): keeping %s\n", a->path,
			a->want_clock, clocks, a->clock);
		return;
	}
	snprintf(line, sizeof(line), "clock %s", a->want_clock);
	if (request(a, line, &body, REQ_TIMEOUT_MS) == 1)
		line_get(body.p, "clock", a->clock, sizeof(a->clock));
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
		fprintf(stderr, "vhost-traced: %s: reconnected: the agent "
			"runs: adopted (no events, no start sent)\n", a->path);
		a->state = AGENT_RUNNING;
		return 1;
	}
	if (a->resume_stopping) {
		fprintf(stderr, "vhost-traced: %s: reconnected: the agent "
			"is %s: the stop goes on\n", a->path, v[0] ? v : "?");
		a->state = AGENT_STOPPED;
		return 1;
	}
	fprintf(stderr, "vhost-traced: %s: reconnected: the agent is %s: "
		"starting it again\n", a->path, v[0] ? v : "?");
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
		line_get(body.p, "cpus", v, sizeof(v));
		a->cpus = strtoul(v, NULL, 10);
		line_get(body.p, "release", a->release, sizeof(a->release));
		line_get(body.p, "machine", a->machine, sizeof(a->machine));
		v1_clock(a, body.p);
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
	if (ret < 0 || a->fd < 0)
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
	long end = now_ms() + timeout_ms;
	size_t n = 0, at, len, start, have, skipped = 0;
	char *b = malloc(RESYNC_CHUNK + RESYNC_KEEP);
	int ret = -ENOMEM;

	while (b) {
		struct pollfd p = { .fd = a->fd, .events = POLLIN };
		long left = end - now_ms();
		ssize_t r;

		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		if (poll(&p, 1, left) <= 0)
			continue;
		r = recv(a->fd, b + n, RESYNC_CHUNK + RESYNC_KEEP - n,
			 MSG_DONTWAIT);
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
				fprintf(stderr, "vhost-traced: %s: %zu more stale "
					"byte(s) skipped before the answer to "
					"hello\n", a->path, skipped);
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
	int ret = a->resume ? resync_hello(a, &body, META_TIMEOUT_MS) :
		  vt_conn_reply(a->fd, &body, REQ_TIMEOUT_MS);

	vt_buf_free(&body);
	if (ret == 1) {
		v1_start(a);
		return;
	}
	if (ret == 0) {
		fprintf(stderr, "vhost-traced: %s: hello 1 refused: using "
			"\"1\\n\"/\"0\\n\"\n", a->path);
		upstream_start(a);
		return;
	}
	fprintf(stderr, "vhost-traced: %s: hello: %s\n", a->path,
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

	if (a->fd < 0)
		return;
	if (a->state == AGENT_HELLO) {
		hello_answer(a);
		return;
	}
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
	ret = request(a, "stop", &a->stop_body, timeout_ms);
	if (ret == 1) {
		a->state = AGENT_STOPPED;
		return 0;
	}
	if (ret == 0) {
		a->state = AGENT_ERROR;
		return -EPROTO;
	}
	if (ret != -ETIMEDOUT) {
		agent_close(a);
		a->state = AGENT_GONE;
	}
	return ret;
}

int agent_stop(struct agent *a, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	int err;

	if (a->fd < 0)
		return -ENOTCONN;
	if (a->state == AGENT_HELLO)	/* never started */
		return -ENOTCONN;
	if (a->proto > 0)
		return v1_stop(a, timeout_ms);
	err = send_order(a, "0\n");
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
		lost[cpu] = kv_u64(line, "overrun") +
			    kv_u64(line, "dropped_events");
	}
	vt_buf_free(&body);
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
	if (ret == 1)
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
