/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Front ends: who presents the trace device to the guest.
 *
 *   vhost   the patched QEMU's vhost-trace-pci; the trace queues go to
 *           /dev/vhost-trace (every kernel). QEMU answers the control
 *           queue and carries port 0 on a chardev (agent.sock).
 *   vdpa    a stock QEMU >= 8.0's vhost-vdpa-device-pci on the module's
 *           vDPA device (kernels with CONFIG_VDPA: Debian 6.12, not 6.1):
 *           VHOST_TRACE_VDPA_ADD creates it (named after the session),
 *           vhost_vdpa is bound to it, /dev/vhost-vdpa-N goes to QEMU
 *           (-add-fd + vhostdev=/dev/fdset/S: the device has no vhostfd
 *           property), and port 0 is the control fd's read()/write().
 *   auto    (a request) by what QEMU offers: vhost-trace-pci, else
 *           vhost-vdpa-device-pci; a QEMU that cannot be asked: vhost.
 */
#ifndef VT_VDPA_H
#define VT_VDPA_H

#include <stddef.h>
#include <string.h>

#include "vt_buf.h"

enum sess_front {
	FRONT_VHOST,
	FRONT_VDPA,
	FRONT_AUTO,	/* requests only */
};

/* What a QEMU offers (bits), from -device help or qom-list-types. */
#define QEMU_HAS_VHOST_TRACE	1U	/* vhost-trace-pci */
#define QEMU_HAS_VDPA		2U	/* vhost-vdpa-device-pci */

#define VDPA_QEMU_DEVICE	"vhost-vdpa-device-pci"
#define VDPA_FDSET_BASE		76000000UL	/* QEMU fd set: base + id */

struct session;
struct sess_args;

static inline const char *front_name(int front)
{
	static const char *const names[] = { "vhost", "vdpa", "auto" };

	return front >= 0 && front <= FRONT_AUTO ? names[front] : "?";
}

/* FRONT_* of that name ("vhost", "vdpa", "auto"), or -1. */
static inline int front_by_name(const char *name)
{
	int i;

	for (i = 0; i <= FRONT_AUTO; i++)
		if (!strcmp(front_name(i), name))
			return i;
	return -1;
}

/*
 * The QEMU of a launch (its argv[0] with -device help, run as the
 * requester in cwd, at most a few seconds): QEMU_HAS_* bits, or -errno
 * when it could not be asked (a wrapper that is not QEMU, ...).
 */
int front_probe_launch(const struct sess_args *a);
/* Parses -device help output or qom-list-types JSON: bits (tests). */
unsigned int front_scan(const char *text);
/*
 * The front end for a request: want (FRONT_*) and what QEMU offers
 * (has: bits, or < 0 not known). FRONT_VHOST or FRONT_VDPA, or -1 with
 * err saying why neither fits. why gets a short reason for the log.
 */
int front_choose(int want, int has, const char *qemu, struct vt_buf *err,
		 char *why, size_t whysz);
/*
 * vhost-vdpa maps guest RAM by virtual address (use_va) only where it is
 * a shared file mapping: QEMU needs a memory backend with share=on. 1 when
 * a launch's command line has one (an argument with memory-backend- and
 * share=on), else 0. front_no_shared_ram: why, for the requester.
 */
int front_shared_ram_args(int argc, char *const *argv);
void front_no_shared_ram(struct vt_buf *err);

/* "vt-NAME", or "vt-sID" when that does not fit a vDPA name. */
void vdpa_name(const struct session *s, char *buf, size_t len);
/*
 * The session's vDPA device: created (VHOST_TRACE_VDPA_ADD, s->ctl the
 * control fd), the sinks attached, vhost_vdpa bound to it (modprobe when
 * needed), /dev/vhost-vdpa-N opened (s->vhostdev). Returns that fd for
 * QEMU, or -1 with err set (the device is deleted again).
 */
int vdpa_open_device(struct session *s, struct vt_buf *err);
/*
 * Deletes the session's vDPA device (VHOST_TRACE_VDPA_DEL), waiting up to
 * wait_ms while QEMU still holds it (EBUSY). 0 or -errno (logged).
 */
int vdpa_delete(struct session *s, int wait_ms);
/*
 * After a restart, or a take-over: a control fd for the device by name,
 * of nports (0: any).
 */
int vdpa_take_over(const char *name, unsigned int nports, int *ctl,
		   char *why, size_t whysz);
/*
 * The module's vDPA device whose vhost-vdpa node is node ("vhost-vdpa-N",
 * from sysfs): 1 with its name and ports, 0 none of the module's.
 */
int vdpa_by_node(const char *node, char *name, size_t len,
		 unsigned int *nports);
/* The agent's end of port 0: the control fd's duplicate, O_NONBLOCK. */
int vdpa_agent_fd(struct session *s);

#endif
