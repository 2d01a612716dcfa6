/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tracing session: one VM, its /dev/vhost-trace control fd, one sink
 * per port, the agent's control port, and a thread that watches QEMU,
 * samples the statistics once a second and carries out stop requests.
 *
 * Control-socket threads find sessions through the RCU table (table.h)
 * and read them without locks: statistics come from the control fd, the
 * rest from fields the session thread publishes with uatomic stores.
 * Requests to the session thread go through an eventfd; a thread waiting
 * for their effect sleeps on the session's own condition variable.
 */
#ifndef VT_SESSION_H
#define VT_SESSION_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "agent.h"
#include "clock.h"
#include "ctlproto.h"
#include "table.h"

enum sess_state {
	SESS_RUNNING,	/* QEMU runs, sinks attached */
	SESS_STOPPING,	/* stop in progress */
	SESS_STOPPED,	/* tracing stopped, files complete; QEMU runs */
	SESS_ENDED,	/* QEMU exited; files complete */
};

/* Sampling KVM's TSC terms of the guest (clock.h) */
enum sess_tsc {
	SESS_TSC_OFF,		/* not asked for (clock=keep) */
	SESS_TSC_SEARCHING,	/* looking for QEMU's KVM VM */
	SESS_TSC_SAMPLING,	/* found: sampled every SESS_TSC_POLL_MS */
	SESS_TSC_NONE,		/* no KVM VM found (or it went away) */
};

#define SESS_TSC_POLL_MS	250
#define SESS_TSC_SEARCH_MS	60000	/* give up looking after this */

/* Requests to the session thread (bits). */
#define SESS_CMD_STOP	1U	/* stop tracing, close the files */
#define SESS_CMD_QUIT	2U	/* stop, then leave (daemon shutdown) */
#define SESS_CMD_REMOVE	4U	/* ended: leave the table now */

struct daemon_cfg {
	const char *rundir;	/* agent sockets: RUNDIR/sID/agent.sock */
	const char *device;	/* /dev/vhost-trace */
	int linger_s;		/* an ended session stays listed this long */
};

extern struct daemon_cfg cfg;

struct launch_args {
	const char *dir;	/* absolute output directory */
	const char *name;	/* "" for vmID */
	const char *cwd;	/* QEMU's working directory */
	unsigned int ports;
	int policy;		/* VHOST_TRACE_POLICY_* */
	int fifo;		/* FIFOs instead of files */
	int agent;		/* start/stop through the agent */
	const char *events;	/* "sys:ev,..." for the agent, or NULL */
	const char *clock;	/* guest trace clock to set, NULL: keep */
	int stop_timeout_ms;
	uid_t uid;		/* the requester: QEMU runs as it */
	gid_t gid;
	int argc;
	char **argv;
};

struct session {
	struct table_entry te;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int state;		/* enum sess_state, uatomic */
	unsigned int cmds;	/* SESS_CMD_*, uatomic */
	int cmdfd;		/* eventfd: cmds changed */
	int ctl;		/* control fd */
	unsigned int nports;
	int policy;
	int fifo;
	int agent_state;	/* enum agent_state, uatomic */
	int stop_timeout_ms;
	char dir[PATH_MAX];
	char rundir[PATH_MAX];
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int pidfd;
	int status;		/* wait status once ended */
	time_t started;
	time_t ended;
	int *sinkfd;		/* session thread only */
	uint64_t *last_bytes;	/* session thread only */
	uint64_t *rate;		/* bytes/s, uatomic */
	struct agent agent;	/* session thread only */
	uint64_t trace_id;	/* TRACEID of the guest's trace.dat */
	int tsc_state;		/* enum sess_tsc, uatomic */
	unsigned long tsc_changes;	/* uatomic */
	long tsc_next_ms;	/* next poll (session thread) */
	long tsc_give_up_ms;
	struct kvm_clock kclock;	/* session thread only */
	char clock[32];		/* the guest's trace clock, once clock_set */
	int clock_set;		/* uatomic */
	char error[256];	/* set once, before state changes */
};

static inline struct session *to_session(struct table_entry *e)
{
	return caa_container_of(e, struct session, te);
}

const char *sess_state_name(int state);
/* On failure, err holds a message for the requester. */
int session_launch(const struct launch_args *a, struct session **out,
		   struct sbuf *err);
/* One "session ..." line. With ports, a "cpuN ..." line per port too. */
int session_describe(struct session *s, int ports, struct sbuf *out);
void session_request(struct session *s, unsigned int cmd);
/* Waits until the state is at least min (or timeout_ms passes). */
int session_wait(struct session *s, int min, int timeout_ms);
/* Stops every session and waits for their threads (daemon shutdown). */
void sessions_shutdown(int timeout_ms);
unsigned int sessions_live(void);

#endif
