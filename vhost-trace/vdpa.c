// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the vDPA front end (kernels with CONFIG_VDPA).
 *
 * A vDPA device presents the whole virtio-console (MULTIPORT) to a vDPA
 * driver: vhost_vdpa (stock QEMU's vhost-vdpa-device-pci hands it to a
 * guest) or virtio_vdpa (the host's own virtio_console). The trace ports
 * are the same vt_port as the vhost front end's (sinks, policies,
 * statistics, control fd); this file has the device (vdpa_config_ops),
 * its worker, the management device "vhost-trace" and the ioctls that
 * create and delete devices.
 *
 * The worker is one kthread_worker per device; it runs with vd->lock
 * held, in the bound mm (vhost_vdpa, use_va) or on physical memory
 * (virtio_vdpa only), and never sleeps on a sink.
 *
 * By reference (ref.c): with vhost_vdpa a pipe sink may get the bound
 * mm's pages; the buffer is used once the pipe lets go (ops->room, then
 * the worker's next pass). The host's own pages (virtio_vdpa) are never
 * lent: ref.c lends iovec memory only, so they are copied. A queue that
 * stops settles its loans (vt_vdpa_port_settle, vdpa_port.c): returned as
 * used when the driver disables it, only marked returned on a reset.
 */
#include <linux/cred.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <uapi/linux/vhost_types.h>

#include "vdpa.h"

static unsigned int vdpa_ports = 4;
module_param(vdpa_ports, uint, 0644);
MODULE_PARM_DESC(vdpa_ports,
		 "trace ports of a device made by `vdpa dev add` (default 4)");

#define VT_VDPA_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) |		\
				 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |	\
				 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |	\
				 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |	\
				 BIT_ULL(VIRTIO_CONSOLE_F_MULTIPORT))

/* The devices, by name: vt_vdpa_lock (inside vdpa_dev_lock). */
static DEFINE_MUTEX(vt_vdpa_lock);
static LIST_HEAD(vt_vdpa_devices);
static struct device *vt_mgmt_root;
static struct vdpa_mgmt_dev vt_mgmt;

static const struct vdpa_config_ops vt_vdpa_ops;

/* Run the worker soon (any context). */
void vt_vdpa_queue(struct vt_vdpa *vd)
{
	unsigned long flags;

	spin_lock_irqsave(&vd->work_lock, flags);
	if (vd->worker)
		kthread_queue_work(vd->worker, &vd->work);
	spin_unlock_irqrestore(&vd->work_lock, flags);
}

void vt_vdpa_queue_ctl(struct vt_vdpa *vd, unsigned int q)
{
	set_bit(q, &vd->ctl_pending);
	vt_vdpa_queue(vd);
}

/*
 * A chain that cannot be mapped: the driver is told the device needs a
 * reset (the queue that met it stops). Called with vd->lock held.
 */
void vt_vdpa_queue_error(struct vt_vdpa *vd)
{
	vd->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
}

/* Physical addresses are for the host kernel's own virtio drivers only. */
static bool vt_vdpa_phys_ok(struct vt_vdpa *vd)
{
	struct device_driver *drv = READ_ONCE(vd->vdpa.dev.driver);

	return drv && !strcmp(drv->name, "virtio_vdpa");
}

