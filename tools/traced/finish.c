// SPDX-License-Identifier: GPL-2.0
/*
 * Finishing a session's output: the guest's metadata (DIR/meta) and
 * DIR/trace.dat with DIR/guest.map and DIR/tsc. As the requester, like
 * the other files of DIR.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fsid.h"
#include "session_int.h"
#include "tracedat.h"

/* libtracedat's last error in this thread (session_write_tracedat) */
static __thread char tracedat_last[256];

static void tracedat_log(int level, const char *msg)
{
	char m[1024];
	size_t i;

	/* may quote the guest's metadata: printable only */
	for (i = 0; msg[i] && i < sizeof(m) - 1; i++)
		m[i] = msg[i] >= 0x20 && msg[i] <= 0x7e ? msg[i] : '?';
	m[i] = '\0';
	if (!level)
		snprintf(tracedat_last, sizeof(tracedat_last), "%.255s", m);
	vt_log("trace.dat: %s%s", level ? "warning: " : "", m);
}

/*
 * The guest's metadata into DIR/meta/, as the requester, reached
 * through the session's fd of DIR (its /proc/self/fd name).
 */
static int fetch_meta(struct session *s)
{
	char meta[64], err[512];
	long long t0 = vt_now_ms();
	int ret;

	snprintf(meta, sizeof(meta), "/proc/self/fd/%d/meta", s->dirfd);
	ret = fsid_user(s->uid, s->gid);
	if (!ret) {
		ret = agent_fetch_meta(&s->agent, meta, err, sizeof(err));
		fsid_root();
	} else {
		snprintf(err, sizeof(err), "cannot act as uid %u",
			 (unsigned int)s->uid);
	}
	if (ret < 0) {
		sess_log(s, "%s", err);
		return ret;
	}
	sess_log(s, "metadata: %d files in %s/meta (%lld ms)", ret, s->dir,
		 vt_now_ms() - t0);
	s->meta = 1;
	return 0;
}

/*
 * A version 1 agent started: the guest's metadata now, so that a
 * trace.dat can be written even if QEMU exits without a stop (or exits
 * while no daemon runs). A stop fetches it again.
 */
void session_meta_at_start(struct session *s)
{
	if (s->meta || s->meta_tried || s->fifo || s->agent.proto <= 0 ||
	    s->agent.state != AGENT_RUNNING ||
	    uatomic_read(&s->state) != SESS_RUNNING)
		return;
	s->meta_tried = 1;
	uatomic_set(&s->agent_state, s->agent.state);
	fetch_meta(s);
}

/*
 * trace.dat's inputs are opened through the session's fd of DIR, no
 * link followed, regular files only (none may block), and handed to
 * libtracedat by fd (the directory by its /proc/self/fd name). fds[0]
 * (DIR/meta) and fds[1 + N] (cpuN.raw) are the caller's to close.
 */
static int load_meta(struct session *s, struct tracedat *td, int *fds)
{
	char name[64];

	fds[0] = session_open_dir(s->dirfd, "meta");
	if (fds[0] < 0) {
		sess_log(s, "%s/meta: %s", s->dir, session_strerror(fds[0]));
		return fds[0];
	}
	snprintf(name, sizeof(name), "/proc/self/fd/%d", fds[0]);
	return tracedat_load_meta(td, name);
}

static int add_cpus(struct session *s, struct tracedat *td, int *fds)
{
	char name[32];
	unsigned int p;
	int ret = 0;

	for (p = 0; !ret && p < s->nports; p++) {
		sink_name(s, p, name, sizeof(name));
		fds[p + 1] = session_open_entry(s, name, O_RDONLY, S_IFREG);
		if (fds[p + 1] < 0) {
			sess_log(s, "%s/%s: %s", s->dir, name,
				 session_strerror(fds[p + 1]));
			return fds[p + 1];
		}
		ret = tracedat_add_cpu_fd(td, p, fds[p + 1], name);
	}
	return ret;
}

