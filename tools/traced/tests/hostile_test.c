// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile guest agent against the daemon's agent side (agent.c, with
 * tools/agent-ctl's conn.c and metadir.c, the code vhost-traced runs in
 * each session thread): a fake agent on a unix socket pair speaks the
 * protocol (guest/PROTOCOL) and sends one bad field at a time: cpus=
 * out of range, non-printable info words, reply headers that are not
 * "ok|err LEN" or whose LEN is too large, a reply dribbled a byte at a
 * time or cut short, a metadata archive with a bad header_page, an
 * unsafe name or too many files, a stream without end. Each must end
 * that agent (AGENT_ERROR, connection closed) within the request's time
 * limit, with an error that names what was wrong, nothing written for a
 * refused archive; and a good agent served at the same time (another
 * session) must be unaffected. The daemon-level half (recovery of
 * sessions whose DIR/meta or pages are hostile, a restart) is
 * hostile_test.sh.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "fake_peer.h"
#include "vt_buf.h"
#include "vt_time.h"
#include "tap.h"

#define TMO_MS	500	/* a.timeout_ms: the time limit of each request */

#define HP_OK "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n" \
	"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n" \
	"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n"
#define INFO_OK "proto=1\nagent=fake\ncpus=2\nrelease=6.1.0-test\n" \
	"machine=x86_64\nclock=local\nclocks=local x86-tsc\nstate=stopped\n"

/*
 * What the fake agent does: answers each request line in order with
 * replies[i] (raw bytes, NULL: stop answering and keep the line open);
 * dribble_ms > 0 sends the reply to request number dribble_at a byte at
 * a time; flood: after the replies, writes without end.
 */
struct fake {
	int fd;
	const char *replies[8];
	size_t lens[8];		/* 0: strlen */
	int dribble_at, dribble_ms;
	int flood;
	volatile int stop;
	char got[512];		/* the requests, ';' separated */
};

static void *agent_side(void *arg)
{
	struct fake *f = arg;
	char junk[4096];
	int i;
	size_t j, len;

	for (i = 0; i < 8 && f->replies[i]; i++) {
		if (peer_take_line(f->fd, f->got, sizeof(f->got)))
			return NULL;
		len = f->lens[i] ? f->lens[i] : strlen(f->replies[i]);
		if (f->dribble_ms && i == f->dribble_at) {
			for (j = 0; j < len && !f->stop; j++) {
				if (peer_put(f->fd, f->replies[i] + j, 1))
					return NULL;
				usleep(f->dribble_ms * 1000);
			}
			continue;
		}
		if (peer_put(f->fd, f->replies[i], len))
			return NULL;
	}
	memset(junk, '1', sizeof(junk));
	while (f->flood && !f->stop && !peer_put(f->fd, junk, sizeof(junk)))
		;
	/* then silence until the other side closes */
	while (!f->stop && read(f->fd, junk, sizeof(junk)) > 0)
		;
	return NULL;
}

static char *reply(int ok, const char *body, size_t len)
{
	char *r = malloc(len + 32);
	int n;

	if (!r)
		abort();
	n = sprintf(r, "%s %zu\n", ok ? "ok" : "err", len);
	memcpy(r + n, body, len);
	r[n + len] = '\0';
	return r;
}

static char *ok_reply(const char *body)
{
	return reply(1, body, strlen(body));
}

/* A cpio "newc" entry, names unchecked (a hostile archive). */
static void newc(struct vt_buf *b, const char *name, const char *data,
		 size_t len)
{
	static const char zeros[4];
	size_t nlen = strlen(name) + 1;
	char hdr[111];

	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X"
		 "%08X%08X%08X%08X%08X%08X", 1, !strcmp(name, "TRAILER!!!") ?
		 0 : 0100644, 0, 0, 1, 0, (unsigned int)len, 0, 0, 0, 0,
		 (unsigned int)nlen, 0);
	vt_buf_append(b, hdr, 110);
	vt_buf_append(b, name, nlen);
	vt_buf_append(b, zeros, (4 - ((110 + nlen) & 3)) & 3);
	vt_buf_append(b, data, len);
	vt_buf_append(b, zeros, (4 - (len & 3)) & 3);
}

