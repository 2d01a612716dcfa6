// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the control fd. It lets a process other than the vring
 * owner (the daemon) attach sinks and read statistics. It holds a
 * reference to the device only, never to the owner's memory.
 */
#include <linux/anon_inodes.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/uaccess.h>

#include "vhost_trace.h"

/* GET_STATS as built before the by-reference counters: 80 bytes. */
#define VT_STATS_V1_SIZE	offsetofend(struct vhost_trace_stats, reserved)
#define VHOST_TRACE_GET_STATS_V1 \
	_IOC(_IOC_READ | _IOC_WRITE, VHOST_VIRTIO, 0xA5, VT_STATS_V1_SIZE)

static long vt_get_stats(struct vt_core *core,
			 struct vhost_trace_stats __user *argp, size_t size)
{
	struct vt_port *port;
	struct vhost_trace_stats st;
	u32 i;

	if (get_user(i, &argp->port))
		return -EFAULT;
	if (i >= core->nports)
		return -EINVAL;
	port = core->ports[array_index_nospec(i, core->nports)];

	/* Never the port lock: statistics do not wait for the worker. */
	spin_lock(&port->stats_lock);
	st = port->stats;
	spin_unlock(&port->stats_lock);
	st.flags = 0;
	if (READ_ONCE(port->sink))
		st.flags |= VHOST_TRACE_STATS_SINK;
	if (READ_ONCE(port->waiting) || READ_ONCE(port->retrying))
		st.flags |= VHOST_TRACE_STATS_WAITING;
	if (READ_ONCE(port->running))
		st.flags |= VHOST_TRACE_STATS_RUNNING;
	if (READ_ONCE(port->broken))
		st.flags |= VHOST_TRACE_STATS_BROKEN;
	if (READ_ONCE(core->released))
		st.flags |= VHOST_TRACE_STATS_RELEASED;
	st.port = i;
	st.reserved = 0;
	st.ref_pending = vt_refs_pending(port);

	return copy_to_user(argp, &st, size) ? -EFAULT : 0;
}

static long vt_ctl_ioctl(struct file *f, unsigned int ioctl,
			 unsigned long arg)
{
	struct vt_core *core = f->private_data;
	void __user *argp = (void __user *)arg;
	struct vhost_trace_sink sink;

	switch (ioctl) {
	case VHOST_TRACE_GET_PORTS:
		return put_user(core->nports, (u32 __user *)argp);
	case VHOST_TRACE_SET_SINK:
		if (copy_from_user(&sink, argp, sizeof(sink)))
			return -EFAULT;
		return vhost_trace_set_sink(core, &sink);
	case VHOST_TRACE_GET_STATS:
		return vt_get_stats(core, argp, sizeof(struct vhost_trace_stats));
	case VHOST_TRACE_GET_STATS_V1:
		return vt_get_stats(core, argp, VT_STATS_V1_SIZE);
	default:
		return -ENOTTY;
	}
}

/* Port 0: the vDPA front end's; QEMU owns it on a vhost device. */
static ssize_t vt_ctl_read(struct file *f, char __user *buf, size_t len,
			   loff_t *ppos)
{
	struct vt_core *core = f->private_data;

	if (!core->ops->read)
		return -EINVAL;
	return core->ops->read(core, f, buf, len);
}

static ssize_t vt_ctl_write(struct file *f, const char __user *buf,
			    size_t len, loff_t *ppos)
{
	struct vt_core *core = f->private_data;

	if (!core->ops->write)
		return -EINVAL;
	return core->ops->write(core, f, buf, len);
}

static __poll_t vt_ctl_poll(struct file *f, poll_table *wait)
{
	struct vt_core *core = f->private_data;

	if (!core->ops->poll)
		return EPOLLERR;
	return core->ops->poll(core, f, wait);
}

static int vt_ctl_release(struct inode *inode, struct file *f)
{
	vt_core_put(f->private_data);
	return 0;
}

static const struct file_operations vt_ctl_fops = {
	.owner		= THIS_MODULE,
	.release	= vt_ctl_release,
	.read		= vt_ctl_read,
	.write		= vt_ctl_write,
	.poll		= vt_ctl_poll,
	.unlocked_ioctl	= vt_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static void vt_core_free(struct kref *ref)
{
	struct vt_core *core = container_of(ref, struct vt_core, ref);

	core->ops->free(core);
}

void vt_core_put(struct vt_core *core)
{
	kref_put(&core->ref, vt_core_free);
}

void vt_core_init(struct vt_core *core, const struct vt_core_ops *ops)
{
	core->ops = ops;
	kref_init(&core->ref);
	mutex_init(&core->lock);
}

/*
 * A new control fd: VHOST_TRACE_GET_CTL_FD (with core->lock held), and the
 * vDPA device's ADD and CTL.
 */
long vt_core_get_ctl_fd(struct vt_core *core)
{
	int fd;

	if (!core->nports)
		return -EINVAL;
	vt_core_get(core);
	fd = anon_inode_getfd("[vhost-trace-ctl]", &vt_ctl_fops, core,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0)
		vt_core_put(core);
	return fd;
}
