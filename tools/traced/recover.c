// SPDX-License-Identifier: GPL-2.0
/*
 * Restart: a new vhost-traced takes over the sessions of one that died
 * (SIGKILL, a crash). While no daemon runs, the module keeps every sink
 * attached (a control fd holds the device only, and its closing detaches
 * nothing), the guest keeps tracing and the files keep growing. Each
 * session left RUNDIR/sID/state (state.h); for each one:
 *
 *   QEMU runs (its pid, with the start time of the file: not a reused
 *   pid): pidfd_getfd() takes QEMU's device fd (it must be
 *   /dev/vhost-trace), VHOST_TRACE_GET_CTL_FD a control fd of our own
 *   (the device fd is closed again at once: holding it would keep QEMU's
 *   memory after QEMU exits), the counters go on from the module's, the
 *   pidfd tells when QEMU exits (not our child: no exit status), and the
 *   agent is reconnected without disturbing it (agent_resume).
 *   QEMU is gone: the session ends as if QEMU had exited under us, from
 *   what is in DIR: files kept as they are and synced, DIR/stats with
 *   their sizes, DIR/trace.dat from the metadata fetched at start.
 *
 * Every decision is logged. New ids continue after the highest sID seen.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/vhost_trace.h>

#include "fsid.h"
#include "persist.h"
#include "session_int.h"
#include "state.h"
#include "vdpa.h"

/* ms the agent has to answer before a stop begun by the old daemon goes on */
#define RESUME_STOP_WAIT_MS	15000

enum outcome { RECOVERED, ENDED, FORGOTTEN, IGNORED };

__attribute__((format(printf, 3, 4)))
static void say(unsigned long id, const char *name, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vt_log("recover s%lu%s%s%s: %s", id, name ? " (" : "",
	       name ? name : "", name ? ")" : "", msg);
}

/*
 * An attached session's device fd in QEMU: getfd does not tell its
 * number, /proc/PID/fd does (QEMU holds one vhost-trace device at most:
 * attach refuses a second; a take-over (libvirt.c) wants exactly one:
 * *count). The first one's number, or -1.
 */
int session_find_device_fd(pid_t pid, const struct stat *dev, int *count)
{
	char path[64], link[PATH_MAX];
	struct dirent *e;
	struct stat st;
	int num = -1;
	DIR *d;

	*count = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		if (!stat(link, &st) && S_ISCHR(st.st_mode) &&
		    st.st_rdev == dev->st_rdev && !(*count)++)
			num = atoi(e->d_name);
	}
	closedir(d);
	return num;
}

/*
 * QEMU's device fd, to ask for a control fd of our own. 0, or -errno
 * with why (-ESRCH: QEMU exited meanwhile).
 */
static int take_device(const struct session *sv, int pidfd, int *ctl,
		       char *why, size_t n)
{
	struct stat dev;
	int err, num, count;

	/* the vDPA front end: the device by its name, QEMU's fd not needed */
	if (sv->front == FRONT_VDPA)
		return vdpa_take_over(sv->vdpa, sv->nports, ctl, why, n);
	if (stat(cfg.device, &dev)) {
		err = -errno;
		snprintf(why, n, "%s: %s", cfg.device, strerror(errno));
		return err;
	}
	num = sv->vhostfd >= 0 ? sv->vhostfd :
	      session_find_device_fd(sv->pid, &dev, &count);
	if (num < 0) {
		snprintf(why, n, "no fd of QEMU's is %s any more (device "
			 "unplugged?)", cfg.device);
		return -ENODEV;
	}
	return session_ctl_from(pidfd, num, &dev, sv->nports, ctl, why, n);
}

int session_ctl_from(int pidfd, int num, const struct stat *dev,
		     unsigned int nports, int *ctl, char *why, size_t n)
{
	struct stat st;
	__u32 ports = 0;
	int fd, c, err;

	fd = pidfd_getfd(pidfd, num, 0);
	if (fd < 0) {
		err = -errno;
		snprintf(why, n, "pidfd_getfd of its fd %d: %s", num,
			 strerror(errno));
		return err;
	}
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != dev->st_rdev) {
		close(fd);
		snprintf(why, n, "its fd %d is not %s any more (device "
			 "removed?)", num, cfg.device);
		return -ENODEV;
	}
	c = ioctl(fd, VHOST_TRACE_GET_CTL_FD);
	err = -errno;
	/* ours would keep QEMU's memory alive after QEMU exits */
	close(fd);
	if (c < 0) {
		snprintf(why, n, "VHOST_TRACE_GET_CTL_FD: %s", strerror(-err));
		return err;
	}
	if (ioctl(c, VHOST_TRACE_GET_PORTS, &ports) || ports != nports) {
		close(c);
		snprintf(why, n, "the device has %u ports, not %u", ports,
			 nports);
		return -ENODEV;
	}
	*ctl = c;
	return 0;
}

