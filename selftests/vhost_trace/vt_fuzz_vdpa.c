// SPDX-License-Identifier: GPL-2.0
/*
 * vt_fuzz: the vDPA front end (6.12): a device made with
 * VHOST_TRACE_VDPA_ADD, bound to vhost_vdpa, driven through
 * /dev/vhost-vdpa-N as QEMU would, with this process's memory as the map
 * (use_va; identity: IOVA == our address). Trace port p's guest-to-host
 * queue is virtio queue 2p + 5. Besides the core's steps: IOTLB updates
 * and invalidations between kicks (batched: the map never has a hole;
 * unbatched: chains posted before may meet one and stop their queue),
 * malformed IOTLB messages, queues disabled and enabled, device resets
 * (SET_STATUS 0 and the whole setup again, the queues disabled first),
 * pipe sinks by reference as on the vhost front end (a disabled queue
 * uses every lent buffer at once: their pipes are read before the guest
 * reuses them), port 0's byte stream between
 * the control fd and the guest (vt_fuzz_p0.c), the VDPA_ADD/CTL/DEL
 * errors. VIRTIO_RING_F_EVENT_IDX in half the episodes, as on the vhost
 * front end (the guest's kicks then follow avail_event). Checked besides the core's
 * promises: a port stopped on a queue error (BROKEN) shows NEEDS_RESET
 * in the device status, and NEEDS_RESET comes only after a queue error
 * since the last reset; the error eventfd is never signalled (vhost_vdpa
 * has none for the device).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "vt_fuzz.h"
#include "vt_vdpa_lib.h"

#define Q_PORT(p)	(2 * (p) + 5)
#define F_MULTIPORT	(1ULL << 1)	/* VIRTIO_CONSOLE_F_MULTIPORT */
#define S_READY		(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_FEATURES_OK)

static char name[32];
static uint64_t feats, backend;
static uint8_t *data;		/* the map: rings below, data from here */
static uint64_t qe_reset;	/* queue errors, all ports, at the last reset */
static unsigned int disabled;	/* ports whose queue is disabled */
static int deleted;

static void status(uint8_t s)
{
	int r = vt_vdpa_set_status(dev.fd, s);

	if (r)
		fail("VHOST_VDPA_SET_STATUS %#x: %s", s, strerror(-r));
}

static void iotlb(uint8_t type, const void *a, uint64_t size)
{
	int r = vt_vdpa_iotlb(dev.fd, type, (uintptr_t)a, size, a,
			      type == VHOST_IOTLB_UPDATE ? VHOST_ACCESS_RW : 0);

	if (r)
		fail("IOTLB message %u [%p +%#" PRIx64 "): %s", type, a, size,
		     strerror(-r));
}

static void map_rings(uint8_t type)
{
	iotlb(type, dev.mem.base, data - dev.mem.base);
}

static void map_data(uint8_t type)
{
	iotlb(type, data, dev.mem.base + dev.mem.size - data);
}

static void enable(unsigned int p, int on)
{
	struct vhost_vring_state s = { .index = Q_PORT(p), .num = on };

	if (ioctl(dev.fd, VHOST_VDPA_SET_VRING_ENABLE, &s))
		fail("SET_VRING_ENABLE %u %d: %s", Q_PORT(p), on,
		     strerror(errno));
	/*
	 * Disabled: the buffers it had lent to pipes are used now, and the
	 * guest may reuse them: read those pipes first.
	 */
	if (!on)
		sink_drain_lent();
	/* it resumes at the chain that stopped it: met once more */
	if (on && (disabled & (1u << p)) && ports[p].err_pending)
		ports[p].err_posted++;
	if (on)
		disabled &= ~(1u << p);
	else
		disabled |= 1u << p;
}

static uint64_t queue_errors(void)
{
	struct vhost_trace_stats st;
	uint64_t n = 0;
	unsigned int p;

	for (p = 0; p < nports; p++) {
		if (vt_get_stats(dev.ctl, p, &st))
			fail("GET_STATS: %s", vt_error());
		n += st.queue_errors;
	}
	return n;
}

