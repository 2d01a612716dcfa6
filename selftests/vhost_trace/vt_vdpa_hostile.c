// SPDX-License-Identifier: GPL-2.0
/*
 * vt_vdpa_hostile: a hostile userspace driver of a vhost-trace vDPA device
 * through /dev/vhost-vdpa-N (vhost_vdpa, use_va: the device reads this
 * process's memory through its mm). Trace port 0's guest-to-host queue
 * (virtio queue 5) gets malformed chains; the port's statistics (through a
 * control fd of the device) must count each exactly:
 *   - unmappable (queue_errors + 1, BROKEN, not returned): an address out
 *     of the map, a loop, a head out of the ring, an avail index moved by
 *     more than the ring, an indirect table of a bad length, out of the
 *     map, or nested, a readable descriptor after a writable one, a
 *     buffer in memory mapped write-only;
 *   - refused (bad_buffers + 1, returned with length 0, the port goes on):
 *     writable only, zero length, writable after readable, longer than
 *     VHOST_TRACE_MAX_BUFFER;
 *   - good buffers between them reach the sink (bytes, buffers).
 *
 *   vt_vdpa_hostile /dev/vhost-vdpa-N NAME SINKFILE
 * TAP output; exit status 0 when every case passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/vhost_trace.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "vt_vdpa_lib.h"

#define NUM		16
#define QUEUE		5		/* trace port 0, guest to host */
#define IOVA		0x100000ULL	/* the map: IOVA .. IOVA + MAPSZ */
#define MAPSZ		(4ULL << 20)
#define WO_IOVA		0x800000ULL	/* mapped write-only */
#define WO_SZ		0x10000ULL
#define OUT_IOVA	0x2000000ULL	/* never mapped */
#define DESC_OFF	0x0
#define AVAIL_OFF	0x1000
#define USED_OFF	0x2000
#define IND_OFF		0x3000
#define DATA_OFF	0x10000

static int vfd, ctl, kick, failed, tests;
static uint8_t *mem, *wo_mem;
static struct vring_desc *desc;
static struct vring_avail *avail;
static struct vring_used *used;
static uint16_t avail_idx;

static void die(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

static void iotlb(uint64_t iova, uint64_t size, void *uaddr, uint8_t perm)
{
	errno = -vt_vdpa_iotlb(vfd, VHOST_IOTLB_UPDATE, iova, size, uaddr,
			       perm);
	if (errno)
		die("VHOST_IOTLB_UPDATE");
}

static void set_status(uint8_t s)
{
	errno = -vt_vdpa_set_status(vfd, s);
	if (errno)
		die("VHOST_VDPA_SET_STATUS");
}

/* A fresh start of the queue: reset, rings zeroed, DRIVER_OK. */
static void start(void)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_F_ACCESS_PLATFORM) |
		     (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << 1);
	struct vhost_vring_state s = { .index = QUEUE };
	struct vhost_vring_addr a = { .index = QUEUE };
	struct vhost_vring_file k = { .index = QUEUE, .fd = kick };

	set_status(0);
	memset(mem, 0, DATA_OFF);
	avail_idx = 0;
	if (ioctl(vfd, VHOST_SET_FEATURES, &f))
		die("VHOST_SET_FEATURES");
	s.num = NUM;
	if (ioctl(vfd, VHOST_SET_VRING_NUM, &s))
		die("VHOST_SET_VRING_NUM");
	s.num = 0;
	if (ioctl(vfd, VHOST_SET_VRING_BASE, &s))
		die("VHOST_SET_VRING_BASE");
	a.desc_user_addr = IOVA + DESC_OFF;
	a.avail_user_addr = IOVA + AVAIL_OFF;
	a.used_user_addr = IOVA + USED_OFF;
	if (ioctl(vfd, VHOST_SET_VRING_ADDR, &a))
		die("VHOST_SET_VRING_ADDR");
	if (ioctl(vfd, VHOST_SET_VRING_KICK, &k))
		die("VHOST_SET_VRING_KICK");
	s.num = 1;
	if (ioctl(vfd, VHOST_VDPA_SET_VRING_ENABLE, &s))
		die("VHOST_VDPA_SET_VRING_ENABLE");
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void post(uint16_t head, uint16_t by)
{
	uint64_t one = 1;

	avail->ring[avail_idx % NUM] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail_idx += by;
	avail->idx = avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(kick, &one, sizeof(one)) != sizeof(one))
		die("kick");
}

static void set_desc(int i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	desc[i].addr = addr;
	desc[i].len = len;
	desc[i].flags = flags;
	desc[i].next = next;
}

static struct vhost_trace_stats stats(void)
{
	struct vhost_trace_stats st = { .port = 0 };

