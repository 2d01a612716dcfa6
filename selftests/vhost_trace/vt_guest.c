// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace selftests: the guest's side of the device (see vt_guest.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/vhost.h>

#include "vt_guest.h"

static __thread char vt_errbuf[256];

const char *vt_error(void)
{
	return vt_errbuf;
}

/* Record what failed; returns -errno of the failure. */
static int vt_fail(const char *fmt, ...)
{
	int err = errno ? errno : EIO;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vt_errbuf, sizeof(vt_errbuf), fmt, ap);
	va_end(ap);
	n = strlen(vt_errbuf);
	snprintf(vt_errbuf + n, sizeof(vt_errbuf) - n, ": %s", strerror(err));
	return -err;
}

void vt_ignore_sigpipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}

int vt_mem_init(struct vt_mem *m, size_t size)
{
	m->used = 0;
	m->size = size;
	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		return vt_fail("mmap %zu bytes", size);
	}
	return 0;
}

int vt_mem_init_shared(struct vt_mem *m, size_t size)
{
	int fd = memfd_create("vt_mem", MFD_CLOEXEC);

	m->used = 0;
	m->size = size;
	m->base = NULL;
	if (fd < 0 || ftruncate(fd, size)) {
		if (fd >= 0)
			close(fd);
		return vt_fail("memfd of %zu bytes", size);
	}
	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, 0);
	close(fd);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		return vt_fail("mmap %zu bytes", size);
	}
	return 0;
}

void vt_mem_free(struct vt_mem *m)
{
	if (m->base)
		munmap(m->base, m->size);
	m->base = NULL;
}

void *vt_mem_alloc(struct vt_mem *m, size_t size, size_t align)
{
	size_t off = (m->used + align - 1) & ~(align - 1);

	if (off > m->size || size > m->size - off)
		return NULL;
	m->used = off + size;
	memset(m->base + off, 0, size);
	return m->base + off;
}

static inline uint16_t vt_load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void vt_store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void vt_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* used_event lives after the avail ring, avail_event after the used ring. */
static inline uint16_t *vt_used_event(struct vt_vq *q)
{
	return &q->avail->ring[q->num];
}

static inline uint16_t *vt_avail_event(struct vt_vq *q)
{
	return (uint16_t *)&q->used->ring[q->num];
}

int vt_vq_init(struct vt_vq *q, struct vt_mem *m, unsigned int num,
	       bool event_idx)
{
	unsigned int i;

	memset(q, 0, sizeof(*q));
	q->kick = q->call = q->err = -1;
	q->num = num;
	q->event_idx = event_idx;
	q->desc = vt_mem_alloc(m, num * sizeof(*q->desc), 16);
	q->avail = vt_mem_alloc(m, 6 + 2 * num, 64);
	q->used = vt_mem_alloc(m, 6 + 8 * num, 4096);
	if (!q->desc || !q->avail || !q->used) {
		errno = ENOMEM;
		return vt_fail("rings of %u entries", num);
	}
	q->token = calloc(num, sizeof(*q->token));
	if (!q->token)
		return vt_fail("tokens");
	for (i = 0; i < num; i++)
		q->desc[i].next = i + 1;
	q->nfree = num;
	q->free_head = 0;
	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick < 0 || q->call < 0 || q->err < 0)
		return vt_fail("eventfd");
	return 0;
}

void vt_vq_close(struct vt_vq *q)
{
	if (q->kick >= 0)
		close(q->kick);
	if (q->call >= 0)
		close(q->call);
	if (q->err >= 0)
		close(q->err);
	q->kick = q->call = q->err = -1;
	free(q->token);
	q->token = NULL;
}

void vt_vq_reset(struct vt_vq *q)
{
	unsigned int i;
	uint64_t v;

	memset(q->desc, 0, q->num * sizeof(*q->desc));
	memset(q->avail, 0, 6 + 2 * q->num);
	memset(q->used, 0, 6 + 8 * q->num);
	memset(q->token, 0, q->num * sizeof(*q->token));
	for (i = 0; i < q->num; i++)
		q->desc[i].next = i + 1;
	q->nfree = q->num;
	q->free_head = 0;
	q->avail_idx = q->kicked_idx = q->last_used = 0;
	while (read(q->call, &v, sizeof(v)) > 0)
		;
	while (read(q->err, &v, sizeof(v)) > 0)
		;
}

