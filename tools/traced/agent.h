/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest agent, seen from the daemon: its control port is a QEMU
 * chardev unix socket that the daemon connects to (vhost front end), or
 * the vDPA device's control fd, which carries port 0 itself (vDPA front
 * end: read() what the guest wrote, write() as much as its buffers take). The daemon first sends
 * "hello 1" (guest/PROTOCOL). An agent that answers ok speaks version 1:
 * info, events, start, stop with per-CPU bytes and meta (requests and
 * replies through tools/libvt/conn.c). An agent that answers err, or
 * nothing within AGENT_HELLO_WAIT_MS of taking the line from the port
 * (upstream virtio-trace ignores it), gets the upstream orders "1\n" and
 * "0\n"; our agent's echo of them is noticed.
 */
#ifndef VT_AGENT_H
#define VT_AGENT_H

#include <stdint.h>

#include "vt_buf.h"

/* how long an agent that took "hello 1" has to answer it */
#define AGENT_HELLO_WAIT_MS	3000
/*
 * The most CPUs a guest may claim (info cpus=): trace.dat's limit
 * (libtracedat TD_MAX_CPUS). More, 0 or not a number ends the agent.
 */
#define AGENT_MAX_CPUS		4096
/* a reply's body, but meta's (VT_PROTO_MAX_BODY, 256 MiB) */
#define AGENT_MAX_REPLY		(1 << 20)
/* files in the guest's metadata archive (a 6.12 guest: ~2000 formats) */
#define AGENT_MAX_META_FILES	65536
/* what a guest may put into release=, machine=, clock= (bytes) */
#define AGENT_MAX_TOKEN		127

enum agent_state {
	AGENT_OFF,		/* not used for this session */
	AGENT_CONNECTING,	/* the chardev socket is not there yet */
	AGENT_HELLO,		/* "hello 1" sent, no answer yet */
	AGENT_SILENT,		/* start sent, no answer (upstream agent?) */
	AGENT_RUNNING,		/* the agent confirmed start */
	AGENT_STOPPED,		/* the agent confirmed stop: every page sent */
	AGENT_STOP_TIMEOUT,	/* stop sent, no confirmation in time */
	AGENT_STOP_QUIET,	/* stop sent to an agent that never answered
				   (upstream), which cannot confirm it: done
				   once its ports go quiet (agent_wait_quiet;
				   stop-timeout if they never do) */
	AGENT_GONE,		/* the chardev closed */
	AGENT_ERROR,		/* a version 1 request failed (see log),
				   or the guest broke the protocol (error) */
};

struct agent {
	int fd;			/* QEMU's chardev socket, or (port0) a vDPA
				   control fd's duplicate, O_NONBLOCK */
	int port0;		/* fd is a vDPA control fd: read()/write() */
	size_t hello_sent;	/* port0: bytes of "hello 1\n" the guest took */
	enum agent_state state;
	int proto;		/* 0 not known yet, 1 version 1, -1 upstream */
	long hello_taken_ms;	/* the guest took "hello 1" (0: not yet) */
	char path[108];
	char events[1024];	/* version 1: "sys:ev sys:ev", "" defaults */
	char want_clock[32];	/* version 1: trace clock to set, "" keep */
	char clock[32];		/* version 1: the guest's trace clock */
	unsigned int cpus;	/* info, version 1 (0 unknown) */
	char release[128];
	char machine[64];
	struct vt_buf stop_body;	/* the stop answer, version 1 */
	/*
	 * Bytes per CPU from the stop answer's session_pages (since its
	 * last start), not its bytes (since the port opened): a device
	 * that outlives sessions (taken over, libvirt.c).
	 */
	int session_counts;
	/*
	 * What the guest did wrong (set once; "" none): the agent is then
	 * closed and in AGENT_ERROR, the session goes on without it.
	 */
	char error[256];
	int timeout_ms;		/* tests: for every request (0: 30 s, 120 s
				   for meta) */
	/* after a daemon restart (agent_resume) */
	int resume;		/* reconnecting to an agent that may run */
	int resume_stopping;	/* the old daemon was stopping the session */
	enum agent_state resume_state;	/* upstream orders: the state then */
};

