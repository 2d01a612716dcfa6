// SPDX-License-Identifier: GPL-2.0
/* Tracing sessions: launch, the session thread, stop (see session.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vhost_trace.h>

#include "session.h"
#include "state.h"
#include "tracedat.h"

#define UNKNOWN_BYTES	UINT64_MAX

struct daemon_cfg cfg = {
	.rundir = "/run/vhost-trace",
	.device = "/dev/vhost-trace",
	.linger_s = 600,
};

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cond = PTHREAD_COND_INITIALIZER;
static unsigned int live;	/* session threads */

static const char *const tsc_names[] = {
	[SESS_TSC_OFF] = "off",
	[SESS_TSC_SEARCHING] = "searching",
	[SESS_TSC_SAMPLING] = "sampling",
	[SESS_TSC_NONE] = "none",
};

static const char *const state_names[] = {
	[SESS_RUNNING] = "running",
	[SESS_STOPPING] = "stopping",
	[SESS_STOPPED] = "stopped",
	[SESS_ENDED] = "ended",
};

static const char *const device_names[] = {
	[DEV_NONE] = "none",
	[DEV_ATTACHED] = "attached",
	[DEV_DETACHED] = "detached",
	[DEV_DETACH_FAILED] = "detach-failed",
};

const char *sess_state_name(int state)
{
	return state_names[state];
}

