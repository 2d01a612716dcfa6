/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace: what differs between the supported kernels (6.1, 6.12),
 * and the check that vhost.h belongs to the kernel being built against.
 */
#ifndef _VHOST_TRACE_COMPAT_H
#define _VHOST_TRACE_COMPAT_H

#include <linux/version.h>

/*
 * drivers/vhost/vhost.h is not in any headers package: the build takes it
 * from the linux-source tarball and writes its version next to it. A
 * vhost.h from another kernel may compile cleanly and still be wrong
 * (struct vhost_virtqueue changes between releases), so refuse it.
 */
#include "vhost_src_version.h"
#if VHOST_SRC_VERSION_CODE != LINUX_VERSION_CODE
#error "vhost.h mismatch: vhost.h is not from the kernel being built for"
#endif

#include "vhost.h"

/* Since 6.5 a vhost_poll is bound to the virtqueue whose worker runs it. */
static inline void vt_poll_init(struct vhost_poll *poll, vhost_work_fn_t fn,
				__poll_t mask, struct vhost_dev *dev,
				struct vhost_virtqueue *vq)
{
#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
	vhost_poll_init(poll, fn, mask, dev, vq);
#else
	vhost_poll_init(poll, fn, mask, dev);
#endif
}

#endif /* _VHOST_TRACE_COMPAT_H */
