// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test (TAP) of qmp.c (jansson underneath) against a fake QMP server (a thread
 * on the other end of a socketpair, or of a unix socket): greeting,
 * capabilities, answers in pieces, interleaved events, DEVICE_DELETED,
 * error replies, fd passing, time-outs, a closed connection.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../qmp.h"
#include "tap.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, " \
	"\"minor\": 2, \"major\": 7}, \"package\": \"\"}, " \
	"\"capabilities\": [\"oob\"]}}\r\n"
#define RET_EMPTY "{\"return\": {}}\r\n"
#define EV(name, data) "{\"timestamp\": {\"seconds\": 1700000000, " \
	"\"microseconds\": 1}, \"event\": \"" name "\", \"data\": " data "}\r\n"

struct step {
	const char *expect;	/* the command must contain it; NULL: no read */
	const char *reply;	/* then this is written (NULL: nothing) */
	int delay_ms;		/* before the reply */
	int bytewise;		/* the reply one byte at a time */
	int hang_up;		/* close after the reply */
};

struct fake {
	int fd;
	const struct step *steps;
	int got_fd;		/* an fd that came with a command */
	int bad;		/* a command that did not match */
	char cmd[4096];		/* the last command */
	char in[4096];		/* received, not yet taken */
	size_t have;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* One command line from the client, with an fd if one came. */
static int read_cmd(struct fake *f)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	size_t n;
	char *nl;

	while (!(nl = memchr(f->in, '\n', f->have))) {
		struct iovec iov = { f->in + f->have,
				     sizeof(f->in) - 1 - f->have };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = c.buf,
				     .msg_controllen = sizeof(c.buf) };
		struct cmsghdr *h;
		ssize_t r = recvmsg(f->fd, &mh, 0);

		if (r <= 0)
			return -1;
		for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
			if (h->cmsg_level == SOL_SOCKET &&
			    h->cmsg_type == SCM_RIGHTS)
				memcpy(&f->got_fd, CMSG_DATA(h), sizeof(int));
		f->have += r;
	}
	n = nl - f->in;
	memcpy(f->cmd, f->in, n);
	f->cmd[n] = '\0';
	memmove(f->in, nl + 1, f->have - n - 1);
	f->have -= n + 1;
	return 0;
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	const struct step *s;
	size_t i;

	for (s = f->steps; s->expect || s->reply || s->hang_up; s++) {
		if (s->expect) {
			if (read_cmd(f)) {
				f->bad = 1;
				break;
			}
			if (!strstr(f->cmd, s->expect)) {
				printf("# fake: got %s, want %s\n", f->cmd,
				       s->expect);
				f->bad = 1;
			}
		}
		sleep_ms(s->delay_ms);
		for (i = 0; s->reply && i < strlen(s->reply); ) {
			size_t n = s->bytewise ? 1 : strlen(s->reply) - i;
			ssize_t r = send(f->fd, s->reply + i, n, MSG_NOSIGNAL);

			if (r <= 0)
				break;
			i += r;
		}
		if (s->hang_up)
			break;
	}
	shutdown(f->fd, SHUT_RDWR);
	return NULL;
}

static pthread_t start_fake(struct fake *f, const struct step *steps,
			    int *client)
{
	int sv[2];
	pthread_t th;

	memset(f, 0, sizeof(*f));
	f->got_fd = -1;
	f->steps = steps;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	f->fd = sv[1];
	*client = sv[0];
	pthread_create(&th, NULL, serve, f);
	return th;
}

static void stop_fake(struct fake *f, pthread_t th)
{
	pthread_join(th, NULL);
	close(f->fd);
	if (f->got_fd >= 0)
		close(f->got_fd);
}

/* the JSON helpers qmp.c gives attach.c (jansson underneath) */
static void test_json(void)
{
	static const char cpus[] = " [{\"cpu-index\": 0, \"x\": [1, 2]}, "
		"{\"cpu-index\": 1}] ";
	struct vt_buf b;

	tap_ok(qmp_array_count(cpus, strlen(cpus)) == 2 &&
	       qmp_array_count("[]", 2) == 0 &&
	       qmp_array_count("[1 2]", 5) == -EINVAL &&
	       qmp_array_count("{}", 2) == -EINVAL &&
	       qmp_array_count("[1] x", 5) == -EINVAL,
	       "json: array elements counted (query-cpus-fast), junk refused");
	vt_buf_init(&b);
	tap_ok(!qmp_add_string(&b, "a\"b\\c\nd\x01/\xc3\xa9") && b.p &&
	       !strcmp(b.p, "\"a\\\"b\\\\c\\nd\\u0001/\xc3\xa9\""),
	       "json: a string written escaped");
	b.len = 0;
	tap_ok(qmp_add_string(&b, "\xff\xfe") == -EINVAL && !b.len,
	       "json: a string that is not UTF-8 refused");
	vt_buf_free(&b);
}

