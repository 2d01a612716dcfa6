/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Attach to a libvirt domain (vhost-trace record --domain): the daemon
 * speaks QMP, as for --attach, but over a socket that the requester's
 * CLI hands over with the request (SCM_RIGHTS), its "libvirt bridge".
 * The CLI, as the user, relays each command through the user's own
 * libvirt connection (virDomainQemuMonitorCommandWithFiles, with the
 * fds that came along) and answers with QEMU's reply; after a
 * successful device_del it sends DEVICE_DELETED once the device is gone
 * from the domain. So libvirt decides who may act on the domain; the
 * daemon never connects to libvirt itself (see vhost-trace(1),
 * "Tracing a libvirt domain", and PROTOCOL).
 *
 * The bridge is the user's program: its answers are believed no more
 * than QEMU's over --attach. QEMU's pid comes from a vCPU's thread id
 * and is believed only when that process holds the device file the
 * daemon passed (kcmp).
 */
#ifndef VT_LIBVIRT_H
#define VT_LIBVIRT_H

#include "ctlproto.h"
#include "qmp.h"
#include "server.h"
#include "session.h"

/*
 * attach with domain=: domain=, uri=, bus= into a, and the bridge taken
 * from peer->fd. 0, or -1 with the reason in body.
 */
int libvirt_parse_args(const struct ctl_req *req, struct peer *peer,
		       struct sess_args *a, struct vt_buf *body);
/* A stop request brought a bridge (peer->fd): s keeps it (libvirt only). */
void libvirt_new_bridge(struct session *s, struct peer *peer);
/* QMP over s's bridge (a new fd on it). 0, or -errno with q->err set. */
int libvirt_bridge_open(struct session *s, struct qmp *q);
/*
 * At stop, a session that took over the domain's own device
 * (DEV_TAKEN): the agent's chardev back to a null backend through the
 * bridge, the agent closed; the device stays in the domain. Sets
 * DEV_RELEASED, or DEV_DETACH_FAILED with s->error. Session thread.
 */
void libvirt_release(struct session *s);

#endif
