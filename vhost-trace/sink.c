// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: sinks. A port's sink is a pipe, a FIFO or a regular file;
 * the control fd attaches, swaps and detaches it, the worker writes the
 * guest's buffers to it.
 */
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/nospec.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched/signal.h>
#include <linux/uio.h>

#include "vhost_trace.h"

static bool vt_pipe_has_reader(struct file *file)
{
	struct pipe_inode_info *pipe = file->private_data;

	return READ_ONCE(pipe->readers);
}

/*
 * The file the worker writes to for fd. A pipe or FIFO gets a file of its
 * own, opened non-blocking on the same pipe: the worker must never wait on
 * a full pipe (6.1's pipe_write ignores IOCB_NOWAIT), and the caller's
 * file keeps its flags. A regular file is used as it is.
 */
static struct file *vt_sink_open(int fd, bool *is_pipe)
{
	struct file *file, *own;
	umode_t mode;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (!(file->f_mode & FMODE_WRITE)) {
		fput(file);
		return ERR_PTR(-EBADF);
	}

	mode = file_inode(file)->i_mode;
	if (S_ISREG(mode)) {
		*is_pipe = false;
		return file;
	}
	if (!S_ISFIFO(mode)) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}

	own = dentry_open(&file->f_path, O_WRONLY | O_NONBLOCK, current_cred());
	fput(file);
	if (IS_ERR(own))
		return own;
	if (!vt_pipe_has_reader(own)) {
		fput(own);
		return ERR_PTR(-ENXIO);
	}
	*is_pipe = true;
	return own;
}

/* Stop waiting for room in the sink. Called with the tx vq mutex held. */
void vhost_trace_sink_unpoll(struct vhost_trace_port *port)
{
	if (port->waiting) {
		vhost_poll_stop(&port->sink_poll);
		port->waiting = false;
	}
}

/*
 * The worker stops using a sink that failed. It keeps the reference: a
 * final fput() from a vhost worker could be deferred until the worker
 * exits (task work of a user worker thread), so the file is dropped by
 * the next sink change or by release, in process context.
 * Called with the tx vq mutex held.
 */
void vhost_trace_sink_fail(struct vhost_trace_port *port)
{
	vhost_trace_sink_unpoll(port);
	/* Empty: a sink change takes dead_sink whenever it sets sink. */
	port->dead_sink = port->sink;
	port->sink = NULL;
}

/*
 * Detach the sink and the failed one; returns them for fput() by the
 * caller, outside the vq mutex. Called with the tx vq mutex held.
 */
static void vt_sink_take(struct vhost_trace_port *port, struct file **old,
			 struct file **dead)
{
	vhost_trace_sink_unpoll(port);
	*old = port->sink;
	*dead = port->dead_sink;
	port->sink = NULL;
	port->dead_sink = NULL;
}

static void vt_fput(struct file *file)
{
	if (file)
		fput(file);
}

/* VHOST_TRACE_SET_SINK, from the control fd. */
long vhost_trace_set_sink(struct vhost_trace *vt,
			  const struct vhost_trace_sink *req)
{
	struct vhost_trace_port *port;
	struct file *file = NULL, *old, *dead;
	bool is_pipe = false;

	if (req->port >= vt->nports || req->flags ||
	    req->policy > VHOST_TRACE_POLICY_DROP)
		return -EINVAL;
	if (req->fd >= 0) {
		file = vt_sink_open(req->fd, &is_pipe);
		if (IS_ERR(file))
			return PTR_ERR(file);
	} else if (req->fd != -1) {
		return -EBADF;
	}

	mutex_lock(&vt->ioctl_mutex);
	if (vt->released) {
		mutex_unlock(&vt->ioctl_mutex);
		vt_fput(file);
		return -ENODEV;
	}
	port = &vt->ports[array_index_nospec(req->port, vt->nports)];

	/* Between two buffers: the worker holds this mutex for each one. */
	mutex_lock(&vt_tx_vq(port)->mutex);
	vt_sink_take(port, &old, &dead);
	port->sink = file;
	port->sink_is_pipe = is_pipe;
	port->policy = req->policy;
	mutex_unlock(&vt_tx_vq(port)->mutex);

	/* Buffers that waited for a sink, or for room in the old one. */
	vhost_trace_kick_port(port);
	mutex_unlock(&vt->ioctl_mutex);

	vt_fput(old);
	vt_fput(dead);
	return 0;
}

/* On release: drop every sink. Called with the tx vq mutex held. */
void vhost_trace_sink_release(struct vhost_trace_port *port)
{
	struct file *old, *dead;

	vt_sink_take(port, &old, &dead);
	vt_fput(old);
	vt_fput(dead);
}

/*
 * Write the buffer in vq->iov to the sink, from where an earlier call
 * stopped (port->partial). Returns len when it is all written, -EAGAIN
 * when a pipe is full (what was written is kept in port->partial), -EINTR
 * when the worker is being killed (a vhost_task dies with its owner), or
 * another negative errno. Called by the worker with the tx vq mutex held.
 */
ssize_t vhost_trace_sink_write(struct vhost_trace_port *port,
			       unsigned int out, size_t len)
{
	struct vhost_virtqueue *vq = vt_tx_vq(port);
	struct file *sink = port->sink;
	struct iov_iter iter;
	loff_t pos;
	ssize_t r;

	while (port->partial < len) {
		/*
		 * pipe_write() sends SIGPIPE when the reader is gone; with
		 * a vhost_task worker that signal would go to the owner.
		 */
		if (port->sink_is_pipe && !vt_pipe_has_reader(sink))
			return -EPIPE;

		iov_iter_init(&iter, ITER_SOURCE, vq->iov, out, len);
		iov_iter_advance(&iter, port->partial);
		pos = port->sink_is_pipe ? 0 : sink->f_pos;
		r = vfs_iter_write(sink, &iter, &pos, 0);
		if (r == -ERESTARTSYS || (r < 0 && fatal_signal_pending(current)))
			return -EINTR;
		if (r < 0)
			return r;
		if (!r)
			return -EIO;
		if (!port->sink_is_pipe)
			sink->f_pos = pos;
		port->partial += r;
		port->stats.bytes += r;
	}
	port->partial = 0;
	return len;
}
