// SPDX-License-Identifier: GPL-2.0
/*
 * vt_fuzz: the vDPA device's port 0 ("agent-ctl-path") and control
 * queues, the guest's side played here, the host's through the control
 * fd (read, write, poll; nonblocking). The guest speaks virtio-console's
 * control protocol: DEVICE_READY, PORT_READY for the ports the device
 * adds, PORT_OPEN for port 0 once the device opened it (and closes and
 * opens it again now and then), plus messages the device must ignore.
 * Checked:
 *   - the device adds ports 0..nports, names them "agent-ctl-path" and
 *     "trace-path-cpu<k-1>", opens each one the guest says is ready;
 *   - the guest's bytes reach read() once, in order, none lost: through
 *     device resets too (what the device took stays readable; what it
 *     had not taken the guest writes again);
 *   - write()'s bytes reach the guest's buffers once and in order; only
 *     a device reset drops them (what the guest had not got then);
 *   - POLLIN means read() has bytes; at a quiescent point everything
 *     posted and written has arrived (nothing waits without a reason).
 * Its rings and buffers live in the map's ring range, which the unbatched
 * remaps never take away (vt_fuzz_vdpa.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_console.h>

#include "vt_fuzz.h"

#define P0_NUM		16
#define P0_BUF		2048
#define CMSG		64	/* a control message with a name */

enum { Q_RX, Q_TX, Q_CRX, Q_CTX, NQ };

static struct vt_vq q[NQ];
static uint8_t *bufs[NQ];	/* P0_NUM slots of each queue's size */
static const size_t slot[NQ] = { P0_BUF, P0_BUF, CMSG, CMSG };
static uint32_t tx_len[P0_NUM];	/* guest to host chains, by head */
static uint64_t g2h_post, g2h_used, g2h_read;	/* guest to host offsets */
static uint64_t h2g_written, h2g_got;		/* host to guest offsets */
static int opened;	/* the guest's PORT_OPEN 1 sent since the reset */
static int host_open;	/* the device opened port 0 */
static unsigned int added;	/* PORT_ADDs since the reset */
static uint64_t total_in, total_out;	/* all episodes: read, got */

static uint8_t g2h_pat(uint64_t off)
{
	return (uint8_t)(off * 11 + (off >> 9) + 3);
}

static uint8_t h2g_pat(uint64_t off)
{
	return (uint8_t)(off * 5 + (off >> 11) * 17 + 1);
}

void p0_init(void)
{
	int i;

	for (i = 0; i < NQ; i++) {
		if (vt_vq_init(&q[i], &dev.mem, P0_NUM, 0))
			fail("port 0 queue: %s", vt_error());
		q[i].index = i;
		bufs[i] = vt_mem_alloc(&dev.mem, P0_NUM * slot[i], 64);
		if (!bufs[i])
			fail("port 0 memory");
	}
}

static uint8_t *slot_of(int i, int head)
{
	return bufs[i] + (size_t)head * slot[i];
}

/* A message on the control queue to the device; 0 when it is full. */
static int cmsg(uint32_t id, uint16_t event, uint16_t value, uint32_t len)
{
	struct virtio_console_control m = { id, event, value };
	struct vt_seg s;
	int head = q[Q_CTX].free_head;

	if (!q[Q_CTX].nfree)
		return 0;
	memcpy(slot_of(Q_CTX, head), &m, sizeof(m));
	s.addr = slot_of(Q_CTX, head);
	s.len = len;
	s.flags = 0;
	if (vt_vq_add(&q[Q_CTX], &s, 1, NULL) < 0)
		fail("port 0: control message not posted");
	vt_vq_kick_always(&q[Q_CTX]);
	return 1;
}

/* Writable buffers for the device, on queue i, as many as fit. */
static void post_rx(int i)
{
	struct vt_seg s = { .flags = VRING_DESC_F_WRITE };

	while (q[i].nfree) {
		int head = q[i].free_head;

		s.addr = slot_of(i, head);
		s.len = i == Q_RX ? 1 + rn2(P0_BUF) : CMSG;
		memset(slot_of(i, head), 0xee, slot[i]);
		if (vt_vq_add(&q[i], &s, 1, slot_of(i, head)) < 0)
			fail("port 0: buffer not posted");
	}
	vt_vq_kick_always(&q[i]);
}

