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

#endif /* _VHOST_TRACE_COMPAT_H */
