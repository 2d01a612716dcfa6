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

#include <stddef.h>
#include <sys/types.h>

#define STATE_VERSION	1
#define STATE_FILE	"state"

struct ctl_req;

/*
 * Writes dir/state atomically: the header words and then fields, the
 * session's KEY=VALUE words (persist.c). 0 or -errno.
 */
int state_write(const char *dir, const char *fields, size_t len);
/*
 * Reads a state file into r (ctl_req_free() it): one line of this
 * version. 0, or -errno with a reason in err.
 */
int state_read(const char *path, struct ctl_req *r, char *err, size_t errsz);
/* Removes dir/state and dir/state.tmp. */
void state_remove(const char *dir);

/*
 * /proc/PID/stat: the process state letter and start time (clock ticks
 * after boot). 0 or -errno (-ESRCH: no such process).
 */
int proc_stat(pid_t pid, char *state, unsigned long long *start_time);

#endif
