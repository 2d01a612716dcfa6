// SPDX-License-Identifier: GPL-2.0
/*
 * One thread per CPU, pinned to it: trace_pipe_raw --splice--> pipe
 * --splice--> trace-path-cpuN. Each cycle moves what the ring buffer has
 * ready, up to a batch (the pipe size, default 64 pages), as whole
 * 4096-byte ring-buffer pages; each port write takes everything in the
 * pipe, so one virtqueue buffer carries the whole batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* Bytes in the pipe (FIONREAD), or -1. */
static int pipe_bytes(int fd)
{
	int n;

	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

/*
 * Moves every page in the pipe (bytes of them) to the port.
 *
 * Each splice asks for everything the pipe holds, never less: that is
 * what keeps the virtqueue buffer free of empty entries. virtio_console's
 * splice_write (6.1 and 6.12 alike) sizes its scatterlist to the pipe's
 * occupancy and marks its end there (sg_init_table), then fills one entry
 * per pipe buffer it takes; virtqueue_add_outbuf() walks the list to that
 * end mark. A splice that takes fewer pages than the pipe holds would
 * chain the unused zero-length entries into the buffer (QEMU then stops
 * the device: "virtio: zero sized buffers are not allowed"). Asking for
 * all of it, the driver takes every buffer (each pipe buffer is one whole
 * page): n entries, all full, the end mark on the last.
 *
 * Should the driver still take fewer (it could only stop early on an
 * allocation failure), the rest is again everything the pipe holds and
 * goes in the next write.
 */
static int send_pages(struct worker *w, int bytes)
{
	int timeout = cur_state() == AGENT_EXITING ? EXIT_WRITE_TIMEOUT_MS : -1;
	int ret;

	while (bytes > 0) {
		ssize_t n = splice(w->pipe_rd, NULL, w->port_fd, NULL,
				   bytes, SPLICE_F_MOVE);

		if (n > 0 && n % AGENT_PAGE == 0 && n <= bytes) {
			__atomic_add_fetch(&w->pages, n / AGENT_PAGE,
					   __ATOMIC_RELAXED);
			w->session_pages += n / AGENT_PAGE;
			w->writes++;
			if (n < bytes)	/* its buffer had empty entries */
				w->short_writes++;
			bytes -= n;
			continue;
		}
		if (n > 0) {
			/* cannot happen: pipe buffers are whole pages */
			msg("cpu%d: port took %zd bytes of %d", w->cpu, n,
			    bytes);
			return -EIO;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!port_wait_writable(w->port_fd, timeout))
				continue;
			msg("cpu%d: host not reading %s at exit: %d page(s) dropped",
			    w->cpu, w->port, bytes / AGENT_PAGE);
			w->dropped += bytes / AGENT_PAGE;
			return -ETIMEDOUT;
		}
		if (n == 0) {
			/*
			 * The driver took pages out of the pipe but could not
			 * queue them (virtqueue_add_outbuf failed: no free
			 * descriptors for a batch without indirect ones) and
			 * freed them: they are lost, and said so.
			 */
			int left = pipe_bytes(w->pipe_rd);

			if (left >= 0 && left < bytes) {
				msg("cpu%d: %s: the driver could not queue %d "
				    "page(s) and freed them; lost (batch %zu "
				    "bytes too large for this queue?)", w->cpu,
				    w->port, (bytes - left) / AGENT_PAGE,
				    w->batch);
				w->dropped += (bytes - left) / AGENT_PAGE;
				bytes = left;
				continue;
			}
		}
		ret = n < 0 ? -errno : -EIO;
		msg("cpu%d: splice to %s: %s; %d page(s) dropped", w->cpu,
		    w->port, n < 0 ? strerror(errno) : "end of pipe",
		    bytes / AGENT_PAGE);
		w->dropped += bytes / AGENT_PAGE;
		return ret;
	}
	return 0;
}

/*
 * Pages the port did not take must not stay in the pipe: the next cycle's
 * splice in would not fit (trace_pipe_raw frees the pages a full pipe does
 * not take) and its port write would ask for less than the pipe holds
 * (empty sg entries). They are counted dropped (send_pages did).
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
 * Moves one batch: up to w->batch bytes of whole pages, whatever the ring
 * buffer has ready (never waiting for more), trace_pipe_raw -> pipe ->
 * port. Returns the pages moved, 0 when no full page is ready (EAGAIN:
 * not an error), or a negative error.
 *
 * The pipe is empty at the start of each cycle and the batch fits in it:
 * trace_pipe_raw's splice_read frees the pages that do not fit in the
 * pipe (they would be lost), and the port write must take everything in
 * the pipe (see send_pages).
 */
static int pump_once(struct worker *w)
{
	ssize_t n = splice(w->trace_fd, NULL, w->pipe_wr, NULL, w->batch,
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
	if (n % AGENT_PAGE || (size_t)n > w->batch) {
		msg("cpu%d: trace_pipe_raw gave %zd bytes, not whole pages",
		    w->cpu, n);
		discard_pipe(w);
		return -EIO;
	}
	ret = send_pages(w, n);
	if (ret)
		discard_pipe(w);
	return ret ? ret : n / AGENT_PAGE;
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
		w->writes++;
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

/*
 * Whether the port's virtio device negotiated VIRTIO_RING_F_INDIRECT_DESC
 * (bit 28 of /sys/bus/virtio/devices/virtioN/features, a string of '0' and
 * '1' by bit). 1 yes, 0 no, -1 unknown.
 */
static int port_indirect(int port_fd)
{
	char p[128], bits[129];
	struct stat st;
	ssize_t n;
	int fd;

	if (fstat(port_fd, &st) || !S_ISCHR(st.st_mode))
		return -1;
	snprintf(p, sizeof(p), "/sys/dev/char/%u:%u/device/features",
		 major(st.st_rdev), minor(st.st_rdev));
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, bits, sizeof(bits) - 1);
	close(fd);
	if (n <= 28)
		return -1;
	return bits[28] == '1';
}

/*
 * The bytes one cycle moves (one port write): the pipe size, as long as
 * the queue can take a buffer of that many entries at any time. With
 * indirect descriptors a buffer takes one ring slot whatever its length,
 * and the driver's "queue full" check (no free slot) covers it. Without,
 * a buffer of n pages needs n free descriptors, which the driver does not
 * wait for (it takes the pages and frees them): one page at a time then.
 */
size_t worker_batch(struct worker *w, size_t pipe_size)
{
	int ind;

	if (pipe_size == AGENT_PAGE)
		return pipe_size;
	ind = port_indirect(w->port_fd);
	if (ind == 1)
		return pipe_size;
	msg("cpu%d: %s: %s; one page per port write", w->cpu, w->port,
	    ind ? "cannot tell whether the queue has indirect descriptors"
		: "no indirect descriptors on the queue");
	return AGENT_PAGE;
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
	w->batch = worker_batch(w, agent.pipe_size);
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

	msg("cpu%d: port %s unplugged (%llu pages sent through it in %llu "
	    "writes)", cpu, w->port, (unsigned long long)w->pages,
	    (unsigned long long)w->writes);
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
