// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace selftests: a guest writer on one port (see vt_producer.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vt_pattern.h"
#include "vt_producer.h"

#define VT_MAX_SEG	8u
#define VT_REAP_BATCH	64u

int vt_prod_init(struct vt_producer *pr, struct vt_mem *m, struct vt_vq *vq,
		 unsigned int port, unsigned int nseg, bool indirect)
{
	unsigned int i;

	memset(pr, 0, sizeof(*pr));
	if (!nseg || nseg > VT_MAX_SEG || (nseg & (nseg - 1)))
		return -EINVAL;
	pr->vq = vq;
	pr->port = port;
	pr->nseg = nseg;
	pr->indirect = indirect;
	pr->fill = true;
	pr->pages = vt_mem_alloc(m, (size_t)vq->num * VT_PAGE, VT_PAGE);
	if (indirect)
		pr->tables = vt_mem_alloc(m, (size_t)vq->num * nseg *
					  sizeof(struct vring_desc), 16);
	pr->free = calloc(vq->num, sizeof(*pr->free));
	if (!pr->pages || (indirect && !pr->tables) || !pr->free)
		return -ENOMEM;
	for (i = 0; i < vq->num; i++)
		pr->free[i] = vq->num - 1 - i;
	pr->nfree = vq->num;
	return 0;
}

void vt_prod_free(struct vt_producer *pr)
{
	free(pr->free);
	pr->free = NULL;
}

void vt_prod_rewind(struct vt_producer *pr)
{
	unsigned int i;

	for (i = 0; i < pr->vq->num; i++)
		pr->free[i] = pr->vq->num - 1 - i;
	pr->nfree = pr->vq->num;
	pr->posted = pr->done;
}

/* Segment k of a page is stored at chunk (3k + 1) mod nseg. */
static unsigned int vt_chunk(struct vt_producer *pr, unsigned int k)
{
	return (3 * k + 1) & (pr->nseg - 1);
}

unsigned int vt_prod_post(struct vt_producer *pr)
{
	unsigned int words = VT_PAGE_WORDS / pr->nseg;
	unsigned int len = VT_PAGE / pr->nseg;
	struct vt_seg seg[VT_MAX_SEG];
	unsigned int n = 0, k;

	while (pr->posted < pr->total && pr->nfree) {
		unsigned int slot = pr->free[pr->nfree - 1];
		uint8_t *page = pr->pages + (size_t)slot * VT_PAGE;
		void *token = (void *)(uintptr_t)(slot + 1);
		int r;

		for (k = 0; k < pr->nseg; k++) {
			uint8_t *chunk = page + vt_chunk(pr, k) * len;

			if (pr->fill)
				vt_fill_words(chunk, pr->port, pr->posted,
					      k * words, words);
			seg[k].addr = chunk;
			seg[k].len = len;
			seg[k].flags = 0;
		}
		if (pr->indirect)
			r = vt_vq_add_indirect(pr->vq,
					       pr->tables + slot * pr->nseg,
					       seg, pr->nseg, token);
		else
			r = vt_vq_add(pr->vq, seg, pr->nseg, token);
		if (r < 0)
			break;
		pr->nfree--;
		pr->posted++;
		n++;
	}
	if (n)
		vt_vq_kick(pr->vq);
	return n;
}

unsigned int vt_prod_reap(struct vt_producer *pr)
{
	void *token[VT_REAP_BATCH];
	unsigned int n, k, mine = 0;

	do {
		n = vt_vq_reap(pr->vq, token, NULL, VT_REAP_BATCH);
		for (k = 0; k < n; k++) {
			uintptr_t t = (uintptr_t)token[k];

			if (!t || t > pr->vq->num) {
				pr->foreign++;
				continue;
			}
			pr->free[pr->nfree++] = t - 1;
			mine++;
		}
	} while (n == VT_REAP_BATCH);
	__atomic_store_n(&pr->done, pr->done + mine, __ATOMIC_RELEASE);
	return mine;
}

int vt_prod_run(struct vt_producer *pr, uint64_t total, int stall_ms)
{
	pr->total = total;
	while (pr->done < pr->total) {
		int64_t t0;
		int r;

		vt_prod_post(pr);
		if (vt_prod_reap(pr))
			continue;
		t0 = vt_now_ms();
		r = vt_vq_wait(pr->vq, stall_ms);
		if (vt_now_ms() - t0 > pr->max_wait_ms)
			pr->max_wait_ms = vt_now_ms() - t0;
		if (r == -ETIMEDOUT) {
			snprintf(pr->why, sizeof(pr->why),
				 "port %u: no buffer used for %d ms: %llu of %llu pages posted, %llu used, %u descriptors free of %u",
				 pr->port, stall_ms,
				 (unsigned long long)pr->posted,
				 (unsigned long long)pr->total,
				 (unsigned long long)pr->done,
				 pr->vq->nfree, pr->vq->num);
			return r;
		}
		if (r) {
			snprintf(pr->why, sizeof(pr->why), "port %u: %s",
				 pr->port, vt_error());
			return r;
		}
	}
	return 0;
}

static int prod_run(void *arg, int stall_ms)
{
	struct vt_producer *pr = arg;

	return vt_prod_run(pr, pr->total, stall_ms);
}

int vt_prod_stall(struct vt_producer *pr, int ctl, uint64_t total,
		  int stall_ms, int max_ms)
{
	struct vt_stall st = {
		.ctl = ctl, .port = pr->port, .why = VT_STALL_ANY,
		.stall_ms = stall_ms, .max_ms = max_ms,
		.run = prod_run, .arg = pr, .done = &pr->done,
	};

	pr->total = total;
	return vt_run_until_stalled(&st);
}

static void *vt_prod_main(void *arg)
{
	struct vt_producer *pr = arg;

	pr->result = vt_prod_run(pr, pr->total, pr->stall_ms);
	return NULL;
}

int vt_prod_start(struct vt_producer *pr, uint64_t total, int stall_ms)
{
	int err;

	pr->total = total;
	pr->stall_ms = stall_ms;
	err = pthread_create(&pr->th, NULL, vt_prod_main, pr);
	if (err)
		return -err;
	pr->started = true;
	return 0;
}

int vt_prod_join(struct vt_producer *pr)
{
	if (!pr->started)
		return -EINVAL;
	pthread_join(pr->th, NULL);
	pr->started = false;
	return pr->result;
}

uint64_t vt_prod_done(struct vt_producer *pr)
{
	return __atomic_load_n(&pr->done, __ATOMIC_ACQUIRE);
}
