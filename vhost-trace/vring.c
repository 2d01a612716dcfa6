// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the vDPA device's split ring walker. Debian's kernels have
 * no vringh (CONFIG_VHOST_RING), so the module walks the rings itself,
 * with the rules the vhost core applies to a guest's rings:
 *   - every address (rings, descriptors, indirect tables, buffers) must be
 *     inside the driver's map with the needed access: readable for what
 *     the device reads, writable for the used ring and device-writable
 *     buffers;
 *   - the avail index may not move more than the ring size;
 *   - a head or next index out of the ring (or table), a chain with more
 *     descriptors than the ring (or table) holds, a nested indirect table,
 *     an indirect table whose length is not a multiple of a descriptor or
 *     holds more than VT_VDPA_MAX_SEGS, an indirect descriptor that also
 *     has NEXT (the virtio spec forbids it), a readable descriptor after a
 *     device-writable one of nonzero length, or more than VT_VDPA_MAX_SEGS
 *     pieces: the chain cannot be mapped (-EINVAL / -EFAULT / -E2BIG);
 *   - device-writable descriptors of length 0 map nothing and are ignored;
 *   - notification suppression (VIRTIO_RING_F_EVENT_IDX, or without it
 *     VRING_USED_F_NO_NOTIFY / VRING_AVAIL_F_NO_INTERRUPT): the fields are
 *     read and written through the same checked accessors as the rest of
 *     the ring (used_event after avail->ring[num], avail_event after
 *     used->ring[num]: inside the ring the queue size bounds); a value the
 *     driver puts there only decides whether it gets a kick request or an
 *     interrupt, never what the walker reads. avail_event is written only
 *     when the walker found the ring empty, and the avail index is read
 *     again after it (a buffer added meanwhile is served, not waited
 *     for); a field that cannot be read means an interrupt, one that
 *     cannot be written a queue error.
 *
 * Guest memory, by who drives the device:
 *   - vhost_vdpa (a userspace driver such as QEMU) binds its mm (use_va):
 *     the map turns an IOVA into a user address of that mm, read with
 *     copy_from_user in the worker, which runs with kthread_use_mm().
 *     Without a map nothing is reachable: nothing is pinned, and the driver
 *     reaches only its own memory.
 *   - virtio_vdpa (the host kernel's own virtio drivers): the DMA
 *     addresses of the host's memory, which are physical (the device has
 *     no IOMMU); pages reached with kmap_local_page.
 *   - anyone else (vhost_vdpa without a bound mm): nothing.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/virtio_ring.h>

#include "vdpa.h"

/* One piece of [iova, iova + len) with access perm: address, length. */
static int vt_xlate(struct vt_vdpa *vd, u64 iova, u64 len, u32 perm,
		    u64 *addr, u64 *plen)
{
	struct vhost_iotlb_map *map;
	u64 a, n = len;
	bool ok;

	if (vd->mm) {
		/* vhost_vdpa: user addresses of the bound mm, by the map */
		spin_lock(&vd->map_lock);
		map = vd->map_set ?
		      vhost_iotlb_itree_first(&vd->iotlb, iova, iova) : NULL;
		ok = map && (map->perm & perm) == perm;
		if (ok) {
			a = map->addr + (iova - map->start);
			if (map->last - iova < len - 1)
				n = map->last - iova + 1;
		}
		spin_unlock(&vd->map_lock);
		if (!ok)
			return -EFAULT;
		if (!access_ok(u64_to_user_ptr(a), n))
			return -EFAULT;
	} else {
		/* virtio_vdpa (the worker checked): physical addresses */
		a = iova;
		n = min_t(u64, n, PAGE_SIZE - offset_in_page(a));
		if (!pfn_valid(PHYS_PFN(a)))
			return -EFAULT;
	}
	*addr = a;
	*plen = n;
	return 0;
}

static int vt_mem_access(struct vt_vdpa *vd, u64 iova, void *buf,
			 size_t len, bool write)
{
	u64 a, n;
	void *p;
	int r;

	if (iova + len < iova)
		return -EFAULT;
	while (len) {
		r = vt_xlate(vd, iova, len, write ? VHOST_MAP_WO : VHOST_MAP_RO,
			     &a, &n);
		if (r)
			return r;
		if (vd->mm) {
			if (write)
				r = copy_to_user(u64_to_user_ptr(a), buf, n);
			else
				r = copy_from_user(buf, u64_to_user_ptr(a), n);
			if (r)
				return -EFAULT;
		} else {
			p = kmap_local_page(pfn_to_page(PHYS_PFN(a)));
			if (write)
				memcpy(p + offset_in_page(a), buf, n);
			else
				memcpy(buf, p + offset_in_page(a), n);
			kunmap_local(p);
		}
		buf += n;
		iova += n;
		len -= n;
	}
	return 0;
}

