/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace: the vDPA front end (kernels with CONFIG_VDPA).
 *
 *   vdpa.c   the vDPA device (vdpa_config_ops), its worker, the management
 *            device and VHOST_TRACE_VDPA_ADD/CTL/DEL
 *   vdpa_port.c  the trace ports' queues: the worker's data path
 *   vring.c  the split ring walker: guest memory through the driver's map
 *   vcons.c  the virtio-console control queue and port 0
 */
#ifndef _VHOST_TRACE_VDPA_H
#define _VHOST_TRACE_VDPA_H

#include <linux/kfifo.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/vdpa.h>
#include <linux/vhost_iotlb.h>
#include <linux/virtio_console.h>
#include <linux/wait.h>

#include "vhost_trace.h"

/* Largest ring the device accepts. */
#define VT_VDPA_QUEUE_MAX	256
/* Most pieces (guest memory ranges) of one chain, as the vhost core. */
#define VT_VDPA_MAX_SEGS	UIO_MAXIOV
/* Port 0's buffers in the module, each direction. */
#define VT_VDPA_P0_FIFO		(64 * 1024)
/*
 * Ranges the device's map holds at most (as vhost_vdpa's own): an iotlb
 * initialized with a limit of 0 refuses every range.
 */
#define VT_IOTLB_ENTRIES	2048

/* Virtio-console queues: port 0 in/out, control in/out, then ports. */
enum {
	VT_Q_P0_RX = 0,		/* host to guest */
	VT_Q_P0_TX = 1,		/* guest to host */
	VT_Q_CTL_RX = 2,	/* host to guest control */
	VT_Q_CTL_TX = 3,	/* guest to host control */
	VT_Q_PORTS = 4,		/* trace port p: 4 + 2p (rx), 5 + 2p (tx) */
};

struct vt_vring {
	u64 desc;
	u64 avail;
	u64 used;
	u32 num;
	bool ready;
	u16 last_avail;		/* next entry of the avail ring */
	u16 used_idx;		/* next entry of the used ring */
	/*
	 * Notification suppression (vring.c), reset where the ring is set
	 * up: avail_idx, the avail index last read (EVENT_IDX: what
	 * avail_event asks a kick after); signalled_used, the used index at
	 * the last interrupt check, meaningful once signalled_valid;
	 * kicks_off, VRING_USED_F_NO_NOTIFY may be in used->flags (without
	 * EVENT_IDX; true when unknown, so that it is cleared).
	 */
	u16 avail_idx;
	u16 signalled_used;
	bool signalled_valid;
	bool kicks_off;
	struct vdpa_callback cb;
};

/* One piece of a chain: a user address (VA mode) or a physical one. */
struct vt_seg {
	u64 addr;
	u32 len;
	bool write;
};

/* A descriptor chain, walked and translated into segs. */
struct vt_chain {
	struct vt_seg *segs;	/* set by the caller */
	u32 max_segs;
	u16 head;
	u32 nsegs;
	u32 nread;		/* readable pieces: segs[0..nread) */
	u64 read_len;
	u64 write_len;
};

/* A trace port of a vDPA device. */
struct vt_vdpa_port {
	struct vt_port port;
	struct vt_vdpa *vd;
	u32 index;		/* trace port: virtio-console port index + 1 */
	/*
	 * Lazy used signalling and kick batching, as the vhost front end's
	 * (tx.c: signal_delay_ms, look_delay_ms). signal_timer sets
	 * VT_WORK_SIGNAL, look_timer VT_WORK_KICK; only the worker's pass
	 * of a running queue arms them, a queue's stop (settle) deletes
	 * them. Under port.lock: signal_due (an interrupt is owed: the timer
	 * armed or VT_WORK_SIGNAL set), descs (descriptors per buffer at
	 * most, as far as the worker has seen).
	 */
	struct timer_list signal_timer;
	struct timer_list look_timer;
	bool signal_due;
	u32 descs;
};

/* What the worker has to do: VT_WORK_BITS bits per trace port. */
enum {
	VT_WORK_KICK = 0,	/* the ring: a kick, or a look (look_timer) */
	VT_WORK_ROOM = 1,	/* the sink has room */
	VT_WORK_SIGNAL = 2,	/* a deferred interrupt (signal_timer) */
	VT_WORK_BITS = 3,
};

/* A control message to the guest, waiting for a buffer on VT_Q_CTL_RX. */
struct vt_cmsg {
	u32 id;
	u16 event;
	u16 value;
};

struct vt_vcons {
	/*
	 * ctl_lock: the pending messages, and the guest's control queue
	 * (VT_Q_CTL_TX) when virtio_vdpa drives the device: virtio_console
	 * spins (a spinlock held) until its control message is used, maybe
	 * on every CPU at once, so that queue is served in the kick itself.
	 */
	spinlock_t ctl_lock;
	struct vt_cmsg *msgs;	/* ring of pending messages */
	u32 nmsgs_max;
	u32 head;
	u32 count;
	/*
	 * Port 0: guest to host (rx_fifo), host to guest (tx_fifo), each
	 * with one writer and one reader, so no lock between the two: the
	 * worker is one end of each (under vd->lock), the control fd's
	 * readers (rd_lock) and writers (wr_lock) the other, copying from
	 * and to user memory under nothing the worker takes.
	 */
	struct mutex rd_lock;	/* read() of the control fd */
	struct mutex wr_lock;	/* write() of the control fd */
	DECLARE_KFIFO_PTR(rx_fifo, u8);
	DECLARE_KFIFO_PTR(tx_fifo, u8);
	wait_queue_head_t p0_wait;
	void *bounce;		/* VT_VDPA_P0_FIFO bytes, for the worker */
	bool guest_open;	/* the guest has port 0 open */
};