/* Set up again after a reset, before DRIVER_OK: rings, eventfds, ready. */
void p0_setup(void)
{
	struct vhost_vring_state s = { .num = 1 };
	int i;

	for (i = 0; i < NQ; i++) {
		vt_vq_reset(&q[i]);
		if (vt_dev_set_vring(&dev, &q[i]))
			fail("port 0 vring: %s", vt_error());
		s.index = i;
		if (ioctl(dev.fd, VHOST_VDPA_SET_VRING_ENABLE, &s))
			fail("port 0: SET_VRING_ENABLE %d: %s", i,
			     strerror(errno));
	}
	opened = host_open = 0;
	added = 0;
}

/* After DRIVER_OK: the guest's driver starts talking. */
void p0_start(void)
{
	post_rx(Q_CRX);
	post_rx(Q_RX);
	cmsg(0, VIRTIO_CONSOLE_DEVICE_READY, 1,
	     sizeof(struct virtio_console_control));
}

/* A message from the device. */
static void from_device(const uint8_t *b, uint32_t len)
{
	struct virtio_console_control m;
	char want[32];

	if (len < sizeof(m))
		fail("port 0: control message of %u bytes", len);
	memcpy(&m, b, sizeof(m));
	if (m.id > nports)
		fail("port 0: control message for port %u of %u", m.id,
		     nports + 1);
	switch (m.event) {
	case VIRTIO_CONSOLE_PORT_ADD:
		added++;
		/* the guest says most ports are ready, port 0 always */
		if (!m.id || chance2(70))
			cmsg(m.id, VIRTIO_CONSOLE_PORT_READY, 1, sizeof(m));
		break;
	case VIRTIO_CONSOLE_PORT_NAME:
		if (m.id)
			snprintf(want, sizeof(want), "trace-path-cpu%u",
				 m.id - 1);
		else
			snprintf(want, sizeof(want), "agent-ctl-path");
		if (len != sizeof(m) + strlen(want) + 1 ||
		    strcmp((const char *)b + sizeof(m), want))
			fail("port 0: port %u named \"%.*s\", not %s", m.id,
			     (int)(len - sizeof(m)), b + sizeof(m), want);
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (!m.id && m.value == 1) {
			host_open = 1;
			if (!opened)
				opened = cmsg(0, VIRTIO_CONSOLE_PORT_OPEN, 1,
					      sizeof(m));
		}
		break;
	default:
		fail("port 0: control event %u from the device", m.event);
	}
}

/* The host reads port 0: the guest's bytes, in order. */
static void host_read(size_t max)
{
	uint8_t b[8192];
	ssize_t n;
	size_t i;

	if (max > sizeof(b))
		max = sizeof(b);
	n = read(dev.ctl, b, max);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n < 0)
		fail("port 0 read: %s", strerror(errno));
	for (i = 0; i < (size_t)n; i++)
		if (b[i] != g2h_pat(g2h_read + i))
			fail("port 0: byte %" PRIu64 " from the guest wrong",
			     g2h_read + i);
	g2h_read += n;
	if (g2h_read > g2h_post)
		fail("port 0: %" PRIu64 " bytes read, the guest wrote %"
		     PRIu64, g2h_read, g2h_post);
}

/* Used entries of all four queues. */
void p0_pump(void)
{
	void *tok[P0_NUM];
	uint32_t len[P0_NUM];
	unsigned int n, k;
	uint32_t j;

	n = vt_vq_reap(&q[Q_CRX], tok, len, P0_NUM);
	for (k = 0; k < n; k++)
		from_device(tok[k], len[k]);
	if (n)
		post_rx(Q_CRX);
	vt_vq_reap(&q[Q_CTX], tok, len, P0_NUM);
	n = vt_vq_reap(&q[Q_TX], tok, len, P0_NUM);
	for (k = 0; k < n; k++)
		g2h_used += *(uint32_t *)tok[k];
	n = vt_vq_reap(&q[Q_RX], tok, len, P0_NUM);
	for (k = 0; k < n; k++) {
		for (j = 0; j < len[k]; j++)
			if (((uint8_t *)tok[k])[j] != h2g_pat(h2g_got + j))
				fail("port 0: byte %" PRIu64 " to the guest "
				     "wrong", h2g_got + j);
		h2g_got += len[k];
		if (h2g_got > h2g_written)
			fail("port 0: the guest got %" PRIu64 " bytes, %"
			     PRIu64 " written", h2g_got, h2g_written);
	}
	if (n)
		post_rx(Q_RX);
}

/*
 * The device was reset: what it took from the guest stays readable, the
 * rest the guest writes again; what the guest did not get is gone.
 */