static int vt_mem_read(struct vt_vdpa *vd, u64 iova, void *buf, size_t len)
{
	return vt_mem_access(vd, iova, buf, len, false);
}

static int vt_mem_write(struct vt_vdpa *vd, u64 iova, const void *buf,
			size_t len)
{
	return vt_mem_access(vd, iova, (void *)buf, len, true);
}

/* Map one descriptor's buffer into pieces. */
static int vt_map_desc(struct vt_vdpa *vd, struct vt_chain *ch, u64 addr,
		       u32 len, bool write)
{
	struct vt_seg *seg;
	u64 a, n;
	int r;

	if (addr + len < addr)
		return -EFAULT;
	while (len) {
		if (ch->nsegs >= ch->max_segs)
			return -E2BIG;
		r = vt_xlate(vd, addr, len, write ? VHOST_MAP_WO : VHOST_MAP_RO,
			     &a, &n);
		if (r)
			return r;
		seg = &ch->segs[ch->nsegs++];
		seg->addr = a;
		seg->len = n;
		seg->write = write;
		if (!write)
			ch->nread = ch->nsegs;
		addr += n;
		len -= n;
	}
	return 0;
}

/*
 * The chain at the head of the avail ring, walked and mapped into
 * ch->segs (at most ch->max_segs pieces). Returns 1 with ch filled in,
 * 0 when the ring is empty, or a
 * negative errno when the chain (or the ring) cannot be mapped. The entry
 * stays in the ring until vt_vring_pop().
 */
int vt_vring_peek(struct vt_vdpa *vd, struct vt_vring *vq, struct vt_chain *ch)
{
	u64 table = vq->desc;
	u32 tnum = vq->num, found = 0;
	bool indirect = false;
	struct vring_desc d;
	__le16 v16;
	u16 idx, i;
	u32 len;
	int r;

	r = vt_mem_read(vd, vq->avail + offsetof(struct vring_avail, idx),
			&v16, sizeof(v16));
	if (r)
		return r;
	idx = le16_to_cpu(v16);
	if ((u16)(idx - vq->last_avail) > vq->num)
		return -EINVAL;
	vq->avail_idx = idx;
	if (idx == vq->last_avail)
		return 0;
	/* the ring entry and the chain after the index */
	smp_rmb();
	r = vt_mem_read(vd, vq->avail + offsetof(struct vring_avail, ring) +
			sizeof(__le16) * (vq->last_avail % vq->num),
			&v16, sizeof(v16));
	if (r)
		return r;
	i = le16_to_cpu(v16);

	ch->head = i;
	ch->nsegs = 0;
	ch->nread = 0;
	ch->read_len = 0;
	ch->write_len = 0;
	for (;;) {
		if (i >= tnum || ++found > tnum)
			return -EINVAL;	/* out of the table, or a loop */
		r = vt_mem_read(vd, table + sizeof(d) * i, &d, sizeof(d));
		if (r)
			return r;
		len = le32_to_cpu(d.len);
		if (le16_to_cpu(d.flags) & VRING_DESC_F_INDIRECT) {
			if (indirect ||
			    (le16_to_cpu(d.flags) & VRING_DESC_F_NEXT) ||
			    !len || len % sizeof(d) ||
			    len / sizeof(d) > VT_VDPA_MAX_SEGS)
				return -EINVAL;
			indirect = true;
			table = le64_to_cpu(d.addr);
			tnum = len / sizeof(d);
			found = 0;
			i = 0;
			continue;
		}
		if (le16_to_cpu(d.flags) & VRING_DESC_F_WRITE) {
			r = vt_map_desc(vd, ch, le64_to_cpu(d.addr), len, true);
			ch->write_len += len;
		} else {
			if (ch->write_len)
				return -EINVAL;	/* readable after writable */
			r = vt_map_desc(vd, ch, le64_to_cpu(d.addr), len, false);
			ch->read_len += len;
		}
		if (r)
			return r;
		if (!(le16_to_cpu(d.flags) & VRING_DESC_F_NEXT))
			break;
		i = le16_to_cpu(d.next);
	}
	return 1;
}

