/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A session's state on disk, RUNDIR/sID/state: what a new vhost-traced
 * needs to take over the session after the old one died (see PROTOCOL,
 * "Restart"). One line of protocol words (ctlproto.h escaping):
 *
 *   vhost-traced-session version=1 id=3 name=vm3 state=running ...
 *
 * Written atomically (RUNDIR/sID/state.tmp, fsync, rename), root's and
 * mode 0600, by the session's thread whenever something in it changes.
 */
#ifndef VT_STATE_H
#define VT_STATE_H

#include <limits.h>
#include <sys/types.h>

#define STATE_VERSION	1
#define STATE_FILE	"state"

struct saved_session {
	unsigned long id;
	char name[64];
	char state[16];		/* running | stopping | stopped | ended */
	pid_t pid;		/* the launched process (QEMU) */
	unsigned long long start_time;	/* its /proc/PID/stat field 22 */
	int vhostfd;		/* /dev/vhost-trace's fd number in it, or
				 * -1 (attached: found in /proc/PID/fd) */
	unsigned int ports;
	char dir[PATH_MAX];
	int fifo;		/* sink=fifo (else file) */
	int policy;		/* VHOST_TRACE_POLICY_* */
	int agent;		/* agent=on */
	char agent_state[16];	/* agent_state_name() */
	int agent_proto;	/* 0 unknown, 1, -1 upstream orders */
	char events[1024];	/* "sys:ev sys:ev" */
	char socket[108];	/* the agent chardev */
	uid_t uid;		/* the requester */
	gid_t gid;
	int stop_timeout_ms;
	long long started;	/* time(NULL) at launch */
	int meta;		/* DIR/meta was fetched for this session */
	unsigned int cpus;	/* the agent's info */
	char release[128];
	char machine[64];
	int device;		/* enum sess_device (session.h) */
	char qmp[108];		/* attached: QEMU's QMP socket, else "" */
	char clock[32];		/* the trace clock asked for, "" keep */
	unsigned long long trace_id;	/* of the guest's trace.dat */
};

/* Writes dir/state atomically. 0 or -errno. */
int state_write(const char *dir, const struct saved_session *sv);
/*
 * Reads a state file. 0, or -errno with a reason in err (unreadable,
 * another version, a missing or malformed key).
 */
int state_read(const char *path, struct saved_session *sv, char *err,
	       size_t errsz);
/* Removes dir/state and dir/state.tmp. */
void state_remove(const char *dir);

/*
 * /proc/PID/stat: the process state letter and start time (clock ticks
 * after boot). 0 or -errno (-ESRCH: no such process).
 */
int proc_stat(pid_t pid, char *state, unsigned long long *start_time);

#endif