void p0_forget(void)
{
	p0_pump();
	g2h_post = g2h_used;
	h2g_written = h2g_got;
}

/* The guest writes a chain of 1..2 pieces to port 0. */
static void guest_write(void)
{
	int head = q[Q_TX].free_head;
	uint32_t len = 1 + rn2(P0_BUF), cut = rn2(len), i;
	uint8_t *b = slot_of(Q_TX, head);
	struct vt_seg s[2] = {
		{ b, cut ? cut : len, 0 }, { b + cut, len - cut, 0 }
	};

	if (!q[Q_TX].nfree || (cut && q[Q_TX].nfree < 2))
		return;
	for (i = 0; i < len; i++)
		b[i] = g2h_pat(g2h_post + i);
	tx_len[head] = len;
	if (vt_vq_add(&q[Q_TX], s, cut ? 2 : 1, &tx_len[head]) < 0)
		fail("port 0: chain not posted");
	g2h_post += len;
	vt_vq_kick_always(&q[Q_TX]);
}

static void host_write(void)
{
	uint8_t b[8192];
	size_t n = 1 + rn2(sizeof(b)), i;
	ssize_t r;

	for (i = 0; i < n; i++)
		b[i] = h2g_pat(h2g_written + i);
	r = write(dev.ctl, b, n);
	if (r < 0 && errno != EAGAIN)
		fail("port 0 write: %s", strerror(errno));
	if (r > 0)
		h2g_written += r;
}

void p0_step(void)
{
	struct pollfd pf = { .fd = dev.ctl, .events = POLLIN };
	uint64_t before;

	switch (rn2(8)) {
	case 0:
	case 1:
		guest_write();
		break;
	case 2:
	case 3:
		host_write();
		break;
	case 4:
		host_read(1 + rn2(8192));
		break;
	case 5:	/* the guest closes port 0, or opens it again */
		if (host_open && cmsg(0, VIRTIO_CONSOLE_PORT_OPEN, !opened,
				      sizeof(struct virtio_console_control)))
			opened = !opened;
		break;
	case 6:	/* what the device ignores */
		cmsg(rn2(2) ? nports + 1 + rn2(100) : rn2(nports + 1),
		     8 + rn2(100), rn2(3), chance2(30) ? rn2(8) :
		     sizeof(struct virtio_console_control));
		break;
	default:
		if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN)) {
			before = g2h_read;
			host_read(8192);
			if (g2h_read == before)
				fail("port 0: POLLIN, read() has nothing");
		}
		break;
	}
	p0_pump();
}

/* A quiescent point: every byte both ways arrived. */
void p0_drain(void)
{
	int64_t end = vt_now_ms() + 10000;
	int i;

	while (g2h_read < g2h_post || g2h_used < g2h_post ||
	       (opened && h2g_got < h2g_written) || !opened) {
		for (i = 0; i < NQ; i++)
			vt_vq_kick_always(&q[i]);
		if (!opened && host_open)
			opened = cmsg(0, VIRTIO_CONSOLE_PORT_OPEN, 1,
				      sizeof(struct virtio_console_control));
		host_read(8192);
		p0_pump();
		if (vt_now_ms() > end)
			fail("port 0 waits without a reason: guest wrote %"
			     PRIu64 ", device took %" PRIu64 ", read %" PRIu64
			     "; written %" PRIu64 ", the guest got %" PRIu64
			     "; ports added %u, opened by the device %d, by "
			     "the guest %d", g2h_post, g2h_used, g2h_read,
			     h2g_written, h2g_got, added, host_open, opened);
		usleep(1000);
	}
}

/* The device is gone: what it took stays readable, then EOF. */
void p0_released(void)
{
	uint64_t before;

	p0_pump();
	do {
		before = g2h_read;
		host_read(8192);
	} while (g2h_read != before);
	if (g2h_read != g2h_used)
		fail("port 0, device deleted: %" PRIu64 " bytes read, the "
		     "device took %" PRIu64, g2h_read, g2h_used);
}

void p0_close(void)
{
	int i;

	for (i = 0; i < NQ; i++)
		vt_vq_close(&q[i]);
	total_in += g2h_read;
	total_out += h2g_got;
	g2h_post = g2h_used = g2h_read = h2g_written = h2g_got = 0;
}

void p0_summary(void)
{
	printf("# vt_fuzz: vdpa: port 0 carried %" PRIu64 " bytes from the "
	       "guest, %" PRIu64 " to it\n", total_in, total_out);
}
