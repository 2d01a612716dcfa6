// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: sinks. A port's sink is a pipe, a FIFO or a regular file;
 * the control fd attaches, swaps and detaches it, the worker writes the
 * guest's buffers to it.
 *
 * Every write runs with the credentials of the one who opened the sink's
 * file (file->f_cred), whoever the worker is (a kernel thread on 6.1, a
 * thread of the owner on 6.12): quota, reserved blocks, setuid stripping
 * and security modules see the opener. A regular file is also held to
 * the RLIMIT_FSIZE of the process that set the sink: past it a write
 * fails with EFBIG (no SIGXFSZ is sent to anyone).
 */
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/nospec.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched/signal.h>
#include <linux/uio.h>

#include "vhost_trace.h"

static struct pipe_inode_info *vt_pipe(struct file *file)
{
	return file->private_data;
}

static bool vt_pipe_has_reader(struct file *file)
{
	return READ_ONCE(vt_pipe(file)->readers);
}

/*
 * Bytes a write is sure to find room for in a pipe with no other writer
 * (whole free slots; a write may also fill the last slot's tail).
 */
size_t vhost_trace_pipe_room(struct file *file)
{
	struct pipe_inode_info *pipe = vt_pipe(file);
	unsigned int used = READ_ONCE(pipe->head) - READ_ONCE(pipe->tail);
	unsigned int max = READ_ONCE(pipe->max_usage);

	return used < max ? (size_t)(max - used) * PAGE_SIZE : 0;
}

/*
 * The file the worker writes to for fd. A pipe or FIFO gets a file of its
 * own, opened non-blocking on the same pipe with the opener's
 * credentials: the worker must never wait on a full pipe (6.1's
 * pipe_write ignores IOCB_NOWAIT), and the caller's file keeps its flags.
 * A regular file is used as it is.
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

	own = dentry_open(&file->f_path, O_WRONLY | O_NONBLOCK, file->f_cred);
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

static void vt_fput(struct file *file)
{
	if (file)
		fput(file);
}

/*
 * A write to file failed: count it and stop using the file. The worker
 * never drops a file itself (a final fput() from a vhost_task would wait
 * until the task exits): put_work does. Called with the port lock held.
 */
void vhost_trace_sink_failed(struct vt_port *port,
			     struct file *file, int err)
{
	spin_lock(&port->stats_lock);
	port->stats.sink_errors++;
	port->stats.last_error = err;
	spin_unlock(&port->stats_lock);

	vt_port_unwait(port);
	if (file == port->sink) {
		WRITE_ONCE(port->sink, NULL);
		port->dead_sink = file;
	}
	/* the rest of a buffer and an old sink are dropped with it */
	if (port->rest.len && port->rest.file == file)
		vhost_trace_rest_drop(port);
	schedule_work(&port->put_work);
}

/* Take the files nobody writes to any more. Called with the port lock. */
static void vt_take_unused(struct vt_port *port, struct file **old,
			   struct file **dead)
{
	*old = NULL;
	if (!port->rest.len || port->rest.file != port->old_sink) {
		*old = port->old_sink;
		port->old_sink = NULL;
	}
	*dead = port->dead_sink;
	port->dead_sink = NULL;
}

/* put_work: drop the files the worker is done with. */
void vhost_trace_put_files(struct work_struct *work)
{
	struct vt_port *port = container_of(work,
			struct vt_port, put_work);
	struct file *old, *dead;

	mutex_lock(&port->lock);
	vt_take_unused(port, &old, &dead);
	mutex_unlock(&port->lock);
	vt_fput(old);
	vt_fput(dead);
}

/* VHOST_TRACE_SET_SINK, from the control fd. */
long vhost_trace_set_sink(struct vt_core *core,
			  const struct vhost_trace_sink *req)
{
	struct vt_port *port;
	struct file *file = NULL, *cur, *old, *dead;
	struct vt_refs *refs = NULL;
	bool by_ref = req->flags & VHOST_TRACE_SINK_BY_REF;
	bool is_pipe = false;

	if (req->port >= core->nports ||
	    (req->flags & ~VHOST_TRACE_SINK_BY_REF) ||
	    req->policy > VHOST_TRACE_POLICY_DROP)
		return -EINVAL;
	if (req->fd >= 0) {
		file = vt_sink_open(req->fd, &is_pipe);
		if (IS_ERR(file))
			return PTR_ERR(file);
	} else if (req->fd != -1) {
		return -EBADF;
	}

	mutex_lock(&core->lock);
	if (core->released) {
		mutex_unlock(&core->lock);
		vt_fput(file);
		return -ENODEV;
	}
	port = core->ports[array_index_nospec(req->port, core->nports)];
	if (by_ref && !port->ops->lends) {
		mutex_unlock(&core->lock);
		vt_fput(file);
		return -EOPNOTSUPP;
	}
	if (by_ref && is_pipe && !port->refs) {
		refs = vt_refs_alloc(port);
		if (!refs) {
			mutex_unlock(&core->lock);
			vt_fput(file);
			return -ENOMEM;
		}
	}

	/*
	 * Between two buffers: the worker holds this mutex for each one and
	 * never sleeps on a sink with it. A buffer the old sink took part of
	 * is finished there first (the rest keeps the old sink).
	 */
	mutex_lock(&port->lock);
	vt_port_unwait(port);
	vt_take_unused(port, &old, &dead);
	cur = port->sink;
	if (cur && port->rest.len && port->rest.file == cur) {
		/* old_sink is free: the rest goes to the current sink */
		port->old_sink = cur;
		cur = NULL;
	}
	WRITE_ONCE(port->sink, file);
	port->sink_is_pipe = is_pipe;
	port->by_ref = by_ref && is_pipe;
	if (refs)
		WRITE_ONCE(port->refs, refs);
	port->policy = req->policy;
	port->fsize_limit = rlimit(RLIMIT_FSIZE);
	mutex_unlock(&port->lock);

	/* Buffers that waited for a sink, or for room in the old one. */
	port->ops->kick(port);
	mutex_unlock(&core->lock);

	vt_fput(cur);
	vt_fput(old);
	vt_fput(dead);
	return 0;
}

