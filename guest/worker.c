// SPDX-License-Identifier: GPL-2.0
/*
 * One thread per CPU, pinned to it: trace_pipe_raw --splice--> pipe
 * --splice--> trace-path-cpuN, one whole 4096-byte ring-buffer page per
 * port write (so one page per virtqueue buffer).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent.h"
#include "portstate.h"

/* How long an exiting agent waits for a disconnected host, per page. */
#define EXIT_WRITE_TIMEOUT_MS	5000

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static enum agent_state cur_state(void)
{
	return __atomic_load_n(&agent.state, __ATOMIC_ACQUIRE);
}

/* Moves npages whole pages from the pipe to the port. */
static int send_pages(struct worker *w, int npages)
{
	int timeout = cur_state() == AGENT_EXITING ? EXIT_WRITE_TIMEOUT_MS : -1;
	int ret;

	while (npages > 0) {
		ssize_t n = splice(w->pipe_rd, NULL, w->port_fd, NULL,
				   AGENT_PAGE, SPLICE_F_MOVE);

		if (n == AGENT_PAGE) {
			__atomic_add_fetch(&w->pages, 1, __ATOMIC_RELAXED);
			w->session_pages++;
			npages--;
			continue;
		}
		if (n > 0) {
			/* cannot happen: pipe buffers are whole pages */
			msg("cpu%d: port took %zd bytes of a page", w->cpu, n);
			return -EIO;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!port_wait_writable(w->port_fd, timeout))
				continue;
			msg("cpu%d: host not reading %s at exit: %d page(s) dropped",
			    w->cpu, w->port, npages);
			w->dropped += npages;
			return -ETIMEDOUT;
		}
		ret = n < 0 ? -errno : -EIO;
		msg("cpu%d: splice to %s: %s; page dropped", w->cpu, w->port,
		    n < 0 ? strerror(errno) : "end of pipe");
		w->dropped += npages;
		return ret;
	}
	return 0;
}

/*
 * A page the port did not take must not stay in the pipe: the next splice
 * out would then take one page of two (see below). It is counted dropped.
 */
static void discard_pipe(struct worker *w)
{
	static __thread char scratch[AGENT_PAGE];
	int fl = fcntl(w->pipe_rd, F_GETFL);

	fcntl(w->pipe_rd, F_SETFL, fl | O_NONBLOCK);
	while (read(w->pipe_rd, scratch, sizeof(scratch)) > 0)
		;
	fcntl(w->pipe_rd, F_SETFL, fl);
}

/*
 * Moves one whole page: trace_pipe_raw -> pipe -> port. Returns 1 for a
 * page moved, 0 when no full page is ready (EAGAIN: not an error), or a
 * negative error.
 *
 * The pipe never holds more than the page being moved, on purpose:
 * virtio_console's splice_write sizes its scatterlist to the pipe's
 * occupancy and marks the end there, so a splice that takes fewer pages
 * than the pipe holds chains the unused, zero-length entries into the
 * virtqueue buffer. QEMU then stops the device ("virtio: zero sized
 * buffers are not allowed"). One page in, one page out avoids that and
 * is exactly one page per port write.
 */
static int pump_once(struct worker *w)
{
	ssize_t n = splice(w->trace_fd, NULL, w->pipe_wr, NULL, AGENT_PAGE,
			   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	int ret;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		msg("cpu%d: splice from trace_pipe_raw: %s", w->cpu,
		    strerror(errno));
		return -errno;
	}
	if (n == 0)
		return 0;
	if (n != AGENT_PAGE) {
		msg("cpu%d: trace_pipe_raw gave %zd bytes, not one page",
		    w->cpu, n);
		return -EIO;
	}
	ret = send_pages(w, 1);
	if (ret)
		discard_pipe(w);
	return ret ? ret : 1;
}

/*
 * The page the writer is on is not spliced; read() copies it out (once
 * tracing is off this is the last, partial, page). Written as one page.
 */