/*
 * The driver's setup from a reset: features, every trace port's queue
 * (enabled when on), DRIVER_OK.
 */
static void start(int on)
{
	unsigned int p;

	status(0);
	qe_reset = queue_errors();
	status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	if (ioctl(dev.fd, VHOST_SET_FEATURES, &feats))
		fail("VHOST_SET_FEATURES %#" PRIx64 ": %s", feats,
		     strerror(errno));
	status(S_READY);
	disabled = (1u << nports) - 1;
	for (p = 0; p < nports; p++) {
		if (vt_dev_set_vring(&dev, ports[p].q))
			fail("set vring: %s", vt_error());
		ports[p].unbound = 0;
		if (on && chance2(50))
			enable(p, 1);
	}
	p0_setup();
	status(S_READY | VIRTIO_CONFIG_S_DRIVER_OK);
	p0_start();
	for (p = 0; on && p < nports; p++)
		if (disabled & (1u << p))
			enable(p, 1);
	running = on;
}

static void setup(uint64_t features)
{
	char path[64];
	unsigned int p;
	uint64_t want = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
			(1ULL << VHOST_BACKEND_F_IOTLB_BATCH) |
			(1ULL << VHOST_BACKEND_F_IOTLB_PERSIST) |
			(1ULL << VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
	int r;

	deleted = 0;
	dev.fd = -1;
	snprintf(name, sizeof(name), "vtfz%d.%" PRIu64, (int)getpid(),
		 ep_seed);
	dev.nports = nports;
	dev.ctl = vt_vdpa_ioctl(VHOST_TRACE_VDPA_ADD, name, nports);
	if (dev.ctl < 0)
		fail("VHOST_TRACE_VDPA_ADD %s: %s", name, strerror(-dev.ctl));
	fcntl(dev.ctl, F_SETFL, O_NONBLOCK);
	r = vt_vdpa_bind_vhost(name, path, sizeof(path));
	if (r)
		fail("binding %s to vhost_vdpa: %s", name, strerror(-r));
	dev.fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev.fd < 0)
		fail("%s: %s", path, strerror(errno));
	if (ioctl(dev.fd, VHOST_SET_OWNER))
		fail("VHOST_SET_OWNER: %s", strerror(errno));
	if (ioctl(dev.fd, VHOST_GET_BACKEND_FEATURES, &backend))
		fail("VHOST_GET_BACKEND_FEATURES: %s", strerror(errno));
	backend &= want;
	if (ioctl(dev.fd, VHOST_SET_BACKEND_FEATURES, &backend))
		fail("VHOST_SET_BACKEND_FEATURES: %s", strerror(errno));
	if (vt_mem_init_shared(&dev.mem, 8 << 20))
		fail("memory: %s", vt_error());
	dev.tx = calloc(nports, sizeof(*dev.tx));
	dev.rx = calloc(nports, sizeof(*dev.rx));
	if (!dev.tx || !dev.rx)
		fail("queues");
	for (p = 0; p < nports; p++) {
		dev.rx[p].kick = dev.rx[p].call = dev.rx[p].err = -1;
		if (vt_vq_init(&dev.tx[p], &dev.mem, num,
			       !!(features & VT_F_EVENT_IDX)))
			fail("queue: %s", vt_error());
		dev.tx[p].index = Q_PORT(p);
		ports[p].q = &dev.tx[p];
	}
	p0_init();
	data = vt_mem_alloc(&dev.mem, 1, 4096);
	dev.mem.used = data - dev.mem.base;
	map_rings(VHOST_IOTLB_UPDATE);
	map_data(VHOST_IOTLB_UPDATE);
	feats = (1ULL << VIRTIO_F_VERSION_1) |
		(1ULL << VIRTIO_F_ACCESS_PLATFORM) | F_MULTIPORT |
		(features & (VT_F_INDIRECT | VT_F_EVENT_IDX));
	start(0);
}

