// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of portstate.h: what virtio_console's port_fops_poll reports
 * (6.1 and 6.12) in each state of a port the agent holds open, and what
 * the agent makes of it; and a plain fd that poll says nothing about.
 */
#include <unistd.h>

#include "tap.h"
#include "portstate.h"

int main(void)
{
	int p[2];

	tap_plan(NULL, 6);
	tap_ok(port_state_of(POLLHUP) == PORT_UNPLUGGED,
	       "POLLHUP alone: the port was hot-unplugged");
	tap_ok(port_state_of(POLLHUP | POLLIN | POLLRDNORM) == PORT_HOST_GONE,
	       "POLLHUP with POLLIN: the host side closed, the port stays");
	tap_ok(port_state_of(POLLOUT) == PORT_CONNECTED &&
	       port_state_of(POLLIN | POLLRDNORM | POLLOUT) == PORT_CONNECTED,
	       "POLLIN/POLLOUT without POLLHUP: connected");
	tap_ok(port_state_of(0) == PORT_CONNECTED,
	       "nothing (a full queue, no data): connected");
	tap_ok(port_state_of(POLLHUP | POLLERR) == PORT_HOST_GONE,
	       "an error with the hang-up is not taken for an unplug");
	if (pipe(p))
		return 1;
	close(p[0]);
	tap_ok(port_state(p[1]) != PORT_UNPLUGGED,
	       "a pipe without reader (POLLERR) is not an unplugged port");
	return tap_done();
}