static int flush_partial(struct worker *w)
{
	static __thread char page[AGENT_PAGE];
	int timeout = cur_state() == AGENT_EXITING ? EXIT_WRITE_TIMEOUT_MS : -1;

	for (;;) {
		ssize_t n = read(w->trace_fd, page, AGENT_PAGE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;	/* EAGAIN: empty */
		if (n != AGENT_PAGE) {
			msg("cpu%d: short read of %zd bytes from trace_pipe_raw",
			    w->cpu, n);
			return -EIO;
		}
		if (port_write_all(w->port_fd, page, AGENT_PAGE, timeout)) {
			msg("cpu%d: host not reading %s: partial page dropped",
			    w->cpu, w->port);
			w->dropped++;
			return -ETIMEDOUT;
		}
		__atomic_add_fetch(&w->pages, 1, __ATOMIC_RELAXED);
		w->partial_pages++;
		w->session_pages++;
	}
}

/* Everything the ring buffer holds goes to the host. */
static void drain(struct worker *w)
{
	int n;

	do {
		n = pump_once(w);
	} while (n > 0);
	if (n == 0)
		flush_partial(w);
}

/* Runs until the state changes (wake_fd). Idle = poll, never spin. */
static void pump(struct worker *w)
{
	struct pollfd pfd[2] = {
		{ .fd = w->wake_fd, .events = POLLIN },
		{ .fd = w->trace_fd, .events = POLLIN },
	};
	int empty_wakeups = 0;

	for (;;) {
		int n;

		/* under a steady stream the eventfd is not polled: look here */
		if (__atomic_load_n(&agent.gen, __ATOMIC_ACQUIRE) != w->gen)
			return;
		n = pump_once(w);

		if (n < 0) {
			nap(1000);	/* reported; retry slowly */
			continue;
		}
		if (n > 0) {
			empty_wakeups = 0;
			continue;
		}
		/*
		 * No full page. trace_pipe_raw's poll wakes at buffer_percent;
		 * the 1 s timeout bounds latency when that is high. Should poll
		 * report data that splice cannot take (buffer_percent 0, a page
		 * still being written), nap rather than spin.
		 */
		if (empty_wakeups > 1)
			nap(100);
		n = poll(pfd, 2, 1000);
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			uint64_t v;

			if (read(w->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				msg("cpu%d: eventfd: %s", w->cpu, strerror(errno));
			return;
		}
		empty_wakeups = (n > 0) ? empty_wakeups + 1 : 0;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int ret = pin(w->cpu);

	if (ret)
		msg("cpu%d: cannot pin the thread: %s", w->cpu, strerror(-ret));

	pthread_mutex_lock(&agent.lock);
	for (;;) {
		enum agent_state st;
		unsigned int gen;

		if (w->retire)
			break;
		if (agent.gen == w->gen && agent.state != AGENT_RUNNING) {
			pthread_cond_wait(&agent.cond, &agent.lock);
			continue;
		}
		if (agent.gen == w->gen) {
			pthread_mutex_unlock(&agent.lock);
			pump(w);
			pthread_mutex_lock(&agent.lock);
			continue;
		}
		/*
		 * A transition: stopping (or exiting) after running drains;
		 * starting resets the session count. Leaving the stopped state
		 * for exit sends nothing: stop means stop.
		 */
		st = agent.state;
		gen = agent.gen;
		pthread_mutex_unlock(&agent.lock);
		if (st == AGENT_RUNNING) {
			w->session_pages = 0;
			w->running = true;
		} else if (w->running) {
			drain(w);
			w->running = false;
		}
		pthread_mutex_lock(&agent.lock);
		w->gen = gen;
		pthread_cond_broadcast(&agent.cond);
		if (st == AGENT_EXITING)
			break;
	}
	pthread_mutex_unlock(&agent.lock);
	return NULL;
}

static int open_cpu(struct worker *w, const char *port)
{
	char rel[64];
	char p[512];

	snprintf(rel, sizeof(rel), "per_cpu/cpu%d/trace_pipe_raw", w->cpu);
	if (tracefs_path(p, sizeof(p), rel))
		return -ENAMETOOLONG;
	w->trace_fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (w->trace_fd < 0) {
		msg("cpu%d: open %s: %s", w->cpu, p, strerror(errno));
		return -errno;
	}
	snprintf(w->port, sizeof(w->port), "%s", port);
	w->port_fd = open(port, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (w->port_fd < 0) {
		msg("cpu%d: open %s: %s%s", w->cpu, port, strerror(errno),
		    errno == EBUSY ? " (another program has the port open)" : "");
		return -errno;
	}
	return 0;
}

static int open_pipe(struct worker *w)
{
	int fds[2];
	int got;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	w->pipe_rd = fds[0];
	w->pipe_wr = fds[1];
	got = fcntl(w->pipe_wr, F_SETPIPE_SZ, (int)agent.pipe_size);
	if (got < 0) {
		msg("cpu%d: pipe size %zu: %s (see /proc/sys/fs/pipe-max-size)",
		    w->cpu, agent.pipe_size, strerror(errno));
		return -errno;
	}
	return 0;
}

static void worker_free(struct worker *w)
{
	int *fds[] = { &w->trace_fd, &w->port_fd, &w->pipe_rd, &w->pipe_wr,
		       &w->wake_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	free(w);
}

/* Called with agent.lock held. */
int worker_create(int cpu, const char *port)
{
	struct worker *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	w->cpu = cpu;
	w->trace_fd = w->port_fd = w->pipe_rd = w->pipe_wr = -1;
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ret = w->wake_fd < 0 ? -errno : open_cpu(w, port);
	if (!ret)
		ret = open_pipe(w);
	if (ret) {
		worker_free(w);
		return ret;
	}
	/* joins in the current state, without a transition */
	w->gen = agent.gen;
	w->running = agent.state == AGENT_RUNNING;
	ret = pthread_create(&w->tid, NULL, worker_main, w);
	if (ret) {
		msg("cpu%d: cannot start a thread: %s", cpu, strerror(ret));
		worker_free(w);
		return -ret;
	}
	agent.workers[cpu] = w;
	return 0;
}

/*
 * Announces a new state to the workers and waits until each has handled
 * it (a stop returns once every page has been written to its port).
 */
void agent_set_state(enum agent_state st)
{
	uint64_t one = 1;
	int cpu;

	pthread_mutex_lock(&agent.lock);
	__atomic_store_n(&agent.state, st, __ATOMIC_RELEASE);
	agent.gen++;
	pthread_cond_broadcast(&agent.cond);
	for (cpu = 0; cpu < agent.ncpus; cpu++) {
		struct worker *w = agent.workers[cpu];

		if (w && write(w->wake_fd, &one, sizeof(one)) < 0)
			msg("cpu%d: eventfd: %s", cpu, strerror(errno));
	}
	for (cpu = 0; cpu < agent.ncpus; cpu++) {
		struct worker *w = agent.workers[cpu];

		while (w && w->gen != agent.gen)
			pthread_cond_wait(&agent.cond, &agent.lock);
	}
	if (st == AGENT_EXITING) {
		for (cpu = 0; cpu < agent.ncpus; cpu++) {
			struct worker *w = agent.workers[cpu];

			if (!w)
				continue;
			pthread_mutex_unlock(&agent.lock);
			pthread_join(w->tid, NULL);
			pthread_mutex_lock(&agent.lock);
		}
	}
	pthread_mutex_unlock(&agent.lock);
}

enum { SAID_NOTHING, SAID_NO_PORT, SAID_OFFLINE, SAID_FAILED, SAID_RUNNING };

static void say(int cpu, int what, const char *port_name)
{
	if (agent.said[cpu] == what)
		return;
	agent.said[cpu] = what;
	switch (what) {
	case SAID_NO_PORT:
		msg("cpu%d: no port %s: this CPU's events stay in the guest "
		    "(will use the port if it appears)", cpu, port_name);
		break;
	case SAID_OFFLINE:
		msg("cpu%d: offline; port %s waits for it to come online",
		    cpu, port_name);
		break;
	case SAID_RUNNING:
		msg("cpu%d: splicing trace_pipe_raw to %s", cpu, port_name);
		break;
	}
}

/*
 * Called with agent.lock held, while stopped: the worker's port was
 * unplugged. The thread ends; its counts go to the agent's totals.
 */
static void worker_retire(int cpu)
{
	struct worker *w = agent.workers[cpu];
	uint64_t one = 1;

	msg("cpu%d: port %s unplugged (%llu pages sent through it)", cpu,
	    w->port, (unsigned long long)w->pages);
	w->retire = true;
	pthread_cond_broadcast(&agent.cond);
	if (write(w->wake_fd, &one, sizeof(one)) < 0)
		msg("cpu%d: eventfd: %s", cpu, strerror(errno));
	pthread_mutex_unlock(&agent.lock);
	pthread_join(w->tid, NULL);
	pthread_mutex_lock(&agent.lock);
	agent.retired_pages += w->pages;
	agent.retired_dropped += w->dropped;
	agent.workers[cpu] = NULL;
	agent.said[cpu] = SAID_NOTHING;
	worker_free(w);
}

/*
 * Gives each online CPU that has a port its thread: at start and then
 * periodically, so CPUs that come online, and ports that appear, are taken.
 * While stopped, a thread whose port was unplugged ends, so that the port
 * of a device plugged later is taken.
 */
void workers_rescan(void)
{
	static unsigned char online[AGENT_MAX_CPUS];
	char name[128], path[512];
	int cpu;

	if (cpu_online_list(online, AGENT_MAX_CPUS) < 0)
		return;
	pthread_mutex_lock(&agent.lock);
	for (cpu = 0; cpu < agent.ncpus; cpu++) {
		struct worker *w = agent.workers[cpu];

		if (w && agent.state != AGENT_RUNNING &&
		    port_state(w->port_fd) == PORT_UNPLUGGED)
			worker_retire(cpu);
		if (agent.workers[cpu])
			continue;
		snprintf(name, sizeof(name), "%s%d", agent.port_prefix, cpu);
		if (port_find(name, path, sizeof(path))) {
			say(cpu, SAID_NO_PORT, name);
			continue;
		}
		if (!online[cpu]) {
			say(cpu, SAID_OFFLINE, name);
			continue;
		}
		if (worker_create(cpu, path)) {
			if (agent.said[cpu] != SAID_FAILED)
				msg("cpu%d: cannot use %s (will retry)", cpu,
				    path);
			agent.said[cpu] = SAID_FAILED;
			continue;
		}
		say(cpu, SAID_RUNNING, path);
	}
	pthread_mutex_unlock(&agent.lock);
}