static void test_session(void)
{
	static const struct step steps[] = {
		{ .reply = GREETING },
		{ .expect = "\"qmp_capabilities\"", .reply = RET_EMPTY },
		/* two events before the answer, the answer in pieces */
		{ .expect = "{\"execute\":\"query-status\"}",
		  .reply = EV("RESUME", "{}")
		  EV("DEVICE_DELETED", "{\"device\": \"vtrace2\", "
		     "\"path\": \"/machine/peripheral/vtrace2\"}")
		  "{\"return\": {\"status\": \"running\", "
		  "\"singlestep\": false, \"running\": true}}\r\n",
		  .bytewise = 1 },
		{ .expect = "\"getfd\"", .reply = RET_EMPTY },
		{ .expect = "\"device_add\"",
		  .reply = "{\"error\": {\"class\": \"GenericError\", "
		  "\"desc\": "
		  "\"Bus 'nosuch' not found \\\"x\\\"\\u00e9\"}}\r\n" },
		/* the event before the answer */
		{ .expect = "\"device_del\"",
		  .reply = EV("DEVICE_DELETED", "{\"path\": "
		  "\"/machine/peripheral/vtrace1/virtio-backend\"}")
		  EV("DEVICE_DELETED", "{\"device\": \"vtrace1\", \"path\": "
		  "\"/machine/peripheral/vtrace1\"}") RET_EMPTY },
		/* pretty-printed answer, then the event later */
		{ .expect = "\"device_del\"",
		  .reply = "{\n    \"return\": {\n    }\n}\n" },
		{ .reply = "{\n    \"event\": \"DEVICE_DELETED\",\n    "
		  "\"data\": {\n        \"device\": \"vtrace3\"\n    }\n}\n",
		  .delay_ms = 150 },
		{ .expect = "\"device_del\"", .reply = RET_EMPTY },
		{ .expect = "\"quit\"", .reply = RET_EMPTY, .hang_up = 1 },
		{ NULL }
	};
	struct vt_buf ret;
	struct fake f;
	struct qmp q;
	struct stat a, b;
	pthread_t th;
	int client, p[2], err;
	long t;

	th = start_fake(&f, steps, &client);
	err = qmp_open(&q, client, 2000);
	tap_ok(!err && q.pid == getpid() && q.uid == getuid(),
	       "qmp: greeting and qmp_capabilities; SO_PEERCRED pid %d",
	       (int)q.pid);
	qmp_watch_deleted(&q, "vtrace1");
	vt_buf_init(&ret);
	err = qmp_exec(&q, "query-status", NULL, -1, &ret, 2000);
	tap_ok(!err && ret.p && !strcmp(ret.p, "{\"status\":\"running\","
	       "\"singlestep\":false,\"running\":true}") && q.events == 2 &&
	       !q.deleted,
	       "qmp: the answer after 2 events, byte by byte (events %u)",
	       q.events);
	if (pipe(p))
		abort();
	err = qmp_exec(&q, "getfd", "{\"fdname\":\"vtfd1\"}", p[1], NULL,
		       2000);
	fstat(p[1], &a);
	tap_ok(!err && f.got_fd >= 0 && !fstat(f.got_fd, &b) &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev &&
	       strstr(f.cmd, "{\"execute\":\"getfd\",\"arguments\":"
		      "{\"fdname\":\"vtfd1\"}}"),
	       "qmp: getfd sends the fd with SCM_RIGHTS");
	close(p[0]);
	close(p[1]);
	err = qmp_exec(&q, "device_add", "{\"driver\":\"x\"}", -1, NULL, 2000);
	tap_ok(err == -EREMOTEIO &&
	       !strcmp(q.err, "Bus 'nosuch' not found \"x\"\xc3\xa9"),
	       "qmp: an error answer gives QEMU's desc verbatim: %s", q.err);
	err = qmp_exec(&q, "device_del", "{\"id\":\"vtrace1\"}", -1, NULL,
		       2000);
	tap_ok(!err && q.deleted && !qmp_wait_deleted(&q, 0),
	       "qmp: DEVICE_DELETED before the answer is remembered, only "
	       "for the watched id");
	qmp_watch_deleted(&q, "vtrace3");
	err = qmp_exec(&q, "device_del", "{\"id\":\"vtrace3\"}", -1, NULL,
		       2000);
	t = now_ms();
	tap_ok(!err && !q.deleted && !qmp_wait_deleted(&q, 2000) &&
	       now_ms() - t >= 100,
	       "qmp: pretty-printed answer, DEVICE_DELETED waited for");
	qmp_watch_deleted(&q, "vtrace4");
	err = qmp_exec(&q, "device_del", "{\"id\":\"vtrace4\"}", -1, NULL,
		       2000);
	t = now_ms();
	err = err ? err : qmp_wait_deleted(&q, 200);
	tap_ok(err == -ETIMEDOUT && now_ms() - t >= 190 &&
	       strstr(q.err, "no DEVICE_DELETED for vtrace4"),
	       "qmp: no DEVICE_DELETED: a time-out: %s", q.err);
	err = qmp_exec(&q, "quit", NULL, -1, NULL, 2000);
	tap_ok(!err, "qmp: the connection still works after that");
	err = qmp_exec(&q, "query-status", NULL, -1, NULL, 2000);
	tap_ok(err == -ECONNRESET && strstr(q.err, "closed the connection"),
	       "qmp: QEMU gone: %s", q.err);
	qmp_close(&q);
	vt_buf_free(&ret);
	stop_fake(&f, th);
	tap_ok(!f.bad, "qmp: the fake server got the commands it expected");
}

