// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the rest of a buffer. A pipe short of room takes only part
 * of a buffer larger than PIPE_BUF, and a filesystem may freeze between
 * two writes of one buffer. Rather than keep the buffer in the ring with
 * a count of the bytes already written (which the guest could rewrite
 * meanwhile, and which a sink swap or a queue reset would cut in two),
 * the worker copies what is left into the port's rest, returns the
 * buffer, and writes the rest to the same sink before anything else of
 * the port goes to any sink. So every sink holds whole buffers, whatever
 * happens to the ring or the sink between two writes.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "vhost_trace.h"

/*
 * Keep what iter still holds as the rest owed to file. Returns 0, or a
 * negative errno (the buffer is then lost for file, which failed).
 * Called with the port lock held, no rest pending.
 */
int vhost_trace_rest_save(struct vt_port *port, struct file *file,
			  struct iov_iter *iter)
{
	struct vhost_trace_rest *rest = &port->rest;
	size_t n = iov_iter_count(iter);

	if (WARN_ON_ONCE(rest->len || n > VHOST_TRACE_MAX_BUFFER))
		return -EINVAL;
	if (!rest->buf) {
		rest->buf = kvmalloc(VHOST_TRACE_MAX_BUFFER, GFP_KERNEL_ACCOUNT);
		if (!rest->buf)
			return -ENOMEM;
	}
	if (copy_from_iter(rest->buf, n, iter) != n)
		return -EFAULT;
	rest->file = file;
	rest->off = 0;
	rest->len = n;
	return 0;
}

/*
 * The rest will never be written (its sink failed, or the device is
 * released): the buffer counts as dropped. Called with the port lock.
 */
void vhost_trace_rest_drop(struct vt_port *port)
{
	struct vhost_trace_rest *rest = &port->rest;

	spin_lock(&port->stats_lock);
	port->stats.dropped_buffers++;
	port->stats.dropped_bytes += rest->len - rest->off;
	spin_unlock(&port->stats_lock);
	rest->len = 0;
	rest->off = 0;
	rest->file = NULL;
}

/*
 * Write the rest, if any. Returns 0 when none is left, -EAGAIN when its
 * sink is full or frozen (the port then waits for it), -EINTR when the
 * worker is being killed. Called by the worker with the port lock held.
 */
int vhost_trace_rest_flush(struct vt_port *port, bool was_waiting)
{
	struct vhost_trace_rest *rest = &port->rest;
	struct iov_iter iter;
	struct kvec kv;
	ssize_t r;

	while (rest->off < rest->len) {
		kv.iov_base = rest->buf + rest->off;
		kv.iov_len = rest->len - rest->off;
		iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, kv.iov_len);
		r = vhost_trace_sink_write(port, rest->file, &iter);
		if (r > 0) {
			rest->off += r;
			vt_count_copied(port, r);
			continue;
		}
		if (r == -EINTR)
			return r;
		if (r == -EAGAIN) {
			r = vt_port_wait(port, rest->file, was_waiting);
			if (!r)
				return -EAGAIN;
		}
		/* drops the rest */
		vhost_trace_sink_failed(port, rest->file, -r);
		return 0;
	}
	if (!rest->len)
		return 0;
	vt_count(port, &port->stats.buffers, 1);
	rest->len = 0;
	rest->off = 0;
	if (rest->file == port->old_sink)
		schedule_work(&port->put_work);
	rest->file = NULL;
	return 0;
}