static void run(int on)
{
	unsigned int p;

	for (p = 0; p < nports; p++)
		if (!on || (disabled & (1u << p)))
			enable(p, on);
	running = on;
}

/*
 * The only reset of a vDPA queue is the device's: every port's. The
 * queues are disabled first, as a careful driver does: buffers lent to
 * pipes are used then (a reset uses none of them: counted delivered and
 * never used, which the used-entry check cannot tell from a rest still
 * owed; that case is vdpa_byref's).
 */
static void reset_queue(unsigned int p0)
{
	int was = running;
	unsigned int p;

	for (p = 0; p < nports; p++)
		if (!(disabled & (1u << p)))
			enable(p, 0);
	status(0);
	for (p = 0; p < nports; p++)
		forget_queue(p);
	p0_forget();
	start(was || chance(80));
	note("device reset (port %u)", p0);
}

/* Port 0 ("agent-ctl-path") on a deleted device: the rest, EOF, EPIPE. */
static void port0_released(void)
{
	struct pollfd pf = { .fd = dev.ctl, .events = POLLIN | POLLOUT };
	char b[8] = "1\n";

	p0_released();
	if (read(dev.ctl, b, sizeof(b)) != 0)
		fail("port 0 read on a deleted device: not EOF");
	if (write(dev.ctl, b, 2) != -1 || errno != EPIPE)
		fail("port 0 write on a deleted device: not EPIPE");
	if (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLHUP))
		fail("port 0 poll on a deleted device: %#x, no POLLHUP",
		     pf.revents);
}

static void release(void)
{
	int r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_DEL, name, 0);

	expect_err(r, EBUSY, "VDPA_DEL while vhost_vdpa has an owner");
	close(dev.fd);
	dev.fd = -1;
	/* the used entries the device wrote before it let go */
	p0_pump();
	r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_DEL, name, 0);
	if (r)
		fail("VDPA_DEL after vhost_vdpa let go: %s", strerror(-r));
	deleted = 1;
	if (dev.ctl >= 0)
		port0_released();
	note("device deleted");
}

static void new_ctl(void)
{
	int fd = vt_vdpa_ioctl(VHOST_TRACE_VDPA_CTL, name, 0);

	if (deleted) {
		expect_err(fd, ENOENT, "VDPA_CTL of a deleted device");
		return;
	}
	if (fd < 0)
		fail("VDPA_CTL: %s", strerror(-fd));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	close(dev.ctl);
	dev.ctl = fd;
	note("new control fd");
}

/* The map changes under posted chains: each may meet a hole once. */
static void remap(void)
{
	unsigned int p;

	if (chance2(70) && (backend & (1ULL << VHOST_BACKEND_F_IOTLB_BATCH))) {
		int rings = chance2(50);

		iotlb(VHOST_IOTLB_BATCH_BEGIN, NULL, 0);
		if (rings)
			map_rings(VHOST_IOTLB_INVALIDATE);
		map_data(VHOST_IOTLB_INVALIDATE);
		if (chance2(50))	/* nothing there */
			iotlb(VHOST_IOTLB_INVALIDATE, outside, 4096);
		map_data(VHOST_IOTLB_UPDATE);
		if (rings)
			map_rings(VHOST_IOTLB_UPDATE);
		iotlb(VHOST_IOTLB_BATCH_END, NULL, 0);
		note("remapped in a batch");
		return;
	}
	/* the rings stay: a used entry is never written into a hole */
	map_data(VHOST_IOTLB_INVALIDATE);
	for (p = 0; p < nports; p++) {
		struct port *pt = &ports[p];

		if (chance2(50))
			vt_vq_kick_always(pt->q);
		if (!pt->inflight)
			continue;
		pt->err_pending = 1;
		pt->err_posted += pt->inflight;
	}
	if (chance2(50))
		usleep(rn2(2000));
	map_data(VHOST_IOTLB_UPDATE);
	note("remapped with a hole");
}