static void test_timeout(void)
{
	static const struct step steps[] = {
		{ .reply = GREETING },
		{ .expect = "\"qmp_capabilities\"", .reply = RET_EMPTY },
		/* no answer */
		{ .expect = "\"query-x\"", .reply = "", .delay_ms = 400 },
		{ NULL }
	};
	struct fake f;
	struct qmp q;
	pthread_t th;
	int client, err;
	long t;

	th = start_fake(&f, steps, &client);
	err = qmp_open(&q, client, 2000);
	t = now_ms();
	err = err ? err : qmp_exec(&q, "query-x", NULL, -1, NULL, 200);
	tap_ok(err == -ETIMEDOUT && now_ms() - t >= 190 &&
	       strstr(q.err, "no answer to query-x"),
	       "qmp: no answer: a time-out: %s", q.err);
	err = qmp_exec(&q, "query-y", NULL, -1, NULL, 200);
	tap_ok(err == -ENOTCONN,
	       "qmp: after a time-out the connection is closed (a late "
	       "answer must not pass for the next one's): %s", q.err);
	qmp_close(&q);
	stop_fake(&f, th);
	tap_ok(!f.bad, "qmp: the fake server got the commands it expected");
}

static void test_open_errors(void)
{
	static const struct step silent[] = { { .reply = "", .delay_ms = 400 },
					      { NULL } };
	static const struct step garbage[] = { { .reply = "hello\r\n" },
					       { NULL } };
	static const struct step array[] = { { .reply = "[1, 2]\r\n" },
					     { NULL } };
	static struct step deep_steps[] = { { .reply = "" }, { NULL } };
	static char deep[100003];
	static const struct step refused[] = {
		{ .reply = GREETING },
		{ .expect = "\"qmp_capabilities\"",
		  .reply = "{\"error\": {\"class\": "
		  "\"CommandNotFound\", \"desc\": \"Capabilities negotiation "
		  "is already complete, command ignored\"}}\r\n" },
		{ NULL }
	};
	struct fake f;
	struct qmp q;
	pthread_t th;
	int client, err;

	th = start_fake(&f, silent, &client);
	err = qmp_open(&q, client, 200);
	tap_ok(err == -ETIMEDOUT && q.fd < 0 && strstr(q.err, "no greeting"),
	       "qmp: no greeting: %s", q.err);
	stop_fake(&f, th);
	th = start_fake(&f, garbage, &client);
	err = qmp_open(&q, client, 2000);
	tap_ok(err == -EPROTO, "qmp: not JSON: %s", q.err);
	stop_fake(&f, th);
	th = start_fake(&f, array, &client);
	err = qmp_open(&q, client, 2000);
	tap_ok(err == -EPROTO && strstr(q.err, "not a JSON object"),
	       "qmp: a greeting that is an array: %s", q.err);
	stop_fake(&f, th);
	memset(deep, '[', sizeof(deep) - 3);
	memcpy(deep + sizeof(deep) - 3, "\r\n", 3);
	deep_steps[0].reply = deep;
	th = start_fake(&f, deep_steps, &client);
	err = qmp_open(&q, client, 2000);
	tap_ok(err == -EPROTO, "qmp: 100000 nested arrays refused (depth "
	       "limit), no crash: %.60s", q.err);
	stop_fake(&f, th);
	th = start_fake(&f, refused, &client);
	err = qmp_open(&q, client, 2000);
	tap_ok(err == -EREMOTEIO && strstr(q.err, "already complete"),
	       "qmp: qmp_capabilities refused: %s", q.err);
	stop_fake(&f, th);
}