struct run {
	struct agent a;
	struct fake f;
	pthread_t th;
	int sv[2];
	long ms;		/* how long agent.c took */
};

/* An agent connected to fake f, told to start; runs hello, info, start. */
static void start(struct run *r)
{
	long t0 = vt_now_ms();
	int i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->sv))
		abort();
	r->f.fd = r->sv[1];
	memset(&r->a, 0, sizeof(r->a));	/* the daemon's is calloc'ed */
	agent_init(&r->a, "fake", 1, NULL, NULL);
	r->a.timeout_ms = TMO_MS;
	r->a.fd = r->sv[0];
	pthread_create(&r->th, NULL, agent_side, &r->f);
	agent_start(&r->a);
	for (i = 0; i < 50 && r->a.state == AGENT_HELLO; i++) {
		struct pollfd p = { .fd = r->a.fd, .events = POLLIN };

		if (poll(&p, 1, 100) > 0)
			agent_input(&r->a);
	}
	r->ms = vt_now_ms() - t0;
}

static void finish(struct run *r)
{
	r->f.stop = 1;
	agent_free(&r->a);
	shutdown(r->sv[1], SHUT_RDWR);
	pthread_join(r->th, NULL);
	close(r->sv[1]);
}

/* The agent ended with an error naming what: state, fd, message. */
static int ended(struct run *r, const char *what)
{
	return r->a.state == AGENT_ERROR && r->a.fd < 0 &&
	       strstr(r->a.error, what);
}

static void info_case(const char *info, const char *what, const char *desc)
{
	struct run r = { .f = { .replies = { ok_reply("proto=1\n"),
					     ok_reply(info) } } };

	start(&r);
	tap_ok(ended(&r, what), "%s: agent %s, error '%s' (%ld ms)", desc,
	       agent_state_name(r.a.state), r.a.error, r.ms);
	finish(&r);
	free((char *)r.f.replies[0]);
	free((char *)r.f.replies[1]);
}

static void test_info(void)
{
	info_case("proto=1\ncpus=100000\n", "cpus=100000",
		  "info cpus=100000 (more than the 4096 a trace.dat takes)");
	info_case("proto=1\ncpus=-1\n", "cpus=-1", "info cpus=-1");
	info_case("proto=1\ncpus=0\n", "cpus=0", "info cpus=0");
	info_case("proto=1\ncpus=18446744073709551618\n", "cpus=",
		  "info cpus=2^64+2 (wraps to 2 with strtoul)");
	info_case("proto=1\ncpus=2\nrelease=6.1\x1b[2J\n", "release=",
		  "info release= with an escape sequence");
	info_case("proto=1\ncpus=2\nclock=../../x\n", "clock=",
		  "info clock= that is no clock name");
}

static void test_framing(void)
{
	static const char huge[] = "ok 268435457\n";
	static const char wrap[] = "ok 18446744073709551616\n";
	static const char bin[] = "\x01\x02\xff garbage without a newline "
		"......................................";
	struct run r1 = { .f = { .replies = { huge } } };
	struct run r2 = { .f = { .replies = { wrap } } };
	struct run r3 = { .f = { .replies = { bin } } };
	struct run r4 = { .f = { .replies = { "ok 8\nproto=1\n",
					      "ok 1048577\n" } } };

	start(&r1);
	tap_ok(ended(&r1, "bad reply header"), "hello answered with LEN "
	       "256 MiB + 1: %s", r1.a.error);
	finish(&r1);
	start(&r2);
	tap_ok(ended(&r2, "bad reply header"), "hello answered with LEN "
	       "2^64: %s", r2.a.error);
	finish(&r2);
	start(&r3);
	tap_ok(ended(&r3, "bad reply header"), "63 bytes of binary junk as "
	       "a reply header: %s", r3.a.error);
	finish(&r3);
	start(&r4);
	tap_ok(ended(&r4, "info: a reply longer than 1048576 bytes") &&
	       r4.ms < 200, "info answered with LEN 1 MiB + 1: refused "
	       "before reading it (%ld ms): %s", r4.ms, r4.a.error);
	finish(&r4);
}