struct vt_vdpa {
	struct vdpa_device vdpa;
	struct vt_core core;
	struct list_head node;	/* vt_vdpa_devices */
	kuid_t creator;
	bool has_creator;	/* made by VHOST_TRACE_VDPA_ADD */
	bool deleted;		/* under vt_vdpa_lock */
	bool counted;		/* holds the module */

	u32 nports;
	u32 nvqs;
	struct vt_vring *vqs;
	struct vt_vdpa_port *ports;
	unsigned long *pending;	/* VT_WORK_BITS per trace port */
	unsigned long ctl_pending;	/* a bit per queue 0..3 */

	struct kthread_worker *worker;	/* NULL once deleted */
	spinlock_t work_lock;		/* worker against its deletion */
	struct kthread_work work;

	/*
	 * Device state: status, features, rings, mm. The worker holds it
	 * while it runs, and faults on the driver's mm under it; the config
	 * ops take it. Never taken by kick_vq (the driver kicks from the
	 * callbacks the worker makes).
	 */
	struct mutex lock;
	u8 status;
	u64 features;
	u32 generation;
	struct mm_struct *mm;	/* bound by vhost_vdpa (use_va) */
	/*
	 * map_lock: the map. vhost_vdpa calls set_map with the mm's
	 * mmap_lock held, so set_map may not wait for the worker: it takes
	 * only this, and the worker only to translate an address.
	 */
	spinlock_t map_lock;
	struct vhost_iotlb iotlb;
	bool map_set;		/* the driver gave a map */
	struct vdpa_callback config_cb;
	struct virtio_console_config config;

	struct vt_seg *segs;	/* VT_VDPA_MAX_SEGS, for the worker */
	void *iov;		/* VT_VDPA_MAX_SEGS iovecs or bio_vecs */
	struct vt_vcons cons;
};

static inline struct vt_vdpa *vdpa_to_vt(struct vdpa_device *vdpa)
{
	return container_of(vdpa, struct vt_vdpa, vdpa);
}

/* vring.c */
int vt_vring_peek(struct vt_vdpa *vd, struct vt_vring *vq,
		  struct vt_chain *ch);
void vt_vring_pop(struct vt_vring *vq);
int vt_vring_add_used(struct vt_vdpa *vd, struct vt_vring *vq, u16 head,
		      u32 len);
void vt_vring_start(struct vt_vring *vq);
int vt_vring_disable_notify(struct vt_vdpa *vd, struct vt_vring *vq);
int vt_vring_enable_notify(struct vt_vdpa *vd, struct vt_vring *vq);
bool vt_vring_need_notify(struct vt_vdpa *vd, struct vt_vring *vq);
bool vt_vring_near_full(struct vt_vdpa *vd, struct vt_vring *vq, u32 descs);
void vt_vring_signal(struct vt_vring *vq);
void vt_vring_notify(struct vt_vdpa *vd, struct vt_vring *vq);
size_t vt_vring_copy_from(struct vt_vdpa *vd, const struct vt_chain *ch,
			  void *buf, size_t len);
size_t vt_vring_copy_to(struct vt_vdpa *vd, const struct vt_chain *ch,
			const void *buf, size_t len);
void vt_vring_iter(struct vt_vdpa *vd, const struct vt_chain *ch,
		   struct iov_iter *iter);

/* vcons.c */
int vt_vcons_init(struct vt_vdpa *vd);
void vt_vcons_free(struct vt_vdpa *vd);
void vt_vcons_reset(struct vt_vdpa *vd);
void vt_vcons_work(struct vt_vdpa *vd, bool phys);
void vt_vcons_kick_ctl(struct vt_vdpa *vd);
ssize_t vt_vcons_read(struct vt_core *core, struct file *f,
		      char __user *buf, size_t len);
ssize_t vt_vcons_write(struct vt_core *core, struct file *f,
		       const char __user *buf, size_t len);
__poll_t vt_vcons_poll(struct vt_core *core, struct file *f,
		       poll_table *wait);

/* vdpa_port.c */
void vt_vdpa_port_init(struct vt_vdpa *vd, u32 i);
struct vt_vring *vt_vdpa_port_vq(struct vt_vdpa_port *vp);
void vt_vdpa_port_work(struct vt_vdpa_port *vp, unsigned int kind);
void vt_vdpa_handle_port(struct vt_vdpa *vd, struct vt_vdpa_port *vp,
			 bool sink_room, bool signal);
void vt_vdpa_port_settle(struct vt_vdpa *vd, struct vt_vdpa_port *vp,
			 bool ring_ok);
void vt_vdpa_port_timers_stop(struct vt_vdpa_port *vp);

/* vdpa.c */
void vt_vdpa_queue(struct vt_vdpa *vd);
void vt_vdpa_queue_ctl(struct vt_vdpa *vd, unsigned int q);
void vt_vdpa_queue_error(struct vt_vdpa *vd);

#endif /* _VHOST_TRACE_VDPA_H */