static void vt_vdpa_work(struct kthread_work *work)
{
	struct vt_vdpa *vd = container_of(work, struct vt_vdpa, work);
	struct mm_struct *mm;
	bool room, kick, signal;
	u32 i;

	mutex_lock(&vd->lock);
	if (!(vd->status & VIRTIO_CONFIG_S_DRIVER_OK))
		goto out;
	mm = vd->mm;
	if (mm) {
		if (!mmget_not_zero(mm))
			goto out;
		kthread_use_mm(mm);
	} else if (!vt_vdpa_phys_ok(vd)) {
		goto out;	/* vhost_vdpa without an owner: no memory */
	}

	if (vd->ctl_pending) {
		for (i = 0; i < VT_Q_PORTS; i++)
			clear_bit(i, &vd->ctl_pending);
		vt_vcons_work(vd, !mm);
	}
	for (i = 0; i < vd->nports; i++) {
		room = test_and_clear_bit(VT_WORK_BITS * i + VT_WORK_ROOM,
					  vd->pending);
		kick = test_and_clear_bit(VT_WORK_BITS * i + VT_WORK_KICK,
					  vd->pending);
		signal = test_and_clear_bit(VT_WORK_BITS * i + VT_WORK_SIGNAL,
					    vd->pending);
		if (room || kick || signal)
			vt_vdpa_handle_port(vd, &vd->ports[i], room, signal);
	}

	if (mm) {
		kthread_unuse_mm(mm);
		mmput(mm);
	}
out:
	mutex_unlock(&vd->lock);
}

/* Every queue may have work: after DRIVER_OK, a reset of a port, ... */
static void vt_vdpa_kick_all(struct vt_vdpa *vd)
{
	u32 i;

	for (i = 0; i < VT_Q_PORTS; i++)
		set_bit(i, &vd->ctl_pending);
	for (i = 0; i < vd->nports; i++)
		set_bit(VT_WORK_BITS * i + VT_WORK_KICK, vd->pending);
	vt_vdpa_queue(vd);
}

/* A port runs while the driver is ready and its queue is. vd->lock held. */
static void vt_vdpa_update_running(struct vt_vdpa *vd)
{
	bool ok = vd->status & VIRTIO_CONFIG_S_DRIVER_OK;
	u32 i;

	for (i = 0; i < vd->nports; i++) {
		struct vt_vdpa_port *vp = &vd->ports[i];
		bool run = ok && vt_vdpa_port_vq(vp)->ready;

		mutex_lock(&vp->port.lock);
		if (run != vp->port.running) {
			WRITE_ONCE(vp->port.running, run);
			WRITE_ONCE(vp->port.broken, false);
			if (!run)
				vt_port_unwait(&vp->port);
		}
		mutex_unlock(&vp->port.lock);
	}
}

/* vd->lock held */
static void vt_vdpa_do_reset(struct vt_vdpa *vd, u32 flags)
{
	u32 i;

	/* the rings are gone: no used entry for what pipes still hold */
	for (i = 0; i < vd->nports; i++)
		vt_vdpa_port_settle(vd, &vd->ports[i], false);
	spin_lock_irq(&vd->cons.ctl_lock);
	for (i = 0; i < vd->nvqs; i++)
		memset(&vd->vqs[i], 0, sizeof(vd->vqs[i]));
	vd->status = 0;
	WRITE_ONCE(vd->features, 0);
	spin_unlock_irq(&vd->cons.ctl_lock);
	vd->generation++;
	vt_vdpa_update_running(vd);
	vt_vcons_reset(vd);
	if (flags & VDPA_RESET_F_CLEAN_MAP) {
		spin_lock(&vd->map_lock);
		vhost_iotlb_reset(&vd->iotlb);
		vd->map_set = false;
		spin_unlock(&vd->map_lock);
	}
}

/* vdpa_config_ops */

static int vt_set_vq_address(struct vdpa_device *vdpa, u16 idx, u64 desc,
			     u64 driver, u64 device)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	if (idx >= vd->nvqs)
		return -EINVAL;
	mutex_lock(&vd->lock);
	spin_lock_irq(&vd->cons.ctl_lock);
	vd->vqs[idx].desc = desc;
	vd->vqs[idx].avail = driver;
	vd->vqs[idx].used = device;
	spin_unlock_irq(&vd->cons.ctl_lock);
	mutex_unlock(&vd->lock);
	return 0;
}

