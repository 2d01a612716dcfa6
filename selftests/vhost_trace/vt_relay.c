// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace benchmark: a userspace relay on the guest's ring (see
 * vt_relay.h). Guest addresses are identity mapped, so a descriptor's
 * address is a pointer in this process.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vt_relay.h"

static inline uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static int relay_write(struct vt_relay *r, const struct vring_desc *d)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)d->addr;
	uint32_t len = d->len;

	while (len) {
		ssize_t n = write(r->sink, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
		r->bytes += n;
	}
	return 0;
}

/* Write one chain, direct or indirect, segment by segment. */
static int relay_chain(struct vt_relay *r, uint16_t head)
{
	struct vt_vq *q = r->vq;
	const struct vring_desc *tab = q->desc, *d;
	unsigned int i = head, n = q->num, k;
	int err;

	for (k = 0; k < n; k++) {
		d = &tab[i];
		if (d->flags & VRING_DESC_F_INDIRECT) {
			tab = (const struct vring_desc *)(uintptr_t)d->addr;
			n = d->len / sizeof(*d);
			i = 0;
			k = -1;
			continue;
		}
		err = relay_write(r, d);
		if (err)
			return err;
		if (!(d->flags & VRING_DESC_F_NEXT))
			return 0;
		i = d->next;
	}
	return -EINVAL;
}

static void relay_notify(struct vt_relay *r, bool on)
{
	struct vt_vq *q = r->vq;

	if (q->event_idx) {
		if (on)
			store16((uint16_t *)&q->used->ring[q->num],
				r->last_avail);
	} else {
		store16(&q->used->flags, on ? 0 : VRING_USED_F_NO_NOTIFY);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void relay_signal(struct vt_relay *r)
{
	struct vt_vq *q = r->vq;
	uint64_t one = 1;
	bool need;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx)
		need = vring_need_event(load16(&q->avail->ring[q->num]),
					r->used_idx, r->signalled);
	else
		need = !(load16(&q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	r->signalled = r->used_idx;
	if (need && write(q->call, &one, sizeof(one)) == sizeof(one))
		r->signals++;
}

static void *relay_main(void *arg)
{
	struct vt_relay *r = arg;
	struct vt_vq *q = r->vq;
	struct pollfd pfd = { .fd = q->kick, .events = POLLIN };
	uint64_t v;

	r->tid = syscall(SYS_gettid);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		bool did = false;

		relay_notify(r, false);
		while (load16(&q->avail->idx) != r->last_avail) {
			uint16_t head;
			struct vring_used_elem *e;

			head = q->avail->ring[r->last_avail & (q->num - 1)];
			r->last_avail++;
			r->err = -relay_chain(r, head);
			if (r->err)
				return NULL;
			e = &q->used->ring[r->used_idx & (q->num - 1)];
			e->id = head;
			e->len = 0;
			store16(&q->used->idx, ++r->used_idx);
			r->buffers++;
			did = true;
		}
		if (did)
			relay_signal(r);
		relay_notify(r, true);
		if (load16(&q->avail->idx) != r->last_avail)
			continue;
		if (poll(&pfd, 1, 100) > 0 && read(q->kick, &v, sizeof(v)) < 0)
			continue;
	}
	return NULL;
}

int vt_relay_start(struct vt_relay *r, struct vt_vq *vq, int sink)
{
	memset(r, 0, sizeof(*r));
	r->vq = vq;
	r->sink = sink;
	return -pthread_create(&r->th, NULL, relay_main, r);
}

int vt_relay_stop(struct vt_relay *r)
{
	uint64_t one = 1;

	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	if (write(r->vq->kick, &one, sizeof(one)) < 0)
		return -errno;
	pthread_join(r->th, NULL);
	return -r->err;
}
