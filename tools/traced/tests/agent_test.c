// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of agent.c's reconnection after a daemon restart: the agent
 * chardev still carries megabytes of a reply the dead daemon was reading
 * (with things that look like reply headers in it) when the new daemon
 * says hello; the answer to hello must be found behind them, and a
 * running agent adopted (no events, no start sent). A fake agent on a
 * socketpair plays the guest.
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

int main(void)
{
	tap_plan("vhost-traced agent reconnection after a restart", 3);
	run(0, 0, "nothing stale: hello, info, a running agent adopted");
	run(JUNK, 0, "3 MiB of a cut-off reply before the hello: drained, "
	    "the agent adopted");
	run(JUNK / 3, JUNK - JUNK / 3, "1 MiB before the hello, 2 MiB with "
	    "decoy headers after it: skipped, the agent adopted");
	return tap_done();
}