static void vt_set_vq_num(struct vdpa_device *vdpa, u16 idx, u32 num)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	if (idx >= vd->nvqs)
		return;
	/* a size the ring cannot have makes the queue unusable */
	if (!num || num > VT_VDPA_QUEUE_MAX || !is_power_of_2(num))
		num = 0;
	mutex_lock(&vd->lock);
	spin_lock_irq(&vd->cons.ctl_lock);
	vd->vqs[idx].num = num;
	spin_unlock_irq(&vd->cons.ctl_lock);
	mutex_unlock(&vd->lock);
}

static void vt_kick_vq(struct vdpa_device *vdpa, u16 idx)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);
	u32 p;

	/* Never vd->lock: the driver kicks from the worker's callbacks. */
	if (idx == VT_Q_CTL_TX && vt_vdpa_phys_ok(vd)) {
		vt_vcons_kick_ctl(vd);
		return;
	}
	if (idx < VT_Q_PORTS) {
		vt_vdpa_queue_ctl(vd, idx);
		return;
	}
	p = (idx - VT_Q_PORTS) / 2;
	if (p < vd->nports && (idx - VT_Q_PORTS) % 2)
		vt_vdpa_port_work(&vd->ports[p], VT_WORK_KICK);
}

static void vt_set_vq_cb(struct vdpa_device *vdpa, u16 idx,
			 struct vdpa_callback *cb)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	if (idx >= vd->nvqs)
		return;
	mutex_lock(&vd->lock);
	vd->vqs[idx].cb = *cb;
	mutex_unlock(&vd->lock);
}

static void vt_set_vq_ready(struct vdpa_device *vdpa, u16 idx, bool ready)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);
	struct vt_vring *vq;

	if (idx >= vd->nvqs)
		return;
	vq = &vd->vqs[idx];
	mutex_lock(&vd->lock);
	/*
	 * A trace port's queue disabled: what its pipes hold goes back now,
	 * as used, when the driver calls from the bound mm (vhost_vdpa's
	 * owner: the ring is still valid); the driver may read the queue's
	 * state back next, and a start sets the used index to last_avail.
	 */
	if (!ready && idx >= VT_Q_PORTS && (idx - VT_Q_PORTS) % 2)
		vt_vdpa_port_settle(vd, &vd->ports[(idx - VT_Q_PORTS) / 2],
				    vq->ready && vd->mm &&
				    current->mm == vd->mm);
	spin_lock_irq(&vd->cons.ctl_lock);
	if (ready && !vq->ready && vq->num) {
		/* as vdpa_sim: nothing in flight when a queue starts */
		vq->used_idx = vq->last_avail;
		vt_vring_start(vq);
		WRITE_ONCE(vq->ready, true);
	} else if (!ready) {
		WRITE_ONCE(vq->ready, false);
	}
	spin_unlock_irq(&vd->cons.ctl_lock);
	vt_vdpa_update_running(vd);
	mutex_unlock(&vd->lock);
	if (ready)
		vt_vdpa_kick_all(vd);
}

static bool vt_get_vq_ready(struct vdpa_device *vdpa, u16 idx)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	return idx < vd->nvqs && READ_ONCE(vd->vqs[idx].ready);
}

static int vt_set_vq_state(struct vdpa_device *vdpa, u16 idx,
			   const struct vdpa_vq_state *state)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	if (idx >= vd->nvqs)
		return -EINVAL;
	mutex_lock(&vd->lock);
	spin_lock_irq(&vd->cons.ctl_lock);
	vd->vqs[idx].last_avail = state->split.avail_index;
	vt_vring_start(&vd->vqs[idx]);
	spin_unlock_irq(&vd->cons.ctl_lock);
	mutex_unlock(&vd->lock);
	return 0;
}

static int vt_get_vq_state(struct vdpa_device *vdpa, u16 idx,
			   struct vdpa_vq_state *state)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	if (idx >= vd->nvqs)
		return -EINVAL;
	mutex_lock(&vd->lock);
	state->split.avail_index = vd->vqs[idx].last_avail;
	mutex_unlock(&vd->lock);
	return 0;
}

static u32 vt_get_vq_align(struct vdpa_device *vdpa)
{
	return PAGE_SIZE;
}

