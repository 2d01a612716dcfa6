/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What poll says about an open virtio-serial port. virtio_console's
 * port_fops_poll (6.1 and 6.12) reports, for a port this process holds
 * open:
 *   hot-unplugged (device_del): EPOLLHUP and nothing else, for good;
 *   host side not connected:    EPOLLHUP | EPOLLIN (a read returns 0),
 *                               and EPOLLOUT never;
 *   connected:                  EPOLLIN with data, EPOLLOUT with room.
 * An unplugged port never comes back: its fd must be closed, and the port
 * looked up again when a new device brings one of that name.
 */
#ifndef VT_PORTSTATE_H
#define VT_PORTSTATE_H

#include <poll.h>

enum port_state {
	PORT_CONNECTED,		/* the host has it open */
	PORT_HOST_GONE,		/* plugged, the host side closed */
	PORT_UNPLUGGED,		/* the device went away */
};

/* revents of a poll for POLLIN | POLLOUT */
static inline enum port_state port_state_of(short revents)
{
	if ((revents & (POLLHUP | POLLIN | POLLOUT | POLLERR)) == POLLHUP)
		return PORT_UNPLUGGED;
	if (revents & POLLHUP)
		return PORT_HOST_GONE;
	return PORT_CONNECTED;
}

/* Polls fd without waiting. */
static inline enum port_state port_state(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	if (poll(&p, 1, 0) != 1)
		return PORT_CONNECTED;	/* nothing to report: idle, plugged */
	return port_state_of(p.revents);
}

#endif
