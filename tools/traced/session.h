/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tracing session: one VM, its /dev/vhost-trace control fd, one sink
 * per port, the agent's control port, and a thread that watches QEMU,
 * samples the statistics once a second and carries out stop requests.
 * The VM is either launched (QEMU is our child, the device on its command
 * line) or attached to (a running QEMU, the device hot-plugged over QMP
 * and unplugged again at stop: attach.c).
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

struct vhost_trace_stats;

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
#define LOST_POLL_MS		2000	/* the agent's stats while running */

/* Requests to the session thread (bits). */
#define SESS_CMD_STOP	1U	/* stop tracing, close the files */
#define SESS_CMD_QUIT	2U	/* stop, then leave (daemon shutdown) */
#define SESS_CMD_REMOVE	4U	/* ended: leave the table now */

struct daemon_cfg {
	const char *rundir;	/* agent sockets: RUNDIR/sID/agent.sock */
	int rundirfd;		/* RUNDIR, root's, opened once */
	const char *device;	/* /dev/vhost-trace */
	int linger_s;		/* an ended session stays listed this long */
};

extern struct daemon_cfg cfg;

/* A launch or attach request. */
struct sess_args {
	const char *dir;	/* absolute output directory */
	const char *name;	/* "" for vmID */
	const char *cwd;	/* QEMU's working directory */
	unsigned int ports;
	int policy;		/* VHOST_TRACE_POLICY_* */
	int fifo;		/* FIFOs instead of files */
	int byref;		/* ... fed by reference (sink=fifo-ref) */
	int agent;		/* start/stop through the agent */
	const char *events;	/* "sys:ev,..." for the agent, or NULL */
	const char *clock;	/* guest trace clock to set, NULL: keep */
	int stop_timeout_ms;
	uid_t uid;		/* the requester: QEMU runs as it */
	gid_t gid;
	const gid_t *groups;	/* ... with its supplementary groups */
	int ngroups;
	int argc;		/* launch: QEMU's command line */
	char **argv;
	const char *qmp;	/* attach: QEMU's QMP socket */
	const char *bus;	/* attach: device_add bus=, or NULL */
	const char *domain;	/* attach through libvirt (libvirt.c): ... */
	const char *uri;	/* ... the domain's name and connection URI */
	int bridge;		/* its QMP bridge (the requester's), or -1 */
	int front;		/* enum sess_front (vdpa.h) */
};

/* An attached session's device in QEMU. */
enum sess_device {
	DEV_NONE,		/* launched: on QEMU's command line */
	DEV_ATTACHED,		/* hot-plugged */
	DEV_DETACHED,		/* unplugged, chardev removed */
	DEV_DETACH_FAILED,	/* see error */
	/*
	 * The domain's own device (its XML, QEMU opened it), taken over
	 * (libvirt.c): at stop its agent chardev goes back to a null
	 * backend, the device stays.
	 */
	DEV_TAKEN,
	DEV_RELEASED,		/* let go of again, left in the domain */
};