static u32 vt_get_vq_group(struct vdpa_device *vdpa, u16 idx)
{
	return 0;
}

static u64 vt_get_device_features(struct vdpa_device *vdpa)
{
	return VT_VDPA_FEATURES;
}

static u64 vt_get_backend_features(const struct vdpa_device *vdpa)
{
	return BIT_ULL(VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
}

static int vt_set_driver_features(struct vdpa_device *vdpa, u64 features)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);
	u32 i;

	/* little-endian rings only */
	if (!(features & BIT_ULL(VIRTIO_F_VERSION_1)))
		return -EINVAL;
	mutex_lock(&vd->lock);
	spin_lock_irq(&vd->cons.ctl_lock);
	WRITE_ONCE(vd->features, features & VT_VDPA_FEATURES);
	/* the rings' notification state follows the features */
	for (i = 0; i < vd->nvqs; i++)
		vt_vring_start(&vd->vqs[i]);
	spin_unlock_irq(&vd->cons.ctl_lock);
	mutex_unlock(&vd->lock);
	return 0;
}

static u64 vt_get_driver_features(struct vdpa_device *vdpa)
{
	return READ_ONCE(vdpa_to_vt(vdpa)->features);
}

static void vt_set_config_cb(struct vdpa_device *vdpa,
			     struct vdpa_callback *cb)
{
	/* the configuration never changes */
}

static u16 vt_get_vq_num_max(struct vdpa_device *vdpa)
{
	return VT_VDPA_QUEUE_MAX;
}

static u16 vt_get_vq_size(struct vdpa_device *vdpa, u16 idx)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	if (idx < vd->nvqs && READ_ONCE(vd->vqs[idx].num))
		return READ_ONCE(vd->vqs[idx].num);
	return VT_VDPA_QUEUE_MAX;
}

static u32 vt_get_device_id(struct vdpa_device *vdpa)
{
	return VIRTIO_ID_CONSOLE;
}

static u32 vt_get_vendor_id(struct vdpa_device *vdpa)
{
	return 0;
}

static u8 vt_get_status(struct vdpa_device *vdpa)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);
	u8 status;

	mutex_lock(&vd->lock);
	status = vd->status;
	mutex_unlock(&vd->lock);
	return status;
}

static void vt_set_status(struct vdpa_device *vdpa, u8 status)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);
	bool start;

	mutex_lock(&vd->lock);
	if (!status) {
		vt_vdpa_do_reset(vd, 0);
		mutex_unlock(&vd->lock);
		return;
	}
	start = (status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		!(vd->status & VIRTIO_CONFIG_S_DRIVER_OK);
	spin_lock_irq(&vd->cons.ctl_lock);
	vd->status = status | (vd->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	spin_unlock_irq(&vd->cons.ctl_lock);
	vt_vdpa_update_running(vd);
	mutex_unlock(&vd->lock);
	if (start)
		vt_vdpa_kick_all(vd);
}

static int vt_compat_reset(struct vdpa_device *vdpa, u32 flags)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	mutex_lock(&vd->lock);
	vt_vdpa_do_reset(vd, flags);
	mutex_unlock(&vd->lock);
	return 0;
}

static int vt_reset(struct vdpa_device *vdpa)
{
	return vt_compat_reset(vdpa, 0);
}

static size_t vt_get_config_size(struct vdpa_device *vdpa)
{
	return sizeof(struct virtio_console_config);
}

static void vt_get_config(struct vdpa_device *vdpa, unsigned int offset,
			  void *buf, unsigned int len)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	if (offset > sizeof(vd->config) || len > sizeof(vd->config) - offset)
		return;
	memcpy(buf, (u8 *)&vd->config + offset, len);
}

static void vt_set_config(struct vdpa_device *vdpa, unsigned int offset,
			  const void *buf, unsigned int len)
{
	/* nothing to set: no emergency write, no size */
}

static u32 vt_get_generation(struct vdpa_device *vdpa)
{
	return READ_ONCE(vdpa_to_vt(vdpa)->generation);
}

