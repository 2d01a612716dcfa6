// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: a port's buffers to its sink, for both front ends. The
 * front end's worker walks its ring, and for each guest-to-host buffer
 * calls vt_port_consume() with an iov_iter over it, with port->lock held.
 *
 * A full sink never blocks the worker, which serves every port: the buffer
 * goes back into the ring (block policy) or is dropped (drop policy), and
 * a poll on the sink for EPOLLOUT resumes the port (ops->room), as
 * vhost-net does with its socket.
 */
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "vhost_trace.h"

/* A regular file that is frozen or answered EAGAIN: try again after. */
#define VT_RETRY_JIFFIES	(HZ / 20)

static void vt_drop(struct vt_port *port, size_t len)
{
	spin_lock(&port->stats_lock);
	port->stats.dropped_buffers++;
	port->stats.dropped_bytes += len;
	spin_unlock(&port->stats_lock);
}

/*
 * Wakeups of a full sink. A wakeup without a poll key counts too:
 * pipe_release() wakes the writers without one when the reader goes: a
 * waiting port must retry then, and meet EPIPE.
 */
static int vt_sink_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			  int sync, void *key)
{
	struct vt_port *port = container_of(wait, struct vt_port,
					    sink_poll.wait);

	if (key && !(key_to_poll(key) & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return 0;
	port->ops->room(port);
	return 0;
}

static void vt_sink_poll_func(struct file *file, wait_queue_head_t *wqh,
			      poll_table *pt)
{
	struct vt_sink_poll *p = container_of(pt, struct vt_sink_poll, table);

	p->wqh = wqh;
	add_wait_queue(wqh, &p->wait);
}

static void vt_sink_poll_stop(struct vt_sink_poll *p)
{
	if (p->wqh) {
		remove_wait_queue(p->wqh, &p->wait);
		p->wqh = NULL;
	}
}

/* As vhost_poll_start(): -EINVAL on EPOLLERR. */
static int vt_sink_poll_start(struct vt_sink_poll *p, struct file *file)
{
	__poll_t mask;

	if (p->wqh)
		return 0;
	mask = vfs_poll(file, &p->table);
	if (mask)
		vt_sink_wakeup(&p->wait, 0, 0, poll_to_key(mask));
	if (mask & EPOLLERR) {
		vt_sink_poll_stop(p);
		return -EINVAL;
	}
	return 0;
}

/* Stop waiting for room in (or a thaw of) a sink. Called with the lock. */
void vt_port_unwait(struct vt_port *port)
{
	if (port->waiting) {
		vt_sink_poll_stop(&port->sink_poll);
		WRITE_ONCE(port->waiting, false);
	}
	if (port->retrying) {
		timer_delete(&port->retry);
		WRITE_ONCE(port->retrying, false);
	}
}

/*
 * Wait until file can take more: a pipe is polled for room, a regular
 * file is tried again a little later (polling one is always ready, and
 * there is no wakeup for a thaw). Returns 0, or -EPIPE when the pipe
 * lost its reader. Called with the lock, not waiting yet.
 */
int vt_port_wait(struct vt_port *port, struct file *file, bool was_waiting)
{
	if (!was_waiting)
		vt_count(port, &port->stats.stalls, 1);
	if (!S_ISFIFO(file_inode(file)->i_mode)) {
		mod_timer(&port->retry, jiffies + VT_RETRY_JIFFIES);
		WRITE_ONCE(port->retrying, true);
		return 0;
	}
	if (vt_sink_poll_start(&port->sink_poll, file))
		return -EPIPE;	/* EPOLLERR: no reader since the write */
	WRITE_ONCE(port->waiting, true);
	return 0;
}

/*
 * Before the worker takes buffers from the ring, with the lock held:
 * false when the port has nothing to do now (it waits for a full sink
 * under block, or the worker is being killed). Writes the rest of a
 * buffer first, to its own sink.
 */
bool vt_port_begin(struct vt_port *port, bool sink_room, bool *was_waiting)
{
	*was_waiting = port->waiting || port->retrying;
	/* Under block, a guest kick does not make room in a full sink. */
	if (*was_waiting && !sink_room &&
	    port->policy == VHOST_TRACE_POLICY_BLOCK)
		return false;
	vt_port_unwait(port);
	return vhost_trace_rest_flush(port, *was_waiting) != -EINTR;
}

/*
 * A pipe with free slots, but fewer than a lent buffer needs: its reader
 * does not wake writers until it empties a full pipe, so try again a
 * little later, or when a pipe lets go of a lent buffer (ops->room).
 * Returns 0 or -EPIPE, as vt_port_wait().
 */
static int vt_port_wait_slots(struct vt_port *port, struct file *file,
			      bool was_waiting)
{
	if (!vhost_trace_pipe_room(file))
		return vt_port_wait(port, file, was_waiting);
	if (!was_waiting)
		vt_count(port, &port->stats.stalls, 1);
	mod_timer(&port->retry, jiffies + VT_RETRY_JIFFIES);
	WRITE_ONCE(port->retrying, true);
	return 0;
}

/*
 * A buffer by reference (VHOST_TRACE_SINK_BY_REF on a pipe, block): lent
 * whole, or waits whole. Returns VT_BUF_*, or -1 when it goes by copy
 * instead.
 */
static int vt_port_lend(struct vt_port *port, struct file *sink,
			struct iov_iter *iter, size_t len, u32 head,
			bool was_waiting)
{
	ssize_t r = vt_ref_write(port, sink, iter, len, head);

	if (r == (ssize_t)len) {
		spin_lock(&port->stats_lock);
		port->stats.bytes += len;
		port->stats.ref_bytes += len;
		port->stats.buffers++;
		port->stats.ref_buffers++;
		spin_unlock(&port->stats_lock);
		return VT_BUF_LENT;
	}
	if (r == -EAGAIN)
		r = vt_port_wait_slots(port, sink, was_waiting);
	if (!r)
		return VT_BUF_KEEP;
	if (r != -EPIPE)
		return -1;	/* by copy */
	vhost_trace_sink_failed(port, sink, EPIPE);
	return VT_BUF_KEEP;	/* waits whole for the next sink */
}

/*
 * Give the buffer at the head of the ring (len bytes in iter, head its
 * id for the front end) to the sink. Returns VT_BUF_DONE when the buffer
 * is done with (written, its rest kept, dropped) and goes back to the
 * guest, VT_BUF_LENT when a pipe holds its pages (it goes back when the
 * pipe lets go of them), VT_BUF_KEEP when it must stay in the ring.
 * Called by the worker with the lock held.
 */
int vt_port_consume(struct vt_port *port, struct iov_iter *iter,
		    size_t len, u32 head, bool was_waiting)
{
	bool drop = port->policy == VHOST_TRACE_POLICY_DROP;
	struct file *sink = port->sink;
	size_t done = 0;
	ssize_t r;

	/* No sink, or the rest of a buffer still owed to one. */
	if (!sink || port->rest.len) {
		if (!drop)
			return VT_BUF_KEEP;
		vt_drop(port, len);
		return VT_BUF_DONE;
	}
	/*
	 * By reference under block only: a lent buffer stays out until the
	 * reader reads it, and drop promises the guest never waits for one.
	 */
	if (port->by_ref && !drop) {
		r = vt_port_lend(port, sink, iter, len, head, was_waiting);
		if (r >= 0)
			return r;
	}
	/* Drop never waits: a buffer the pipe cannot take whole is dropped. */
	if (drop && port->sink_is_pipe &&
	    vhost_trace_pipe_room(sink) < len) {
		vt_drop(port, len);
		return VT_BUF_DONE;
	}

	do {
		r = vhost_trace_sink_write(port, sink, iter);
		if (r > 0) {
			done += r;
			vt_count_copied(port, r);
		}
	} while (r > 0 && done < len);

	if (done == len) {
		vt_count(port, &port->stats.buffers, 1);
		return VT_BUF_DONE;
	}
	if (r == -EINTR)
		return VT_BUF_KEEP;	/* the worker is killed with its owner */
	if (r == -EAGAIN && done) {
		/* the sink took part: it gets the rest when it has room */
		r = vhost_trace_rest_save(port, sink, iter);
		if (!r) {
			r = vt_port_wait(port, sink, was_waiting);
			if (r)	/* drops the rest, counted */
				vhost_trace_sink_failed(port, sink, -r);
			return VT_BUF_DONE;
		}
	} else if (r == -EAGAIN && drop) {
		vt_drop(port, len);
		return VT_BUF_DONE;
	} else if (r == -EAGAIN) {
		r = vt_port_wait(port, sink, was_waiting);
		if (!r)
			return VT_BUF_KEEP;
	}

	/*
	 * The sink failed. Block: the buffer waits whole for the next sink.
	 * Drop: what was not written is dropped.
	 */
	vhost_trace_sink_failed(port, sink, -r);
	if (!drop)
		return VT_BUF_KEEP;
	vt_drop(port, len - done);
	return VT_BUF_DONE;
}

/* The retry timer: try a regular file again, from the worker. */
static void vt_retry(struct timer_list *t)
{
	struct vt_port *port = from_timer(port, t, retry);

	port->ops->room(port);
}

void vt_port_init(struct vt_port *port, struct vt_core *core,
		  const struct vt_port_ops *ops)
{
	port->core = core;
	port->ops = ops;
	mutex_init(&port->lock);
	spin_lock_init(&port->stats_lock);
	timer_setup(&port->retry, vt_retry, 0);
	INIT_WORK(&port->put_work, vhost_trace_put_files);
	init_poll_funcptr(&port->sink_poll.table, vt_sink_poll_func);
	init_waitqueue_func_entry(&port->sink_poll.wait, vt_sink_wakeup);
}

/*
 * The data path is gone (the worker stopped, no more ops->room wanted):
 * drop every sink and what was owed to them, and wait for put_work.
 */
void vt_port_release(struct vt_port *port)
{
	timer_delete_sync(&port->retry);
	mutex_lock(&port->lock);
	vhost_trace_sink_release(port);
	vt_refs_orphan(port);
	mutex_unlock(&port->lock);
	cancel_work_sync(&port->put_work);
}

/* Free what the port allocated (the rest buffer, its loans' refs). */
void vt_port_cleanup(struct vt_port *port)
{
	kvfree(port->rest.buf);
	if (port->refs)
		vt_refs_put(port->refs);
}