void vt_vring_pop(struct vt_vring *vq)
{
	vq->last_avail++;
}

/* Return a chain to the driver: the used element, then the index. */
int vt_vring_add_used(struct vt_vdpa *vd, struct vt_vring *vq, u16 head,
		      u32 len)
{
	struct vring_used_elem e = {
		.id = cpu_to_le32(head),
		.len = cpu_to_le32(len),
	};
	__le16 v16;
	int r;

	r = vt_mem_write(vd, vq->used + offsetof(struct vring_used, ring) +
			 sizeof(e) * (vq->used_idx % vq->num), &e, sizeof(e));
	if (r)
		return r;
	/* the element before the index that publishes it */
	smp_wmb();
	v16 = cpu_to_le16(vq->used_idx + 1);
	r = vt_mem_write(vd, vq->used + offsetof(struct vring_used, idx),
			 &v16, sizeof(v16));
	if (!r)
		vq->used_idx++;
	return r;
}

static bool vt_vring_event_idx(struct vt_vdpa *vd)
{
	return READ_ONCE(vd->features) & BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
}

static int vt_read16(struct vt_vdpa *vd, u64 iova, u16 *v)
{
	__le16 v16;
	int r = vt_mem_read(vd, iova, &v16, sizeof(v16));

	if (!r)
		*v = le16_to_cpu(v16);
	return r;
}

static int vt_write16(struct vt_vdpa *vd, u64 iova, u16 v)
{
	__le16 v16 = cpu_to_le16(v);

	return vt_mem_write(vd, iova, &v16, sizeof(v16));
}

/* used_event: the driver's, after its avail ring's num entries */
static u64 vt_used_event(const struct vt_vring *vq)
{
	return vq->avail + offsetof(struct vring_avail, ring) +
	       sizeof(__le16) * vq->num;
}

/* avail_event: the device's, after its used ring's num entries */
static u64 vt_avail_event(const struct vt_vring *vq)
{
	return vq->used + offsetof(struct vring_used, ring) +
	       sizeof(struct vring_used_elem) * vq->num;
}

/*
 * The ring (re)starts at last_avail: nothing signalled yet, the avail
 * index seen is last_avail, used->flags unknown. Called where the ring is
 * set up (the queue enabled, its state or the features set).
 */
void vt_vring_start(struct vt_vring *vq)
{
	vq->avail_idx = vq->last_avail;
	vq->signalled_valid = false;
	vq->kicks_off = true;
}

/*
 * The worker is in a pass: no kicks wanted. With EVENT_IDX nothing to
 * write: avail_event stays behind what the driver adds (it kicks only
 * when it crosses it). Without, VRING_USED_F_NO_NOTIFY in used->flags.
 * 0, or -EFAULT when the used ring cannot be written.
 */
int vt_vring_disable_notify(struct vt_vdpa *vd, struct vt_vring *vq)
{
	int r;

	if (vt_vring_event_idx(vd) || vq->kicks_off)
		return 0;
	r = vt_write16(vd, vq->used + offsetof(struct vring_used, flags),
		       VRING_USED_F_NO_NOTIFY);
	if (!r)
		vq->kicks_off = true;
	return r;
}

/*
 * The worker found the ring empty: ask for a kick on the next buffer
 * (avail_event = the avail index seen, or used->flags cleared), then look
 * again, since the driver may have added one before it saw the request
 * (vhost_enable_notify's race). 1 when the ring holds more, 0 when it is
 * empty, -EFAULT when the ring cannot be accessed.
 */
int vt_vring_enable_notify(struct vt_vdpa *vd, struct vt_vring *vq)
{
	u16 idx;
	int r = 0;

	if (vt_vring_event_idx(vd)) {
		r = vt_write16(vd, vt_avail_event(vq), vq->avail_idx);
	} else if (vq->kicks_off) {
		r = vt_write16(vd, vq->used + offsetof(struct vring_used, flags),
			       0);
		if (!r)
			vq->kicks_off = false;
	}
	if (r)
		return r;
	/* the request written before the avail index is read again */
	smp_mb();
	r = vt_read16(vd, vq->avail + offsetof(struct vring_avail, idx), &idx);
	if (r)
		return r;
	return idx != vq->last_avail;
}

/*
 * Whether the driver wants an interrupt for the used entries written
 * since the last check: with EVENT_IDX, when the used index crossed
 * used_event since then (vring_need_event; always the first time after a
 * start, or when used_event cannot be read); without, unless the driver
 * set VRING_AVAIL_F_NO_INTERRUPT.
 */
