// SPDX-License-Identifier: GPL-2.0
/*
 * Tracing sessions (see session.h): their life cycle, from a new
 * session in the table to its thread's end, and the session thread, a
 * loop that waits for QEMU's exit, requests, the agent and timers and
 * hands each to its part (stop.c, sink.c, stats.c, tsc.c, finish.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fsid.h"
#include "persist.h"
#include "session_int.h"
#include "state.h"
#include "vdpa.h"

struct daemon_cfg cfg = {
	.rundir = "/run/vhost-trace",
	.rundirfd = -1,
	.device = "/dev/vhost-trace",
	.linger_s = 600,
};

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cond = PTHREAD_COND_INITIALIZER;
static unsigned int live;	/* session threads */

void session_set_state(struct session *s, int state)
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

	if (s->runfd >= 0)
		state_remove(s->runfd);

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
	if (s->bridge >= 0)
		close(s->bridge);
	if (s->agent_fd >= 0)
		close(s->agent_fd);
	if (s->runfd >= 0) {
		unlinkat(s->runfd, AGENT_SOCK, 0);
		close(s->runfd);
		unlinkat(cfg.rundirfd, strrchr(s->rundir, '/') + 1,
			 AT_REMOVEDIR);
	}
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->sinkfd);
	free(s->last_bytes);
	free(s->rate);
	free(s->agent_bytes);
	free(s->lost);
	free(s->saved);
	free(s->base);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

struct session *session_alloc(void)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->ctl = s->cmdfd = s->pidfd = s->dirfd = s->runfd = -1;
	s->bridge = s->agent_fd = -1;
	s->te.release = release;
	agent_init(&s->agent, "", 0, NULL, NULL);
	return s;
}

int session_set_ports(struct session *s, unsigned int nports)
{
	unsigned int p;

	s->nports = nports;
	s->sinkfd = malloc(nports * sizeof(int));
	s->last_bytes = calloc(nports, sizeof(uint64_t));
	s->rate = calloc(nports, sizeof(uint64_t));
	s->agent_bytes = malloc(nports * sizeof(uint64_t));
	s->lost = malloc(nports * sizeof(uint64_t));
	if (!s->sinkfd || !s->last_bytes || !s->rate || !s->agent_bytes ||
	    !s->lost)
		return -ENOMEM;
	for (p = 0; p < nports; p++) {
		s->sinkfd[p] = -1;
		s->agent_bytes[p] = UNKNOWN_BYTES;
		s->lost[p] = UNKNOWN_BYTES;
	}
	return 0;
}

void session_free(struct session *s)
{
	release(&s->te);
}

#define FAIL(...) do { vt_buf_printf(err, __VA_ARGS__); goto fail; } while (0)

/*
 * Shared by launch and attach: a new session in the table with its run
 * directory (RUNDIR/sID, for the agent socket), DIR and its sinks. On
 * failure err says why and nothing is left.
 */
int session_new(const struct sess_args *a, struct session **out,
		struct vt_buf *err)
{
	char sock[PATH_MAX + 32];
	struct session *s;
	int rc;

	s = session_alloc();
	if (!s)
		return -ENOMEM;
	if (session_set_ports(s, a->ports)) {
		session_free(s);
		return -ENOMEM;
	}
	s->policy = a->policy;
	s->fifo = a->fifo;
	s->byref = a->byref;
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
		vt_buf_printf(err, "a session named '%s' exists", a->name);
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
	s->runfd = session_open_rundir(s->te.id, 1);
	if (s->runfd < 0 || fchown(s->runfd, a->uid, a->gid))
		FAIL("cannot create %s: %s", s->rundir, strerror(errno));
	unlinkat(s->runfd, AGENT_SOCK, 0);
	if (session_make_outputs(s, err))
		goto fail;
	*out = s;
	return 0;
fail:
	table_del(&s->te);
	return -EIO;
}

int session_open_rundir(unsigned long id, int create)
{
	char name[32];

	snprintf(name, sizeof(name), "s%lu", id);
	if (create && mkdirat(cfg.rundirfd, name, 0750) && errno != EEXIST)
		return -1;
	return openat(cfg.rundirfd, name, O_RDONLY | O_DIRECTORY |
		      O_NOFOLLOW | O_CLOEXEC);
}

/*
 * The agent's socket in RUNDIR/sID, the requester's directory: reached
 * through its fd, as the requester (what a link there reaches, they
 * could reach themselves), and believed only when the peer runs as the
 * directory's owner, the uid QEMU runs as. 1 connected, 0 not yet.
 */
