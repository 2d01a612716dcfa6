/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace benchmark: the device side of one queue in userspace, doing
 * what QEMU's virtio-serial port with a chardev backend does: a thread
 * pops each chain from the ring, write()s its segments to the sink fd,
 * marks it used and signals the guest.
 */
#ifndef _VT_RELAY_H
#define _VT_RELAY_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "vt_guest.h"

struct vt_relay {
	struct vt_vq *vq;	/* the guest's queue; the relay is its device */
	int sink;
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled;	/* used_idx at the last signal check */
	int stop;
	pthread_t th;
	pid_t tid;
	uint64_t bytes, buffers, signals;
	int err;
};

int vt_relay_start(struct vt_relay *r, struct vt_vq *vq, int sink);
/* Stop the thread; 0 or -errno of a failed write. */
int vt_relay_stop(struct vt_relay *r);

#endif /* _VT_RELAY_H */