static struct vdpa_iova_range vt_get_iova_range(struct vdpa_device *vdpa)
{
	struct vdpa_iova_range range = {
		.first = 0,
		.last = U64_MAX,
	};

	return range;
}

static int vt_set_map(struct vdpa_device *vdpa, unsigned int asid,
		      struct vhost_iotlb *iotlb)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);
	struct vhost_iotlb_map *map;
	int r = 0;

	if (asid)
		return -EINVAL;
	spin_lock(&vd->map_lock);
	vhost_iotlb_reset(&vd->iotlb);
	vd->map_set = true;
	for (map = vhost_iotlb_itree_first(iotlb, 0, U64_MAX); map;
	     map = vhost_iotlb_itree_next(map, 0, U64_MAX)) {
		/* GFP_ATOMIC inside */
		r = vhost_iotlb_add_range(&vd->iotlb, map->start, map->last,
					  map->addr, map->perm);
		if (r) {
			vhost_iotlb_reset(&vd->iotlb);
			break;
		}
	}
	spin_unlock(&vd->map_lock);
	return r;
}

static int vt_reset_map(struct vdpa_device *vdpa, unsigned int asid)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	if (asid)
		return -EINVAL;
	spin_lock(&vd->map_lock);
	vhost_iotlb_reset(&vd->iotlb);
	vd->map_set = false;
	spin_unlock(&vd->map_lock);
	return 0;
}

/* vhost_vdpa's owner: the worker reads through its mm from now on. */
static int vt_bind_mm(struct vdpa_device *vdpa, struct mm_struct *mm)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	mutex_lock(&vd->lock);
	vd->mm = mm;
	mutex_unlock(&vd->lock);
	return 0;
}

/*
 * Once this returns the worker does not touch the mm (it holds vd->lock).
 * vhost_vdpa resets the device first; buffers lent since (none) would
 * be in rings of the mm that goes: only marked returned.
 */
static void vt_unbind_mm(struct vdpa_device *vdpa)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);
	u32 i;

	mutex_lock(&vd->lock);
	for (i = 0; i < vd->nports; i++)
		vt_vdpa_port_settle(vd, &vd->ports[i], false);
	vd->mm = NULL;
	mutex_unlock(&vd->lock);
}

/* The last reference to the device is gone. */
static void vt_vdpa_free(struct vdpa_device *vdpa)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);
	u32 i;

	if (vd->worker)		/* never registered */
		kthread_destroy_worker(vd->worker);
	/* core.nports: the ports set up (their timers), none on -ENOMEM */
	for (i = 0; i < vd->core.nports; i++)
		vt_vdpa_port_timers_stop(&vd->ports[i]);
	if (vd->ports)
		for (i = 0; i < vd->nports; i++)
			vt_port_cleanup(&vd->ports[i].port);
	vt_vcons_free(vd);
	vhost_iotlb_reset(&vd->iotlb);
	kvfree(vd->ports);
	kfree(vd->core.ports);
	kfree(vd->vqs);
	bitmap_free(vd->pending);
	kvfree(vd->segs);
	kvfree(vd->iov);
	if (vd->counted)
		module_put(THIS_MODULE);
}

