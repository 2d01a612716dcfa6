// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of agent.c's reconnection after a daemon restart: the agent
 * chardev still carries megabytes of a reply the dead daemon was reading
 * (with things that look like reply headers in it) when the new daemon
 * says hello; the answer to hello must be found behind them, and a
 * running agent adopted (no events, no start sent). A fake agent on a
 * socketpair plays the guest.
 *
 * Then the stop as the daemon's drain does it, agent_stop and then
 * agent_wait_quiet: an agent on the upstream orders that never echoed
 * one (linux's virtio-trace) gets the "0" and is not waited for; the
 * one wait, for the ports, ends once their byte count stood still for
 * AGENT_QUIET_MS, not after the whole timeout, or at the timeout
 * (stop-timeout). One that echoed "1" still waits for its "0"; a version
 * 1 agent's stop waits for its answer, then the ports' shorter window
 * (AGENT_SETTLE_MS).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "fake_peer.h"
#include "tap.h"
#include "vt_time.h"

#define JUNK	(3 << 20)

struct fake {
	int fd;
	size_t before;		/* stale bytes before the hello is read */
	size_t after;		/* and after it, before the answer */
	char got[256];		/* the requests, one per line */
};

/* One request line into f->got; 0, or -1 at the end. */
static int take_line(struct fake *f)
{
	return peer_take_line(f->fd, f->got, sizeof(f->got));
}

static int reply(int fd, const char *body)
{
	char hdr[32];

	snprintf(hdr, sizeof(hdr), "ok %zu\n", strlen(body));
	return peer_put(fd, hdr, strlen(hdr)) || peer_put(fd, body, strlen(body));
}

static void *agent_side(void *arg)
{
	/* look like reply headers, are not the answer to hello */
	static const char *const decoys[] = {
		"ok 7\nabcdefg", "ok 12\nprotX=1\nagent", "err 5\nhello",
		"ok 99999999999999\nproto=1\n", "ok \nproto=", "ok 3\npro",
	};
	struct fake *f = arg;
	char *junk = malloc(JUNK);
	size_t i, d = 0;

	if (!junk)
		return NULL;
	for (i = 0; i < JUNK; i++)
		junk[i] = "0123456789abcdef T splice_direct_to_actor\n"[i % 43];
	for (i = 4096; i + 64 < JUNK; i += 300007) {
		memcpy(junk + i, decoys[d], strlen(decoys[d]));
		d = (d + 1) % (sizeof(decoys) / sizeof(decoys[0]));
	}
	/*
	 * The rest of the dead daemon's reply: some of it before the new
	 * daemon's hello is read (its drain takes that), the rest after
	 * (the guest writes on once a host is connected again), then the
	 * answer to hello.
	 */
	if (peer_put(f->fd, junk, f->before) || take_line(f) ||
	    peer_put(f->fd, junk + f->before, f->after) ||
	    reply(f->fd, "proto=1\nagent=fake\n") || take_line(f) ||
	    reply(f->fd, "proto=1\ncpus=2\nstate=running\nclock=x86-tsc\n"
		  "clocks=local x86-tsc\nrelease=6.1.0-test\n"))
		fprintf(stderr, "# fake agent: %s\n", strerror(errno));
	free(junk);
	return NULL;
}

static void run(size_t before, size_t after, const char *what)
{
	struct fake f = { .before = before, .after = after };
	struct agent a;
	struct timespec t0, t1;
	pthread_t th;
	int sv[2], i;
	double s;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return;
	agent_init(&a, "fake", 1, "sched:sched_switch", "x86-tsc");
	a.fd = sv[0];
	agent_resume(&a, 1, AGENT_RUNNING, 0);
	f.fd = sv[1];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&th, NULL, agent_side, &f);
	agent_start(&a);
	for (i = 0; i < 100 && a.state == AGENT_HELLO; i++) {
		struct pollfd p = { .fd = sv[0], .events = POLLIN };

		if (poll(&p, 1, 1000) > 0)
			agent_input(&a);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(th, NULL);
	tap_ok(a.state == AGENT_RUNNING && a.proto == 1 && a.cpus == 2 &&
	       !strcmp(f.got, "hello 1;info;"),
	       "%s: agent %s, proto %d, requests '%s' (%.2f s)", what,
	       agent_state_name(a.state), a.proto, f.got, s);
	close(sv[0]);
	close(sv[1]);
}

struct ports {
	long t0, moving_ms;	/* bytes grow until t0 + moving_ms */
	uint64_t n;
};

static uint64_t ports_bytes(void *arg)
{
	struct ports *p = arg;

	if (p->moving_ms < 0 || vt_now_ms() - p->t0 < p->moving_ms)
		p->n += 4096;
	return p->n;
}

/* what a stop took: agent_stop, then the wait for the ports */
struct stop_run {
	int stop_ret, wait_ret;
	long stop_ms, total_ms;
};

/*
 * As drain(): the stop, then the ports' one wait, within timeout_ms of
 * the stop's start; p->t0 is that start.
 */
static void stop_and_wait(struct agent *a, struct ports *p, int timeout_ms,
			  struct stop_run *r)
{
	struct agent_quiet q = { ports_bytes, p };

	p->t0 = vt_now_ms();
	r->stop_ret = agent_stop(a, timeout_ms);
	r->stop_ms = vt_now_ms() - p->t0;
	r->wait_ret = agent_wait_quiet(a, &q, p->t0, p->t0 + timeout_ms);
	r->total_ms = vt_now_ms() - p->t0;
}

/*
 * An agent on the upstream orders in state (AGENT_SILENT: never echoed;
 * AGENT_RUNNING: echoed "1"); the ports receive for moving_ms after the
 * "0" (-1: always). The "0" must reach it; the stop returns want_stop
 * within stop_max_ms, the wait want_wait, all of it within
 * min_ms..max_ms, the agent then in state want.
 */
static void stop_upstream(enum agent_state state, long moving_ms,
			  int timeout_ms, int want_stop, long stop_max_ms,
			  int want_wait, enum agent_state want,
			  long min_ms, long max_ms, const char *what)
{
	struct ports p = { .moving_ms = moving_ms };
	struct stop_run r;
	struct agent a;
	char got[8] = "";
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		return;
	agent_init(&a, "fake", 1, NULL, NULL);
	a.fd = sv[0];
	a.proto = -1;
	a.state = state;
	stop_and_wait(&a, &p, timeout_ms, &r);
	if (read(sv[1], got, sizeof(got) - 1) < 0)
		got[0] = '\0';
	tap_ok(r.stop_ret == want_stop && r.stop_ms <= stop_max_ms &&
	       r.wait_ret == want_wait && a.state == want &&
	       !strcmp(got, "0\n") && r.total_ms >= min_ms &&
	       r.total_ms <= max_ms,
	       "%s: stop %d after %ld ms (..%ld), wait %d, agent %s after "
	       "%ld ms (%ld..%ld)", what, r.stop_ret, r.stop_ms, stop_max_ms,
	       r.wait_ret, agent_state_name(a.state), r.total_ms, min_ms,
	       max_ms);
	close(sv[0]);
	close(sv[1]);
}

#define V1_ANSWER_MS	300	/* the fake agent's stop takes that long */

/* A version 1 agent's end of a stop: the order, then its answer, late. */
static void *v1_stop_side(void *arg)
{
	struct fake *f = arg;

	if (take_line(f))
		return NULL;
	usleep(V1_ANSWER_MS * 1000);
	if (reply(f->fd, "proto=1\nstate=stopped\ncpu0 bytes=8192\n"))
		fprintf(stderr, "# fake agent: %s\n", strerror(errno));
	return NULL;
}

/*
 * A version 1 agent's stop waits for its answer; the ports, busy for
 * moving_ms after the stop's start, then have the shorter window.
 */
static void stop_v1(long moving_ms, const char *what)
{
	struct ports p = { .moving_ms = moving_ms };
	/* the last move is seen up to two polls early (a late poll) */
	long min_ms = moving_ms - 2 * AGENT_QUIET_POLL_MS + AGENT_SETTLE_MS;
	/* under what the unconfirmed stop's window would take */
	long max_ms = moving_ms - 2 * AGENT_QUIET_POLL_MS + AGENT_QUIET_MS - 50;
	struct fake f = { 0 };
	struct stop_run r;
	struct agent a;
	uint64_t b = 0;
	pthread_t th;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return;
	agent_init(&a, "fake", 1, NULL, NULL);
	a.fd = sv[0];
	a.proto = 1;
	a.state = AGENT_RUNNING;
	f.fd = sv[1];
	pthread_create(&th, NULL, v1_stop_side, &f);
	stop_and_wait(&a, &p, 10000, &r);
	pthread_join(th, NULL);
	agent_sent_bytes(&a, 0, &b);
	tap_ok(r.stop_ret == 0 && r.stop_ms >= V1_ANSWER_MS &&
	       !strcmp(f.got, "stop;") && b == 8192 && r.wait_ret == 0 &&
	       a.state == AGENT_STOPPED && r.total_ms >= min_ms &&
	       r.total_ms <= max_ms,
	       "%s: stop %d after %ld ms (%d..), requests '%s', cpu0 %llu "
	       "bytes, wait %d, agent %s after %ld ms (%ld..%ld)", what,
	       r.stop_ret, r.stop_ms, V1_ANSWER_MS, f.got,
	       (unsigned long long)b, r.wait_ret, agent_state_name(a.state),
	       r.total_ms, min_ms, max_ms);
	agent_free(&a);
	close(sv[1]);
}

int main(void)
{
	tap_plan("vhost-traced agent reconnection after a restart; the stop "
		 "of an upstream and of a version 1 agent", 7);
	run(0, 0, "nothing stale: hello, info, a running agent adopted");
	run(JUNK, 0, "3 MiB of a cut-off reply before the hello: drained, "
	    "the agent adopted");
	run(JUNK / 3, JUNK - JUNK / 3, "1 MiB before the hello, 2 MiB with "
	    "decoy headers after it: skipped, the agent adopted");
	stop_upstream(AGENT_SILENT, 500, 10000, 1, 100, 0, AGENT_STOP_QUIET,
		      500 - 2 * AGENT_QUIET_POLL_MS + AGENT_QUIET_MS,
		      500 + AGENT_QUIET_MS + 1500,
		      "upstream agent that never echoed, ports busy 0.5 s "
		      "after the \"0\": not waited for, stop-quiet once they "
		      "stood still for 1 s");
	stop_upstream(AGENT_SILENT, -1, 2000, 1, 100, -ETIMEDOUT,
		      AGENT_STOP_TIMEOUT, 2000, 3500, "never echoed, ports "
		      "never quiet: stop-timeout after the whole timeout");
	stop_upstream(AGENT_RUNNING, 0, 2000, -ETIMEDOUT, 3500, 0,
		      AGENT_STOP_TIMEOUT, 2000, 3500, "echoed \"1\", then "
		      "silent, ports quiet: the echo of \"0\" is waited for "
		      "(stop-timeout), the ports not again");
	stop_v1(600, "version 1 agent answering the stop after 0.3 s, ports "
		"busy 0.6 s: its answer waited for, then 0.5 s of stillness");
	return tap_done();
}
