// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the vDPA front end (kernels with CONFIG_VDPA).
 */
#include <linux/errno.h>
#include <linux/uaccess.h>

#include "vhost_trace.h"

/* VHOST_TRACE_VDPA_ADD, _CTL, _DEL on /dev/vhost-trace. */
long vt_vdpa_ioctl(unsigned int ioctl, void __user *argp)
{
	return -EOPNOTSUPP;
}
