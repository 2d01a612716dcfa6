// SPDX-License-Identifier: GPL-2.0
/*
 * vt_fuzz: the vhost front end: /dev/vhost-trace with its own memory
 * table, VHOST_TRACE_SET_RUNNING, queue setup per port (vt_fuzz.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "vt_fuzz.h"

static void set_running(int on)
{
	struct vhost_trace_stats st;
	unsigned int p, broken = 0;
	int r;

	for (p = 0; on && p < nports; p++) {
		if (vt_get_stats(dev.ctl, p, &st))
			fail("GET_STATS: %s", vt_error());
		if (st.flags & VHOST_TRACE_STATS_BROKEN)
			broken |= 1u << p;
	}
	r = vt_dev_run(&dev, on);
	if (r)
		fail("SET_RUNNING %d: %s", on, vt_error());
	if (!on)
		sink_drain_lent();
	/*
	 * A queue stopped on an error stays stopped through a start until
	 * its vring is set up again (reset_queue): the same chain is not
	 * met, counted or signalled again (check_err_fd, check_stats).
	 */
	for (p = 0; p < nports; p++) {
		if (!(broken & (1u << p)))
			continue;
		if (vt_get_stats(dev.ctl, p, &st))
			fail("GET_STATS: %s", vt_error());
		if ((st.flags & VHOST_TRACE_STATS_RUNNING) ||
		    !(st.flags & VHOST_TRACE_STATS_BROKEN))
			fail("port %u: stopped on an error, started again "
			     "without a vring setup (flags %#x)", p, st.flags);
	}
	running = on;
}

/* Reset one queue, as a driver does: stop, forget, set up, start. */
static void reset_queue(unsigned int p)
{
	struct port *pt = &ports[p];
	int was = running;

	if (running)
		set_running(0);
	forget_queue(p);
	if (vt_dev_set_vring(&dev, pt->q))
		fail("set vring: %s", vt_error());
	pt->unbound = 0;
	if (was || chance(80))
		set_running(1);
	note("port %u: queue reset", p);
}


/*
 * A new control fd for the sink manager, the old one closed: the same
 * ports, sinks and counters (check_stats compares with the last ones).
 */
static void new_ctl(void)
{
	int fd;

	if (dev.fd < 0)
		return;
	fd = ioctl(dev.fd, VHOST_TRACE_GET_CTL_FD);
	if (fd < 0)
		fail("GET_CTL_FD: %s", strerror(errno));
	close(dev.ctl);
	dev.ctl = fd;
	note("new control fd");
}

static void setup(uint64_t features)
{
	if (vt_dev_setup(&dev, nports, num, features, 8 << 20))
		fail("device setup: %s", vt_error());
}

static void release(void)
{
	vt_dev_close_fd(&dev);
}

/* Port 0 belongs to QEMU here: the control fd is no byte stream. */
static void own_step(unsigned int p)
{
	char b[64] = "0\n";
	int r;

	if (chance2(50))
		r = read(dev.ctl, b, 1 + rn2(sizeof(b))) < 0 ? -errno : 0;
	else
		r = write(dev.ctl, b, 1 + rn2(sizeof(b))) < 0 ? -errno : 0;
	expect_err(r, EINVAL, "read/write on a vhost device's control fd");
}

static void close_all(void)
{
	vt_dev_close(&dev);
}

const struct fz_fe fz_vhost = {
	.name		= "vhost",
	.err_sig	= 1,
	.err_sig_ind	= 2,
	.event_idx	= 1,
	.setup		= setup,
	.run		= set_running,
	.reset_queue	= reset_queue,
	.release	= release,
	.new_ctl	= new_ctl,
	.step		= own_step,
	.close		= close_all,
};
