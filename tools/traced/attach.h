/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attach.c's steps that another way of reaching QEMU's QMP shares
 * (libvirt.c): QEMU's names for what a session adds, one command with
 * its error text, device_add of the session's device, taking back a
 * failed attach.
 */
#ifndef VT_ATTACH_H
#define VT_ATTACH_H

#include <sys/types.h>

#include "qmp.h"
#include "session.h"

#define QMP_TIMEOUT_MS		10000	/* connecting; one command */
#define UNPLUG_TIMEOUT_MS	30000	/* device_del until DEVICE_DELETED */

/* QEMU's names for what a session adds: fd, chardev, device. */
struct qemu_ids {
	char fd[32];
	char chardev[32];
	char device[32];
};

void attach_make_ids(struct qemu_ids *ids, unsigned long id);
/* A live session traces QEMU pid already: 1 and its name, or 0. */
int attach_traced_by(pid_t pid, char *name, size_t len);
/* One command; on failure err gets "attach: CMD: " and why. */
int attach_run(struct qmp *q, const char *cmd, const struct vt_buf *args,
	       int fd, struct vt_buf *ret, struct vt_buf *err);
/* {"key":"val"} into j (emptied first). */
int attach_one_arg(struct vt_buf *j, const char *key, const char *val);
/* device_add of the session's device (fd ids->fd, chardev ids->chardev). */
int attach_device_add(struct qmp *q, struct session *s, const char *bus,
		      const struct qemu_ids *ids, struct vt_buf *err);
/* chardev-remove (when chardev) and closefd ids->fd, on q if it lives. */
void attach_undo(struct qmp *q, const struct qemu_ids *ids, int chardev);

/* What QEMU offers (vdpa.h's QEMU_HAS_*), qom-list-types; or -errno. */
int attach_front_probe(struct qmp *q);
/*
 * The vDPA front end's hot-plug: the session's vDPA device created, its
 * /dev/vhost-vdpa-N added to an fd set (add-fd), proof(s, fd, err) (NULL:
 * none) that QEMU got it, device_add of vhost-vdpa-device-pci, the set's
 * fd removed; the guest's RAM must be shared (no_shared says why not;
 * NULL: front_no_shared_ram). 0, or -1 with err set and nothing left.
 */
int attach_plug_vdpa(struct qmp *q, struct session *s, const char *bus,
		     struct vt_buf *err,
		     int (*proof)(struct session *, int, struct vt_buf *),
		     void (*no_shared)(const struct session *,
				       struct vt_buf *));

#endif