int sess_state_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (!strcmp(state_names[i], name))
			return i;
	return -1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void set_state(struct session *s, int state)
{
	pthread_mutex_lock(&s->lock);
	uatomic_set(&s->state, state);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void release(struct table_entry *e)
{
	struct session *s = to_session(e);
	unsigned int p;

	if (s->rundir[0])
		state_remove(s->rundir);

	for (p = 0; s->sinkfd && p < s->nports; p++)
		if (s->sinkfd[p] >= 0)
			close(s->sinkfd[p]);
	agent_free(&s->agent);
	kvm_clock_free(&s->kclock);
	if (s->ctl >= 0)
		close(s->ctl);
	if (s->cmdfd >= 0)
		close(s->cmdfd);
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->rundir[0]) {
		char sock[PATH_MAX + 32];

		snprintf(sock, sizeof(sock), "%s/agent.sock", s->rundir);
		unlink(sock);
		rmdir(s->rundir);
	}
	free(s->sinkfd);
	free(s->last_bytes);
	free(s->rate);
	free(s->agent_bytes);
	free(s->lost);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

struct session *session_alloc(unsigned int nports)
{
	struct session *s = calloc(1, sizeof(*s));
	unsigned int p;

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->ctl = s->cmdfd = s->pidfd = -1;
	s->nports = nports;
	s->te.release = release;
	s->saved[0] = -1;
	agent_init(&s->agent, "", 0, NULL, NULL);
	s->sinkfd = malloc(nports * sizeof(int));
	s->last_bytes = calloc(nports, sizeof(uint64_t));
	s->rate = calloc(nports, sizeof(uint64_t));
	s->agent_bytes = malloc(nports * sizeof(uint64_t));
	s->lost = malloc(nports * sizeof(uint64_t));
	if (!s->sinkfd || !s->last_bytes || !s->rate || !s->agent_bytes ||
	    !s->lost) {
		release(&s->te);
		return NULL;
	}
	for (p = 0; p < nports; p++) {
		s->sinkfd[p] = -1;
		s->agent_bytes[p] = UNKNOWN_BYTES;
		s->lost[p] = UNKNOWN_BYTES;
	}
	return s;
}

void session_free(struct session *s)
{
	release(&s->te);
}

int session_save(struct session *s)
{
	struct saved_session sv = {
		.id = s->te.id,
		.pid = s->pid,
		.start_time = s->start_time,
		.vhostfd = s->vhostfd,
		.ports = s->nports,
		.fifo = s->fifo,
		.policy = s->policy,
		.agent = s->agent_on,
		.agent_proto = s->agent.proto,
		.uid = s->uid,
		.gid = s->gid,
		.stop_timeout_ms = s->stop_timeout_ms,
		.started = s->started,
		.meta = s->meta,
		.cpus = s->agent.cpus,
		.device = uatomic_read(&s->device),
	};
	int state = uatomic_read(&s->state), err;

	snprintf(sv.name, sizeof(sv.name), "%s", s->te.name);
	snprintf(sv.state, sizeof(sv.state), "%s", sess_state_name(state));
	snprintf(sv.dir, sizeof(sv.dir), "%s", s->dir);
	snprintf(sv.agent_state, sizeof(sv.agent_state), "%s",
		 agent_state_name(s->agent.state));
	snprintf(sv.events, sizeof(sv.events), "%s", s->agent.events);
	snprintf(sv.socket, sizeof(sv.socket), "%s", s->agent.path);
	snprintf(sv.release, sizeof(sv.release), "%s", s->agent.release);
	snprintf(sv.machine, sizeof(sv.machine), "%s", s->agent.machine);
	snprintf(sv.qmp, sizeof(sv.qmp), "%s", s->qmp);
	snprintf(sv.clock, sizeof(sv.clock), "%s", s->agent.want_clock);
	sv.trace_id = s->trace_id;
	err = state_write(s->rundir, &sv);
	if (err)
		fprintf(stderr, "vhost-traced: %s: cannot write %s/state: %s "
			"(a restarted daemon would not find this session)\n",
			s->te.name, s->rundir, strerror(-err));
	s->saved[0] = state;
	s->saved[1] = s->agent.state;
	s->saved[2] = s->agent.proto;
	s->saved[3] = s->meta;
	s->saved[4] = sv.device;
	return err;
}

/* The state file follows what a new daemon needs to know. */
static void save_if_changed(struct session *s)
{
	if (s->saved[0] != (int)uatomic_read(&s->state) ||
	    s->saved[1] != (int)s->agent.state ||
	    s->saved[2] != s->agent.proto || s->saved[3] != s->meta ||
	    s->saved[4] != (int)uatomic_read(&s->device))
		session_save(s);
}

static void sink_path(struct session *s, unsigned int p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/cpu%u.%s", s->dir, p, s->fifo ? "fifo" : "raw");
}

static int get_stats(struct session *s, unsigned int p,
		     struct vhost_trace_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->port = p;
	return ioctl(s->ctl, VHOST_TRACE_GET_STATS, st) ? -errno : 0;
}

/*
 * Attaches port p's sink. Files are opened once; a FIFO is opened when it
 * has a reader, and again after its reader went away. 1 attached, 0 not
 * yet (a FIFO without reader), -errno.
 */
static int attach_sink(struct session *s, unsigned int p)
{
	struct vhost_trace_sink sink = { .port = p, .policy = s->policy };
	char path[PATH_MAX + 32];
	int fd;

	if (s->sinkfd[p] >= 0)
		return 1;
	sink_path(s, p, path, sizeof(path));
	if (s->fifo)
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	else
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == ENXIO ? 0 : -errno;
	sink.fd = fd;
	if (ioctl(s->ctl, VHOST_TRACE_SET_SINK, &sink)) {
		int err = -errno;

		close(fd);
		return err == -ENXIO ? 0 : err;
	}
	s->sinkfd[p] = fd;
	return 1;
}

/* A file the module wrote through another daemon's fd (recovered). */
static void sync_file(struct session *s, unsigned int p)
{
	char path[PATH_MAX + 32];
	int fd;

	sink_path(s, p, path, sizeof(path));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	fsync(fd);
	close(fd);
}

/* Bytes of a file sink, from its size (no module counters). */
static int file_bytes(struct session *s, unsigned int p, uint64_t *bytes)
{
	char path[PATH_MAX + 32];
	struct stat st;

	if (s->fifo)
		return -EINVAL;
	sink_path(s, p, path, sizeof(path));
	if (stat(path, &st))
		return -errno;
	*bytes = st.st_size;
	return 0;
}

/*
 * A recovered session: the counters go on from the module's; a file
 * sink that is still attached is left alone (the module writes at its
 * file position: a new fd would start elsewhere); one the module dropped
 * (a write error) is attached again for appending. FIFOs are attached
 * again by tick() (the same pipe: nothing moves).
 */
void session_check_sinks(struct session *s)
{
	struct vhost_trace_sink sink = { .policy = s->policy };
	struct vhost_trace_stats st;
	char path[PATH_MAX + 32];
	unsigned int p;
	int fd;

	for (p = 0; p < s->nports; p++) {
		if (get_stats(s, p, &st))
			continue;
		s->last_bytes[p] = st.bytes;
		if (s->fifo || (st.flags & VHOST_TRACE_STATS_SINK) ||
		    uatomic_read(&s->state) != SESS_RUNNING)
			continue;
		sink_path(s, p, path, sizeof(path));
		setfsgid(s->gid);
		setfsuid(s->uid);
		fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		setfsuid(0);
		setfsgid(0);
		sink.port = p;
		sink.fd = fd;
		if (fd < 0 || ioctl(s->ctl, VHOST_TRACE_SET_SINK, &sink)) {
			fprintf(stderr, "vhost-traced: %s: port %u had no sink "
				"(last error %d); cannot attach %s again: %s\n",
				s->te.name, p, st.last_error, path,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			continue;
		}
		s->sinkfd[p] = fd;
		fprintf(stderr, "vhost-traced: %s: port %u had no sink (last "
			"error %d): %s attached again, appending\n",
			s->te.name, p, st.last_error, path);
	}
}

static void detach_sinks(struct session *s)
{
	struct vhost_trace_sink sink = { .fd = -1, .policy = s->policy };
	unsigned int p;

	for (p = 0; p < s->nports; p++) {
		sink.port = p;
		/* ENODEV: QEMU is gone and the sinks with it */
		ioctl(s->ctl, VHOST_TRACE_SET_SINK, &sink);
		if (s->sinkfd[p] < 0) {
			if (!s->fifo)
				sync_file(s, p);
			continue;
		}
		if (!s->fifo)
			fsync(s->sinkfd[p]);
		close(s->sinkfd[p]);
		s->sinkfd[p] = -1;
	}
}

static uint64_t total_bytes(struct session *s)
{
	struct vhost_trace_stats st;
	uint64_t sum = 0;
	unsigned int p;

	for (p = 0; p < s->nports; p++)
		if (!get_stats(s, p, &st))
			sum += st.bytes;
	return sum;
}

/* Once a second: rates, FIFO readers that came (back). */
static void tick(struct session *s, long elapsed_ms)
{
	struct vhost_trace_stats st;
	unsigned int p;

	for (p = 0; p < s->nports; p++) {
		if (get_stats(s, p, &st))
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
		attach_sink(s, p);
	}
}

/* A guest that broke the agent protocol: shown in status and DIR/stats. */
static void note_agent_error(struct session *s)
{
	if (!s->agent.error[0] || uatomic_read(&s->agent_error_set))
		return;
	memcpy(s->agent_error, s->agent.error, sizeof(s->agent_error));
	cmm_smp_wmb();
	uatomic_set(&s->agent_error_set, 1);
}

static void write_stats_file(struct session *s)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32];
	struct sbuf b;
	int fd;

	note_agent_error(s);
	sbuf_init(&b);
	if (session_describe(s, 1, &b))
		goto out;
	snprintf(path, sizeof(path), "%s/stats", s->dir);
	snprintf(tmp, sizeof(tmp), "%s/.stats.tmp", s->dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out;
	if (write(fd, b.p, b.len) != (ssize_t)b.len || fsync(fd)) {
		close(fd);
		unlink(tmp);
		goto out;
	}
	/* on failure the file just stays root's */
	(void)!fchown(fd, s->uid, s->gid);
	close(fd);
	rename(tmp, path);
out:
	sbuf_free(&b);
}

/* Every port has what the agent wrote to it (or the agent did not say). */
static int all_arrived(struct session *s)
{
	struct vhost_trace_stats st;
	uint64_t want;
	unsigned int p;

	for (p = 0; p < s->nports; p++)
		if (!agent_sent_bytes(&s->agent, p, &want) &&
		    (get_stats(s, p, &st) || st.bytes < want))
			return 0;
	return 1;
}

void session_tsc_search(struct session *s)
{
	s->tsc_state = SESS_TSC_SEARCHING;
	s->tsc_give_up_ms = now_ms() + SESS_TSC_SEARCH_MS;
}

static void set_tsc_state(struct session *s, int state)
{
	if (state != SESS_TSC_SAMPLING)
		kvm_clock_free(&s->kclock);
	uatomic_set(&s->tsc_state, state);
}

/*
 * KVM's TSC terms of the guest (clock.h): first the VM of QEMU (or of a
 * process QEMU's launcher started) and its vCPU threads, then a sample
 * every SESS_TSC_POLL_MS while tracing.
 */
static void tsc_poll(struct session *s)
{
	int state = uatomic_read(&s->tsc_state);
	const char *debugfs;
	char err[PATH_MAX + 128];
	int ret;

	if (now_ms() < s->tsc_next_ms || uatomic_read(&s->state) != SESS_RUNNING)
		return;
	s->tsc_next_ms = now_ms() + SESS_TSC_POLL_MS;
	if (state == SESS_TSC_SAMPLING) {
		ret = kvm_clock_poll(&s->kclock, host_tsc());
		if (ret < 0) {
			fprintf(stderr, "vhost-traced: %s: %s: %s: no more TSC "
				"samples\n", s->te.name, s->kclock.dir,
				strerror(-ret));
			set_tsc_state(s, SESS_TSC_NONE);
			return;
		}
		uatomic_set(&s->tsc_changes, s->kclock.changes);
		return;
	}
	if (state != SESS_TSC_SEARCHING)
		return;
	err[0] = '\0';
	debugfs = kvm_debugfs(err, sizeof(err));
	ret = debugfs ? kvm_clock_open(&s->kclock, debugfs, "/proc", s->pid,
				       host_tsc(), err, sizeof(err)) : -ENOENT;
	if (!ret) {
		fprintf(stderr, "vhost-traced: %s: guest TSC from %s, %u "
			"vCPU(s), QEMU pid %d\n", s->te.name, s->kclock.dir,
			s->kclock.nr_vcpus, s->kclock.pid);
		set_tsc_state(s, SESS_TSC_SAMPLING);
	} else if (ret != -ENOENT || now_ms() > s->tsc_give_up_ms) {
		fprintf(stderr, "vhost-traced: %s: no guest TSC terms: %s\n",
			s->te.name, err);
		set_tsc_state(s, SESS_TSC_NONE);
	}
}

/* The last TSC sample, once the agent has sent its last page. */
static void tsc_finish(struct session *s)
{
	int ret;

	if (uatomic_read(&s->tsc_state) != SESS_TSC_SAMPLING)
		return;
	ret = kvm_clock_finish(&s->kclock, host_tsc());
	if (ret < 0) {
		fprintf(stderr, "vhost-traced: %s: last TSC sample: %s\n",
			s->te.name, strerror(-ret));
		set_tsc_state(s, SESS_TSC_NONE);
		return;
	}
	uatomic_set(&s->tsc_changes, s->kclock.changes);
	if (kvm_clock_unstable(&s->kclock))
		fprintf(stderr, "vhost-traced: %s: warning: the guest's TSC "
			"offsets changed %lu times in %lu samples: the host's "
			"TSC is unstable (KVM re-bases the guest TSC on every "
			"vCPU load) and the time shift cannot follow; see "
			"tools/traced/README\n", s->te.name,
			s->kclock.changes, s->kclock.polls);
}

/*
 * TSC2NSEC: the host's TSC to ns terms, for the guest times TIME_SHIFT
 * made host TSC (trace-cmd report then shows seconds, as for trace-cmd
 * record -C tsc2nsec). Without them the times stay TSC cycles.
 */
static int add_tsc2nsec(struct session *s, struct tracedat *td)
{
	struct {
		uint32_t mult, shift;
		uint64_t offset;
	} opt = { 0 };			/* little endian: x86 */
	char err[256];

	if (host_tsc2nsec(&opt.mult, &opt.shift, err, sizeof(err))) {
		fprintf(stderr, "vhost-traced: %s: guest times stay TSC "
			"cycles (no TSC2NSEC): %s\n", s->te.name, err);
		return 0;
	}
	s->kclock.ns_mult = opt.mult;
	s->kclock.ns_shift = opt.shift;
	return tracedat_add_option(td, TRACEDAT_OPT_TSC2NSEC, &opt,
				   sizeof(opt));
}

/*
 * With the guest on x86-tsc and its TSC terms sampled: TRACEID and
 * TIME_SHIFT (the host's trace id comes later, from vhost-trace attach).
 */
static int add_time_shift(struct session *s, struct tracedat *td)
{
	int ret = tracedat_add_traceid(td, s->trace_id);

	if (ret || uatomic_read(&s->tsc_state) != SESS_TSC_SAMPLING)
		return ret;
	if (strcmp(s->agent.clock, "x86-tsc")) {
		fprintf(stderr, "vhost-traced: %s: the guest's trace clock is "
			"%s, not x86-tsc: no TIME_SHIFT\n", s->te.name,
			s->agent.clock[0] ? s->agent.clock : "unknown");
		return 0;
	}
	ret = kvm_clock_time_shift(&s->kclock, td, 0);
	return ret ? ret : add_tsc2nsec(s, td);
}

/* libtracedat's last error in this thread (write_tracedat) */
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
	fprintf(stderr, "vhost-traced: trace.dat: %s%s\n",
		level ? "warning: " : "", m);
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
		fprintf(stderr, "vhost-traced: %s: %s\n", s->te.name, err);
		return ret;
	}
	fprintf(stderr, "vhost-traced: %s: metadata: %d files in %s (%ld ms)\n",
		s->te.name, ret, meta, now_ms() - t0);
	s->meta = 1;
	return 0;
}