static const struct vdpa_config_ops vt_vdpa_ops = {
	.set_vq_address		= vt_set_vq_address,
	.set_vq_num		= vt_set_vq_num,
	.kick_vq		= vt_kick_vq,
	.set_vq_cb		= vt_set_vq_cb,
	.set_vq_ready		= vt_set_vq_ready,
	.get_vq_ready		= vt_get_vq_ready,
	.set_vq_state		= vt_set_vq_state,
	.get_vq_state		= vt_get_vq_state,
	.get_vq_align		= vt_get_vq_align,
	.get_vq_group		= vt_get_vq_group,
	.get_device_features	= vt_get_device_features,
	.get_backend_features	= vt_get_backend_features,
	.set_driver_features	= vt_set_driver_features,
	.get_driver_features	= vt_get_driver_features,
	.set_config_cb		= vt_set_config_cb,
	.get_vq_num_max		= vt_get_vq_num_max,
	.get_vq_size		= vt_get_vq_size,
	.get_device_id		= vt_get_device_id,
	.get_vendor_id		= vt_get_vendor_id,
	.get_status		= vt_get_status,
	.set_status		= vt_set_status,
	.reset			= vt_reset,
	.compat_reset		= vt_compat_reset,
	.get_config_size	= vt_get_config_size,
	.get_config		= vt_get_config,
	.set_config		= vt_set_config,
	.get_generation		= vt_get_generation,
	.get_iova_range		= vt_get_iova_range,
	.set_map		= vt_set_map,
	.reset_map		= vt_reset_map,
	.bind_mm		= vt_bind_mm,
	.unbind_mm		= vt_unbind_mm,
	.free			= vt_vdpa_free,
};

static void vt_vdpa_core_free(struct vt_core *core)
{
	put_device(&container_of(core, struct vt_vdpa, core)->vdpa.dev);
}

static const struct vt_core_ops vt_vdpa_core_ops = {
	.free	= vt_vdpa_core_free,
	.read	= vt_vcons_read,
	.write	= vt_vcons_write,
	.poll	= vt_vcons_poll,
};

/* What a device needs besides the vdpa_device; freed by vt_vdpa_free. */
static int vt_vdpa_setup(struct vt_vdpa *vd, const char *name, u32 nports)
{
	struct device *dev = &vd->vdpa.dev;
	u32 i;
	int r;

	vd->nports = nports;
	vd->nvqs = 2 * nports + VT_Q_PORTS;
	mutex_init(&vd->lock);
	spin_lock_init(&vd->map_lock);
	spin_lock_init(&vd->work_lock);
	vhost_iotlb_init(&vd->iotlb, VT_IOTLB_ENTRIES, 0);
	vt_core_init(&vd->core, &vt_vdpa_core_ops);
	vd->config.max_nr_ports = (__force __virtio32)cpu_to_le32(nports + 1);

	dev->dma_mask = &dev->coherent_dma_mask;
	r = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (r)
		return r;
	vd->vdpa.dma_dev = dev;
	vd->vdpa.mdev = &vt_mgmt;

	vd->vqs = kcalloc(vd->nvqs, sizeof(*vd->vqs), GFP_KERNEL);
	vd->ports = kvcalloc(nports, sizeof(*vd->ports), GFP_KERNEL);
	vd->core.ports = kcalloc(nports, sizeof(*vd->core.ports), GFP_KERNEL);
	vd->pending = bitmap_zalloc(VT_WORK_BITS * nports, GFP_KERNEL);
	vd->segs = kvcalloc(VT_VDPA_MAX_SEGS, sizeof(*vd->segs), GFP_KERNEL);
	vd->iov = kvcalloc(VT_VDPA_MAX_SEGS,
			   max(sizeof(struct iovec), sizeof(struct bio_vec)),
			   GFP_KERNEL);
	if (!vd->vqs || !vd->ports || !vd->core.ports || !vd->pending ||
	    !vd->segs || !vd->iov)
		return -ENOMEM;
	/* at once: vt_vdpa_free() stops their timers */
	for (i = 0; i < nports; i++)
		vt_vdpa_port_init(vd, i);
	vd->core.nports = nports;
	r = vt_vcons_init(vd);
	if (r)
		return r;

	kthread_init_work(&vd->work, vt_vdpa_work);
	vd->worker = kthread_create_worker(0, "vhost-trace-vdpa/%s", name);
	if (IS_ERR(vd->worker)) {
		r = PTR_ERR(vd->worker);
		vd->worker = NULL;
		return r;
	}
	return 0;
}

/*
 * A new device. locked: called with vdpa_dev_lock held (the management
 * device's dev_add). The device holds the core's first reference.
 */
