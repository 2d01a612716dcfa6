// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the /dev/vhost-trace misc device.
 *
 * Each open file is one vhost device: the trace ports of one guest. This
 * file holds the device's life cycle (open, port setup, release) and the
 * ioctl dispatch onto the vhost core.
 */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "vhost_trace.h"

/* Work one queue may do before it yields to the others. */
#define VHOST_TRACE_PKT_WEIGHT	256
#define VHOST_TRACE_BYTE_WEIGHT	0x80000

#define VHOST_TRACE_FEATURES	VHOST_FEATURES

static void vhost_trace_dev_init(struct vhost_trace *vt)
{
	vhost_dev_init(&vt->dev, vt->vqs, vt->core.nports * 2, UIO_MAXIOV,
		       VHOST_TRACE_PKT_WEIGHT, VHOST_TRACE_BYTE_WEIGHT, true,
		       NULL);
}

static void vhost_trace_free(struct vt_core *core)
{
	struct vhost_trace *vt = container_of(core, struct vhost_trace, core);
	u32 i;

	for (i = 0; i < core->nports; i++)
		vt_port_cleanup(&vt->ports[i].port);
	kvfree(vt->ports);
	kfree(core->ports);
	kfree(vt->vqs);
	kfree(vt);
}

static const struct vt_core_ops vhost_trace_core_ops = {
	.free	= vhost_trace_free,
};

static int vhost_trace_open(struct inode *inode, struct file *f)
{
	struct vhost_trace *vt;

	vt = kzalloc(sizeof(*vt), GFP_KERNEL_ACCOUNT);
	if (!vt)
		return -ENOMEM;

	vt_core_init(&vt->core, &vhost_trace_core_ops);
	/* No ports yet: a device without queues until SET_PORTS. */
	vhost_trace_dev_init(vt);
	f->private_data = vt;
	return 0;
}

/*
 * The device fd is closed (the owner exited or gave the device up): stop
 * the data path, drop the sinks and the owner's memory. Control fds keep
 * the ports and their statistics. Nothing here waits for a sink: the
 * worker never sleeps on one (a full pipe or a frozen filesystem makes a
 * port wait without the worker), so release finishes with stuck sinks;
 * the rest of a buffer still owed to one is counted as dropped.
 */
static int vhost_trace_release(struct inode *inode, struct file *f)
{
	struct vhost_trace *vt = f->private_data;
	u32 i;

	mutex_lock(&vt->core.lock);
	WRITE_ONCE(vt->core.released, true);
	vhost_trace_stop_ports(vt, false);
	for (i = 0; i < vt->core.nports; i++) {
		struct vt_port *port = &vt->ports[i].port;

		timer_delete_sync(&port->retry);
		/* buffers lent to pipes: never returned, no more wakeups */
		mutex_lock(&port->lock);
		vt_refs_orphan(port);
		mutex_unlock(&port->lock);
	}
	vhost_dev_stop(&vt->dev);
	vhost_dev_flush(&vt->dev);
	for (i = 0; i < vt->core.nports; i++)
		vt_port_release(&vt->ports[i].port);
	vhost_dev_cleanup(&vt->dev);
	mutex_unlock(&vt->core.lock);

	vt_core_put(&vt->core);
	return 0;
}

static int vhost_trace_apply_features(struct vhost_trace *vt, u64 features)
{
	int i;

	if ((features & (1ULL << VHOST_F_LOG_ALL)) &&
	    !vhost_log_access_ok(&vt->dev))
		return -EFAULT;

	vt->features = features;
	for (i = 0; i < vt->dev.nvqs; i++) {
		struct vhost_virtqueue *vq = vt->dev.vqs[i];

		mutex_lock(&vq->mutex);
		vq->acked_features = features;
		mutex_unlock(&vq->mutex);
	}
	return 0;
}

static long vhost_trace_set_features(struct vhost_trace *vt, u64 features)
{
	long r;

	if (features & ~VHOST_TRACE_FEATURES)
		return -EOPNOTSUPP;

	mutex_lock(&vt->dev.mutex);
	r = vhost_trace_apply_features(vt, features);
	mutex_unlock(&vt->dev.mutex);
	return r;
}

/* Called with core.lock held. */
static long vhost_trace_set_ports(struct vhost_trace *vt, u32 nports)
{
	struct vhost_trace_port *ports;
	struct vhost_virtqueue **vqs;
	struct vt_port **cports;
	bool busy;
	u32 i;

	if (nports < 1 || nports > VHOST_TRACE_MAX_PORTS)
		return -EINVAL;

	mutex_lock(&vt->dev.mutex);
	busy = vt->core.nports || vhost_dev_has_owner(&vt->dev);
	mutex_unlock(&vt->dev.mutex);
	if (busy)
		return -EBUSY;

	ports = kvcalloc(nports, sizeof(*ports), GFP_KERNEL_ACCOUNT);
	vqs = kcalloc(nports * 2, sizeof(*vqs), GFP_KERNEL_ACCOUNT);
	cports = kcalloc(nports, sizeof(*cports), GFP_KERNEL_ACCOUNT);
	if (!ports || !vqs || !cports) {
		kvfree(ports);
		kfree(vqs);
		kfree(cports);
		return -ENOMEM;
	}

	for (i = 0; i < nports; i++) {
		vqs[2 * i] = &ports[i].vqs[VT_VQ_RX];
		vqs[2 * i + 1] = &ports[i].vqs[VT_VQ_TX];
		cports[i] = &ports[i].port;
		vhost_trace_port_prepare(&ports[i], vt);
	}

	/*
	 * Without an owner the device holds no resources (no worker, no
	 * memory table, no eventfds), so it can be initialized again with
	 * its queues.
	 */
	vt->ports = ports;
	vt->vqs = vqs;
	vt->core.ports = cports;
	vt->core.nports = nports;
	vhost_trace_dev_init(vt);
	for (i = 0; i < nports; i++)
		vhost_trace_port_init(&ports[i]);
	mutex_lock(&vt->dev.mutex);
	vhost_trace_apply_features(vt, vt->features);
	mutex_unlock(&vt->dev.mutex);
	return 0;
}

