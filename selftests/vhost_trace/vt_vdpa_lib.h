/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace selftests: the vDPA front end from userspace, shared by
 * vt_vdpa (the shell's tool), vt_vdpa_hostile and vt_fuzz: the module's
 * VDPA_ADD/CTL/DEL ioctls, binding a device to vhost_vdpa, and the
 * vhost_vdpa messages a driver sends (IOTLB, status).
 */
#ifndef _VT_VDPA_LIB_H
#define _VT_VDPA_LIB_H

#include <stddef.h>
#include <stdint.h>

#include <linux/vhost_types.h>

/* Backend features newer than some uapi headers this builds with. */
#ifndef VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK
#define VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK	0x6
#endif
#ifndef VHOST_BACKEND_F_IOTLB_PERSIST
#define VHOST_BACKEND_F_IOTLB_PERSIST		0x8	/* 6.8 */
#endif

/*
 * VHOST_TRACE_VDPA_ADD, _CTL or _DEL on a fresh fd of /dev/vhost-trace
 * (nports only for ADD): the ioctl's result (a control fd for ADD and
 * CTL), or -errno.
 */
int vt_vdpa_ioctl(unsigned long cmd, const char *name, unsigned int nports);

/*
 * Bind vDPA device name to vhost_vdpa (driver_override, unbinding another
 * driver first) and write its /dev/vhost-vdpa-N path into path. 0 or
 * -errno.
 */
int vt_vdpa_bind_vhost(const char *name, char *path, size_t len);

/*
 * One VHOST_IOTLB_MSG_V2 message on a vhost_vdpa fd: type
 * VHOST_IOTLB_UPDATE (uaddr, perm), _INVALIDATE, _BATCH_BEGIN or
 * _BATCH_END. 0 or -errno.
 */
int vt_vdpa_iotlb(int vfd, uint8_t type, uint64_t iova, uint64_t size,
		  const void *uaddr, uint8_t perm);

/* VHOST_VDPA_SET_STATUS / GET_STATUS: 0 (status in *s) or -errno. */
int vt_vdpa_set_status(int vfd, uint8_t s);
int vt_vdpa_get_status(int vfd, uint8_t *s);

#endif /* _VT_VDPA_LIB_H */