/*
 * DIR/trace.dat (version 7) from DIR/meta and DIR/cpuN.raw, file sinks
 * only. At a stop confirmed by a version 1 agent (fetch), the metadata
 * is fetched again (saved_cmdlines up to date); otherwise (QEMU exited,
 * the agent did not answer) the copy fetched when tracing started is
 * used, if there is one. As the requester, like the other files of DIR.
 */
static void write_tracedat(struct session *s, int fetch)
{
	char meta[PATH_MAX + 32], path[PATH_MAX + 32], v[512];
	struct tracedat *td;
	unsigned int p, cpus;
	int ret;

	if (s->fifo)
		return;
	if (fetch && s->agent.proto > 0 && s->agent.state == AGENT_STOPPED &&
	    fetch_meta(s) && s->meta)
		fprintf(stderr, "vhost-traced: %s: trace.dat with the metadata "
			"fetched at start\n", s->te.name);
	if (!s->meta) {
		if (s->agent.proto > 0)
			fprintf(stderr, "vhost-traced: %s: no trace.dat: no "
				"metadata from the guest\n", s->te.name);
		return;
	}
	setfsgid(s->gid);
	setfsuid(s->uid);
	snprintf(meta, sizeof(meta), "%s/meta", s->dir);
	snprintf(path, sizeof(path), "%s/trace.dat", s->dir);
	tracedat_set_log(tracedat_log);
	tracedat_last[0] = '\0';
	td = tracedat_open(path, 7, TRACEDAT_COMPRESS_NONE);
	if (!td)
		goto out;
	cpus = s->agent.cpus > s->nports ? s->agent.cpus : s->nports;
	ret = tracedat_set_flags(td, TRACEDAT_F_DROP_PARTIAL);
	if (!ret)
		ret = tracedat_load_meta(td, meta);
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
		ret = add_time_shift(s, td);
	for (p = 0; !ret && p < s->nports; p++) {
		sink_path(s, p, path, sizeof(path));
		ret = tracedat_add_cpu_file(td, p, path);
	}
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
		fprintf(stderr, "vhost-traced: %s: no trace.dat: %s\n",
			s->te.name, strerror(-ret));
	else
		fprintf(stderr, "vhost-traced: %s: %s/trace.dat written\n",
			s->te.name, s->dir);
	if (uatomic_read(&s->tsc_state) == SESS_TSC_SAMPLING) {
		ret = kvm_clock_write_files(&s->kclock, s->dir, s->te.name,
					    s->trace_id, s->agent.clock);
		if (ret)
			fprintf(stderr, "vhost-traced: %s: %s/guest.map: %s\n",
				s->te.name, s->dir, strerror(-ret));
	}
out:
	setfsuid(0);
	setfsgid(0);
}