struct session {
	struct table_entry te;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int state;		/* enum sess_state, uatomic */
	unsigned int cmds;	/* SESS_CMD_*, uatomic */
	int cmdfd;		/* eventfd: cmds changed */
	int ctl;		/* control fd (-1: recovered, QEMU gone) */
	unsigned int nports;
	int policy;
	int fifo;
	int byref;		/* FIFOs get the guest's pages by reference */
	int agent_state;	/* enum agent_state, uatomic */
	int stop_timeout_ms;
	char dir[PATH_MAX];
	char rundir[PATH_MAX];
	int dirfd;		/* DIR, opened as the requester; -1 none */
	int runfd;		/* RUNDIR/sID; -1 none (or not ours) */
	int refused;		/* the last error a FIFO sink's open said */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int pidfd;		/* -1: recovered, QEMU gone */
	int child;		/* QEMU is our child: its exit status is known */
	unsigned long long start_time;	/* QEMU's (/proc/PID/stat), pid reuse */
	int vhostfd;		/* the device's fd number in QEMU */
	int agent_on;		/* start/stop through the agent */
	int recovered;		/* taken over after a daemon restart */
	int resume_stop;	/* recovered mid-stop: stop once the agent is back */
	long resume_deadline;	/* ms (CLOCK_MONOTONIC): stop then anyway */
	int meta;		/* DIR/meta was fetched for this session */
	int meta_tried;
	char *saved;		/* the fields on disk (persist.c) */
	int status;		/* wait status once ended (child only) */
	time_t started;
	time_t ended;
	time_t stopped;		/* attached: when the device was unplugged */
	int *sinkfd;		/* session thread only */
	uint64_t *last_bytes;	/* session thread only */
	uint64_t *rate;		/* bytes/s, uatomic */
	uint64_t *agent_bytes;	/* the agent's stop answer, uatomic; ~0 unknown */
	uint64_t *lost;		/* events the guest lost (agent stats),
				 * uatomic; ~0 unknown */
	long lost_next_ms;	/* next stats request (session thread) */
	struct agent agent;	/* session thread only */
	uint64_t trace_id;	/* TRACEID of the guest's trace.dat */
	int tsc_state;		/* enum sess_tsc, uatomic */
	unsigned long tsc_changes;	/* uatomic */
	long tsc_next_ms;	/* next poll (session thread) */
	long tsc_give_up_ms;
	struct kvm_clock kclock;	/* session thread only */
	char clock[32];		/* the guest's trace clock, once clock_set */
	int clock_set;		/* uatomic */
	int device;		/* enum sess_device, uatomic */
	char qmp[108];		/* attached: QEMU's QMP socket */
	/*
	 * Attached through libvirt (libvirt.c): the domain, its URI, and
	 * the requester's QMP bridge (under lock; -1 none, e.g. after a
	 * restart: the next stop request brings one); the agent's end of
	 * the socket pair given to QEMU as its chardev (-1 once taken).
	 */
	char domain[256];
	char uri[256];
	int bridge;
	int agent_fd;
	/*
	 * DEV_TAKEN: the device's QOM path and its chardev's label in
	 * QEMU, and the module's counters when it was taken (what earlier
	 * sessions counted: subtracted by session_get_stats; NULL else).
	 */
	char own_dev[128];
	char own_chardev[64];
	struct vhost_trace_stats *base;
	int front;		/* enum sess_front (vdpa.h), set before running */
	char vdpa[32];		/* vDPA front end: the device's name */
	char vhostdev[32];	/* and its vhost-vdpa node ("" not known) */
	int vdpa_deleted;	/* the vDPA device is gone (vdpa_delete) */
	char error[640];	/* set once, before state changes */
	/* what the guest did wrong (agent.error), trace.dat's failure */
	char agent_error[256];	/* set once, before agent_error_set */
	int agent_error_set;	/* uatomic */
	char tracedat_error[256];	/* set once, before tracedat_error_set */
	int tracedat_error_set;	/* uatomic */
};

static inline struct session *to_session(struct table_entry *e)
{
	return caa_container_of(e, struct session, te);
}

/* A session, nothing open yet (fds -1), no ports yet; or NULL. */
struct session *session_alloc(void);
/* Its nports ports (no sinks yet). 0 or -ENOMEM. */
int session_set_ports(struct session *s, unsigned int nports);
/* KVM's TSC terms of its guest are to be sampled (before it runs). */
void session_tsc_search(struct session *s);
/* Frees a session that never entered the table. */
void session_free(struct session *s);
/* Recovered: counters from the module; a dropped file sink attached again. */
void session_check_sinks(struct session *s);
/* Takes over the sessions of a daemon that died (recover.c). */
void sessions_recover(void);
/* On failure, err holds a message for the requester. */
int session_launch(const struct sess_args *a, struct session **out,
		   struct vt_buf *err);
/* attach.c. The same; a failed attach leaves nothing in QEMU. */
int session_attach(const struct sess_args *a, struct session **out,
		   struct vt_buf *err);
/* libvirt.c. The same through a libvirt domain (a->domain, a->bridge). */
int session_attach_libvirt(const struct sess_args *a, struct session **out,
			   struct vt_buf *err);
/* One "session ..." line. With ports, a "cpuN ..." line per port too. */
int session_describe(struct session *s, int ports, struct vt_buf *out);
void session_request(struct session *s, unsigned int cmd);
/* Waits until the state is at least min (or timeout_ms passes). */
int session_wait(struct session *s, int min, int timeout_ms);
/* Stops every session and waits for their threads (daemon shutdown). */
void sessions_shutdown(int timeout_ms);
unsigned int sessions_live(void);

/*
 * In a forked child (async-signal-safe): become the requester, uid, gid
 * and supplementary groups, unless it is root. Nonzero on failure.
 */
int session_become_requester(const struct sess_args *a);

/*
 * The parts that attach.c and recover.c share with launch (session.c,
 * launch.c).
 * session_new: a new session in the table with its run directory, DIR
 * and the sinks; session_open_device: the device with its ports, control
 * fd and sinks attached (returns the device fd, or -1); session_run: the
 * session thread (s->pid and s->pidfd set; s is in the table). On failure
 * err says why; table_del() then frees the session.
 */
int session_new(const struct sess_args *a, struct session **out,
		struct vt_buf *err);
int session_open_device(struct session *s, struct vt_buf *err);
int session_run(struct session *s, struct vt_buf *err);
/* attach.c, in the session thread: unplugs the device (see PROTOCOL). */
void session_detach(struct session *s);

#endif