static struct vt_vdpa *vt_vdpa_create(const char *name, u32 nports,
				      bool locked, bool has_creator)
{
	struct vt_vdpa *vd;
	int r;

	vd = vdpa_alloc_device(struct vt_vdpa, vdpa, vt_mgmt_root,
			       &vt_vdpa_ops, 1, 1, name, true);
	if (IS_ERR(vd))
		return vd;
	r = vt_vdpa_setup(vd, name, nports);
	if (r)
		goto err;
	if (has_creator) {
		vd->has_creator = true;
		vd->creator = current_euid();
	}

	r = locked ? _vdpa_register_device(&vd->vdpa, vd->nvqs) :
		     vdpa_register_device(&vd->vdpa, vd->nvqs);
	if (r)
		goto err;
	/* the core's reference; the registration's goes at unregister */
	get_device(&vd->vdpa.dev);
	__module_get(THIS_MODULE);
	vd->counted = true;

	mutex_lock(&vt_vdpa_lock);
	list_add_tail(&vd->node, &vt_vdpa_devices);
	mutex_unlock(&vt_vdpa_lock);
	return vd;

err:
	put_device(&vd->vdpa.dev);
	return ERR_PTR(r);
}

/*
 * After unregistering (the driver is unbound and has reset the device):
 * stop the worker, end the data path, drop the device's core reference.
 * Control fds keep the statistics.
 */
static void vt_vdpa_teardown(struct vt_vdpa *vd)
{
	struct kthread_worker *w;
	u32 i;

	spin_lock_irq(&vd->work_lock);
	w = vd->worker;
	vd->worker = NULL;
	spin_unlock_irq(&vd->work_lock);
	kthread_destroy_worker(w);
	/* no pass arms a timer now; one that fires queues nothing */
	for (i = 0; i < vd->nports; i++)
		vt_vdpa_port_timers_stop(&vd->ports[i]);

	mutex_lock(&vd->core.lock);
	WRITE_ONCE(vd->core.released, true);
	mutex_unlock(&vd->core.lock);
	for (i = 0; i < vd->nports; i++)
		vt_port_release(&vd->ports[i].port);
	wake_up_interruptible_all(&vd->cons.p0_wait);
	vt_core_put(&vd->core);
}

/* Take vd off the list; false when someone else is deleting it. */
static bool vt_vdpa_claim(struct vt_vdpa *vd)
{
	bool ok;

	mutex_lock(&vt_vdpa_lock);
	ok = !vd->deleted;
	if (ok) {
		vd->deleted = true;
		list_del(&vd->node);
	}
	mutex_unlock(&vt_vdpa_lock);
	return ok;
}

/* The management device: `vdpa dev add/del`, vdpa_dev_lock held. */
static int vt_mgmt_dev_add(struct vdpa_mgmt_dev *mdev, const char *name,
			   const struct vdpa_dev_set_config *config)
{
	struct vt_vdpa *vd;

	if (!vdpa_ports || vdpa_ports > VHOST_TRACE_MAX_PORTS)
		return -EINVAL;
	vd = vt_vdpa_create(name, vdpa_ports, true, false);
	return PTR_ERR_OR_ZERO(vd);
}

static void vt_mgmt_dev_del(struct vdpa_mgmt_dev *mdev,
			    struct vdpa_device *vdpa)
{
	struct vt_vdpa *vd = vdpa_to_vt(vdpa);

	if (!vt_vdpa_claim(vd))
		return;
	_vdpa_unregister_device(vdpa);
	vt_vdpa_teardown(vd);
}

static const struct vdpa_mgmtdev_ops vt_mgmt_ops = {
	.dev_add	= vt_mgmt_dev_add,
	.dev_del	= vt_mgmt_dev_del,
};

