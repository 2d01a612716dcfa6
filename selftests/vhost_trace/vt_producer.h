/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace selftests: a guest writer on one port. It sends pages
 * 0, 1, 2, ... of the port's pattern (vt_pattern.h), keeping the ring as
 * full as it can, as the guest's trace agent does through virtio_console.
 */
#ifndef _VT_PRODUCER_H
#define _VT_PRODUCER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vt_guest.h"

struct vt_producer {
	struct vt_vq *vq;
	unsigned int port;
	unsigned int nseg;	/* descriptors (segments) per page */
	bool indirect;		/* the segments in an indirect table */
	bool fill;		/* write the pattern into every page posted */
	uint8_t *pages;		/* vq->num page slots */
	struct vring_desc *tables;
	uint16_t *free;
	unsigned int nfree;
	uint64_t total;		/* pages to send */
	uint64_t posted;	/* pages posted: the seq of the next one */
	uint64_t done;		/* pages returned used */
	uint64_t foreign;	/* used entries that were not our pages */
	int64_t max_wait_ms;	/* longest wait for a used entry */
	int stall_ms;
	int result;
	bool started;
	pthread_t th;
	char why[200];
};

/*
 * Page slots and indirect tables from m. nseg is 1, 2, 4 or 8: a page
 * is sent as nseg segments, out of order in memory, chained directly or
 * through an indirect table.
 */
int vt_prod_init(struct vt_producer *pr, struct vt_mem *m, struct vt_vq *vq,
		 unsigned int port, unsigned int nseg, bool indirect);
void vt_prod_free(struct vt_producer *pr);
/*
 * The queue was reset (vt_vq_reset): the pages in flight are gone, the
 * next page posted is the first one not used.
 */
void vt_prod_rewind(struct vt_producer *pr);
/* Post what the ring and pr->total allow, then kick. Pages posted. */
unsigned int vt_prod_post(struct vt_producer *pr);
/* Take used entries back. Pages (ours) reaped. */
unsigned int vt_prod_reap(struct vt_producer *pr);
/*
 * Send until total pages came back used. -ETIMEDOUT (and pr->why) when
 * no entry came back for stall_ms; can be called again to go on.
 */
int vt_prod_run(struct vt_producer *pr, uint64_t total, int stall_ms);
/*
 * vt_prod_run for a port that is to stall (its sink full, failed or
 * none): -ETIMEDOUT once no entry came back for stall_ms and the module
 * says why (port waiting for room, a sink error, no sink), or once no
 * entry came back for max_ms; 0 or another -errno as vt_prod_run. A
 * short stall_ms then suffices: the module's own state confirms it.
 */
int vt_prod_stall(struct vt_producer *pr, int ctl, uint64_t total,
		  int stall_ms, int max_ms);
/* The same in a thread of its own. */
int vt_prod_start(struct vt_producer *pr, uint64_t total, int stall_ms);
int vt_prod_join(struct vt_producer *pr);
uint64_t vt_prod_done(struct vt_producer *pr);
/* Pages posted and not used yet. */
static inline unsigned int vt_prod_inflight(struct vt_producer *pr)
{
	return pr->posted - pr->done;
}

#endif /* _VT_PRODUCER_H */