bool vt_vring_need_notify(struct vt_vdpa *vd, struct vt_vring *vq)
{
	u16 old, event, flags;
	bool valid;

	/* the used index written before the driver's fields are read */
	smp_mb();
	if (!vt_vring_event_idx(vd)) {
		if (vt_read16(vd, vq->avail + offsetof(struct vring_avail,
						       flags), &flags))
			return true;
		return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
	}
	old = vq->signalled_used;
	valid = vq->signalled_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!valid || vt_read16(vd, vt_used_event(vq), &event))
		return true;
	return vring_need_event(event, vq->used_idx, old);
}

/*
 * Whether the driver may be near a full ring, so that its interrupt is
 * not deferred (lazy signalling, vdpa.c): with EVENT_IDX, from the avail
 * index last read and used_event (vt_near_full); without, or when
 * used_event cannot be read, true.
 */
bool vt_vring_near_full(struct vt_vdpa *vd, struct vt_vring *vq, u32 descs)
{
	u16 event;

	if (!vt_vring_event_idx(vd) || vt_read16(vd, vt_used_event(vq), &event))
		return true;
	return vt_near_full(vq->avail_idx - event, descs, vq->num);
}

/* Interrupt the driver. */
void vt_vring_signal(struct vt_vring *vq)
{
	if (vq->cb.callback) {
		local_bh_disable();
		vq->cb.callback(vq->cb.private);
		local_bh_enable();
	}
}

/* Interrupt the driver, unless it asked not to be. */
void vt_vring_notify(struct vt_vdpa *vd, struct vt_vring *vq)
{
	if (vt_vring_need_notify(vd, vq))
		vt_vring_signal(vq);
}

/* Copy a chain's readable pieces out: up to len bytes; returns how many. */
size_t vt_vring_copy_from(struct vt_vdpa *vd, const struct vt_chain *ch,
			  void *buf, size_t len)
{
	size_t done = 0;
	u32 i;

	for (i = 0; i < ch->nread && done < len; i++) {
		const struct vt_seg *s = &ch->segs[i];
		size_t n = min_t(size_t, s->len, len - done);
		void *p;

		if (vd->mm) {
			if (copy_from_user(buf + done, u64_to_user_ptr(s->addr),
					   n))
				break;
		} else {
			p = kmap_local_page(pfn_to_page(PHYS_PFN(s->addr)));
			memcpy(buf + done, p + offset_in_page(s->addr), n);
			kunmap_local(p);
		}
		done += n;
	}
	return done;
}

/* Copy into a chain's writable pieces: up to len bytes; returns how many. */
size_t vt_vring_copy_to(struct vt_vdpa *vd, const struct vt_chain *ch,
			const void *buf, size_t len)
{
	size_t done = 0;
	u32 i;

	for (i = ch->nread; i < ch->nsegs && done < len; i++) {
		const struct vt_seg *s = &ch->segs[i];
		size_t n = min_t(size_t, s->len, len - done);
		void *p;

		if (vd->mm) {
			if (copy_to_user(u64_to_user_ptr(s->addr), buf + done,
					 n))
				break;
		} else {
			p = kmap_local_page(pfn_to_page(PHYS_PFN(s->addr)));
			memcpy(p + offset_in_page(s->addr), buf + done, n);
			kunmap_local(p);
		}
		done += n;
	}
	return done;
}

/* An iov_iter over a chain's readable pieces, for the sink. */
void vt_vring_iter(struct vt_vdpa *vd, const struct vt_chain *ch,
		   struct iov_iter *iter)
{
	u32 i;

	if (vd->mm) {
		struct iovec *iov = vd->iov;

		for (i = 0; i < ch->nread; i++) {
			iov[i].iov_base = u64_to_user_ptr(ch->segs[i].addr);
			iov[i].iov_len = ch->segs[i].len;
		}
		iov_iter_init(iter, ITER_SOURCE, iov, ch->nread, ch->read_len);
	} else {
		struct bio_vec *bv = vd->iov;

		for (i = 0; i < ch->nread; i++) {
			const struct vt_seg *s = &ch->segs[i];

			bvec_set_page(&bv[i], pfn_to_page(PHYS_PFN(s->addr)),
				      s->len, offset_in_page(s->addr));
		}
		iov_iter_bvec(iter, ITER_SOURCE, bv, ch->nread, ch->read_len);
	}
}