/*
 * Is QEMU (the launched process) still the one of the state file, with
 * the device? *runs: the process is there, whatever its device.
 */
static int qemu_alive(const struct session *sv, int *pidfd, int *ctl,
		      int *runs, char *why, size_t n)
{
	unsigned long long t;
	char st;

	*runs = 0;
	*pidfd = pidfd_open(sv->pid, 0);
	if (*pidfd < 0) {
		snprintf(why, n, "pid %d: %s", sv->pid, strerror(errno));
		return 0;
	}
	/* after pidfd_open: a pid reused later cannot fool the pidfd */
	if (proc_stat(sv->pid, &st, &t))
		snprintf(why, n, "pid %d exited", sv->pid);
	else if (t != sv->start_time)
		snprintf(why, n, "pid %d is another process now (started at "
			 "%llu, not %llu)", sv->pid, t, sv->start_time);
	else if (st == 'Z' || st == 'X')
		snprintf(why, n, "pid %d exited (not reaped yet)", sv->pid);
	else if ((*runs = 1) && !take_device(sv, *pidfd, ctl, why, n))
		return 1;
	close(*pidfd);
	*pidfd = -1;
	return 0;
}

/* An ended session's run directory goes. */
static void forget(int runfd, unsigned long id)
{
	char name[32];

	state_remove(runfd);
	unlinkat(runfd, AGENT_SOCK, 0);
	close(runfd);
	snprintf(name, sizeof(name), "s%lu", id);
	unlinkat(cfg.rundirfd, name, AT_REMOVEDIR);
}

/*
 * What the state file does not say: the session as recovered. Its agent
 * is not connected: off, or to be connected again (agent_init).
 */
static void fill(struct session *s, const char *dir, int runfd)
{
	snprintf(s->rundir, sizeof(s->rundir), "%s", dir);
	s->runfd = runfd;
	s->recovered = 1;
	if (s->device == DEV_DETACHED || s->device == DEV_DETACH_FAILED ||
	    s->device == DEV_RELEASED)
		s->stopped = time(NULL);	/* listed for -l seconds */
	s->agent.fd = -1;
	s->agent.session_counts = s->device == DEV_TAKEN;
	s->agent.state = s->agent_on ? AGENT_CONNECTING : AGENT_OFF;
	/* samples of the TSC terms from now on (the old ones went) */
	if (!strcmp(s->agent.want_clock, "x86-tsc"))
		session_tsc_search(s);
}

/* DIR, as the requester: without it the files stay as they are. */
static void open_dir(struct session *s)
{
	if (fsid_user(s->uid, s->gid))
		return;
	s->dirfd = session_open_dir(AT_FDCWD, s->dir);
	if (s->dirfd < 0)
		say(s->te.id, s->te.name, "cannot open %s as uid %u: %s (its "
		    "files are left alone)", s->dir, (unsigned int)s->uid,
		    session_strerror(s->dirfd));
	fsid_root();
}

static uint64_t module_bytes(struct session *s)
{
	struct vhost_trace_stats st;
	uint64_t sum = 0;
	unsigned int p;

	for (p = 0; p < s->nports; p++) {
		memset(&st, 0, sizeof(st));
		st.port = p;
		if (!ioctl(s->ctl, VHOST_TRACE_GET_STATS, &st))
			sum += st.bytes;
	}
	return sum;
}

/* The session of the state file in runfd (dir), or NULL (said why). */
static struct session *load(unsigned long id, const char *dir, int runfd)
{
	char why[PATH_MAX + 128];
	struct session *s;
	struct ctl_req r;
	const char *bad;
	int err;

	if (runfd < 0 || faccessat(runfd, STATE_FILE, F_OK,
				   AT_SYMLINK_NOFOLLOW)) {
		say(id, NULL, "no state file in %s: left alone", dir);
		return NULL;
	}
	if (state_read(runfd, &r, why, sizeof(why))) {
		say(id, NULL, "ignored: %s", why);
		return NULL;
	}
	s = session_alloc();
	if (!s) {
		ctl_req_free(&r);
		say(id, NULL, "out of memory: left for the next start");
		return NULL;
	}
	err = persist_load(s, &r, &bad);
	ctl_req_free(&r);
	if (err) {
		say(id, NULL, "ignored: missing or malformed %s=", bad);
	} else if (s->te.id != id) {
		say(id, s->te.name, "ignored: the state file says s%lu",
		    s->te.id);
	} else if (session_set_ports(s, s->nports)) {
		say(id, s->te.name, "out of memory: left for the next start");
	} else {
		return s;
	}
	session_free(s);
	return NULL;
}

static enum outcome recover_one(unsigned long id)
{
	char dir[PATH_MAX], why[PATH_MAX + 128];
	struct session *s;
	struct vt_buf msg;
	int state, was, alive, runs, stopping, pidfd = -1, ctl = -1, runfd, err;

