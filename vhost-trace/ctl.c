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
#include <linux/uaccess.h>

#include "vhost_trace.h"

static long vt_get_stats(struct vhost_trace *vt,
			 struct vhost_trace_stats __user *argp)
{
	struct vhost_trace_port *port;
	struct vhost_trace_stats st;
	u32 i;

	if (get_user(i, &argp->port))
		return -EFAULT;
	if (i >= vt->nports)
		return -EINVAL;
	port = &vt->ports[array_index_nospec(i, vt->nports)];

	/* Never the vq mutex: statistics do not wait for the worker. */
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
	if (READ_ONCE(vt->released))
		st.flags |= VHOST_TRACE_STATS_RELEASED;
	st.port = i;
	st.reserved = 0;

	return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
}

static long vt_ctl_ioctl(struct file *f, unsigned int ioctl,
			 unsigned long arg)
{
	struct vhost_trace *vt = f->private_data;
	void __user *argp = (void __user *)arg;
	struct vhost_trace_sink sink;

	switch (ioctl) {
	case VHOST_TRACE_GET_PORTS:
		return put_user(vt->nports, (u32 __user *)argp);
	case VHOST_TRACE_SET_SINK:
		if (copy_from_user(&sink, argp, sizeof(sink)))
			return -EFAULT;
		return vhost_trace_set_sink(vt, &sink);
	case VHOST_TRACE_GET_STATS:
		return vt_get_stats(vt, argp);
	default:
		return -ENOTTY;
	}
}

/* Port 0 belongs to QEMU on a vhost front end device. */
static ssize_t vt_ctl_read(struct file *f, char __user *buf, size_t len,
			   loff_t *ppos)
{
	return -EINVAL;
}

static ssize_t vt_ctl_write(struct file *f, const char __user *buf,
			    size_t len, loff_t *ppos)
{
	return -EINVAL;
}

static int vt_ctl_release(struct inode *inode, struct file *f)
{
	vhost_trace_put(f->private_data);
	return 0;
}

static const struct file_operations vt_ctl_fops = {
	.owner		= THIS_MODULE,
	.release	= vt_ctl_release,
	.read		= vt_ctl_read,
	.write		= vt_ctl_write,
	.unlocked_ioctl	= vt_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* VHOST_TRACE_GET_CTL_FD; called with ioctl_mutex held. */
long vhost_trace_get_ctl_fd(struct vhost_trace *vt)
{
	int fd;

	if (!vt->nports)
		return -EINVAL;
	kref_get(&vt->ref);
	fd = anon_inode_getfd("[vhost-trace-ctl]", &vt_ctl_fops, vt,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0)
		vhost_trace_put(vt);
	return fd;
}