int vt_vq_get_desc(struct vt_vq *q)
{
	int i;

	if (!q->nfree)
		return -ENOSPC;
	i = q->free_head;
	q->free_head = q->desc[i].next;
	q->nfree--;
	return i;
}

void vt_vq_publish(struct vt_vq *q, uint16_t head, void *token)
{
	q->avail->ring[q->avail_idx & (q->num - 1)] = head;
	if (head < q->num)
		q->token[head] = token;
	q->avail_idx++;
	vt_store16(&q->avail->idx, q->avail_idx);
}

static void vt_desc_set(struct vring_desc *d, const struct vt_seg *seg)
{
	d->addr = (uintptr_t)seg->addr;
	d->len = seg->len;
	d->flags = seg->flags;
}

int vt_vq_add(struct vt_vq *q, const struct vt_seg *seg, unsigned int nseg,
	      void *token)
{
	unsigned int k;
	uint16_t head, i;

	if (!nseg || nseg > q->nfree)
		return -ENOSPC;
	head = i = q->free_head;
	for (k = 0; k < nseg; k++) {
		vt_desc_set(&q->desc[i], &seg[k]);
		if (k + 1 < nseg) {
			q->desc[i].flags |= VRING_DESC_F_NEXT;
			i = q->desc[i].next;
		}
	}
	q->free_head = q->desc[i].next;
	q->nfree -= nseg;
	vt_vq_publish(q, head, token);
	return head;
}

int vt_vq_add_indirect(struct vt_vq *q, struct vring_desc *table,
		       const struct vt_seg *seg, unsigned int nseg,
		       void *token)
{
	unsigned int k;
	int head;

	for (k = 0; k < nseg; k++) {
		vt_desc_set(&table[k], &seg[k]);
		table[k].next = k + 1;
		if (k + 1 < nseg)
			table[k].flags |= VRING_DESC_F_NEXT;
	}
	head = vt_vq_get_desc(q);
	if (head < 0)
		return head;
	q->desc[head].addr = (uintptr_t)table;
	q->desc[head].len = nseg * sizeof(*table);
	q->desc[head].flags = VRING_DESC_F_INDIRECT;
	vt_vq_publish(q, head, token);
	return head;
}

int vt_vq_kick_always(struct vt_vq *q)
{
	uint64_t one = 1;

	q->kicked_idx = q->avail_idx;
	q->kicks++;
	if (write(q->kick, &one, sizeof(one)) != sizeof(one))
		return vt_fail("kick queue %u", q->index);
	return 0;
}

int vt_vq_kick(struct vt_vq *q)
{
	uint16_t old = q->kicked_idx, new = q->avail_idx;
	bool need;

	vt_mb();
	if (q->event_idx)
		need = vring_need_event(vt_load16(vt_avail_event(q)), new, old);
	else
		need = !(vt_load16(&q->used->flags) & VRING_USED_F_NO_NOTIFY);
	q->kicked_idx = new;
	if (!need)
		return 0;
	return vt_vq_kick_always(q);
}

unsigned int vt_vq_pending(struct vt_vq *q)
{
	return (uint16_t)(vt_load16(&q->used->idx) - q->last_used);
}