/* The vhost core ioctls this device accepts. */
static bool vhost_trace_core_ioctl(unsigned int ioctl)
{
	switch (ioctl) {
	case VHOST_SET_OWNER:
	case VHOST_SET_MEM_TABLE:
	case VHOST_SET_LOG_BASE:
	case VHOST_SET_LOG_FD:
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
	case VHOST_SET_VRING_ENDIAN:
	case VHOST_GET_VRING_ENDIAN:
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		return true;
	default:
		return false;
	}
}

/* The ioctls that set a queue up again (see VHOST_TRACE_SET_RUNNING). */
static bool vhost_trace_vring_setup_ioctl(unsigned int ioctl)
{
	return ioctl == VHOST_SET_VRING_NUM || ioctl == VHOST_SET_VRING_BASE ||
	       ioctl == VHOST_SET_VRING_ADDR;
}

static long vhost_trace_core(struct vhost_trace *vt, unsigned int ioctl,
			     void __user *argp)
{
	long r;
	u32 idx;

	mutex_lock(&vt->dev.mutex);
	r = vhost_dev_ioctl(&vt->dev, ioctl, argp);
	if (r == -ENOIOCTLCMD) {
		r = vhost_vring_ioctl(&vt->dev, ioctl, argp);
		/*
		 * The index is read again: an owner that changes it meanwhile
		 * can only clear the error stop of one of its own queues.
		 */
		if (!r && vhost_trace_vring_setup_ioctl(ioctl) &&
		    !get_user(idx, (u32 __user *)argp))
			vhost_trace_vring_set_up(vt, idx);
	} else {
		vhost_dev_flush(&vt->dev);
	}
	mutex_unlock(&vt->dev.mutex);
	return r == -ENOIOCTLCMD ? -ENOTTY : r;
}

static long vhost_trace_ioctl_locked(struct vhost_trace *vt,
				     unsigned int ioctl, void __user *argp)
{
	u64 features;
	u32 n;
	int run;

	switch (ioctl) {
	case VHOST_GET_FEATURES:
		features = VHOST_TRACE_FEATURES;
		if (copy_to_user(argp, &features, sizeof(features)))
			return -EFAULT;
		return 0;
	case VHOST_SET_FEATURES:
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		return vhost_trace_set_features(vt, features);
	case VHOST_TRACE_SET_PORTS:
		if (get_user(n, (u32 __user *)argp))
			return -EFAULT;
		return vhost_trace_set_ports(vt, n);
	case VHOST_TRACE_GET_PORTS:
		return put_user(vt->core.nports, (u32 __user *)argp);
	case VHOST_TRACE_GET_CTL_FD:
		return vt_core_get_ctl_fd(&vt->core);
	case VHOST_TRACE_SET_RUNNING:
		if (get_user(run, (int __user *)argp))
			return -EFAULT;
		return vhost_trace_set_running(vt, run);
	default:
		if (!vhost_trace_core_ioctl(ioctl))
			return -ENOTTY;
		return vhost_trace_core(vt, ioctl, argp);
	}
}

static long vhost_trace_ioctl(struct file *f, unsigned int ioctl,
			      unsigned long arg)
{
	struct vhost_trace *vt = f->private_data;
	u32 nports;
	long r;

	switch (ioctl) {
	case VHOST_TRACE_VDPA_ADD:
	case VHOST_TRACE_VDPA_CTL:
	case VHOST_TRACE_VDPA_DEL:
		/*
		 * Not under this device's lock: they touch nothing of it, and
		 * registering a vDPA device takes vdpa_dev_lock, which `vdpa
		 * dev del` holds while it takes that device's core lock (one
		 * lock class for lockdep).
		 */
		mutex_lock(&vt->core.lock);
		nports = vt->core.nports;
		mutex_unlock(&vt->core.lock);
		if (nports)
			return -EINVAL;
		return vt_vdpa_ioctl(ioctl, (void __user *)arg);
	}

	mutex_lock(&vt->core.lock);
	r = vhost_trace_ioctl_locked(vt, ioctl, (void __user *)arg);
	mutex_unlock(&vt->core.lock);
	return r;
}

static const struct file_operations vhost_trace_fops = {
	.owner		= THIS_MODULE,
	.open		= vhost_trace_open,
	.release	= vhost_trace_release,
	.unlocked_ioctl	= vhost_trace_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice vhost_trace_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "vhost-trace",
	.fops	= &vhost_trace_fops,
};

static int __init vhost_trace_init(void)
{
	int r;

	r = vt_vdpa_init();
	if (r)
		return r;
	r = misc_register(&vhost_trace_misc);
	if (r)
		vt_vdpa_exit();
	return r;
}
module_init(vhost_trace_init);

static void __exit vhost_trace_exit(void)
{
	misc_deregister(&vhost_trace_misc);
	vt_vdpa_exit();
}
module_exit(vhost_trace_exit);

MODULE_LICENSE("GPL v2");
MODULE_DESCRIPTION("vhost-trace: guest ftrace pages to host files");
MODULE_INFO(vhost_src, VHOST_SRC_PACKAGE);
