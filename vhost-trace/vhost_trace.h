/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace: the device and its ports, shared by the files of the module.
 *
 *   main.c  the misc device, device fd ioctls, life cycle
 *   ctl.c   the control fd (sinks, statistics)
 *   sink.c  attaching sinks and writing to them (rights, limits, freeze)
 *   rest.c  the tail of a buffer a sink took only part of
 *   port.c  a port's buffers to its sink: what both front ends share
 *   ref.c   guest pages lent to a pipe sink (by reference)
 *   tx.c    the vhost worker: guest-to-host queues to sinks
 *   vdpa.c  the vDPA front end (kernels with CONFIG_VDPA)
 */
#ifndef _VHOST_TRACE_H
#define _VHOST_TRACE_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pipe_fs_i.h>
#include <linux/poll.h>
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

struct vt_core;
struct vt_port;

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

/* What a front end (vhost device, vDPA device) does for the port core. */
struct vt_port_ops {
	/* Service the port's guest-to-host queue soon (its worker). */
	void (*kick)(struct vt_port *port);
	/*
	 * The same, because its sink has room again (or to retry it), or
	 * pipes let go of lent buffers that should not wait for the next
	 * pass (ref.c). Called from any context (wakeups, timers, a pipe's
	 * buffer release, under spinlocks).
	 */
	void (*room)(struct vt_port *port);
	/* The front end returns lent buffers (vt_refs_return). */
	bool lends;
};

/* Page pieces of one buffer lent to a pipe, at most. */
#define VT_REF_SLOTS	(VHOST_TRACE_MAX_BUFFER / PAGE_SIZE + 1)

/*
 * The buffers of a port lent to pipes (ref.c). It outlives the device:
 * every loan holds a reference, and it holds the module.
 */
struct vt_refs {
	spinlock_t lock;	/* the lists, port, pending; any context */
	struct kref ref;
	struct vt_port *port;	/* NULL: the device is gone */
	struct list_head out;	/* loans whose pages are in pipes */
	struct list_head done;	/* let go of by the pipes, to return */
	unsigned int ndone;	/* loans on done */
	unsigned int wake_at;	/* ndone that wakes the worker at once */
	struct timer_list timer;	/* wakes it for loans on done */
	u64 pending;		/* loans whose pages are in pipes */
	/* The worker's scratch space, under the port lock. */
	struct pipe_buffer bufs[VT_REF_SLOTS];
};

/* A poll on a full sink, for EPOLLOUT (the front end's worker resumes). */
struct vt_sink_poll {
	poll_table table;
	wait_queue_head_t *wqh;
	wait_queue_entry_t wait;
};

/*
 * A trace port: its sink, policy, the rest of a buffer and statistics,
 * shared by both front ends. The front end's worker feeds it buffers
 * (vt_port_consume) with port->lock held; the control fd swaps sinks
 * under the same lock.
 */
struct vt_port {
	struct vt_core *core;
	const struct vt_port_ops *ops;
	/* Wakes the worker when a full pipe has room again. */
	struct vt_sink_poll sink_poll;
	/* Wakes it to try a regular file again (frozen, EAGAIN). */
	struct timer_list retry;
	/* Drops, in process context, the files the worker is done with. */
	struct work_struct put_work;

	/*
	 * The fields below are protected by lock: the worker holds it while
	 * it services the queue, the control fd while it swaps the sink. The
	 * worker never sleeps on a sink with it held: pipes are written
	 * without blocking, regular files only when their filesystem is not
	 * frozen. (The vhost front end takes it inside the vq mutex.)
	 */
	struct mutex lock;
	struct file *sink;	/* NULL: none */
	struct file *old_sink;	/* swapped out, still owed rest */
	struct file *dead_sink;	/* failed, dropped by put_work */
	bool sink_is_pipe;
	bool by_ref;		/* VHOST_TRACE_SINK_BY_REF on a pipe sink */
	struct vt_refs *refs;	/* since the first such sink */
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
	 * reads them under it, never under lock.
	 */
	spinlock_t stats_lock;
	struct vhost_trace_stats stats;
};

/* What a control fd holds: the ports of one device, either front end. */
struct vt_core_ops {
	/* The last reference is gone: free the front end's device. */
	void (*free)(struct vt_core *core);
	/* Port 0 as a byte stream (vDPA); NULL: EINVAL (QEMU owns it). */
	ssize_t (*read)(struct vt_core *core, struct file *f,
			char __user *buf, size_t len);
	ssize_t (*write)(struct vt_core *core, struct file *f,
			 const char __user *buf, size_t len);
	__poll_t (*poll)(struct vt_core *core, struct file *f,
			 poll_table *wait);
};

struct vt_core {
	const struct vt_core_ops *ops;
	/* Held by the device (fd or vDPA device) and by each control fd. */
	struct kref ref;
	/*
	 * Serializes sink changes against the end of the data path
	 * (released). The vhost front end uses it for its device fd's
	 * ioctls too.
	 */
	struct mutex lock;
	u32 nports;
	struct vt_port **ports;
	bool released;		/* the data path is gone */
};

static inline void vt_core_get(struct vt_core *core)
{
	kref_get(&core->ref);
}

void vt_core_put(struct vt_core *core);
void vt_core_init(struct vt_core *core, const struct vt_core_ops *ops);

