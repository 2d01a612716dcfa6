/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the session code: what its files share. session.c: life cycle
 * and the session thread; stop.c: stop and QEMU's exit; sink.c: sinks;
 * stats.c: statistics; tsc.c: the guest's TSC terms; finish.c: the
 * guest's metadata and trace.dat; launch.c: QEMU launched.
 */
#ifndef VT_SESSION_INT_H
#define VT_SESSION_INT_H

#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include <linux/vhost_trace.h>

#include "log.h"
#include "session.h"
#include "vt_time.h"

#define UNKNOWN_BYTES	UINT64_MAX
/* an entry of DIR that is not of the type wanted (session_open_entry) */
#define EWRONGTYPE	EMEDIUMTYPE

#define AGENT_SOCK	"agent.sock"	/* in RUNDIR/sID */

/* session.c */
void session_set_state(struct session *s, int state);
/* RUNDIR/sID's fd (made first with create), no link followed; or -1. */
int session_open_rundir(unsigned long id, int create);

/* recover.c, shared with a take-over (libvirt.c) */
/* pid's first fd that is the node dev (*count: how many are). Or -1. */
int session_find_device_fd(pid_t pid, const struct stat *dev, int *count);
/*
 * pidfd's fd num, which must be the node dev, for a control fd of our
 * own with nports ports (the copy is closed again at once). 0, or -errno
 * with why.
 */
int session_ctl_from(int pidfd, int num, const struct stat *dev,
		     unsigned int nports, int *ctl, char *why, size_t n);

/* stop.c: the session thread's work on a stop request, QEMU's exit */
void session_stop(struct session *s);
int session_reap(struct session *s);
void session_qemu_exited(struct session *s, int state);

/* sink.c */
/* "cpuN.raw" or "cpuN.fifo" */
void sink_name(struct session *s, unsigned int p, char *buf, size_t len);
/*
 * DIR/name through s->dirfd with this thread's fs ids: never by a link,
 * never blocking on a FIFO, of the type wanted (S_IFREG, S_IFIFO; a
 * regular file's fd blocks again). An fd, or -errno (-ELOOP: a link,
 * -EWRONGTYPE).
 */
int session_open_entry(struct session *s, const char *name, int flags,
		       mode_t type);
/* The directory name in dirfd, never by a link: an fd or -errno. */
int session_open_dir(int dirfd, const char *name);
/* What such an error means. */
const char *session_strerror(int err);
/* As the requester: DIR and the sinks (files created, FIFOs made). */
int session_make_outputs(struct session *s, struct vt_buf *err);
/* The control fd's sinks: files now, FIFOs once they have a reader. */
int session_attach_sinks(struct session *s, struct vt_buf *err);
/* A FIFO's sink attached again (reader back); 1, 0 not yet, -errno. */
int session_attach_sink(struct session *s, unsigned int p);
/* Every sink detached, the files synced and closed. */
void session_detach_sinks(struct session *s);

/* stats.c */
int session_get_stats(struct session *s, unsigned int p,
		      struct vhost_trace_stats *st);
/* Once a second: rates, FIFO readers that came (back). */
void session_tick(struct session *s, long elapsed_ms);
uint64_t session_total_bytes(struct session *s);
/* Every port has what the agent wrote to it (or the agent did not say). */
int session_all_arrived(struct session *s);
/* The events the guest lost (agent stats); now: not waiting its time. */
void session_poll_lost(struct session *s, int now);
/* DIR/stats, as the requester. */
void session_write_stats(struct session *s);
/* The agent's protocol error (a hostile guest) kept for status, stats. */
void session_note_agent_error(struct session *s);

/* tsc.c */
void session_tsc_poll(struct session *s);
void session_tsc_finish(struct session *s);
void session_tsc_end(struct session *s);
/* TRACEID, and with the TSC terms sampled TIME_SHIFT and TSC2NSEC. */
struct tracedat;
int session_tsc_options(struct session *s, struct tracedat *td);

/* finish.c */
void session_meta_at_start(struct session *s);
/* DIR/trace.dat; fetch: the guest's metadata again first. */
void session_write_tracedat(struct session *s, int fetch);

#endif