/* Messages vhost_vdpa refuses: the map stays as it was. */
static void bad_iotlb(void)
{
	int r;

	switch (rn2(3)) {
	case 0:	/* overlaps what is mapped */
		r = vt_vdpa_iotlb(dev.fd, VHOST_IOTLB_UPDATE,
				  (uintptr_t)data + 4096 * rn2(16), 4096, data,
				  VHOST_ACCESS_RW);
		break;
	case 1:	/* empty */
		r = vt_vdpa_iotlb(dev.fd, VHOST_IOTLB_UPDATE,
				  (uintptr_t)outside, 0, outside,
				  VHOST_ACCESS_RW);
		break;
	default: /* no such message */
		r = vt_vdpa_iotlb(dev.fd, 9 + rn2(50), (uintptr_t)data, 4096,
				  data, VHOST_ACCESS_RW);
		break;
	}
	if (!r)
		fail("a malformed IOTLB message was taken");
}

static void own_step(unsigned int p)
{
	int r;

	if (dev.fd < 0) {
		if (dev.ctl >= 0)
			port0_released();
		return;
	}
	p0_step();
	switch (rn2(8)) {
	case 0:
	case 1:
		remap();
		break;
	case 2:
		bad_iotlb();
		break;
	case 3:
		p0_step();
		break;
	case 4:	/* one queue off, or on */
		enable(p, !!(disabled & (1u << p)));
		running = !disabled;
		note("port %u: queue %s", p,
		     disabled & (1u << p) ? "disabled" : "enabled");
		break;
	case 5:
		r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_DEL, name, 0);
		expect_err(r, EBUSY, "VDPA_DEL while vhost_vdpa has an owner");
		r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_ADD, name, 1 + rn2(4));
		expect_err(r, EEXIST, "VDPA_ADD of a name taken");
		break;
	case 6:
		r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_CTL, "vtfz-none", 0);
		expect_err(r, ENOENT, "VDPA_CTL of no device");
		break;
	default:
		r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_ADD, "vtfz-none",
				  chance2(50) ? 0 : VHOST_TRACE_MAX_PORTS + 1);
		expect_err(r, EINVAL, "VDPA_ADD of 0 or too many ports");
		break;
	}
}

/* NEEDS_RESET: after a queue error (since the last reset) only, and then. */
static void check(void)
{
	unsigned int p, broken = 0;
	uint8_t s;
	int r;

	if (dev.fd < 0)
		return;
	p0_pump();
	for (p = 0; p < nports; p++)
		broken |= !!(ports[p].last.flags & VHOST_TRACE_STATS_BROKEN);
	r = vt_vdpa_get_status(dev.fd, &s);
	if (r)
		fail("VHOST_VDPA_GET_STATUS: %s", strerror(-r));
	if (broken && !(s & VIRTIO_CONFIG_S_NEEDS_RESET))
		fail("a port is BROKEN, the status %#x has no NEEDS_RESET", s);
	if ((s & VIRTIO_CONFIG_S_NEEDS_RESET) && queue_errors() == qe_reset)
		fail("status %#x: NEEDS_RESET with no queue error since the "
		     "reset", s);
}

static void close_all(void)
{
	if (dev.fd >= 0) {
		close(dev.fd);
		dev.fd = -1;
	}
	if (!deleted)
		vt_vdpa_ioctl(VHOST_TRACE_VDPA_DEL, name, 0);
	p0_close();
	vt_dev_close(&dev);
}

const struct fz_fe fz_vdpa = {
	.name		= "vdpa",
	.event_idx	= 1,
	.setup		= setup,
	.run		= run,
	.reset_queue	= reset_queue,
	.release	= release,
	.new_ctl	= new_ctl,
	.step		= own_step,
	.check		= check,
	.drain		= p0_drain,
	.close		= close_all,
};