	if (ioctl(ctl, VHOST_TRACE_GET_STATS, &st))
		die("VHOST_TRACE_GET_STATS");
	return st;
}

/* Wait for used->idx to reach want (or 1.5 s); its value. */
static uint16_t used_wait(uint16_t want)
{
	int i;

	for (i = 0; i < 150 && *(volatile uint16_t *)&used->idx != want; i++)
		usleep(10000);
	return *(volatile uint16_t *)&used->idx;
}

static void result(int ok, const char *name)
{
	tests++;
	if (!ok)
		failed = 1;
	printf("%sok %d - %s\n", ok ? "" : "not ", tests, name);
}

/* A good page: returned, written to the sink. */
static void good(const char *after)
{
	struct vhost_trace_stats a = stats(), b;
	uint16_t u = used->idx;
	char name[128];

	memset(mem + DATA_OFF, 'A' + tests % 26, 4096);
	set_desc(0, IOVA + DATA_OFF, 4096, 0, 0);
	post(0, 1);
	used_wait(u + 1);
	usleep(20000);
	b = stats();
	snprintf(name, sizeof(name), "good page after %s: written", after);
	result(used->idx == (uint16_t)(u + 1) && b.bytes == a.bytes + 4096 &&
	       b.buffers == a.buffers + 1, name);
}

/* The chain at head is refused: returned with length 0, counted. */
static void bad(const char *name, uint16_t head)
{
	struct vhost_trace_stats a = stats(), b;
	uint16_t u = used->idx;

	post(head, 1);
	used_wait(u + 1);
	usleep(20000);
	b = stats();
	result(used->idx == (uint16_t)(u + 1) &&
	       used->ring[u % NUM].len == 0 &&
	       b.bad_buffers == a.bad_buffers + 1 && b.bytes == a.bytes &&
	       b.queue_errors == a.queue_errors && !(b.flags & VHOST_TRACE_STATS_BROKEN),
	       name);
	good(name);
}

/* The chain cannot be mapped: not returned, counted, the queue stops. */
static void broken(const char *name, uint16_t head, uint16_t by)
{
	struct vhost_trace_stats a = stats(), b;
	uint16_t u = used->idx;
	int i;

	post(head, by);
	for (i = 0; i < 150; i++) {
		b = stats();
		if (b.queue_errors != a.queue_errors)
			break;
		usleep(10000);
	}
	usleep(50000);
	b = stats();
	result(used->idx == u && b.queue_errors == a.queue_errors + 1 &&
	       b.bad_buffers == a.bad_buffers && b.bytes == a.bytes &&
	       (b.flags & VHOST_TRACE_STATS_BROKEN), name);
	start();
	good(name);
}