static void test_slow(void)
{
	char *info = ok_reply(INFO_OK);
	/* a 50-byte header (LEN with leading zeros) and an 8-byte body */
	struct run r1 = { .f = { .replies = {
		"ok 000000000000000000000000000000000000000000008\nproto=1\n" },
				 .dribble_at = 0, .dribble_ms = 40 } };
	struct run r2 = { .f = { .replies = { ok_reply("proto=1\n"),
					      "ok 1000\nproto=1\ncpus=2\n" } } };
	struct run r3 = { .f = { .replies = { ok_reply("proto=1\n"), info },
				 .dribble_at = 1, .dribble_ms = 20 } };

	/*
	 * 58 bytes at 40 ms: 2.3 s, each byte well within TMO_MS (with a
	 * time limit per header byte that passed; 30 s each in the daemon)
	 */
	start(&r1);
	tap_ok(ended(&r1, "hello: no complete answer within 500 ms") &&
	       r1.ms < TMO_MS + 400, "the answer to hello a byte every "
	       "40 ms: one deadline for the whole reply (%ld ms): %s", r1.ms,
	       r1.a.error);
	finish(&r1);
	start(&r2);
	tap_ok(ended(&r2, "info: no complete reply within 500 ms") &&
	       r2.ms < TMO_MS + 400, "a reply of LEN 1000 cut short after "
	       "20 bytes (%ld ms): %s", r2.ms, r2.a.error);
	finish(&r2);
	/* the info reply a byte every 20 ms: ~3 s, per byte it was never */
	start(&r3);
	tap_ok(ended(&r3, "info: no complete reply within 500 ms") &&
	       r3.ms < TMO_MS + 400, "info dribbled a byte every 20 ms, "
	       "header then body (%ld ms): %s", r3.ms, r3.a.error);
	finish(&r3);
	free((char *)r2.f.replies[0]);
	free((char *)r3.f.replies[0]);
	free(info);
}

/* A started agent, then "meta" answered with archive ar. */
static void meta_case(struct vt_buf *ar, const char *what, const char *desc)
{
	char *meta = reply(1, ar->p, ar->len), dir[] = "/tmp/vt-hostile.XXXXXX";
	char sub[64], err[256];
	struct run r = { .f = { .replies = { ok_reply("proto=1\n"),
					     ok_reply(INFO_OK),
					     ok_reply("state=running\n"),
					     meta } } };
	struct stat st;
	int ret;

	r.f.lens[3] = ar->len + (strchr(meta, '\n') - meta) + 1;
	if (!mkdtemp(dir))
		abort();
	snprintf(sub, sizeof(sub), "%s/meta", dir);
	start(&r);
	ret = r.a.state == AGENT_RUNNING ?
		agent_fetch_meta(&r.a, sub, err, sizeof(err)) : -999;
	tap_ok(ret == -EINVAL && ended(&r, what) && stat(sub, &st),
	       "%s: refused before anything is written: %s", desc,
	       r.a.error);
	finish(&r);
	rmdir(dir);
	free((char *)r.f.replies[0]);
	free((char *)r.f.replies[1]);
	free((char *)r.f.replies[2]);
	free(meta);
}