/*
 * Stop: the agent stops and flushes (when it answers), the last pages
 * leave the rings (the byte counters stay still), the sinks are detached
 * and the files synced and closed. The caller sets the new state, then
 * writes the final statistics (DIR/stats).
 */
/*
 * The events the guest lost, per CPU, from a version 1 agent's stats:
 * every LOST_POLL_MS while it runs, and once more after its stop.
 */
static void poll_lost(struct session *s, int now)
{
	uint64_t *v;
	unsigned int p;

	if (!now && now_ms() < s->lost_next_ms)
		return;
	s->lost_next_ms = now_ms() + LOST_POLL_MS;
	v = malloc(s->nports * sizeof(*v));
	if (!v || agent_lost_events(&s->agent, v, s->nports)) {
		free(v);
		return;
	}
	for (p = 0; p < s->nports; p++)
		uatomic_set(&s->lost[p], v[p]);
	free(v);
}

static void do_stop(struct session *s, int qemu_alive)
{
	long end = now_ms() + s->stop_timeout_ms, still = now_ms();
	uint64_t bytes, last;
	unsigned int p;

	set_state(s, SESS_STOPPING);
	if (qemu_alive && s->agent.fd >= 0) {
		agent_stop(&s->agent, s->stop_timeout_ms);
		uatomic_set(&s->agent_state, s->agent.state);
		for (p = 0; p < s->nports; p++)
			if (!agent_sent_bytes(&s->agent, p, &bytes))
				uatomic_set(&s->agent_bytes[p], bytes);
		poll_lost(s, 1);
	}
	if (qemu_alive)
		tsc_finish(s);
	/* a version 1 agent said how many bytes each port got */
	while (qemu_alive && now_ms() < end && !all_arrived(s))
		usleep(20000);
	/* drain: the counters must stand still for 500 ms */
	last = total_bytes(s);
	while (qemu_alive && now_ms() < end && now_ms() - still < 500) {
		usleep(100000);
		bytes = total_bytes(s);
		if (bytes != last)
			still = now_ms();
		last = bytes;
	}
	detach_sinks(s);
	tick(s, 0);
}

