/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace: the device and its ports, shared by the files of the module.
 *
 *   main.c  the misc device, device fd ioctls, life cycle
 *   ctl.c   the control fd (sinks, statistics)
 *   sink.c  attaching sinks and writing buffers to them
 *   tx.c    the worker: guest-to-host queues to sinks
 */
#ifndef _VHOST_TRACE_H
#define _VHOST_TRACE_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include <linux/vhost_trace.h>

#include "compat.h"

/* Queues of a port, by direction. */
enum {
	VT_VQ_RX = 0,	/* host to guest: accepted, never serviced */
	VT_VQ_TX = 1,	/* guest to host: the trace pages */
};

struct vhost_trace;

struct vhost_trace_port {
	struct vhost_virtqueue vqs[2];
	struct vhost_trace *vt;
	/* Wakes the worker when a full sink has room again. */
	struct vhost_poll sink_poll;

	/*
	 * The fields below are protected by vqs[VT_VQ_TX].mutex: the worker
	 * holds it while it services the queue, the control fd while it
	 * swaps the sink or reads the statistics.
	 */
	struct file *sink;	/* NULL: none */
	struct file *dead_sink;	/* failed, dropped in process context */
	bool sink_is_pipe;
	bool waiting;		/* sink_poll armed on a full sink */
	bool broken;		/* stopped on a queue error */
	u32 policy;		/* VHOST_TRACE_POLICY_* */
	/* Bytes of the buffer at the head of the ring already written. */
	size_t partial;
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

/* sink.c */
long vhost_trace_set_sink(struct vhost_trace *vt,
			  const struct vhost_trace_sink *req);
void vhost_trace_sink_unpoll(struct vhost_trace_port *port);
void vhost_trace_sink_fail(struct vhost_trace_port *port);
void vhost_trace_sink_release(struct vhost_trace_port *port);
ssize_t vhost_trace_sink_write(struct vhost_trace_port *port,
			       unsigned int out, size_t len);

/* tx.c */
void vhost_trace_port_prepare(struct vhost_trace_port *port,
			      struct vhost_trace *vt);
void vhost_trace_port_init(struct vhost_trace_port *port);
long vhost_trace_set_running(struct vhost_trace *vt, bool run);
void vhost_trace_stop_ports(struct vhost_trace *vt);
void vhost_trace_kick_port(struct vhost_trace_port *port);

#endif /* _VHOST_TRACE_H */