static struct virtio_device_id vt_id_table[] = {
	{ VIRTIO_ID_CONSOLE, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static struct vdpa_mgmt_dev vt_mgmt = {
	.ops			= &vt_mgmt_ops,
	.id_table		= vt_id_table,
	.supported_features	= VT_VDPA_FEATURES,
	.max_supported_vqs	= 2 * VHOST_TRACE_MAX_PORTS + VT_Q_PORTS,
};

/* The ioctls on /dev/vhost-trace. */

static int vt_vdpa_check_name(const struct vhost_trace_vdpa *req)
{
	size_t n = strnlen(req->name, sizeof(req->name));
	size_t i;

	if (!n || n == sizeof(req->name) || req->flags)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!isalnum(req->name[i]) && !strchr("_.-", req->name[i]))
			return -EINVAL;
	return 0;
}

/*
 * Found by name, for its creator's euid or CAP_SYS_ADMIN: with a core
 * reference (del false), or taken off the list to be deleted (del true).
 */
static struct vt_vdpa *vt_vdpa_find(const char *name, bool del)
{
	struct vt_vdpa *vd, *found = ERR_PTR(-ENOENT);

	mutex_lock(&vt_vdpa_lock);
	list_for_each_entry(vd, &vt_vdpa_devices, node) {
		if (!strcmp(dev_name(&vd->vdpa.dev), name)) {
			found = vd;
			break;
		}
	}
	if (IS_ERR(found))
		goto out;
	if (!capable(CAP_SYS_ADMIN) &&
	    !(vd->has_creator && uid_eq(vd->creator, current_euid()))) {
		found = ERR_PTR(-EPERM);
	} else if (!del) {
		vt_core_get(&vd->core);
	} else if (READ_ONCE(vd->mm)) {
		found = ERR_PTR(-EBUSY);	/* QEMU has it */
	} else {
		vd->deleted = true;
		list_del(&vd->node);
	}
out:
	mutex_unlock(&vt_vdpa_lock);
	return found;
}

long vt_vdpa_ioctl(unsigned int ioctl, void __user *argp)
{
	struct vhost_trace_vdpa req;
	struct vt_vdpa *vd;
	long r;

	if (!vt_mgmt_root)
		return -EOPNOTSUPP;
	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	r = vt_vdpa_check_name(&req);
	if (r)
		return r;

	switch (ioctl) {
	case VHOST_TRACE_VDPA_ADD:
		if (!req.nports || req.nports > VHOST_TRACE_MAX_PORTS)
			return -EINVAL;
		vd = vt_vdpa_create(req.name, req.nports, false, true);
		if (IS_ERR(vd))
			return PTR_ERR(vd);
		r = vt_core_get_ctl_fd(&vd->core);
		if (r < 0 && vt_vdpa_claim(vd)) {
			vdpa_unregister_device(&vd->vdpa);
			vt_vdpa_teardown(vd);
		}
		return r;
	case VHOST_TRACE_VDPA_CTL:
		if (req.nports)
			return -EINVAL;
		vd = vt_vdpa_find(req.name, false);
		if (IS_ERR(vd))
			return PTR_ERR(vd);
		r = vt_core_get_ctl_fd(&vd->core);
		vt_core_put(&vd->core);
		return r;
	case VHOST_TRACE_VDPA_DEL:
		if (req.nports)
			return -EINVAL;
		vd = vt_vdpa_find(req.name, true);
		if (IS_ERR(vd))
			return PTR_ERR(vd);
		vdpa_unregister_device(&vd->vdpa);
		vt_vdpa_teardown(vd);
		return 0;
	default:
		return -ENOTTY;
	}
}

int vt_vdpa_init(void)
{
	struct device *root;
	int r;

	root = root_device_register("vhost-trace");
	if (IS_ERR(root))
		return PTR_ERR(root);
	vt_mgmt.device = root;
	r = vdpa_mgmtdev_register(&vt_mgmt);
	if (r) {
		root_device_unregister(root);
		return r;
	}
	vt_mgmt_root = root;
	return 0;
}

void vt_vdpa_exit(void)
{
	/* no device is left: each holds the module */
	vdpa_mgmtdev_unregister(&vt_mgmt);
	root_device_unregister(vt_mgmt_root);
}