static void test_meta(void)
{
	static const char *const hps[][2] = {
		{ "\tfield: char data;\tsize:4080;\n", "has no offset" },
		{ "\tfield: char data;\toffset:4096;\tsize:0;\n", "offset" },
		{ "\tfield: char data;\toffset:-8;\tsize:4104;\n", "offset" },
		{ "\tfield: char data;\toffset:99999999999999999999;\n",
		  "offset" },
	};
	static const char *const hpdesc[] = {
		"header_page's data field without offset: (the daemon's "
		"segfault in write_tracedat)",
		"header_page's data offset 4096 (psize - hdr wrapped)",
		"header_page's data offset -8",
		"header_page's data offset 10^20",
	};
	struct vt_buf ar = { 0 };
	char name[32];
	unsigned int i;

	for (i = 0; i < sizeof(hps) / sizeof(hps[0]); i++) {
		ar.len = 0;
		newc(&ar, "events/header_page", hps[i][0], strlen(hps[i][0]));
		newc(&ar, "TRAILER!!!", "", 0);
		meta_case(&ar, strcmp(hps[i][1], "offset") ? hps[i][1] :
			  "offset is not a number", hpdesc[i]);
	}
	ar.len = 0;
	newc(&ar, "events/header_page", HP_OK, strlen(HP_OK));
	newc(&ar, "../../etc/cron.d/x", "* * * * * root id\n", 18);
	newc(&ar, "TRAILER!!!", "", 0);
	meta_case(&ar, "malformed or unsafe", "an archive entry "
		  "../../etc/cron.d/x");
	ar.len = 0;
	newc(&ar, "events/ftrace/print/format", "x", 1);
	newc(&ar, "TRAILER!!!", "", 0);
	meta_case(&ar, "no events/header_page", "an archive without "
		  "header_page");
	ar.len = 0;
	newc(&ar, "events/header_page", HP_OK, strlen(HP_OK));
	for (i = 0; i <= AGENT_MAX_META_FILES; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		newc(&ar, name, "", 0);
	}
	newc(&ar, "TRAILER!!!", "", 0);
	meta_case(&ar, "more than 65536 files", "an archive of 65538 files");
	vt_buf_free(&ar);
}

/* An upstream agent (hello refused) that writes without end. */
static void test_flood(void)
{
	char *no = reply(0, "no\n", 3);
	struct run r = { .f = { .replies = { no }, .flood = 1 } };
	long t0;
	int i;

	start(&r);
	t0 = vt_now_ms();
	for (i = 0; i < 20; i++)
		agent_input(&r.a);
	tap_ok(r.a.proto == -1 && vt_now_ms() - t0 < 2000 && r.a.fd >= 0,
	       "an upstream agent that writes without end: each agent_input "
	       "returns (20 calls in %lld ms)", vt_now_ms() - t0);
	finish(&r);
	free(no);
}

/* Another session's agent, served while a hostile one dribbles. */
struct side {
	struct run r;
	long done_ms;
};

static void *good_session(void *arg)
{
	struct side *s = arg;

	usleep(50000);
	start(&s->r);
	s->done_ms = vt_now_ms();
	return NULL;
}

static void test_other_session(void)
{
	char *hello = ok_reply("proto=1\n");
	struct side good = { .r = { .f = { .replies = { hello,
			ok_reply(INFO_OK), ok_reply("state=running\n") } } } };
	struct run bad = { .f = { .replies = { hello }, .dribble_at = 0,
				  .dribble_ms = 100 } };
	pthread_t th;
	long t0 = vt_now_ms();

	pthread_create(&th, NULL, good_session, &good);
	start(&bad);
	pthread_join(th, NULL);
	tap_ok(good.r.a.state == AGENT_RUNNING && good.r.a.cpus == 2 &&
	       !good.r.a.error[0] && good.done_ms - t0 < 400 &&
	       ended(&bad, "hello"),
	       "another session's agent is started while a hostile one "
	       "dribbles (done after %ld ms; the hostile one: %s)",
	       good.done_ms - t0, bad.a.error);
	finish(&good.r);
	finish(&bad);
	free((char *)good.r.f.replies[1]);
	free((char *)good.r.f.replies[2]);
	free(hello);
}

int main(void)
{
	tap_plan("a hostile guest agent against the daemon's agent side", 22);
	test_info();
	test_framing();
	test_slow();
	test_meta();
	test_flood();
	test_other_session();
	return tap_done();
}