static int connect_agent(struct session *s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(struct ucred);
	struct ucred cr;
	struct stat st;
	int fd, err;

	if (s->front == FRONT_VDPA) {
		/* port 0 is the vDPA device's control fd: nothing to connect */
		fd = vdpa_agent_fd(s);
		if (fd < 0)
			return 0;
		s->agent.fd = fd;
		s->agent.port0 = 1;
		return 1;
	}
	/* libvirt: our own end of a socket pair, no name to connect to */
	if (s->agent_fd >= 0) {
		s->agent.fd = s->agent_fd;
		s->agent_fd = -1;
		return 1;
	}
	if (fstat(s->runfd, &st))
		return 0;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/proc/self/fd/%d/"
		 AGENT_SOCK, s->runfd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || fsid_user(st.st_uid, st.st_gid)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	err = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ? errno : 0;
	fsid_root();
	if (!err && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		err = errno;
	if (!err && cr.uid != st.st_uid) {
		sess_log(s, "agent socket %s: the peer (pid %d) runs as uid "
			 "%u, not as QEMU (uid %u): not trusted, no agent",
			 s->agent.path, (int)cr.pid, (unsigned int)cr.uid,
			 (unsigned int)st.st_uid);
		s->agent.state = AGENT_ERROR;
		err = EPERM;
	}
	if (err) {
		close(fd);
		return 0;
	}
	s->agent.fd = fd;
	return 1;
}

/* What the session thread's loop keeps between two rounds. */
struct loop {
	long last_tick;
	int reaped;
	int quit;
};

/* Waits for QEMU's exit, a request, the agent, or the next timer. */
static int wait_events(struct session *s, struct loop *l, struct pollfd *pf)
{
	int state = uatomic_read(&s->state);
	int tsc = uatomic_read(&s->tsc_state);
	long wait = l->last_tick + 1000 - vt_now_ms();

	pf[0] = (struct pollfd){ .fd = l->reaped ? -1 : s->pidfd,
				 .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = s->cmdfd, .events = POLLIN };
	pf[2] = (struct pollfd){ .fd = s->agent.fd, .events = POLLIN };
	if ((s->agent.state == AGENT_CONNECTING ||
	     s->agent.state == AGENT_HELLO) && state == SESS_RUNNING &&
	    wait > 200)
		wait = 200;
	if (state == SESS_RUNNING && (tsc == SESS_TSC_SEARCHING ||
				      tsc == SESS_TSC_SAMPLING) &&
	    wait > s->tsc_next_ms - vt_now_ms())
		wait = s->tsc_next_ms - vt_now_ms();
	if (poll(pf, 3, wait < 0 ? 0 : wait) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* The requests since the last round, with a stop a restart left over. */
static unsigned int take_commands(struct session *s, struct pollfd *pf)
{
	unsigned int cmds;
	uint64_t v;

	if (pf[1].revents && read(s->cmdfd, &v, sizeof(v)) < 0)
		v = 0;
	cmds = uatomic_xchg(&s->cmds, 0);
	if (s->resume_stop && uatomic_read(&s->state) == SESS_RUNNING &&
	    ((s->agent.state != AGENT_CONNECTING &&
	      s->agent.state != AGENT_HELLO) ||
	     vt_now_ms() > s->resume_deadline)) {
		sess_log(s, "the stop that the old daemon began goes on "
			 "(agent %s)", agent_state_name(s->agent.state));
		s->resume_stop = 0;
		cmds |= SESS_CMD_STOP;
	}
	return cmds;
}

static void do_commands(struct session *s, struct loop *l, unsigned int cmds)
{
	if ((cmds & (SESS_CMD_STOP | SESS_CMD_QUIT)) &&
	    uatomic_read(&s->state) == SESS_RUNNING)
		session_stop(s);
	if (cmds & SESS_CMD_QUIT)
		l->quit = 1;
	/* an ended session, or an attached one that let go of QEMU */
	if ((cmds & SESS_CMD_REMOVE) && (l->reaped ||
	    (s->device != DEV_NONE &&
	     uatomic_read(&s->state) == SESS_STOPPED)))
		l->quit = 1;
	if (l->reaped && time(NULL) - s->ended > cfg.linger_s)
		l->quit = 1;
	if (s->stopped && time(NULL) - s->stopped > cfg.linger_s)
		l->quit = 1;	/* detached long ago */
}

/* The agent connected and started; its clock once it said it. */
static void run_agent(struct session *s)
{
	if (uatomic_read(&s->state) == SESS_RUNNING &&
	    s->agent.state == AGENT_CONNECTING && connect_agent(s))
		agent_start(&s->agent);
	agent_tick(&s->agent);
	uatomic_set(&s->agent_state, s->agent.state);
	session_note_agent_error(s);
	if (s->agent.clock[0] && !uatomic_read(&s->clock_set)) {
		snprintf(s->clock, sizeof(s->clock), "%s", s->agent.clock);
		cmm_smp_wmb();
		uatomic_set(&s->clock_set, 1);
	}
}

/* The timers: TSC samples, metadata, the agent's stats, rates. */
static void run_timers(struct session *s, struct loop *l)
{
	session_tsc_poll(s);
	session_meta_at_start(s);
	if (s->agent.state == AGENT_RUNNING &&
	    uatomic_read(&s->state) == SESS_RUNNING)
		session_poll_lost(s, 0);
	if (vt_now_ms() - l->last_tick >= 1000) {
		session_tick(s, vt_now_ms() - l->last_tick);
		l->last_tick = vt_now_ms();
	}
}

static void *session_main(void *arg)
{
	struct session *s = arg;
	struct loop l = { .last_tick = vt_now_ms() };
	struct pollfd pf[3];

	rcu_register_thread();
	while (!l.quit) {
		int state = uatomic_read(&s->state);

		if (wait_events(s, &l, pf))
			break;
		if (pf[2].revents)
			agent_input(&s->agent);
		/* pidfd -1: recovered after QEMU had exited */
		if (!l.reaped && (s->pidfd < 0 || pf[0].revents) &&
		    session_reap(s)) {
			l.reaped = 1;
			session_qemu_exited(s, state);
		}
		do_commands(s, &l, take_commands(s, pf));
		run_agent(s);
		run_timers(s, &l);
		if (!l.quit)
			session_save_if_changed(s);
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

/*
 * Shared by launch, attach and recovery: starts the session thread
 * (s->pid and s->pidfd set).
 */
int session_run(struct session *s, struct vt_buf *err)
{
	pthread_t th;
	int rc;

	if (s->cmdfd < 0)
		s->cmdfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->cmdfd < 0) {
		vt_buf_printf(err, "eventfd: %s", strerror(errno));
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
		vt_buf_printf(err, "pthread_create: %s", strerror(rc));
		return -1;
	}
	pthread_detach(th);
	return 0;
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
