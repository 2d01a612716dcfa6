/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record --domain: a libvirt domain reached through the user's own
 * libvirt connection. The CLI checks the domain (running, QEMU, libvirt
 * able to pass fds, QEMU with the device), then hands vhost-traced one
 * end of a socket pair, the "libvirt bridge": the daemon speaks QMP on
 * it and a thread here relays each command through
 * virDomainQemuMonitorCommandWithFiles (with the fds that came along),
 * answering with QEMU's reply, and DEVICE_DELETED after a device_del
 * once the device has left the domain. So libvirt, not the daemon,
 * decides who may change the domain.
 */
#ifndef VT_DOMAIN_H
#define VT_DOMAIN_H

struct domain_bridge;

/*
 * Connects to libvirt (uri, or libvirt's default when NULL), finds the
 * domain name and checks it; with check_device, that its QEMU has a
 * device of the front end. On success *out relays on its own thread and
 * domain_bridge_fd() is the end for the daemon. Otherwise prints why
 * and returns the CLI's exit code.
 */
int domain_bridge_open(const char *name, const char *uri, int check_device,
		       struct domain_bridge **out);
/* The daemon's end (pass it with the request, then domain_bridge_sent). */
int domain_bridge_fd(struct domain_bridge *b);
/* The daemon has its end: ours is closed here. */
void domain_bridge_sent(struct domain_bridge *b);
/* Waits for the daemon to let go of the bridge (at most timeout_ms), ends. */
void domain_bridge_close(struct domain_bridge *b, int timeout_ms);

#endif