const char *agent_state_name(enum agent_state s);
/*
 * A version 1 agent's "stats": per CPU, the events the guest lost
 * (overrun + dropped_events of per_cpu/cpuN/stats; UINT64_MAX for a CPU
 * it does not report). 0, or -errno.
 */
int agent_lost_events(struct agent *a, uint64_t *lost, unsigned int n);
/* The state of that name, or -1. */
int agent_state_by_name(const char *name);
/*
 * events: "sys:ev,sys:ev" (or NULL) for a version 1 agent; clock: the
 * trace clock it should use when the guest has it (NULL: keep its own)
 */
void agent_init(struct agent *a, const char *path, int enabled,
		const char *events, const char *clock);
/*
 * After a daemon restart, instead of a fresh start: the old daemon had
 * learned proto and left the agent in state was. agent_start then
 * reconnects without disturbing a running agent: an upstream agent
 * (proto -1) gets no order at all and keeps its state; otherwise
 * "hello 1" and "info" tell whether the agent runs; a running one is
 * adopted as is (no events, no start), a stopped one is started again,
 * unless stopping (the stop goes on, it is re-sent).
 */
void agent_resume(struct agent *a, int proto, enum agent_state was,
		  int stopping);
/*
 * Starts: sends "hello 1" the first time (agent_input and agent_tick go
 * on from there), the start order after that.
 */
int agent_start(struct agent *a);
/* Reads what the agent wrote (fd readable); updates the state. */
void agent_input(struct agent *a);
/* Call often while AGENT_HELLO: falls back to the upstream orders. */
void agent_tick(struct agent *a);
/*
 * Sends the stop order and waits up to timeout_ms for the agent to
 * confirm that every page has been written to its port. 0 confirmed,
 * -ETIMEDOUT, -ENOTCONN (no agent connection), other -errno. An upstream
 * agent that never echoed an order (still AGENT_SILENT) cannot confirm:
 * it gets the "0" and is not waited for (AGENT_STOP_QUIET, returns 1);
 * agent_wait_quiet then tells when it is done.
 */
int agent_stop(struct agent *a, int timeout_ms);
/*
 * The ports' bytes so far (the module's counters), for agent_wait_quiet;
 * arg is the caller's.
 */
struct agent_quiet {
	uint64_t (*bytes)(void *arg);
	void *arg;
};
/*
 * How long the ports must stand still after the stop: an agent that
 * confirmed it (its last pages only leave the rings), one that cannot
 * (AGENT_STOP_QUIET: the stillness is all there is to go by); and how
 * often they are read.
 */
#define AGENT_SETTLE_MS		500
#define AGENT_QUIET_MS		1000
#define AGENT_QUIET_POLL_MS	100
/*
 * After agent_stop: waits until quiet->bytes stood still for
 * AGENT_QUIET_MS (AGENT_STOP_QUIET, the whole window watched here) or
 * AGENT_SETTLE_MS counted from since_ms (when the stop began), until
 * end_ms (vt_now_ms()) at the latest. 0, or -ETIMEDOUT: an agent still
 * in AGENT_STOP_QUIET is then in AGENT_STOP_TIMEOUT.
 */
int agent_wait_quiet(struct agent *a, const struct agent_quiet *quiet,
		     long since_ms, long end_ms);
/* Version 1, once stopped: the bytes the agent wrote to port cpu. */
int agent_sent_bytes(struct agent *a, unsigned int cpu, uint64_t *bytes);
/* Version 1: fetches the metadata (tracefs layout) into dir. */
int agent_fetch_meta(struct agent *a, const char *dir, char *err,
		     size_t errsz);
void agent_close(struct agent *a);
/*
 * The guest broke the protocol or sent a bad field: logs "vhost-traced:
 * agent PATH: MSG", keeps the first such message in a->error, closes the
 * connection; state AGENT_ERROR. Nothing more is asked of that guest.
 */
void agent_fail(struct agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* agent_close, and frees what the agent holds */
void agent_free(struct agent *a);

#endif
