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
 * RUNDIR/sID is the requester's (QEMU's agent socket is made there):
 * both files are reached through the directory's fd, never by a link.
 */
#ifndef VT_STATE_H
#define VT_STATE_H

#include <stddef.h>
#include <sys/types.h>

#define STATE_VERSION	1
#define STATE_FILE	"state"

#define STATE_TMP	"state.tmp"

struct ctl_req;

/*
 * Writes STATE_FILE atomically in the directory dirfd: the header words
 * and then fields, the session's KEY=VALUE words (persist.c); through
 * STATE_TMP, created anew (O_EXCL, no link followed). 0 or -errno.
 */
int state_write(int dirfd, const char *fields, size_t len);
/*
 * Reads STATE_FILE of the directory dirfd into r (ctl_req_free() it):
 * a plain file of root's (checked on the opened file), one line of this
 * version. 0, or -errno with a reason in err (-EPERM: not trusted).
 */
int state_read(int dirfd, struct ctl_req *r, char *err, size_t errsz);
/* Removes STATE_FILE and STATE_TMP of the directory dirfd. */
void state_remove(int dirfd);

/*
 * /proc/PID/stat: the process state letter and start time (clock ticks
 * after boot). 0 or -errno (-ESRCH: no such process).
 */
int proc_stat(pid_t pid, char *state, unsigned long long *start_time);

#endif
