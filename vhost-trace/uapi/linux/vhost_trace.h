/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vhost-trace: move a guest's ftrace pages from virtio-console ports to
 * host files in kernel context.
 *
 * /dev/vhost-trace is a vhost device. Besides the standard vhost ioctls
 * (VHOST_SET_OWNER, VHOST_GET_FEATURES, VHOST_SET_MEM_TABLE,
 * VHOST_SET_VRING_*, ...) it takes the ioctls below. Any other ioctl
 * fails with ENOTTY.
 *
 * Queue layout. The guest sees a MULTIPORT virtio-console. QEMU keeps
 * queues 0..3 (port 0 and the control queues). Trace port p (0-based,
 * virtio-console port p + 1) uses guest queues 2p + 4 (host to guest)
 * and 2p + 5 (guest to host). The vhost device holds only these
 * 2 * nports queues: vhost queue index q is trace port q / 2, direction
 * q % 2 (0: host to guest, accepted and never serviced; 1: guest to host).
 */
#ifndef _UAPI_LINUX_VHOST_TRACE_H
#define _UAPI_LINUX_VHOST_TRACE_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vhost.h>

/* Most trace ports one device may have. */
#define VHOST_TRACE_MAX_PORTS	256

/*
 * VHOST_TRACE_SET_PORTS: the number of trace ports, 1..VHOST_TRACE_MAX_PORTS.
 * Allowed once, before VHOST_SET_OWNER.
 *   EINVAL  count out of range
 *   EBUSY   ports already set, or the device already has an owner
 *   ENOMEM  the virtqueues could not be allocated
 * VHOST_TRACE_GET_PORTS: the number of trace ports (0 when not yet set).
 */
#define VHOST_TRACE_SET_PORTS	_IOW(VHOST_VIRTIO, 0xA0, __u32)
#define VHOST_TRACE_GET_PORTS	_IOR(VHOST_VIRTIO, 0xA1, __u32)

#endif /* _UAPI_LINUX_VHOST_TRACE_H */
