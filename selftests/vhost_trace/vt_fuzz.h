/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vt_fuzz, the randomized hostile driver (vt_fuzz.c): its state and the
 * parts shared by both front ends. vt_fuzz_ring.c plays the guest's rings,
 * vt_fuzz_sink.c the sinks and their reader, vt_fuzz_check.c the checks
 * of the uapi's promises; vt_fuzz_vhost.c and vt_fuzz_vdpa.c present the
 * device through /dev/vhost-trace or through vhost_vdpa.
 */
#ifndef _VT_FUZZ_H
#define _VT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <linux/vhost_trace.h>

#include "vt_guest.h"

#define MAX_PORTS	4
#define MAX_NUM		64
#define MAX_SEG		4
#define AREA		(3 * 4096)	/* longest buffer */
#define HDR		24
#define MAGIC		0x56544655u
#define MAX_SINKS	64

/* port.unbound: eventfds of the queue the device does not hold now */
#define FZ_KICK		1u
#define FZ_CALL		2u
#define FZ_ERR		4u

enum kind { K_GOOD, K_BAD, K_ERR };

/* A chain the guest posted; vt_vq's token points here. */
struct rec {
	int state;		/* 0 free, 1 posted */
	enum kind kind;
	int maybe_bad;		/* rewritten: may come back as bad */
	uint64_t seq;
	uint32_t len;
	unsigned int nseg;
	int indirect;
	int alt;		/* which of the head's two areas */
	uint16_t head;
	uint16_t desc[MAX_SEG];	/* direct chain's descriptors */
	uint32_t off[MAX_SEG], slen[MAX_SEG];
};

struct sink {
	int used;
	int port;
	int is_pipe;
	int rfd;		/* pipe read end, or the file (-1: closed) */
	int wfd;		/* pipe write end kept for policy flips */
	int paused;
	int eof;		/* pipe: every writer let go */
	int closed_early;	/* read end closed while it may get data */
	int by_ref;		/* pipe fed by reference */
	uint64_t foff;		/* file: bytes read so far */
	uint8_t buf[AREA + HDR];
	size_t have;
	uint64_t last_seq;
	int any;
	uint64_t bufs, bytes;
};

struct port {
	struct vt_vq *q;
	uint8_t *areas;		/* num heads x 2 areas x AREA */
	struct vring_desc *tables;	/* num heads x MAX_SEG */
	struct rec rec[MAX_NUM];
	uint64_t next_seq;
	uint8_t *delivered;	/* per seq */
	size_t ndeliv;
	int cur;		/* current sink index or -1 */
	unsigned int policy;
	int exact;
	uint64_t err_posted;	/* core-error chains posted, episode */
	uint64_t err_signals;	/* counted on the error eventfd */
	uint64_t err_sig_max;	/* what the posted ones may signal */
	int err_pending;	/* one is (or may be) in the ring now */
	int err_lossy;		/* error eventfd unbound or closed: not exact */
	unsigned int unbound;	/* FZ_KICK | FZ_CALL | FZ_ERR not bound */
	uint64_t inflight;
	uint64_t used_good, used_bad, maybe_bad_used, bad_posted;
	uint64_t sink_bufs, sink_bytes;	/* intact buffers in sinks */
	uint64_t torn_bytes;	/* a buffer's head a closed sink ended in */
	struct vhost_trace_stats last;
};

/*
 * A front end: how the device is set up, run, reset and released. The
 * core (the rings, sinks and checks) is the same for both.
 */
struct fz_fe {
	const char *name;
	/*
	 * Signals on the error eventfd a chain the core cannot map may give:
	 * direct, through an indirect table (vhost: 1 and 2; vhost_vdpa
	 * never signals it: 0).
	 */
	unsigned int err_sig, err_sig_ind;
	int event_idx;		/* VIRTIO_RING_F_EVENT_IDX may be used */
	/* dev: ports, control fd, memory, dev.tx[p] set up, not running */
	void (*setup)(uint64_t features);
	void (*run)(int on);	/* start or stop every port's queue */
	/* set up port p's queue again (vDPA: the whole device) */
	void (*reset_queue)(unsigned int p);
	/* the data path goes away for good (released afterwards) */
	void (*release)(void);
	void (*new_ctl)(void);
	void (*step)(unsigned int p);	/* the front end's own random step */
	void (*check)(void);		/* its own invariants, every step */
	void (*drain)(void);		/* its own quiescent point */
	void (*close)(void);		/* the episode ends */
};

extern const struct fz_fe fz_vhost, fz_vdpa;
extern const struct fz_fe *fe;

extern struct vt_dev dev;
extern struct port ports[MAX_PORTS];
extern struct sink sinks[MAX_SINKS];
extern unsigned int nports, num;
extern int running, released, verbose, indirect_ok, contract;
extern uint8_t *outside;
extern uint64_t ep_seed, step, total_steps, drains, late_drains;

/* vt_fuzz.c */
unsigned int rn(unsigned int n);
int chance(unsigned int pct);
/* the second stream: choices added after seeds were recorded */
unsigned int rn2(unsigned int n);
int chance2(unsigned int pct);
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2),
					       noreturn));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint8_t pat(unsigned int port, uint64_t seq, uint32_t i);
void fill(uint8_t *dst, unsigned int port, uint64_t seq, uint32_t len);

/* vt_fuzz_sink.c */
void sink_drain_lent(void);
int sink_pump(struct sink *s);
void sink_close(struct sink *s, int torn_ok);
void attach(unsigned int p, int how);
void close_reader(unsigned int p);

/* vt_fuzz_ring.c */
void check_err_fd(unsigned int p);
void reap(unsigned int p);
void pump_all(void);
int post_good(unsigned int p, int bad);
void post_err(unsigned int p);
void rewrite(unsigned int p);
void forget_queue(unsigned int p);
void swap_eventfd(unsigned int p, int which, int how);
void rebind_eventfds(unsigned int p);

/* vt_fuzz_check.c */
void check_stats(void);
void expect_err(int r, int err, const char *what);
void bad_ioctls(void);
void drain(void);
void drop_never_waits(unsigned int p);
void released_sums(void);

/* vt_fuzz_p0.c: the vDPA device's port 0 and control queues */
void p0_init(void);
void p0_setup(void);
void p0_start(void);
void p0_pump(void);
void p0_forget(void);
void p0_step(void);
void p0_drain(void);
void p0_released(void);
void p0_close(void);
void p0_summary(void);

#endif /* _VT_FUZZ_H */
