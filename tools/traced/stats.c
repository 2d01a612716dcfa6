// SPDX-License-Identifier: GPL-2.0
/*
 * A session's statistics: the module's counters per port, rates, the
 * events the guest lost (agent stats), the "session" and "cpuN" lines
 * of status and list, and DIR/stats.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsid.h"
#include "persist.h"
#include "session_int.h"
#include "vdpa.h"

static const char *const tsc_names[] = {
	[SESS_TSC_OFF] = "off",
	[SESS_TSC_SEARCHING] = "searching",
	[SESS_TSC_SAMPLING] = "sampling",
	[SESS_TSC_NONE] = "none",
};

static const char *const device_names[] = {
	[DEV_NONE] = "none",
	[DEV_ATTACHED] = "attached",
	[DEV_DETACHED] = "detached",
	[DEV_DETACH_FAILED] = "detach-failed",
	[DEV_TAKEN] = "taken",
	[DEV_RELEASED] = "released",
};

int session_get_stats(struct session *s, unsigned int p,
		      struct vhost_trace_stats *st)
{
	const struct vhost_trace_stats *b = s->base ? &s->base[p] : NULL;

	memset(st, 0, sizeof(*st));
	st->port = p;
	if (ioctl(s->ctl, VHOST_TRACE_GET_STATS, st))
		return -errno;
	/* a device taken over: this session's share of its counters */
	if (b) {
		st->bytes -= b->bytes;
		st->buffers -= b->buffers;
		st->dropped_bytes -= b->dropped_bytes;
		st->dropped_buffers -= b->dropped_buffers;
		st->stalls -= b->stalls;
		st->sink_errors -= b->sink_errors;
		st->bad_buffers -= b->bad_buffers;
		st->queue_errors -= b->queue_errors;
		st->ref_bytes -= b->ref_bytes;
		st->copied_bytes -= b->copied_bytes;
		st->ref_buffers -= b->ref_buffers;
	}
	return 0;
}

/* Bytes of a file sink, from its size (no module counters). */
static int file_bytes(struct session *s, unsigned int p, uint64_t *bytes)
{
	char name[32];
	struct stat st;

	if (s->fifo)
		return -EINVAL;
	sink_name(s, p, name, sizeof(name));
	/* not opened: a FIFO there cannot block, a link is not followed */
	if (fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EWRONGTYPE;
	*bytes = st.st_size;
	return 0;
}

uint64_t session_total_bytes(struct session *s)
{
	struct vhost_trace_stats st;
	uint64_t sum = 0;
	unsigned int p;

	for (p = 0; p < s->nports; p++)
		if (!session_get_stats(s, p, &st))
			sum += st.bytes;
	return sum;
}

void session_tick(struct session *s, long elapsed_ms)
{
	struct vhost_trace_stats st;
	unsigned int p;

	for (p = 0; p < s->nports; p++) {
		if (session_get_stats(s, p, &st))
			continue;
		if (elapsed_ms > 0)
			uatomic_set(&s->rate[p], (st.bytes - s->last_bytes[p]) *
				    1000 / elapsed_ms);
		s->last_bytes[p] = st.bytes;
		if (uatomic_read(&s->state) != SESS_RUNNING || !s->fifo)
			continue;
		/* a FIFO whose reader left was detached by the module */
		if (s->sinkfd[p] >= 0 && !(st.flags & VHOST_TRACE_STATS_SINK) &&
		    st.sink_errors) {
			close(s->sinkfd[p]);
			s->sinkfd[p] = -1;
		}
		session_attach_sink(s, p);
	}
}

int session_all_arrived(struct session *s)
{
	struct vhost_trace_stats st;
	uint64_t want;
	unsigned int p;

	for (p = 0; p < s->nports; p++)
		if (!agent_sent_bytes(&s->agent, p, &want) &&
		    (session_get_stats(s, p, &st) || st.bytes < want))
			return 0;
	return 1;
}

/*
 * The events the guest lost, per CPU, from a version 1 agent's stats:
 * every LOST_POLL_MS while it runs, and once more after its stop.
 */
void session_poll_lost(struct session *s, int now)
{
	uint64_t *v;
	unsigned int p;

	if (!now && vt_now_ms() < s->lost_next_ms)
		return;
	s->lost_next_ms = vt_now_ms() + LOST_POLL_MS;
	v = malloc(s->nports * sizeof(*v));
	if (!v || agent_lost_events(&s->agent, v, s->nports)) {
		free(v);
		return;
	}
	for (p = 0; p < s->nports; p++)
		uatomic_set(&s->lost[p], v[p]);
	free(v);
}

/* DIR/stats through DIR/.stats.tmp, created anew, as the requester. */
static int write_stats(struct session *s, const struct vt_buf *b)
{
	static const char tmp[] = ".stats.tmp";
	int fd, err = 0;

	unlinkat(s->dirfd, tmp, 0);
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, b->p, b->len) != (ssize_t)b->len || fsync(fd))
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(s->dirfd, tmp, s->dirfd, "stats"))
		err = -errno;
	if (err)
		unlinkat(s->dirfd, tmp, 0);
	return err;
}