int main(int argc, char **argv)
{
	uint64_t bf = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
		      (1ULL << VHOST_BACKEND_F_IOTLB_PERSIST);
	struct vhost_trace_vdpa req = { 0 };
	struct vhost_trace_sink sk = { .port = 0 };
	struct vring_desc *ind;
	int vt, memfd;

	if (argc != 4) {
		fprintf(stderr, "usage: vt_vdpa_hostile /dev/vhost-vdpa-N NAME SINKFILE\n");
		return 2;
	}
	printf("TAP version 13\n1..34\n");
	vfd = open(argv[1], O_RDWR);
	if (vfd < 0)
		die(argv[1]);
	vt = open("/dev/vhost-trace", O_RDWR);
	if (vt < 0)
		die("/dev/vhost-trace");
	snprintf(req.name, sizeof(req.name), "%s", argv[2]);
	ctl = ioctl(vt, VHOST_TRACE_VDPA_CTL, &req);
	if (ctl < 0)
		die("VHOST_TRACE_VDPA_CTL");
	sk.fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (sk.fd < 0 || ioctl(ctl, VHOST_TRACE_SET_SINK, &sk))
		die("VHOST_TRACE_SET_SINK");

	/* vhost_vdpa maps (use_va) shared file-backed memory only */
	memfd = memfd_create("vt_vdpa_hostile", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, MAPSZ + WO_SZ))
		die("memfd");
	mem = mmap(NULL, MAPSZ, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	wo_mem = mmap(NULL, WO_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
		      MAPSZ);
	if (mem == MAP_FAILED || wo_mem == MAP_FAILED)
		die("mmap");
	desc = (void *)(mem + DESC_OFF);
	avail = (void *)(mem + AVAIL_OFF);
	used = (void *)(mem + USED_OFF);
	ind = (void *)(mem + IND_OFF);

	if (ioctl(vfd, VHOST_SET_OWNER))
		die("VHOST_SET_OWNER");
	if (ioctl(vfd, VHOST_SET_BACKEND_FEATURES, &bf))
		die("VHOST_SET_BACKEND_FEATURES");
	iotlb(IOVA, MAPSZ, mem, VHOST_ACCESS_RW);
	iotlb(WO_IOVA, WO_SZ, wo_mem, VHOST_ACCESS_WO);
	kick = eventfd(0, EFD_CLOEXEC);
	if (kick < 0)
		die("eventfd");
	start();

	good("the start");
	result(ioctl(vt, VHOST_TRACE_VDPA_DEL, &req) < 0 && errno == EBUSY,
	       "VHOST_TRACE_VDPA_DEL while vhost_vdpa has an mm bound: EBUSY");

	/* refused: returned, counted in bad_buffers */
	set_desc(1, IOVA + DATA_OFF, 4096, VRING_DESC_F_WRITE, 0);
	bad("writable only: refused", 1);
	set_desc(1, IOVA + DATA_OFF, 0, 0, 0);
	bad("zero length: refused", 1);
	set_desc(1, IOVA + DATA_OFF, 2048, VRING_DESC_F_NEXT, 2);
	set_desc(2, IOVA + DATA_OFF + 2048, 2048, VRING_DESC_F_WRITE, 0);
	bad("writable after readable: refused", 1);
	set_desc(1, IOVA + DATA_OFF, 256 * 1024 + 1, 0, 0);
	bad("longer than VHOST_TRACE_MAX_BUFFER: refused", 1);

	/* unmappable: the queue stops until a reset */
	set_desc(1, OUT_IOVA, 4096, 0, 0);
	broken("address out of the map: queue error", 1, 1);
	set_desc(1, IOVA + MAPSZ - 2048, 4096, 0, 0);
	broken("buffer running off the map's end: queue error", 1, 1);
	set_desc(1, WO_IOVA, 4096, 0, 0);
	broken("readable buffer in write-only memory: queue error", 1, 1);
	set_desc(1, IOVA + DATA_OFF, 100, VRING_DESC_F_NEXT, 2);
	set_desc(2, IOVA + DATA_OFF, 100, VRING_DESC_F_NEXT, 1);
	broken("loop: queue error", 1, 1);
	broken("head out of the ring: queue error", NUM + 3, 1);
	set_desc(1, IOVA + DATA_OFF, 100, 0, 0);
	broken("avail index moved by more than the ring: queue error", 1,
	       NUM + 1);
	set_desc(1, IOVA + DATA_OFF, 100, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(2, IOVA + DATA_OFF, 100, 0, 0);
	broken("readable after writable: queue error", 1, 1);
	set_desc(1, IOVA + IND_OFF, 24, VRING_DESC_F_INDIRECT, 0);
	broken("indirect table of a bad length: queue error", 1, 1);
	set_desc(1, OUT_IOVA, 32, VRING_DESC_F_INDIRECT, 0);
	broken("indirect table out of the map: queue error", 1, 1);
	set_desc(1, IOVA + IND_OFF, 32, VRING_DESC_F_INDIRECT, 0);
	ind[0] = (struct vring_desc){ IOVA + IND_OFF, 32, VRING_DESC_F_INDIRECT, 0 };
	broken("nested indirect table: queue error", 1, 1);
	set_desc(1, IOVA + IND_OFF, 32, VRING_DESC_F_INDIRECT, 0);
	ind[0] = (struct vring_desc){ IOVA + DATA_OFF, 100, VRING_DESC_F_NEXT, 1 };
	ind[1] = (struct vring_desc){ IOVA + DATA_OFF, 100, VRING_DESC_F_NEXT, 0 };
	broken("loop inside an indirect table: queue error", 1, 1);

	/* a good indirect chain of two pieces */
	{
		struct vhost_trace_stats a = stats(), b;
		uint16_t u = used->idx;

		set_desc(1, IOVA + IND_OFF, 32, VRING_DESC_F_INDIRECT, 0);
		ind[0] = (struct vring_desc){ IOVA + DATA_OFF, 1000, VRING_DESC_F_NEXT, 1 };
		ind[1] = (struct vring_desc){ IOVA + DATA_OFF + 1000, 3096, 0, 0 };
		post(1, 1);
		used_wait(u + 1);
		usleep(20000);
		b = stats();
		result(b.bytes == a.bytes + 4096 && b.buffers == a.buffers + 1 &&
		       used->idx == (uint16_t)(u + 1),
		       "indirect chain of two pieces: written");
	}
	printf("# totals: bad_buffers %llu queue_errors %llu buffers %llu\n",
	       (unsigned long long)stats().bad_buffers,
	       (unsigned long long)stats().queue_errors,
	       (unsigned long long)stats().buffers);
	result(stats().bad_buffers == 4 && stats().queue_errors == 11,
	       "totals: 4 bad buffers, 11 queue errors");
	set_status(0);
	close(vfd);
	return failed;
}
