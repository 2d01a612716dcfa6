/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest agent, seen from the daemon: its control port is a QEMU
 * chardev unix socket that the daemon connects to. Today this speaks the
 * upstream virtio-trace orders every agent understands ("1\n" start,
 * "0\n" stop) and notices our agent's echo of them (guest/PROTOCOL). The
 * version 1 requests (hello, info, meta, stop with per-CPU bytes, stats)
 * are to be added behind this same interface.
 */
#ifndef VT_AGENT_H
#define VT_AGENT_H

enum agent_state {
	AGENT_OFF,		/* not used for this session */
	AGENT_CONNECTING,	/* the chardev socket is not there yet */
	AGENT_SILENT,		/* start sent, no answer (upstream agent?) */
	AGENT_RUNNING,		/* the agent confirmed start */
	AGENT_STOPPED,		/* the agent confirmed stop: every page sent */
	AGENT_STOP_TIMEOUT,	/* stop sent, no confirmation in time */
	AGENT_GONE,		/* the chardev closed */
};

struct agent {
	int fd;
	enum agent_state state;
	char path[108];
};

const char *agent_state_name(enum agent_state s);
void agent_init(struct agent *a, const char *path, int enabled);
/* Tries to connect (non-blocking); 1 connected, 0 not yet, -errno. */
int agent_connect(struct agent *a);
/* Sends the start order. */
int agent_start(struct agent *a);
/* Reads what the agent wrote (fd readable); updates the state. */
void agent_input(struct agent *a);
/*
 * Sends the stop order and waits up to timeout_ms for the agent to
 * confirm that every page has been written to its port. 0 confirmed,
 * -ETIMEDOUT, -ENOTCONN (no agent connection), other -errno.
 */
int agent_stop(struct agent *a, int timeout_ms);
void agent_close(struct agent *a);

#endif
