// SPDX-License-Identifier: GPL-2.0
/*
 * Finishing a session's output: the guest's metadata (DIR/meta) and
 * DIR/trace.dat with DIR/guest.map and DIR/tsc. As the requester, like
 * the other files of DIR.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>

#include "session_int.h"
#include "tracedat.h"

static void tracedat_log(int level, const char *msg)
{
	vt_log("trace.dat: %s%s", level ? "warning: " : "", msg);
}

/* The guest's metadata into DIR/meta/, as the requester. */
static int fetch_meta(struct session *s)
{
	char meta[PATH_MAX + 32], err[512];
	long t0 = now_ms();
	int ret;

	setfsgid(s->gid);
	setfsuid(s->uid);
	snprintf(meta, sizeof(meta), "%s/meta", s->dir);
	ret = agent_fetch_meta(&s->agent, meta, err, sizeof(err));
	setfsuid(0);
	setfsgid(0);
	if (ret < 0) {
		sess_log(s, "%s", err);
		return ret;
	}
	sess_log(s, "metadata: %d files in %s (%ld ms)", ret, meta,
		 now_ms() - t0);
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

/* The trace.dat of DIR/meta and the sinks; 0 or -errno. */
static int fill_tracedat(struct session *s, struct tracedat *td)
{
	char path[PATH_MAX + 32], v[512];
	unsigned int p, cpus;
	int ret;

	cpus = s->agent.cpus > s->nports ? s->agent.cpus : s->nports;
	ret = tracedat_set_flags(td, TRACEDAT_F_DROP_PARTIAL);
	snprintf(path, sizeof(path), "%s/meta", s->dir);
	if (!ret)
		ret = tracedat_load_meta(td, path);
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
	for (p = 0; !ret && p < s->nports; p++) {
		sink_path(s, p, path, sizeof(path));
		ret = tracedat_add_cpu_file(td, p, path);
	}
	return ret;
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
	char path[PATH_MAX + 32];
	struct tracedat *td;
	int ret;

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
	setfsgid(s->gid);
	setfsuid(s->uid);
	snprintf(path, sizeof(path), "%s/trace.dat", s->dir);
	tracedat_set_log(tracedat_log);
	td = tracedat_open(path, 7, TRACEDAT_COMPRESS_NONE);
	if (!td)
		goto out;
	ret = fill_tracedat(s, td);
	if (ret)
		tracedat_abort(td);
	else
		ret = tracedat_close(td);
	if (ret)
		sess_log(s, "no trace.dat: %s", strerror(-ret));
	else
		sess_log(s, "%s/trace.dat written", s->dir);
	if (uatomic_read(&s->tsc_state) == SESS_TSC_SAMPLING) {
		ret = kvm_clock_write_files(&s->kclock, s->dir, s->te.name,
					    s->trace_id, s->agent.clock);
		if (ret)
			sess_log(s, "%s/guest.map: %s", s->dir, strerror(-ret));
	}
out:
	setfsuid(0);
	setfsgid(0);
}