/* The trace.dat of DIR/meta and the sinks; 0 or -errno. */
static int fill_tracedat(struct session *s, struct tracedat *td, int *fds)
{
	char v[512];
	unsigned int cpus;
	int ret;

	cpus = s->agent.cpus > s->nports ? s->agent.cpus : s->nports;
	ret = tracedat_set_flags(td, TRACEDAT_F_DROP_PARTIAL);
	if (!ret)
		ret = load_meta(s, td, fds);
	snprintf(v, sizeof(v), "%u", cpus);
	if (!ret)
		ret = tracedat_set_info(td, "cpus", v);
	if (!ret && s->agent.release[0]) {
		snprintf(v, sizeof(v), "Linux %s %s %s", s->te.name,
			 s->agent.release, s->agent.machine);
		ret = tracedat_set_info(td, "uname", v);
		if (!ret)
			ret = tracedat_set_info(td, "kernel_release",
						s->agent.release);
	}
	if (!ret)
		ret = tracedat_set_info(td, "version", "vhost-traced");
	if (!ret)
		ret = session_tsc_options(s, td);
	if (!ret)
		ret = add_cpus(s, td, fds);
	return ret;
}

/* trace.dat (made beside its name, then renamed), guest.map and tsc. */
static void write_files(struct session *s)
{
	char path[64];
	struct tracedat *td;
	unsigned int p;
	int ret, *fds;

	fds = malloc((s->nports + 1) * sizeof(*fds));
	if (!fds)
		return;
	for (p = 0; p <= s->nports; p++)
		fds[p] = -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d/trace.dat", s->dirfd);
	tracedat_set_log(tracedat_log);
	tracedat_last[0] = '\0';
	td = tracedat_open(path, 7, TRACEDAT_COMPRESS_NONE);
	if (!td)
		goto out;
	ret = fill_tracedat(s, td, fds);
	if (ret)
		tracedat_abort(td);
	else
		ret = tracedat_close(td);
	if (ret && !uatomic_read(&s->tracedat_error_set)) {
		snprintf(s->tracedat_error, sizeof(s->tracedat_error), "%s",
			 tracedat_last[0] ? tracedat_last : strerror(-ret));
		cmm_smp_wmb();
		uatomic_set(&s->tracedat_error_set, 1);
	}
	if (ret)
		sess_log(s, "no trace.dat: %s", strerror(-ret));
	else
		sess_log(s, "%s/trace.dat written", s->dir);
	if (uatomic_read(&s->tsc_state) == SESS_TSC_SAMPLING) {
		ret = kvm_clock_write_files(&s->kclock, s->dirfd, s->te.name,
					    s->trace_id, s->agent.clock);
		if (ret)
			sess_log(s, "%s/guest.map: %s", s->dir,
				 session_strerror(ret));
	}
out:
	for (p = 0; p <= s->nports; p++)
		if (fds[p] >= 0)
			close(fds[p]);
	free(fds);
}

/*
 * DIR/trace.dat (version 7) from DIR/meta and DIR/cpuN.raw, file sinks
 * only. At a stop confirmed by a version 1 agent (fetch), the metadata
 * is fetched again (saved_cmdlines up to date); otherwise (QEMU exited,
 * the agent did not answer) the copy fetched when tracing started is
 * used, if there is one.
 */
void session_write_tracedat(struct session *s, int fetch)
{
	if (s->fifo)
		return;
	if (fetch && s->agent.proto > 0 && s->agent.state == AGENT_STOPPED &&
	    fetch_meta(s) && s->meta)
		sess_log(s, "trace.dat with the metadata fetched at start");
	if (!s->meta) {
		if (s->agent.proto > 0)
			sess_log(s, "no trace.dat: no metadata from the guest");
		return;
	}
	if (fsid_user(s->uid, s->gid)) {
		sess_log(s, "no trace.dat: cannot act as uid %u",
			 (unsigned int)s->uid);
		return;
	}
	write_files(s);
	fsid_root();
}