/* A 1 MiB answer comes whole; one of more than QMP_MAX_MSG is refused. */
static void test_big(void)
{
	static struct step steps[] = {
		{ .reply = GREETING },
		{ .expect = "\"qmp_capabilities\"", .reply = RET_EMPTY },
		{ .expect = "\"query-big\"" },
		{ .expect = "\"query-huge\"" },
		{ NULL }
	};
	size_t big = 1 << 20, huge = QMP_MAX_MSG + 1;
	char *b = malloc(big + 32), *h = malloc(huge + 32);
	struct vt_buf ret;
	struct fake f;
	struct qmp q;
	pthread_t th;
	int client, err;

	if (!b || !h)
		abort();
	strcpy(b, "{\"return\": \"");
	memset(b + 12, 'a', big);
	strcpy(b + 12 + big, "\"}\r\n");
	strcpy(h, "{\"return\": \"");
	memset(h + 12, 'b', huge);
	strcpy(h + 12 + huge, "\"}\r\n");
	steps[2].reply = b;
	steps[3].reply = h;
	vt_buf_init(&ret);
	th = start_fake(&f, steps, &client);
	err = qmp_open(&q, client, 2000);
	err = err ? err : qmp_exec(&q, "query-big", NULL, -1, &ret, 5000);
	tap_ok(!err && ret.len == big + 2,
	       "qmp: a 1 MiB answer read whole (%zu bytes)", ret.len);
	err = qmp_exec(&q, "query-huge", NULL, -1, &ret, 5000);
	tap_ok(err == -EMSGSIZE && q.fd < 0 && strstr(q.err, "longer than"),
	       "qmp: a message longer than %d bytes refused, the connection "
	       "closed: %s", QMP_MAX_MSG, q.err);
	qmp_close(&q);
	shutdown(client, SHUT_RDWR);
	stop_fake(&f, th);
	vt_buf_free(&ret);
	free(b);
	free(h);
}

struct listener {
	int lfd;
	struct fake f;
};

static void *accept_one(void *arg)
{
	struct listener *l = arg;

	l->f.fd = accept(l->lfd, NULL, NULL);
	if (l->f.fd >= 0)
		serve(&l->f);
	return NULL;
}

static void test_connect(void)
{
	static const struct step steps[] = {
		{ .reply = GREETING },
		{ .expect = "\"qmp_capabilities\"", .reply = RET_EMPTY },
		{ NULL }
	};
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/qmp_test.XXXXXX";
	struct listener l = { .f = { .steps = steps, .got_fd = -1 } };
	struct qmp q;
	pthread_t th;
	int err;

	if (!mkdtemp(dir))
		abort();
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/qmp.sock", dir);
	err = qmp_connect(&q, sun.sun_path, 500);
	tap_ok(err == -ENOENT && strstr(q.err, "cannot connect to QMP socket"),
	       "qmp: no socket: %s", q.err);
	l.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(l.lfd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(l.lfd, 1))
		abort();
	pthread_create(&th, NULL, accept_one, &l);
	err = qmp_connect(&q, sun.sun_path, 2000);
	tap_ok(!err && q.pid == getpid(),
	       "qmp: connect to a unix socket, greeting, capabilities");
	qmp_close(&q);
	pthread_join(th, NULL);
	close(l.f.fd);
	close(l.lfd);
	unlink(sun.sun_path);
	rmdir(dir);
}

int main(void)
{
	tap_plan("QMP client (jansson)", 25);
	test_json();
	test_session();
	test_timeout();
	test_open_errors();
	test_big();
	test_connect();
	return tap_done();
}
