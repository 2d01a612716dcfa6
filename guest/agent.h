/* SPDX-License-Identifier: GPL-2.0 */
/* trace-agent: shared state of the guest agent. */
#ifndef VT_AGENT_H
#define VT_AGENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vt_buf.h"
#include "vt_time.h"

#define AGENT_PAGE	4096
/*
 * Largest pipe size, so largest port write: a vhost-trace host refuses a
 * buffer over 256 KiB (VHOST_TRACE_MAX_BUFFER) and returns it unread.
 */
#define AGENT_MAX_BATCH	(256 * 1024)
/*
 * Default: the most, 64 pages (VHOST_TRACE_MAX_BUFFER): what a buffer costs
 * the host (a worker pass, a loan, a reader's wakeup) and the guest (its
 * kicks and interrupts) is mostly per buffer, not per byte.
 */
#define AGENT_DEF_BATCH	AGENT_MAX_BATCH
#define AGENT_MAX_CPUS	1024

enum agent_state {
	AGENT_STOPPED,
	AGENT_RUNNING,
	AGENT_EXITING,
};

struct worker {
	int cpu;
	pthread_t tid;
	int trace_fd;
	int port_fd;
	int pipe_rd, pipe_wr;
	size_t batch;			/* bytes per cycle and port write */
	int wake_fd;			/* eventfd: the state changed */
	unsigned int gen;		/* last state generation handled */
	bool running;			/* pumping since the last start */
	bool retire;			/* end the thread (port unplugged) */
	char port[256];			/* path of the opened port */
	/* since the agent started; read by the control thread */
	uint64_t pages;
	uint64_t partial_pages;		/* of them, flushed partial pages */
	uint64_t writes;		/* port writes (virtqueue buffers) */
	uint64_t short_writes;		/* of them, took less than the pipe */
	uint64_t dropped;		/* pages given up at exit */
	uint64_t session_pages;		/* since the last start */
};

struct agent {
	char tracefs[256];
	char port_dir[256];		/* /dev/virtio-ports */
	char port_prefix[64];		/* trace-path-cpu */
	char ctl_name[64];		/* agent-ctl-path */
	size_t pipe_size;		/* bytes, whole pages: the batch */
	bool own_tracing_on;		/* start/stop write tracing_on */
	bool verbose;

	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a worker finished a transition */
	enum agent_state state;
	unsigned int gen;		/* bumped on each state change */

	int ncpus;			/* possible CPUs (per_cpu dirs) */
	uint64_t retired_pages;		/* of workers whose port went away */
	uint64_t retired_dropped;
	struct worker *workers[AGENT_MAX_CPUS];
	unsigned char said[AGENT_MAX_CPUS];	/* last reported port state */
};

extern struct agent agent;

void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tracefs.c */
int tracefs_find(char *dir, size_t len, const char *want);
int tracefs_path(char *out, size_t len, const char *rel);
int tracefs_read(const char *rel, struct vt_buf *b);
int tracefs_write(const char *rel, const char *val);
int tracefs_read_line(const char *rel, char *out, size_t len);
int tracefs_clock(char *cur, size_t len, struct vt_buf *all);
int tracefs_count_cpus(void);

/* ports.c */
int port_find(const char *name, char *path, size_t len);
int cpu_online_list(unsigned char *online, int max);
int nap(int ms);
int port_wait_writable(int fd, int timeout_ms);
int port_write_all(int fd, const void *data, size_t len, int timeout_ms);

/* worker.c */
int worker_create(int cpu, const char *port);
size_t worker_batch(struct worker *w, size_t pipe_size);
void agent_set_state(enum agent_state st);
void workers_rescan(void);

/* meta.c */
int meta_pack(struct vt_buf *out, char *err, size_t errsz);

/* ctl.c */
int ctl_loop(int sig_fd, bool start_now);

#endif