/*
 * QEMU exited (its pidfd is readable). Our child is reaped for its exit
 * status; an attached QEMU, or one we took over after a restart, is not
 * ours to reap.
 */
static int reap(struct session *s)
{
	int status;

	if (s->child && waitpid(s->pid, &status, WNOHANG) != s->pid)
		return 0;
	if (s->child)
		s->status = status;
	s->ended = time(NULL);
	return 1;
}

/* QEMU exited: tracing ends (files complete), DIR/stats. */
static void qemu_exited(struct session *s, int state)
{
	agent_close(&s->agent);
	if (state == SESS_RUNNING) {
		do_stop(s, 0);
		write_tracedat(s, 0);
	} else {
		tick(s, 0);
	}
	set_tsc_state(s, uatomic_read(&s->tsc_state) == SESS_TSC_OFF ?
		      SESS_TSC_OFF : SESS_TSC_NONE);
	set_state(s, SESS_ENDED);
	/* a session stopped before keeps the DIR/stats of its stop */
	if (state == SESS_RUNNING)
		write_stats_file(s);
}

/*
 * A version 1 agent started: the guest's metadata now, so that a
 * trace.dat can be written even if QEMU exits without a stop (or exits
 * while no daemon runs). A stop fetches it again.
 */
static void meta_at_start(struct session *s)
{
	if (s->meta || s->meta_tried || s->fifo || s->agent.proto <= 0 ||
	    s->agent.state != AGENT_RUNNING ||
	    uatomic_read(&s->state) != SESS_RUNNING)
		return;
	s->meta_tried = 1;
	uatomic_set(&s->agent_state, s->agent.state);
	fetch_meta(s);
}

static void *session_main(void *arg)
{
	struct session *s = arg;
	long last_tick = now_ms();
	int reaped = 0, quit = 0;

	rcu_register_thread();
	while (!quit) {
		struct pollfd pf[3] = {
			{ .fd = reaped ? -1 : s->pidfd, .events = POLLIN },
			{ .fd = s->cmdfd, .events = POLLIN },
			{ .fd = s->agent.fd, .events = POLLIN },
		};
		int state = uatomic_read(&s->state), tsc;
		long wait = last_tick + 1000 - now_ms();
		unsigned int cmds;
		uint64_t v;

		if ((s->agent.state == AGENT_CONNECTING ||
		     s->agent.state == AGENT_HELLO) && state == SESS_RUNNING &&
		    wait > 200)
			wait = 200;
		tsc = uatomic_read(&s->tsc_state);
		if (state == SESS_RUNNING && (tsc == SESS_TSC_SEARCHING ||
					      tsc == SESS_TSC_SAMPLING) &&
		    wait > s->tsc_next_ms - now_ms())
			wait = s->tsc_next_ms - now_ms();
		if (poll(pf, 3, wait < 0 ? 0 : wait) < 0 && errno != EINTR)
			break;
		if (pf[2].revents)
			agent_input(&s->agent);
		/* pidfd -1: recovered after QEMU had exited */
		if (!reaped && (s->pidfd < 0 || pf[0].revents) && reap(s)) {
			reaped = 1;
			qemu_exited(s, state);
		}
		if (pf[1].revents && read(s->cmdfd, &v, sizeof(v)) < 0)
			v = 0;
		cmds = uatomic_xchg(&s->cmds, 0);
		state = uatomic_read(&s->state);
		if (s->resume_stop && state == SESS_RUNNING &&
		    ((s->agent.state != AGENT_CONNECTING &&
		      s->agent.state != AGENT_HELLO) ||
		     now_ms() > s->resume_deadline)) {
			fprintf(stderr, "vhost-traced: %s: the stop that the "
				"old daemon began goes on (agent %s)\n",
				s->te.name, agent_state_name(s->agent.state));
			s->resume_stop = 0;
			cmds |= SESS_CMD_STOP;
		}
		if ((cmds & (SESS_CMD_STOP | SESS_CMD_QUIT)) &&
		    state == SESS_RUNNING) {
			do_stop(s, 1);
			write_tracedat(s, 1);
			if (s->device == DEV_ATTACHED) {
				session_detach(s);
				s->stopped = time(NULL);
			}
			set_state(s, SESS_STOPPED);
			write_stats_file(s);
		}
		if (cmds & SESS_CMD_QUIT)
			quit = 1;
		/* an ended session, or an attached one that let go of QEMU */
		if ((cmds & SESS_CMD_REMOVE) && (reaped ||
		    (s->device != DEV_NONE &&
		     uatomic_read(&s->state) == SESS_STOPPED)))
			quit = 1;
		if (reaped && time(NULL) - s->ended > cfg.linger_s)
			quit = 1;
		if (s->stopped && time(NULL) - s->stopped > cfg.linger_s)
			quit = 1;	/* detached long ago */
		if (uatomic_read(&s->state) == SESS_RUNNING &&
		    s->agent.state == AGENT_CONNECTING &&
		    agent_connect(&s->agent) == 1)
			agent_start(&s->agent);
		agent_tick(&s->agent);
		uatomic_set(&s->agent_state, s->agent.state);
		note_agent_error(s);
		if (s->agent.clock[0] && !uatomic_read(&s->clock_set)) {
			snprintf(s->clock, sizeof(s->clock), "%s",
				 s->agent.clock);
			cmm_smp_wmb();
			uatomic_set(&s->clock_set, 1);
		}
		tsc_poll(s);
		meta_at_start(s);
		if (s->agent.state == AGENT_RUNNING &&
		    uatomic_read(&s->state) == SESS_RUNNING)
			poll_lost(s, 0);
		if (now_ms() - last_tick >= 1000) {
			tick(s, now_ms() - last_tick);
			last_tick = now_ms();
		}
		if (!quit)
			save_if_changed(s);
	}
	table_del(&s->te);
	table_entry_put(&s->te);	/* the thread's reference */
	rcu_unregister_thread();
	pthread_mutex_lock(&live_lock);
	live--;
	pthread_cond_broadcast(&live_cond);
	pthread_mutex_unlock(&live_lock);
	return NULL;
}