/* A guest that broke the agent protocol: shown in status and DIR/stats. */
void session_note_agent_error(struct session *s)
{
	if (!s->agent.error[0] || uatomic_read(&s->agent_error_set))
		return;
	memcpy(s->agent_error, s->agent.error, sizeof(s->agent_error));
	cmm_smp_wmb();
	uatomic_set(&s->agent_error_set, 1);
}

void session_write_stats(struct session *s)
{
	struct vt_buf b;
	int err;

	session_note_agent_error(s);
	vt_buf_init(&b);
	err = session_describe(s, 1, &b);
	if (!err)
		err = fsid_user(s->uid, s->gid);
	if (!err) {
		err = write_stats(s, &b);
		fsid_root();
	}
	if (err)
		sess_log(s, "cannot write %s/stats: %s", s->dir,
			 strerror(-err));
	vt_buf_free(&b);
}

/* The session's totals over its ports. */
struct totals {
	uint64_t bytes, dropped, rate, lost;
	int lost_known;
};

static void add_up(struct session *s, struct totals *t)
{
	struct vhost_trace_stats st;
	unsigned int p;
	uint64_t v;

	memset(t, 0, sizeof(*t));
	for (p = 0; p < s->nports; p++) {
		v = uatomic_read(&s->lost[p]);
		if (v != UNKNOWN_BYTES) {
			t->lost += v;
			t->lost_known = 1;
		}
		if (session_get_stats(s, p, &st)) {
			/* recovered after QEMU exited: the files tell */
			if (s->ctl < 0 && !file_bytes(s, p, &v))
				t->bytes += v;
			continue;
		}
		t->bytes += st.bytes;
		t->dropped += st.dropped_buffers;
		t->rate += uatomic_read(&s->rate[p]);
	}
}

#define KV(...) do { snprintf(kv, sizeof(kv), __VA_ARGS__); \
		     err |= ctl_add_word(line, kv); } while (0)

/* How the session was set up and where it is. */
static int describe_setup(struct session *s, int state, struct vt_buf *line)
{
	char kv[PATH_MAX + 64];
	int err = 0;

	KV("session");
	KV("id=%lu", s->te.id);
	KV("name=%s", s->te.name);
	KV("state=%s", sess_state_name(state));
	KV("pid=%d", s->pid);
	KV("ports=%u", s->nports);
	KV("dir=%s", s->dir);
	KV("sink=%s", s->byref ? "fifo-ref" : s->fifo ? "fifo" : "file");
	KV("policy=%s", s->policy == VHOST_TRACE_POLICY_DROP ? "drop" : "block");
	KV("agent=%s", agent_state_name(uatomic_read(&s->agent_state)));
	if (uatomic_read(&s->clock_set)) {
		cmm_smp_rmb();
		KV("clock=%s", s->clock);
	}
	KV("tsc=%s", tsc_names[uatomic_read(&s->tsc_state)]);
	KV("tsc_changes=%lu", uatomic_read(&s->tsc_changes));
	return err;
}

