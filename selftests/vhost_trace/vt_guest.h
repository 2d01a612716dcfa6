/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace selftests: the guest's side of the device, played from
 * userspace. One memory region is identity mapped (guest physical address
 * == our virtual address) and given to VHOST_SET_MEM_TABLE; every trace
 * port has a split virtqueue for its guest-to-host queue (vhost index
 * 2p + 1) and a small one for its host-to-guest queue (2p), which the
 * device accepts and never services.
 */
#ifndef _VT_GUEST_H
#define _VT_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_ring.h>
#include <linux/vhost_trace.h>

#define VT_DEV		"/dev/vhost-trace"
#define VT_PAGE		4096u

/* The one memory region of the guest. */
struct vt_mem {
	uint8_t *base;
	size_t size;
	size_t used;
};

int vt_mem_init(struct vt_mem *m, size_t size);
/* The same from a shared memfd (what vhost_vdpa maps by address). */
int vt_mem_init_shared(struct vt_mem *m, size_t size);
void vt_mem_free(struct vt_mem *m);
/* Zeroed memory from the region; NULL when it is exhausted. */
void *vt_mem_alloc(struct vt_mem *m, size_t size, size_t align);

/*
 * A split virtqueue seen from the driver (guest) side. The device side
 * (the userspace relay) uses the same rings through its own state.
 */
struct vt_vq {
	unsigned int index;		/* vhost queue index */
	unsigned int num;
	bool event_idx;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;		/* next avail->idx to publish */
	uint16_t kicked_idx;		/* avail_idx at the last kick check */
	uint16_t last_used;		/* next used entry to reap */
	uint16_t free_head;
	unsigned int nfree;
	void **token;			/* per head: the caller's token */
	int kick, call, err;		/* eventfds */
	uint64_t kicks, waits;
};

/* Rings and eventfds of a queue of num (power of 2) entries. */
int vt_vq_init(struct vt_vq *q, struct vt_mem *m, unsigned int num,
	       bool event_idx);
void vt_vq_close(struct vt_vq *q);
/*
 * Empty the rings and forget what was posted, as a driver resetting the
 * queue; the device must be told with vt_dev_set_vring().
 */
void vt_vq_reset(struct vt_vq *q);

/* One segment of a buffer: guest address, length, VRING_DESC_F_WRITE. */
struct vt_seg {
	const void *addr;
	uint32_t len;
	uint16_t flags;
};

/*
 * Post a chain of nseg direct descriptors; token comes back from
 * vt_vq_reap(). Returns the head, or -ENOSPC when the ring is full.
 */
int vt_vq_add(struct vt_vq *q, const struct vt_seg *seg, unsigned int nseg,
	      void *token);
/* Post one descriptor that points to an indirect table of nseg entries. */
int vt_vq_add_indirect(struct vt_vq *q, struct vring_desc *table,
		       const struct vt_seg *seg, unsigned int nseg,
		       void *token);
/*
 * Raw access for malformed chains: take a free descriptor (its fields
 * are the caller's), and publish any head in the avail ring.
 */
int vt_vq_get_desc(struct vt_vq *q);
void vt_vq_publish(struct vt_vq *q, uint16_t head, void *token);

/* Kick if the device asked for it (EVENT_IDX / VRING_USED_F_NO_NOTIFY). */
int vt_vq_kick(struct vt_vq *q);
/* Kick without looking at notification suppression. */
int vt_vq_kick_always(struct vt_vq *q);

/*
 * Reap up to max used entries: their tokens and lengths. Frees their
 * descriptors. Returns how many were reaped.
 */
unsigned int vt_vq_reap(struct vt_vq *q, void **token, uint32_t *len,
			unsigned int max);
/* Entries the device has used and vt_vq_reap() has not taken yet. */
unsigned int vt_vq_pending(struct vt_vq *q);
/*
 * Wait until the device uses an entry: ask for an interrupt, wait on the
 * call eventfd. 0 when an entry is pending, -ETIMEDOUT after timeout_ms.
 */
int vt_vq_wait(struct vt_vq *q, int timeout_ms);
/* Wait until n used entries are pending (unreaped), ms at most: how many. */
unsigned int vt_vq_wait_used(struct vt_vq *q, unsigned int n, int ms);
/*
 * The same by looking at the used ring only: asks for no interrupt
 * (used_event and the avail flags untouched), for tests of when the
 * device signals.
 */
unsigned int vt_vq_poll_used(struct vt_vq *q, unsigned int n, int ms);
/* Interrupts since the last call (the call eventfd's count, reset). */
uint64_t vt_vq_calls(struct vt_vq *q);
/* ms until the call eventfd fires, at most ms; -1: it did not. */
int vt_vq_call_within(struct vt_vq *q, int ms);
/*
 * Give the device 100 ms to do what it would wrongly do (use an entry it
 * must keep); then the entries pending.
 */