/*
 * On release: drop every sink and what was owed to them. Called with the
 * port lock held, the worker stopped.
 */
void vhost_trace_sink_release(struct vt_port *port)
{
	struct file *files[3];
	int i;

	if (port->rest.len)
		vhost_trace_rest_drop(port);
	vt_port_unwait(port);
	files[0] = port->sink;
	files[1] = port->old_sink;
	files[2] = port->dead_sink;
	WRITE_ONCE(port->sink, NULL);
	port->old_sink = NULL;
	port->dead_sink = NULL;
	for (i = 0; i < ARRAY_SIZE(files); i++)
		vt_fput(files[i]);
}

/*
 * A regular file: the lower of the RLIMIT_FSIZE of whoever set the sink
 * and the worker's own (6.12: the owner's; reaching it in the write would
 * send SIGXFSZ to the owner). Shortens iter to it; EFBIG at it.
 */
static int vt_file_limit(struct vt_port *port, struct file *file,
			 struct iov_iter *iter)
{
	unsigned long limit = min(port->fsize_limit, rlimit(RLIMIT_FSIZE));
	loff_t pos = file->f_pos;

	if (limit == RLIM_INFINITY)
		return 0;
	if (pos < 0 || pos >= limit)
		return -EFBIG;
	iov_iter_truncate(iter, limit - pos);
	return 0;
}

/*
 * A regular file: what vfs_iter_write() does, with its freeze protection
 * taken without waiting (vfs_iter_write() waits for a thaw since 6.7; the
 * module's own protection around it would nest a read of the freeze lock
 * that a freeze starting in between deadlocks). -EAGAIN when frozen.
 */
static ssize_t vt_file_write(struct file *file, struct iov_iter *iter,
			     loff_t *pos)
{
	struct kiocb kiocb;
	ssize_t r;

	if (!(file->f_mode & FMODE_WRITE) ||
	    !(file->f_mode & FMODE_CAN_WRITE) || !file->f_op->write_iter)
		return -EBADF;
	r = rw_verify_area(WRITE, file, pos, iov_iter_count(iter));
	if (r)
		return r;
	if (!file_start_write_trylock(file))
		return -EAGAIN;
	init_sync_kiocb(&kiocb, file);
	kiocb.ki_pos = *pos;
	r = file->f_op->write_iter(&kiocb, iter);
	if (r > 0) {
		*pos = kiocb.ki_pos;
		fsnotify_modify(file);
	}
	file_end_write(file);
	return r;
}

/*
 * Write what iter holds to file, once. Returns the bytes written (maybe
 * fewer than asked), -EAGAIN when a pipe is full or the filesystem is
 * frozen, -EINTR when the worker is being killed (a vhost_task dies with
 * its owner), or another negative errno. Called by the worker with the tx
 * port lock held; never sleeps waiting for the sink.
 */
ssize_t vhost_trace_sink_write(struct vt_port *port,
			       struct file *file, struct iov_iter *iter)
{
	bool is_pipe = S_ISFIFO(file_inode(file)->i_mode);
	const struct cred *cred;
	loff_t pos = 0;
	ssize_t r;

	if (is_pipe) {
		/*
		 * pipe_write() sends SIGPIPE when the reader is gone; with
		 * a vhost_task worker that signal would go to the owner.
		 */
		if (!vt_pipe_has_reader(file))
			return -EPIPE;
	} else {
		r = vt_file_limit(port, file, iter);
		if (r)
			return r;
		pos = file->f_pos;
	}

	cred = override_creds(file->f_cred);
	r = is_pipe ? vfs_iter_write(file, iter, &pos, 0) :
		      vt_file_write(file, iter, &pos);
	revert_creds(cred);

	if (!is_pipe && r > 0)
		file->f_pos = pos;
	if (r == -ERESTARTSYS || (r < 0 && fatal_signal_pending(current)))
		return -EINTR;
	if (!r)
		return -EIO;
	return r;
}