void session_request(struct session *s, unsigned int cmd)
{
	uint64_t one = 1;

	uatomic_or(&s->cmds, cmd);
	/* EAGAIN: the counter is saturated, the thread wakes anyway */
	(void)!write(s->cmdfd, &one, sizeof(one));
}

int session_wait(struct session *s, int min, int timeout_ms)
{
	struct timespec ts;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (uatomic_read(&s->state) < min && !err)
		err = pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	pthread_mutex_unlock(&s->lock);
	return err ? -err : 0;
}

int session_describe(struct session *s, int ports, struct sbuf *out)
{
	uint64_t bytes = 0, dropped = 0, rate = 0, lost = 0, v;
	struct vhost_trace_stats st;
	int state = uatomic_read(&s->state);
	char kv[PATH_MAX + 64];
	struct sbuf line;
	unsigned int p;
	int err = 0, lost_known = 0;

	for (p = 0; p < s->nports; p++) {
		v = uatomic_read(&s->lost[p]);
		if (v != UNKNOWN_BYTES) {
			lost += v;
			lost_known = 1;
		}
	}
	for (p = 0; p < s->nports; p++) {
		if (get_stats(s, p, &st)) {
			/* recovered after QEMU exited: the files tell */
			if (s->ctl < 0 && !file_bytes(s, p, &v))
				bytes += v;
			continue;
		}
		bytes += st.bytes;
		dropped += st.dropped_buffers;
		rate += uatomic_read(&s->rate[p]);
	}
	sbuf_init(&line);
#define KV(...) do { snprintf(kv, sizeof(kv), __VA_ARGS__); \
		     err |= ctl_add_word(&line, kv); } while (0)
	KV("session");
	KV("id=%lu", s->te.id);
	KV("name=%s", s->te.name);
	KV("state=%s", sess_state_name(state));
	KV("pid=%d", s->pid);
	KV("ports=%u", s->nports);
	KV("dir=%s", s->dir);
	KV("sink=%s", s->fifo ? "fifo" : "file");
	KV("policy=%s", s->policy == VHOST_TRACE_POLICY_DROP ? "drop" : "block");
	KV("agent=%s", agent_state_name(uatomic_read(&s->agent_state)));
	if (uatomic_read(&s->clock_set)) {
		cmm_smp_rmb();
		KV("clock=%s", s->clock);
	}
	KV("tsc=%s", tsc_names[uatomic_read(&s->tsc_state)]);
	KV("tsc_changes=%lu", uatomic_read(&s->tsc_changes));
	KV("bytes=%llu", (unsigned long long)bytes);
	KV("rate=%llu", (unsigned long long)rate);
	KV("dropped_buffers=%llu", (unsigned long long)dropped);
	if (lost_known)
		KV("lost_events=%llu", (unsigned long long)lost);
	KV("uptime=%ld", (long)((s->ended ? s->ended : time(NULL)) - s->started));
	KV("mode=%s", s->device == DEV_NONE ? "launch" : "attach");
	if (s->device != DEV_NONE) {
		KV("qmp=%s", s->qmp);
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
	err |= sbuf_add(&line, "\n", 1);
	err |= sbuf_add(out, line.p, line.len);
	for (p = 0; ports && p < s->nports; p++) {
		if (get_stats(s, p, &st)) {
			if (s->ctl < 0 && !file_bytes(s, p, &v))
				err |= sbuf_printf(out, "cpu%u bytes=%llu\n", p,
						   (unsigned long long)v);
			continue;
		}
		err |= sbuf_printf(out, "cpu%u bytes=%llu buffers=%llu"
			" dropped_bytes=%llu dropped_buffers=%llu stalls=%llu"
			" sink_errors=%llu bad_buffers=%llu queue_errors=%llu"
			" last_error=%d flags=%#x rate=%llu", p,
			(unsigned long long)st.bytes,
			(unsigned long long)st.buffers,
			(unsigned long long)st.dropped_bytes,
			(unsigned long long)st.dropped_buffers,
			(unsigned long long)st.stalls,
			(unsigned long long)st.sink_errors,
			(unsigned long long)st.bad_buffers,
			(unsigned long long)st.queue_errors, st.last_error,
			st.flags,
			(unsigned long long)uatomic_read(&s->rate[p]));
		v = uatomic_read(&s->agent_bytes[p]);
		if (v != UNKNOWN_BYTES)
			err |= sbuf_printf(out, " agent_bytes=%llu",
					   (unsigned long long)v);
		v = uatomic_read(&s->lost[p]);
		if (v != UNKNOWN_BYTES)
			err |= sbuf_printf(out, " lost_events=%llu",
					   (unsigned long long)v);
		err |= sbuf_add(out, "\n", 1);
	}
#undef KV
	sbuf_free(&line);
	return err ? -ENOMEM : 0;
}