/* Give the descriptors of a returned chain back to the free list. */
static void vt_vq_free_chain(struct vt_vq *q, uint16_t head)
{
	unsigned int n = 1;
	uint16_t i = head;

	while ((q->desc[i].flags & VRING_DESC_F_NEXT) && n < q->num) {
		i = q->desc[i].next;
		n++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = head;
	q->nfree += n;
}

unsigned int vt_vq_reap(struct vt_vq *q, void **token, uint32_t *len,
			unsigned int max)
{
	unsigned int n = vt_vq_pending(q), k;

	if (n > max)
		n = max;
	for (k = 0; k < n; k++) {
		struct vring_used_elem *e;
		uint32_t id;

		e = &q->used->ring[q->last_used & (q->num - 1)];
		id = e->id;
		if (token)
			token[k] = id < q->num ? q->token[id] : NULL;
		if (len)
			len[k] = e->len;
		if (id < q->num)
			vt_vq_free_chain(q, id);
		q->last_used++;
	}
	return n;
}

long vt_read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

int vt_write_long(const char *path, long n)
{
	FILE *f = fopen(path, "w");
	int r;

	if (!f)
		return -errno;
	r = fprintf(f, "%ld\n", n) < 0 ? -EIO : 0;
	if (fclose(f) && !r)
		r = -errno;
	return r;
}

long vt_module_refcnt(void)
{
	return vt_read_long("/sys/module/vhost_trace/refcnt");
}

int64_t vt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int vt_vq_wait(struct vt_vq *q, int timeout_ms)
{
	int64_t end = vt_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = q->call, .events = POLLIN };
	uint64_t v;

	for (;;) {
		int left, r;

		/* ask for an interrupt, then look again */
		if (q->event_idx)
			vt_store16(vt_used_event(q), q->last_used);
		else
			vt_store16(&q->avail->flags, 0);
		vt_mb();
		if (vt_vq_pending(q))
			break;
		left = end - vt_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		q->waits++;
		r = poll(&pfd, 1, left);
		if (r < 0 && errno != EINTR)
			return vt_fail("poll call eventfd");
		if (r > 0 && read(q->call, &v, sizeof(v)) < 0 &&
		    errno != EAGAIN)
			return vt_fail("read call eventfd");
	}
	if (!q->event_idx)
		vt_store16(&q->avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	return 0;
}

unsigned int vt_vq_wait_used(struct vt_vq *q, unsigned int n, int ms)
{
	int64_t end = vt_now_ms() + ms;

	while (vt_vq_pending(q) < n && vt_now_ms() < end)
		vt_vq_wait(q, 50);
	return vt_vq_pending(q);
}

unsigned int vt_vq_poll_used(struct vt_vq *q, unsigned int n, int ms)
{
	int64_t end = vt_now_ms() + ms;

	while (vt_vq_pending(q) < n && vt_now_ms() < end)
		usleep(1000);
	return vt_vq_pending(q);
}

uint64_t vt_vq_calls(struct vt_vq *q)
{
	uint64_t v;

	return read(q->call, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

int vt_vq_call_within(struct vt_vq *q, int ms)
{
	struct pollfd pfd = { .fd = q->call, .events = POLLIN };
	int64_t t0 = vt_now_ms();

	if (poll(&pfd, 1, ms) != 1)
		return -1;
	return vt_now_ms() - t0;
}

unsigned int vt_vq_settle(struct vt_vq *q)
{
	usleep(100 * 1000);
	return vt_vq_pending(q);
}

int vt_dev_set_vring(struct vt_dev *d, struct vt_vq *q)
{
	struct vhost_vring_state s = { .index = q->index };
	struct vhost_vring_addr a = {
		.index = q->index,
		.desc_user_addr = (uintptr_t)q->desc,
		.avail_user_addr = (uintptr_t)q->avail,
		.used_user_addr = (uintptr_t)q->used,
	};
	struct vhost_vring_file f = { .index = q->index };

	s.num = q->num;
	if (ioctl(d->fd, VHOST_SET_VRING_NUM, &s))
		return vt_fail("VHOST_SET_VRING_NUM %u", q->index);
	s.num = 0;
	if (ioctl(d->fd, VHOST_SET_VRING_BASE, &s))
		return vt_fail("VHOST_SET_VRING_BASE %u", q->index);
	if (ioctl(d->fd, VHOST_SET_VRING_ADDR, &a))
		return vt_fail("VHOST_SET_VRING_ADDR %u", q->index);
	f.fd = q->kick;
	if (ioctl(d->fd, VHOST_SET_VRING_KICK, &f))
		return vt_fail("VHOST_SET_VRING_KICK %u", q->index);
	f.fd = q->call;
	if (ioctl(d->fd, VHOST_SET_VRING_CALL, &f))
		return vt_fail("VHOST_SET_VRING_CALL %u", q->index);
	f.fd = q->err;
	if (ioctl(d->fd, VHOST_SET_VRING_ERR, &f))
		return vt_fail("VHOST_SET_VRING_ERR %u", q->index);
	return 0;
}

static int vt_dev_set_mem(struct vt_dev *d)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r;
	} mt;

	memset(&mt, 0, sizeof(mt));
	mt.hdr.nregions = 1;
	mt.r.guest_phys_addr = (uintptr_t)d->mem.base;
	mt.r.memory_size = d->mem.size;
	mt.r.userspace_addr = (uintptr_t)d->mem.base;
	if (ioctl(d->fd, VHOST_SET_MEM_TABLE, &mt))
		return vt_fail("VHOST_SET_MEM_TABLE");
	return 0;
}

int vt_dev_open(struct vt_dev *d, unsigned int nports)
{
	memset(d, 0, sizeof(*d));
	d->fd = d->ctl = -1;
	d->nports = nports;
	d->fd = open(VT_DEV, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return vt_fail("open %s", VT_DEV);
	if (ioctl(d->fd, VHOST_TRACE_SET_PORTS, &nports))
		return vt_fail("VHOST_TRACE_SET_PORTS %u", nports);
	d->ctl = ioctl(d->fd, VHOST_TRACE_GET_CTL_FD);
	if (d->ctl < 0)
		return vt_fail("VHOST_TRACE_GET_CTL_FD");
	return 0;
}

int vt_dev_init(struct vt_dev *d, unsigned int num, uint64_t features,
		size_t mem_size)
{
	bool event_idx = features & VT_F_EVENT_IDX;
	unsigned int p, nports = d->nports;
	uint64_t have = 0;
	int r;

	d->features = features;
	if (ioctl(d->fd, VHOST_SET_OWNER))
		return vt_fail("VHOST_SET_OWNER");
	if (ioctl(d->fd, VHOST_GET_FEATURES, &have))
		return vt_fail("VHOST_GET_FEATURES");
	if ((have & features) != features) {
		errno = EOPNOTSUPP;
		return vt_fail("features %#llx of %#llx",
			       (unsigned long long)features,
			       (unsigned long long)have);
	}
	if (ioctl(d->fd, VHOST_SET_FEATURES, &features))
		return vt_fail("VHOST_SET_FEATURES");
	r = vt_mem_init(&d->mem, mem_size);
	if (r)
		return r;
	r = vt_dev_set_mem(d);
	if (r)
		return r;
	d->tx = calloc(nports, sizeof(*d->tx));
	d->rx = calloc(nports, sizeof(*d->rx));
	if (!d->tx || !d->rx)
		return vt_fail("queues");
	for (p = 0; p < nports; p++) {
		d->rx[p].kick = d->rx[p].call = d->rx[p].err = -1;
		d->tx[p].kick = d->tx[p].call = d->tx[p].err = -1;
	}
	for (p = 0; p < nports; p++) {
		r = vt_vq_init(&d->rx[p], &d->mem, VT_RX_NUM, event_idx);
		if (r)
			return r;
		d->rx[p].index = 2 * p;
		r = vt_dev_set_vring(d, &d->rx[p]);
		if (r)
			return r;
		r = vt_vq_init(&d->tx[p], &d->mem, num, event_idx);
		if (r)
			return r;
		d->tx[p].index = 2 * p + 1;
		r = vt_dev_set_vring(d, &d->tx[p]);
		if (r)
			return r;
	}
	return 0;
}

int vt_dev_setup(struct vt_dev *d, unsigned int nports, unsigned int num,
		 uint64_t features, size_t mem_size)
{
	int r = vt_dev_open(d, nports);

	return r ? r : vt_dev_init(d, num, features, mem_size);
}

int vt_dev_run(struct vt_dev *d, int on)
{
	if (ioctl(d->fd, VHOST_TRACE_SET_RUNNING, &on))
		return vt_fail("VHOST_TRACE_SET_RUNNING %d", on);
	return 0;
}

void vt_dev_close_fd(struct vt_dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

void vt_dev_close(struct vt_dev *d)
{
	unsigned int p;

	vt_dev_close_fd(d);
	if (d->ctl >= 0)
		close(d->ctl);
	d->ctl = -1;
	for (p = 0; d->tx && p < d->nports; p++) {
		vt_vq_close(&d->tx[p]);
		vt_vq_close(&d->rx[p]);
	}
	free(d->tx);
	free(d->rx);
	d->tx = d->rx = NULL;
	vt_mem_free(&d->mem);
}

int vt_set_sink(int ctl, unsigned int port, int fd, unsigned int policy)
{
	struct vhost_trace_sink s = {
		.port = port, .fd = fd, .policy = policy,
	};

	if (ioctl(ctl, VHOST_TRACE_SET_SINK, &s))
		return vt_fail("VHOST_TRACE_SET_SINK port %u fd %d", port, fd);
	return 0;
}

int vt_get_stats(int ctl, unsigned int port, struct vhost_trace_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->port = port;
	if (ioctl(ctl, VHOST_TRACE_GET_STATS, st))
		return vt_fail("VHOST_TRACE_GET_STATS port %u", port);
	return 0;
}

int vt_wait_stats(int ctl, unsigned int port, uint64_t count, int timeout_ms,
		  struct vhost_trace_stats *st)
{
	int64_t end = vt_now_ms() + timeout_ms;
	int r;

	for (;;) {
		r = vt_get_stats(ctl, port, st);
		if (r)
			return r;
		if (st->buffers + st->dropped_buffers + st->bad_buffers >= count)
			return 0;
		if (vt_now_ms() >= end)
			return -ETIMEDOUT;
		usleep(2000);
	}
}

/* The module gives one of the reasons in why for the port's stall. */
static bool stall_confirmed(const struct vt_stall *st)
{
	struct vhost_trace_stats s;

	/* stats that cannot be read confirm nothing: give up */
	if (vt_get_stats(st->ctl, st->port, &s))
		return true;
	return ((st->why & VT_STALL_WAITING) &&
		(s.flags & VHOST_TRACE_STATS_WAITING)) ||
	       ((st->why & VT_STALL_SINK_ERROR) && s.sink_errors) ||
	       ((st->why & VT_STALL_NO_SINK) &&
		!(s.flags & VHOST_TRACE_STATS_SINK));
}

int vt_run_until_stalled(const struct vt_stall *st)
{
	int64_t still = vt_now_ms();
	uint64_t done = *st->done;
	int r;

	for (;;) {
		r = st->run(st->arg, st->stall_ms);
		if (r != -ETIMEDOUT)
			return r;
		/* progress: the stall began at most stall_ms ago */
		if (*st->done != done) {
			done = *st->done;
			still = vt_now_ms() - st->stall_ms;
		}
		if (vt_now_ms() - still >= st->max_ms || stall_confirmed(st))
			return r;
	}
}

const char *vt_stats_str(const struct vhost_trace_stats *st, char *buf,
			 size_t len)
{
	snprintf(buf, len,
		 "port %u flags %#x%s%s%s%s%s bytes %llu buffers %llu dropped %llu/%llu stalls %llu sink_errors %llu bad %llu queue_errors %llu last_error %d ref %llu/%llu copied %llu pending %llu",
		 st->port, st->flags,
		 st->flags & VHOST_TRACE_STATS_SINK ? " SINK" : "",
		 st->flags & VHOST_TRACE_STATS_WAITING ? " WAITING" : "",
		 st->flags & VHOST_TRACE_STATS_RUNNING ? " RUNNING" : "",
		 st->flags & VHOST_TRACE_STATS_BROKEN ? " BROKEN" : "",
		 st->flags & VHOST_TRACE_STATS_RELEASED ? " RELEASED" : "",
		 (unsigned long long)st->bytes,
		 (unsigned long long)st->buffers,
		 (unsigned long long)st->dropped_bytes,
		 (unsigned long long)st->dropped_buffers,
		 (unsigned long long)st->stalls,
		 (unsigned long long)st->sink_errors,
		 (unsigned long long)st->bad_buffers,
		 (unsigned long long)st->queue_errors, st->last_error,
		 (unsigned long long)st->ref_bytes,
		 (unsigned long long)st->ref_buffers,
		 (unsigned long long)st->copied_bytes,
		 (unsigned long long)st->ref_pending);
	return buf;
}