/* The vhost front end's port: the core port and its two vhost queues. */
struct vhost_trace_port {
	struct vt_port port;
	struct vhost_virtqueue vqs[2];
	/* The worker's work for "the sink has room": never started. */
	struct vhost_poll room_poll;
	/*
	 * Lazy used signalling (tx.c): the worker's work that signals used
	 * entries whose signal was deferred (never started), and the timer
	 * that queues it. Under the tx queue's mutex: signal_due (a deferred
	 * signal is owed: the timer is armed or the work queued) and descs
	 * (descriptors per buffer at most, as far as the worker has seen).
	 */
	struct vhost_poll signal_poll;
	struct timer_list signal_timer;
	bool signal_due;
	u32 descs;
	/*
	 * Kick batching (tx.c): after a pass that took buffers the worker
	 * looks at the ring again when this timer fires (it queues the
	 * queue's kick work) instead of asking the guest for a kick. Armed
	 * only under the tx queue's mutex while the queue has a backend.
	 */
	struct timer_list look_timer;
};

struct vhost_trace {
	struct vt_core core;	/* core.lock serializes the fd's ioctls */
	struct vhost_dev dev;
	struct vhost_trace_port *ports;
	struct vhost_virtqueue **vqs;
	u64 features;
	bool running;
};

static inline struct vhost_virtqueue *vt_tx_vq(struct vhost_trace_port *port)
{
	return &port->vqs[VT_VQ_TX];
}

/* ctl.c */
long vt_core_get_ctl_fd(struct vt_core *core);

/* Counting, by the worker; GET_STATS reads under the same lock. */
static inline void vt_count(struct vt_port *port, __u64 *counter, u64 n)
{
	spin_lock(&port->stats_lock);
	*counter += n;
	spin_unlock(&port->stats_lock);
}

/* What vt_port_consume() did with a buffer. */
enum {
	VT_BUF_KEEP,	/* stays in the ring */
	VT_BUF_DONE,	/* written, kept as a rest or dropped: return it */
	VT_BUF_LENT,	/* lent to a pipe: returned by vt_refs_return() */
};

/* Bytes copied to a sink by the module. */
static inline void vt_count_copied(struct vt_port *port, u64 n)
{
	spin_lock(&port->stats_lock);
	port->stats.bytes += n;
	port->stats.copied_bytes += n;
	spin_unlock(&port->stats_lock);
}

/* sink.c */
long vhost_trace_set_sink(struct vt_core *core,
			  const struct vhost_trace_sink *req);
void vhost_trace_sink_failed(struct vt_port *port, struct file *file,
			     int err);
void vhost_trace_sink_release(struct vt_port *port);
void vhost_trace_put_files(struct work_struct *work);
size_t vhost_trace_pipe_room(struct file *file);
ssize_t vhost_trace_sink_write(struct vt_port *port, struct file *file,
			       struct iov_iter *iter);

/* rest.c */
int vhost_trace_rest_save(struct vt_port *port, struct file *file,
			  struct iov_iter *iter);
int vhost_trace_rest_flush(struct vt_port *port, bool was_waiting);
void vhost_trace_rest_drop(struct vt_port *port);

/* port.c: what both front ends' workers do with a port */
void vt_port_init(struct vt_port *port, struct vt_core *core,
		  const struct vt_port_ops *ops);
void vt_port_cleanup(struct vt_port *port);
void vt_port_unwait(struct vt_port *port);
int vt_port_wait(struct vt_port *port, struct file *file, bool was_waiting);
bool vt_port_begin(struct vt_port *port, bool sink_room, bool *was_waiting);
int vt_port_consume(struct vt_port *port, struct iov_iter *iter,
		    size_t len, u32 head, bool was_waiting);
void vt_port_end(struct vt_port *port);
void vt_port_release(struct vt_port *port);

/* ref.c */
struct vt_refs *vt_refs_alloc(struct vt_port *port);
ssize_t vt_ref_write(struct vt_port *port, struct file *file,
		     struct iov_iter *iter, size_t len, u32 head);
void vt_refs_return(struct vt_port *port, bool all, unsigned int ring,
		    void (*give)(void *ctx, u32 head), void *ctx);
u64 vt_refs_pending(struct vt_port *port);
void vt_refs_orphan(struct vt_port *port);
void vt_refs_put(struct vt_refs *refs);

/* Not a trace buffer: returned unread (see the uapi header). */
static inline bool vt_bad_buffer(unsigned int in, size_t len)
{
	return in || !len || len > VHOST_TRACE_MAX_BUFFER;
}

/*
 * Lazy used signalling (tx.c, vdpa.c): the guest may be near a full ring,
 * and a writer of its waiting, when the buffers it posted since the used
 * entry it asked to hear of (unreclaimed), times the descriptors a buffer
 * takes at most, fill half of the ring's num.
 */
static inline bool vt_near_full(u16 unreclaimed, u32 descs, u32 num)
{
	return (u32)unreclaimed * descs * 2 >= num;
}

/* tx.c */
unsigned int vt_signal_delay(void);
bool vt_look_later(struct timer_list *look_timer);
void vhost_trace_port_prepare(struct vhost_trace_port *port,
			      struct vhost_trace *vt);
void vhost_trace_port_init(struct vhost_trace_port *port);
long vhost_trace_set_running(struct vhost_trace *vt, bool run);
void vhost_trace_vring_set_up(struct vhost_trace *vt, u32 idx);
void vhost_trace_stop_ports(struct vhost_trace *vt, bool give_back);

/* vdpa.c: the vDPA front end, where the kernel has it */
#if IS_ENABLED(CONFIG_VDPA)
long vt_vdpa_ioctl(unsigned int ioctl, void __user *argp);
int vt_vdpa_init(void);
void vt_vdpa_exit(void);
#else
static inline long vt_vdpa_ioctl(unsigned int ioctl, void __user *argp)
{
	return -EOPNOTSUPP;
}

static inline int vt_vdpa_init(void)
{
	return 0;
}

static inline void vt_vdpa_exit(void)
{
}
#endif

#endif /* _VHOST_TRACE_H */