/* Runs in the forked child: async-signal-safe calls only. */
static void exec_qemu(const struct sess_args *a, int dev, const char *log,
		      char **argv)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int fd;

	/*
	 * QEMU starts with the signals as a shell gives them: the daemon
	 * blocks SIGTERM and SIGINT (signalfd) and ignores SIGPIPE, and
	 * exec keeps both: a QEMU (or a `timeout` wrapping it) would never
	 * see a SIGTERM.
	 */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigaction(SIGPIPE, &dfl, NULL);
	setsid();
	if (fcntl(dev, F_SETFD, 0))
		_exit(126);
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		_exit(126);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	if (a->uid && (setgroups(1, &a->gid) || setgid(a->gid) ||
		       setuid(a->uid)))
		_exit(126);
	if (chdir(a->cwd))
		_exit(126);
	execvp(argv[0], argv);
	_exit(127);
}

#define FAIL(...) do { sbuf_printf(err, __VA_ARGS__); goto fail; } while (0)

/* As the requester (this thread's fs ids): the directory and the sinks. */
static int make_outputs(struct session *s, struct sbuf *err)
{
	char path[PATH_MAX + 32];
	unsigned int p;
	int rc = -1;

	setfsgid(s->gid);
	setfsuid(s->uid);
	if (mkdir(s->dir, 0755) && errno != EEXIST)
		FAIL("cannot create %s: %s", s->dir, strerror(errno));
	for (p = 0; p < s->nports; p++) {
		sink_path(s, p, path, sizeof(path));
		if (!s->fifo) {
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
				      O_CLOEXEC, 0644);

			if (fd < 0)
				FAIL("cannot create %s: %s", path, strerror(errno));
			s->sinkfd[p] = fd;
			continue;
		}
		unlink(path);
		if (mkfifo(path, 0644))
			FAIL("cannot create FIFO %s: %s", path, strerror(errno));
	}
	rc = 0;
fail:
	setfsuid(0);
	setfsgid(0);
	return rc;
}

static int attach_all(struct session *s, struct sbuf *err)
{
	struct vhost_trace_sink sink = { .policy = s->policy };
	unsigned int p;

	for (p = 0; p < s->nports; p++) {
		if (s->fifo) {
			attach_sink(s, p);	/* when a reader is there */
			continue;
		}
		sink.port = p;
		sink.fd = s->sinkfd[p];
		if (ioctl(s->ctl, VHOST_TRACE_SET_SINK, &sink))
			FAIL("VHOST_TRACE_SET_SINK port %u: %s", p,
			     strerror(errno));
	}
	return 0;
fail:
	return -1;
}

static char **qemu_argv(const struct sess_args *a, struct session *s,
			int dev)
{
	char **v = calloc(a->argc + 5, sizeof(char *));
	int i;

	if (!v)
		return NULL;
	for (i = 0; i < a->argc; i++)
		v[i] = a->argv[i];
	if (asprintf(&v[i++], "-chardev") < 0 ||
	    asprintf(&v[i++], "socket,id=vtagent,path=%s/agent.sock,"
		     "server=on,wait=off", s->rundir) < 0 ||
	    asprintf(&v[i++], "-device") < 0 ||
	    asprintf(&v[i++], "vhost-trace-pci,id=vtrace0,vhostfd=%d,ports=%u,"
		     "chardev=vtagent", dev, s->nports) < 0)
		return NULL;	/* small leak on an exhausted heap */
	return v;
}