/* The totals, the mode, how it ended. */
static int describe_run(struct session *s, int state, struct vt_buf *line)
{
	char kv[PATH_MAX + 64];
	struct totals t;
	int err = 0;

	add_up(s, &t);
	KV("bytes=%llu", (unsigned long long)t.bytes);
	KV("rate=%llu", (unsigned long long)t.rate);
	KV("dropped_buffers=%llu", (unsigned long long)t.dropped);
	if (t.lost_known)
		KV("lost_events=%llu", (unsigned long long)t.lost);
	KV("uptime=%ld", (long)((s->ended ? s->ended : time(NULL)) - s->started));
	KV("mode=%s", s->device == DEV_NONE ? "launch" : "attach");
	KV("front=%s", front_name(s->front));
	if (s->front == FRONT_VDPA) {
		KV("vdpa=%s", s->vdpa);
		if (s->vhostdev[0])
			KV("vhostdev=/dev/%s", s->vhostdev);
	}
	if (s->device != DEV_NONE) {
		KV("qmp=%s", s->qmp);
		if (s->domain[0]) {	/* attached through libvirt */
			KV("domain=%s", s->domain);
			KV("uri=%s", s->uri);
		}
		if (s->own_dev[0])	/* the domain's own, taken over */
			KV("device=%s", strrchr(s->own_dev, '/') ?
			   strrchr(s->own_dev, '/') + 1 : s->own_dev);
		else
			KV("device=vtrace%lu", s->te.id);
		KV("device_state=%s", device_names[uatomic_read(&s->device)]);
	}
	if (uatomic_read(&s->device) == DEV_DETACH_FAILED) {
		cmm_smp_rmb();	/* error is written before device */
		KV("error=%s", s->error);
	}
	/* a QEMU that is not our child: its status is not known */
	if (state == SESS_ENDED && s->child && WIFEXITED(s->status))
		KV("exit=%d", WEXITSTATUS(s->status));
	if (state == SESS_ENDED && s->child && WIFSIGNALED(s->status))
		KV("signal=%d", WTERMSIG(s->status));
	if (uatomic_read(&s->agent_error_set)) {
		cmm_smp_rmb();
		KV("agent_error=%s", s->agent_error);
	}
	if (uatomic_read(&s->tracedat_error_set)) {
		cmm_smp_rmb();
		KV("tracedat_error=%s", s->tracedat_error);
	}
	if (s->recovered)
		KV("recovered=1");
	return err;
}

#undef KV

/* One "cpuN ..." line. */
static int describe_port(struct session *s, unsigned int p, struct vt_buf *out)
{
	struct vhost_trace_stats st;
	uint64_t v;
	int err;

	if (session_get_stats(s, p, &st)) {
		if (s->ctl < 0 && !file_bytes(s, p, &v))
			return vt_buf_printf(out, "cpu%u bytes=%llu\n", p,
					   (unsigned long long)v);
		return 0;
	}
	err = vt_buf_printf(out, "cpu%u bytes=%llu buffers=%llu"
		" dropped_bytes=%llu dropped_buffers=%llu stalls=%llu"
		" sink_errors=%llu bad_buffers=%llu queue_errors=%llu"
		" last_error=%d flags=%#x rate=%llu ref_bytes=%llu"
		" copied_bytes=%llu", p,
		(unsigned long long)st.bytes,
		(unsigned long long)st.buffers,
		(unsigned long long)st.dropped_bytes,
		(unsigned long long)st.dropped_buffers,
		(unsigned long long)st.stalls,
		(unsigned long long)st.sink_errors,
		(unsigned long long)st.bad_buffers,
		(unsigned long long)st.queue_errors, st.last_error,
		st.flags,
		(unsigned long long)uatomic_read(&s->rate[p]),
		(unsigned long long)st.ref_bytes,
		(unsigned long long)st.copied_bytes);
	v = uatomic_read(&s->agent_bytes[p]);
	if (v != UNKNOWN_BYTES)
		err |= vt_buf_printf(out, " agent_bytes=%llu",
				   (unsigned long long)v);
	v = uatomic_read(&s->lost[p]);
	if (v != UNKNOWN_BYTES)
		err |= vt_buf_printf(out, " lost_events=%llu",
				   (unsigned long long)v);
	return err | vt_buf_append(out, "\n", 1);
}

int session_describe(struct session *s, int ports, struct vt_buf *out)
{
	int state = uatomic_read(&s->state);
	struct vt_buf line;
	unsigned int p;
	int err;

	vt_buf_init(&line);
	err = describe_setup(s, state, &line);
	err |= describe_run(s, state, &line);
	err |= vt_buf_append(&line, "\n", 1);
	err |= vt_buf_append(out, line.p, line.len);
	for (p = 0; ports && p < s->nports; p++)
		err |= describe_port(s, p, out);
	vt_buf_free(&line);
	return err ? -ENOMEM : 0;
}