unsigned int vt_vq_settle(struct vt_vq *q);

/* Guest features the tests negotiate. */
#define VT_F_VERSION_1		(1ULL << 32)	/* VIRTIO_F_VERSION_1 */
#define VT_F_INDIRECT		(1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define VT_F_EVENT_IDX		(1ULL << VIRTIO_RING_F_EVENT_IDX)

/* Queue size of the host-to-guest queues, never serviced. */
#define VT_RX_NUM		8

struct vt_dev {
	int fd;				/* /dev/vhost-trace */
	int ctl;			/* control fd */
	unsigned int nports;
	uint64_t features;
	struct vt_mem mem;
	struct vt_vq *tx;		/* guest to host, per port */
	struct vt_vq *rx;		/* host to guest, per port */
};

/*
 * Everything up to the data path, as QEMU would do it: vt_dev_open() then
 * vt_dev_init(). The rest of the region is for the caller
 * (vt_mem_alloc(&d->mem, ...)).
 */
int vt_dev_setup(struct vt_dev *d, unsigned int nports, unsigned int num,
		 uint64_t features, size_t mem_size);
/* open, VHOST_TRACE_SET_PORTS, VHOST_TRACE_GET_CTL_FD */
int vt_dev_open(struct vt_dev *d, unsigned int nports);
/*
 * As the owner: SET_OWNER, SET_FEATURES, a memory table of mem_size
 * bytes, both queues of every port (tx with num entries); not running.
 */
int vt_dev_init(struct vt_dev *d, unsigned int num, uint64_t features,
		size_t mem_size);
/* Queue setup of one vhost queue: num, base, addr, kick, call, err. */
int vt_dev_set_vring(struct vt_dev *d, struct vt_vq *q);
int vt_dev_run(struct vt_dev *d, int on);
/* Close the device fd only (the control fd stays). */
void vt_dev_close_fd(struct vt_dev *d);
void vt_dev_close(struct vt_dev *d);

/* SET_SINK and GET_STATS on the control fd; 0 or -errno. */
int vt_set_sink(int ctl, unsigned int port, int fd, unsigned int policy);
int vt_get_stats(int ctl, unsigned int port, struct vhost_trace_stats *st);

/*
 * Read the stats of a port until buffers + dropped_buffers + bad_buffers
 * reach count (the device may count a buffer just after it is used).
 * 0, -ETIMEDOUT after timeout_ms, or -errno; st holds the last read.
 */
int vt_wait_stats(int ctl, unsigned int port, uint64_t count, int timeout_ms,
		  struct vhost_trace_stats *st);

/* Why a port stalls, as its stats say it (struct vt_stall's why) */
#define VT_STALL_WAITING	(1U << 0)	/* waits for room in its sink */
#define VT_STALL_SINK_ERROR	(1U << 1)	/* its sink failed */
#define VT_STALL_NO_SINK	(1U << 2)	/* it has none */
#define VT_STALL_ANY		(VT_STALL_WAITING | VT_STALL_SINK_ERROR | \
				 VT_STALL_NO_SINK)

/*
 * A guest sending into a port that is to stall. run(arg, stall_ms) sends
 * until all went (0), or until no entry came back for stall_ms
 * (-ETIMEDOUT); *done counts the entries used.
 */
struct vt_stall {
	int ctl;
	unsigned int port;
	unsigned int why;	/* VT_STALL_*: the reasons that confirm it */
	int stall_ms;
	int max_ms;		/* nothing back for that long: stalled anyway */
	int (*run)(void *arg, int stall_ms);
	void *arg;
	const uint64_t *done;
};

/*
 * Run until the port stalled: -ETIMEDOUT once no entry came back for
 * stall_ms and the module gives one of the reasons in why, or once none
 * came back for max_ms; 0 or another -errno as run. A short stall_ms
 * then suffices: the module's own state confirms the stall.
 */
int vt_run_until_stalled(const struct vt_stall *st);

/* One line describing st, for test logs; returns buf. */
const char *vt_stats_str(const struct vhost_trace_stats *st, char *buf,
			 size_t len);

/* The device owner must not die of SIGPIPE on a reader-less pipe sink. */
void vt_ignore_sigpipe(void);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t vt_now_ms(void);

/* The first number in the file at path, -1 when there is none. */
long vt_read_long(const char *path);
/* The module's lazy signalling and kick batching delays (ms). */
#define VT_SIGNAL_DELAY	"/sys/module/vhost_trace/parameters/signal_delay_ms"
#define VT_LOOK_DELAY	"/sys/module/vhost_trace/parameters/look_delay_ms"
/* Write n into the file at path (a module parameter); 0 or -errno. */
int vt_write_long(const char *path, long n);
/* The module's use count (/sys/module/vhost_trace/refcnt), -1 unknown. */
long vt_module_refcnt(void);

/* What failed last in this library, for test logs. */
const char *vt_error(void);

#endif /* _VT_GUEST_H */