static void free_qemu_argv(const struct sess_args *a, char **v)
{
	int i;

	for (i = a->argc; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/*
 * Shared by launch and attach: a new session in the table with its run
 * directory (RUNDIR/sID, for the agent socket), DIR and its sinks. On
 * failure err says why and nothing is left.
 */
int session_new(const struct sess_args *a, struct session **out,
		struct sbuf *err)
{
	char sock[PATH_MAX + 32];
	struct session *s;
	int rc;

	s = session_alloc(a->ports);
	if (!s)
		return -ENOMEM;
	s->policy = a->policy;
	s->fifo = a->fifo;
	s->uid = a->uid;
	s->gid = a->gid;
	s->stop_timeout_ms = a->stop_timeout_ms;
	s->started = time(NULL);
	s->agent_on = a->agent;
	snprintf(s->te.name, sizeof(s->te.name), "%s", a->name);
	snprintf(s->dir, sizeof(s->dir), "%s", a->dir);
	if (getrandom(&s->trace_id, sizeof(s->trace_id), 0) !=
	    sizeof(s->trace_id) || !s->trace_id)
		s->trace_id = (uint64_t)time(NULL) << 20 ^ getpid();
	if (a->clock && !strcmp(a->clock, "x86-tsc"))
		session_tsc_search(s);

	rc = table_add(&s->te);
	if (rc) {
		sbuf_printf(err, "a session named '%s' exists", a->name);
		release(&s->te);
		return rc;
	}
	if (!a->name[0])
		snprintf(s->te.name, sizeof(s->te.name), "vm%lu", s->te.id);
	/* from here on the table owns s: table_del() frees it */
	snprintf(s->rundir, sizeof(s->rundir), "%s/s%lu", cfg.rundir, s->te.id);
	snprintf(sock, sizeof(sock), "%s/agent.sock", s->rundir);
	if (strlen(sock) >= sizeof(s->agent.path))
		FAIL("agent socket path too long: %s", sock);
	agent_init(&s->agent, sock, a->agent, a->events, a->clock);
	if ((mkdir(s->rundir, 0750) && errno != EEXIST) ||
	    chown(s->rundir, a->uid, a->gid))
		FAIL("cannot create %s: %s", s->rundir, strerror(errno));
	unlink(sock);
	if (make_outputs(s, err))
		goto fail;
	*out = s;
	return 0;
fail:
	table_del(&s->te);
	return -EIO;
}

/*
 * Shared by launch and attach: opens the device, sets the ports, takes
 * the control fd and attaches the sinks. Returns the device fd (for
 * QEMU), or -1 with err set.
 */
int session_open_device(struct session *s, struct sbuf *err)
{
	int dev;

	dev = open(cfg.device, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		sbuf_printf(err, "cannot open %s: %s%s", cfg.device,
			    strerror(errno), errno == ENOENT ?
			    " (is vhost_trace.ko loaded?)" : "");
		return -1;
	}
	if (ioctl(dev, VHOST_TRACE_SET_PORTS, &s->nports))
		FAIL("VHOST_TRACE_SET_PORTS %u: %s", s->nports, strerror(errno));
	s->ctl = ioctl(dev, VHOST_TRACE_GET_CTL_FD);
	if (s->ctl < 0)
		FAIL("VHOST_TRACE_GET_CTL_FD: %s", strerror(errno));
	if (attach_all(s, err))
		goto fail;
	return dev;
fail:
	close(dev);
	return -1;
}

/*
 * Shared by launch, attach and recovery: starts the session thread
 * (s->pid and s->pidfd set).
 */
int session_run(struct session *s, struct sbuf *err)
{
	pthread_t th;
	int rc;

	if (s->cmdfd < 0)
		s->cmdfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->cmdfd < 0) {
		sbuf_printf(err, "eventfd: %s", strerror(errno));
		return -1;
	}
	table_entry_get(&s->te);	/* the thread's */
	pthread_mutex_lock(&live_lock);
	live++;
	pthread_mutex_unlock(&live_lock);
	rc = pthread_create(&th, NULL, session_main, s);
	if (rc) {
		pthread_mutex_lock(&live_lock);
		live--;
		pthread_mutex_unlock(&live_lock);
		table_entry_put(&s->te);
		sbuf_printf(err, "pthread_create: %s", strerror(rc));
		return -1;
	}
	pthread_detach(th);
	return 0;
}

int session_launch(const struct sess_args *a, struct session **out,
		   struct sbuf *err)
{
	char log[PATH_MAX + 32];
	struct session *s;
	char **argv = NULL;
	char pstate;
	int dev = -1, rc;

	rc = session_new(a, &s, err);
	if (rc)
		return rc;
	s->child = 1;
	snprintf(log, sizeof(log), "%s/qemu.log", a->dir);
	dev = session_open_device(s, err);
	if (dev < 0)
		goto fail;
	argv = qemu_argv(a, s, dev);
	if (!argv)
		FAIL("out of memory");

	s->pid = fork();
	if (s->pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (!s->pid)
		exec_qemu(a, dev, log, argv);
	s->vhostfd = dev;	/* the same number in QEMU: inherited */
	close(dev);		/* QEMU holds the device now */
	dev = -1;
	free_qemu_argv(a, argv);
	argv = NULL;
	s->pidfd = pidfd_open(s->pid, 0);
	/* the start time is the fork's: exec does not change it */
	if (s->pidfd < 0 || proc_stat(s->pid, &pstate, &s->start_time)) {
		sbuf_printf(err, "cannot watch QEMU (pid %d): %s", s->pid,
			    strerror(errno));
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		goto fail;
	}
	session_save(s);
	if (session_run(s, err)) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		goto fail;
	}
	table_entry_get(&s->te);	/* the caller's */
	*out = s;
	return 0;
fail:
	free_qemu_argv(a, argv);
	if (dev >= 0)
		close(dev);
	table_del(&s->te);
	return -EIO;
}

unsigned int sessions_live(void)
{
	unsigned int n;

	pthread_mutex_lock(&live_lock);
	n = live;
	pthread_mutex_unlock(&live_lock);
	return n;
}

void sessions_shutdown(int timeout_ms)
{
	struct table_entry **v;
	struct timespec ts;
	size_t n, i;

	v = table_snapshot(&n);
	for (i = 0; i < n; i++) {
		session_request(to_session(v[i]), SESS_CMD_QUIT);
		table_entry_put(v[i]);
	}
	free(v);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000 + 1;
	pthread_mutex_lock(&live_lock);
	while (live && !pthread_cond_timedwait(&live_cond, &live_lock, &ts))
		;
	pthread_mutex_unlock(&live_lock);
}
