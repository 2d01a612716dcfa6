/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace: the device and its ports, shared by the files of the module.
 *
 *   main.c  the misc device, device fd ioctls, life cycle
 *   ctl.c   the control fd (sinks, statistics)
 *   sink.c  attaching sinks and writing to them (rights, limits, freeze)
 *   rest.c  the tail of a buffer a sink took only part of
 *   tx.c    the worker: guest-to-host queues to sinks
 */
#ifndef _VHOST_TRACE_H
#define _VHOST_TRACE_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <linux/types.h>

#include <linux/vhost_trace.h>

#include "compat.h"

/* Queues of a port, by direction. */
enum {
	VT_VQ_RX = 0,	/* host to guest: accepted, never serviced */
	VT_VQ_TX = 1,	/* guest to host: the trace pages */
};

struct vhost_trace;

/*
 * The tail of a buffer a sink took only part of (a pipe short of room, a
 * filesystem frozen between two writes). The buffer is back with the
 * guest; its tail is written here, to the sink its first bytes went to,
 * before anything else is written to any sink of the port.
 */
struct vhost_trace_rest {
	struct file *file;	/* port->sink or port->old_sink */
	u8 *buf;		/* VHOST_TRACE_MAX_BUFFER bytes, on first use */
	size_t off;
	size_t len;		/* 0: no rest */
};

struct vhost_trace_port {
	struct vhost_virtqueue vqs[2];
	struct vhost_trace *vt;
	/* Wakes the worker when a full pipe has room again. */
	struct vhost_poll sink_poll;
	/* Wakes it to try a regular file again (frozen, EAGAIN). */
	struct timer_list retry;
	/* Drops, in process context, the files the worker is done with. */
	struct work_struct put_work;

	/*
	 * The fields below are protected by vqs[VT_VQ_TX].mutex: the worker
	 * holds it while it services the queue, the control fd while it
	 * swaps the sink. The worker never sleeps on a sink with it held:
	 * pipes are written without blocking, regular files only when their
	 * filesystem is not frozen.
	 */
	struct file *sink;	/* NULL: none */
	struct file *old_sink;	/* swapped out, still owed rest */
	struct file *dead_sink;	/* failed, dropped by put_work */
	bool sink_is_pipe;
	bool waiting;		/* sink_poll armed on a full pipe */
	bool retrying;		/* retry armed on a regular file */
	bool broken;		/* stopped on a queue error */
	bool running;		/* the queue is serviced */
	u32 policy;		/* VHOST_TRACE_POLICY_* */
	/* RLIMIT_FSIZE of the process that set the sink. */
	unsigned long fsize_limit;
	struct vhost_trace_rest rest;

	/*
	 * Statistics: the worker adds to them under stats_lock, GET_STATS
	 * reads them under it, never under the vq mutex.
	 */
	spinlock_t stats_lock;
	struct vhost_trace_stats stats;
};

struct vhost_trace {
	struct vhost_dev dev;
	/* Held by the device fd and by each control fd. */
	struct kref ref;
	/*
	 * Serializes the ioctls of the device fd, and release against the
	 * control fd's sink changes. VHOST_TRACE_SET_PORTS re-initializes
	 * dev (including dev.mutex), so it needs a lock of its own.
	 */
	struct mutex ioctl_mutex;
	u32 nports;
	struct vhost_trace_port *ports;
	struct vhost_virtqueue **vqs;
	u64 features;
	bool running;
	bool released;		/* the device fd is closed */
};

static inline struct vhost_virtqueue *vt_tx_vq(struct vhost_trace_port *port)
{
	return &port->vqs[VT_VQ_TX];
}

void vhost_trace_put(struct vhost_trace *vt);

/* ctl.c */
long vhost_trace_get_ctl_fd(struct vhost_trace *vt);

/* Counting, by the worker; GET_STATS reads under the same lock. */
static inline void vt_count(struct vhost_trace_port *port, __u64 *counter,
			    u64 n)
{
	spin_lock(&port->stats_lock);
	*counter += n;
	spin_unlock(&port->stats_lock);
}

/* sink.c */
long vhost_trace_set_sink(struct vhost_trace *vt,
			  const struct vhost_trace_sink *req);
void vhost_trace_sink_failed(struct vhost_trace_port *port,
			     struct file *file, int err);
void vhost_trace_sink_release(struct vhost_trace_port *port);
void vhost_trace_put_files(struct work_struct *work);
size_t vhost_trace_pipe_room(struct file *file);
ssize_t vhost_trace_sink_write(struct vhost_trace_port *port,
			       struct file *file, struct iov_iter *iter);

/* rest.c */
int vhost_trace_rest_save(struct vhost_trace_port *port, struct file *file,
			  struct iov_iter *iter);
int vhost_trace_rest_flush(struct vhost_trace_port *port, bool was_waiting);
void vhost_trace_rest_drop(struct vhost_trace_port *port);

/* tx.c */
void vhost_trace_port_prepare(struct vhost_trace_port *port,
			      struct vhost_trace *vt);
void vhost_trace_port_init(struct vhost_trace_port *port);
long vhost_trace_set_running(struct vhost_trace *vt, bool run);
void vhost_trace_stop_ports(struct vhost_trace *vt);
void vhost_trace_kick_port(struct vhost_trace_port *port);
void vhost_trace_unwait(struct vhost_trace_port *port);
int vhost_trace_wait(struct vhost_trace_port *port, struct file *file,
		     bool was_waiting);

/* vdpa.c: the vDPA front end, where the kernel has it */
#if IS_ENABLED(CONFIG_VDPA)
long vt_vdpa_ioctl(unsigned int ioctl, void __user *argp);
#else
static inline long vt_vdpa_ioctl(unsigned int ioctl, void __user *argp)
{
	return -EOPNOTSUPP;
}
#endif

#endif /* _VHOST_TRACE_H */