	snprintf(dir, sizeof(dir), "%s/s%lu", cfg.rundir, id);
	runfd = session_open_rundir(id, 0);
	s = load(id, dir, runfd);
	if (!s) {
		if (runfd >= 0)
			close(runfd);
		return IGNORED;
	}
	state = s->state;
	if (state == SESS_ENDED) {
		say(id, s->te.name, "ended before the restart (files complete, "
		    "DIR/stats written): forgotten");
		session_free(s);
		forget(runfd, id);
		return FORGOTTEN;
	}

	alive = qemu_alive(s, &pidfd, &ctl, &runs, why, sizeof(why));
	s->pidfd = pidfd;
	s->ctl = ctl;
	was = s->agent.state;
	fill(s, dir, runfd);
	open_dir(s);
	stopping = state == SESS_STOPPING;
	if (stopping)
		state = SESS_RUNNING;	/* the stop is done again */
	uatomic_set(&s->state, state);
	if (alive && state == SESS_RUNNING && s->agent_on) {
		agent_resume(&s->agent, s->agent.proto, was, stopping);
		s->resume_stop = stopping;
		s->resume_deadline = vt_now_ms() + RESUME_STOP_WAIT_MS;
	} else {
		/* not connected: it shows what it was, or that it is gone */
		s->agent.state = alive ? was : AGENT_GONE;
	}
	uatomic_set(&s->agent_state, s->agent.state);

	err = table_add(&s->te);
	if (err) {
		say(id, s->te.name, "ignored: the id or name is in use");
		close(s->runfd);
		s->runfd = -1;		/* keep its state file */
		session_free(s);
		return IGNORED;
	}
	if (alive) {
		session_check_sinks(s);
		say(id, s->te.name, "QEMU pid %d runs: recovered, %s, the "
		    "module counted %llu bytes so far%s; agent: %s", s->pid,
		    sess_state_name(state),
		    (unsigned long long)module_bytes(s),
		    s->fifo ? ", FIFOs attached again once read" :
		    ", file sinks left as the module holds them",
		    !s->agent_on ? "off" :
		    state != SESS_RUNNING ? "not needed (stopped)" :
		    s->agent.proto < 0 ? "reconnecting, upstream orders: none "
		    "sent" : "reconnecting, hello then info: no start if it "
		    "runs");
		if (s->resume_stop)
			say(id, s->te.name, "the old daemon was stopping it: "
			    "the stop goes on once the agent answered");
	} else {
		say(id, s->te.name, "%s (%s): the session ends from what is "
		    "in %s: the files as they are, synced%s%s",
		    runs ? "QEMU runs but cannot be taken over" :
		    "QEMU is gone", why, s->dir, state == SESS_RUNNING ?
		    ", DIR/stats from their sizes" :
		    " (stopped before: DIR/stats kept)",
		    state != SESS_RUNNING || s->fifo ? "" : s->meta ?
		    ", DIR/trace.dat from DIR/meta (fetched at start)" :
		    ", no trace.dat (no metadata was fetched)");
	}
	vt_buf_init(&msg);
	err = session_run(s, &msg);
	if (err) {
		say(id, s->te.name, "cannot start its thread: %.*s",
		    (int)msg.len, msg.p);
		vt_buf_free(&msg);
		table_del(&s->te);
		return IGNORED;
	}
	vt_buf_free(&msg);
	return alive ? RECOVERED : ENDED;
}

static int by_value(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* "s" and decimal digits (no sign, no leading zero): the id, or 0. */
static unsigned long dir_id(const char *name)
{
	const char *p = name + 1;
	unsigned long id = 0;

	if (name[0] != 's' || *p < '1' || *p > '9' || strlen(p) > 15)
		return 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		id = id * 10 + (*p - '0');
	}
	return id;
}

void sessions_recover(void)
{
	unsigned long *ids = NULL, *nids, id;
	unsigned int count[4] = { 0 };
	size_t n = 0, cap = 0, i;
	struct dirent *e;
	DIR *d;

	d = fdopendir(fcntl(cfg.rundirfd, F_DUPFD_CLOEXEC, 0));
	if (!d)
		return;
	while ((e = readdir(d))) {
		id = dir_id(e->d_name);
		if (!id)
			continue;
		/* even one left alone: its id is not given again */
		table_reserve_ids(id);
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nids = realloc(ids, cap * sizeof(*ids));
			if (!nids)
				break;
			ids = nids;
		}
		ids[n++] = id;
	}
	closedir(d);
	if (!n) {
		free(ids);
		return;
	}
	qsort(ids, n, sizeof(*ids), by_value);
	for (i = 0; i < n; i++)
		count[recover_one(ids[i])]++;
	vt_log("recovery: %u session(s) recovered, %u ended, %u forgotten "
	       "(ended before), %u left alone; new ids from %lu",
	       count[RECOVERED], count[ENDED], count[FORGOTTEN],
	       count[IGNORED], ids[n - 1] + 1);
	free(ids);
}
