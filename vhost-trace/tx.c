// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the worker. Takes the buffers the guest posts on a port's
 * guest-to-host queue and writes each one, whole and in ring order, to the
 * port's sink; then returns them to the guest.
 *
 * A full sink never blocks the worker, which serves every port: the buffer
 * goes back into the ring (block policy) or is dropped (drop policy), and
 * a poll on the sink for EPOLLOUT resumes the port, as vhost-net does with
 * its socket.
 */
#include <linux/nospec.h>
#include <linux/uio.h>

#include "vhost_trace.h"

/* Buffers returned to the guest in one vhost_add_used_n(). */
#define VT_USED_BATCH	64

/* A regular file that is frozen or answered EAGAIN: try again after. */
#define VT_RETRY_JIFFIES	(HZ / 20)

static void vt_drop(struct vhost_trace_port *port, size_t len)
{
	spin_lock(&port->stats_lock);
	port->stats.dropped_buffers++;
	port->stats.dropped_bytes += len;
	spin_unlock(&port->stats_lock);
}

/* Stop waiting for room in (or a thaw of) a sink. Called with vq mutex. */
void vhost_trace_unwait(struct vhost_trace_port *port)
{
	if (port->waiting) {
		vhost_poll_stop(&port->sink_poll);
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
 * lost its reader. Called with the vq mutex, not waiting yet.
 */
int vhost_trace_wait(struct vhost_trace_port *port, struct file *file,
		     bool was_waiting)
{
	if (!was_waiting)
		vt_count(port, &port->stats.stalls, 1);
	if (!S_ISFIFO(file_inode(file)->i_mode)) {
		mod_timer(&port->retry, jiffies + VT_RETRY_JIFFIES);
		WRITE_ONCE(port->retrying, true);
		return 0;
	}
	if (vhost_poll_start(&port->sink_poll, file))
		return -EPIPE;	/* EPOLLERR: no reader since the write */
	WRITE_ONCE(port->waiting, true);
	return 0;
}

/*
 * Give the buffer at the head of the ring (in vq->iov) to the sink.
 * Returns true when the buffer is done with (written, its rest kept,
 * dropped or refused) and goes back to the guest, false when it must
 * stay in the ring.
 */
static bool vt_consume(struct vhost_trace_port *port, unsigned int out,
		       size_t len, bool was_waiting)
{
	bool drop = port->policy == VHOST_TRACE_POLICY_DROP;
	struct file *sink = port->sink;
	struct iov_iter iter;
	size_t done = 0;
	ssize_t r;

	/* No sink, or the rest of a buffer still owed to one. */
	if (!sink || port->rest.len) {
		if (!drop)
			return false;
		vt_drop(port, len);
		return true;
	}
	/* Drop never waits: a buffer the pipe cannot take whole is dropped. */
	if (drop && port->sink_is_pipe &&
	    vhost_trace_pipe_room(sink) < len) {
		vt_drop(port, len);
		return true;
	}

	iov_iter_init(&iter, ITER_SOURCE, vt_tx_vq(port)->iov, out, len);
	do {
		r = vhost_trace_sink_write(port, sink, &iter);
		if (r > 0) {
			done += r;
			vt_count(port, &port->stats.bytes, r);
		}
	} while (r > 0 && done < len);

	if (done == len) {
		vt_count(port, &port->stats.buffers, 1);
		return true;
	}
	if (r == -EINTR)
		return false;	/* the worker is killed with its owner */
	if (r == -EAGAIN && done) {
		/* the sink took part: it gets the rest when it has room */
		r = vhost_trace_rest_save(port, sink, &iter);
		if (!r) {
			r = vhost_trace_wait(port, sink, was_waiting);
			if (r)	/* drops the rest, counted */
				vhost_trace_sink_failed(port, sink, -r);
			return true;
		}
	} else if (r == -EAGAIN && drop) {
		vt_drop(port, len);
		return true;
	} else if (r == -EAGAIN) {
		r = vhost_trace_wait(port, sink, was_waiting);
		if (!r)
			return false;
	}

	/*
	 * The sink failed. Block: the buffer waits whole for the next sink.
	 * Drop: what was not written is dropped.
	 */
	vhost_trace_sink_failed(port, sink, -r);
	if (!drop)
		return false;
	vt_drop(port, len - done);
	return true;
}

static void vt_return_used(struct vhost_virtqueue *vq, int *nused)
{
	if (!*nused)
		return;
	vhost_add_used_n(vq, vq->heads, *nused);
	vhost_signal(vq->dev, vq);
	*nused = 0;
}

/* Not a trace buffer: returned unread (see the uapi header). */
static bool vt_bad_buffer(unsigned int in, size_t len)
{
	return in || !len || len > VHOST_TRACE_MAX_BUFFER;
}

static void vt_handle_tx(struct vhost_trace_port *port, bool sink_room)
{
	struct vhost_virtqueue *vq = vt_tx_vq(port);
	struct vhost_dev *dev = vq->dev;
	int head, pkts = 0, nused = 0;
	unsigned int out, in;
	bool was_waiting;
	size_t len, total = 0;

	mutex_lock(&vq->mutex);
	if (!vhost_vq_get_backend(vq) || port->broken)
		goto unlock;
	was_waiting = port->waiting || port->retrying;
	/* Under block, a guest kick does not make room in a full sink. */
	if (was_waiting && !sink_room &&
	    port->policy == VHOST_TRACE_POLICY_BLOCK)
		goto unlock;
	vhost_trace_unwait(port);

	/* The rest of a buffer goes first, to its own sink. */
	if (vhost_trace_rest_flush(port, was_waiting) == -EINTR)
		goto unlock;

	vhost_disable_notify(dev, vq);
	do {
		head = vhost_get_vq_desc(vq, vq->iov, ARRAY_SIZE(vq->iov),
					 &out, &in, NULL, NULL);
		if (unlikely(head < 0)) {
			/* The core has signalled the error eventfd. */
			vt_count(port, &port->stats.queue_errors, 1);
			WRITE_ONCE(port->broken, true);
			break;
		}
		if (head == vq->num) {
			if (unlikely(vhost_enable_notify(dev, vq))) {
				vhost_disable_notify(dev, vq);
				continue;
			}
			break;
		}

		len = iov_length(vq->iov, out);
		if (unlikely(vt_bad_buffer(in, len))) {
			vt_count(port, &port->stats.bad_buffers, 1);
			len = 0;
		} else if (!vt_consume(port, out, len, was_waiting)) {
			vhost_discard_vq_desc(vq, 1);
			break;
		}
		total += len;

		vq->heads[nused].id = cpu_to_vhost32(vq, head);
		vq->heads[nused].len = 0;
		if (++nused == VT_USED_BATCH)
			vt_return_used(vq, &nused);
		/* total <= weight + one buffer: no int overflow */
	} while (likely(!vhost_exceeds_weight(vq, ++pkts, total)));

	vt_return_used(vq, &nused);
unlock:
	mutex_unlock(&vq->mutex);
}

static void vt_handle_kick(struct vhost_work *work)
{
	struct vhost_virtqueue *vq = container_of(work, struct vhost_virtqueue,
						  poll.work);

	vt_handle_tx(container_of(vq, struct vhost_trace_port, vqs[VT_VQ_TX]),
		     false);
}

static void vt_handle_sink_room(struct vhost_work *work)
{
	vt_handle_tx(container_of(work, struct vhost_trace_port,
				  sink_poll.work), true);
}

/* The retry timer: try a regular file again, from the worker. */
static void vt_retry(struct timer_list *t)
{
	struct vhost_trace_port *port = from_timer(port, t, retry);

	vhost_poll_queue(&port->sink_poll);
}

/* Before vhost_dev_init(): the queues' kick handlers. */
void vhost_trace_port_prepare(struct vhost_trace_port *port,
			      struct vhost_trace *vt)
{
	port->vt = vt;
	port->vqs[VT_VQ_TX].handle_kick = vt_handle_kick;
	spin_lock_init(&port->stats_lock);
	timer_setup(&port->retry, vt_retry, 0);
	INIT_WORK(&port->put_work, vhost_trace_put_files);
}

/*
 * Wakeups of a full sink. vhost_poll_wakeup() ignores a wakeup without a
 * poll key, but pipe_release() wakes the writers without one when the
 * reader goes: a waiting port must retry then, and meet EPIPE.
 */
static int vt_sink_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			  int sync, void *key)
{
	struct vhost_poll *poll = container_of(wait, struct vhost_poll, wait);

	if (key && !(key_to_poll(key) & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return 0;
	vhost_poll_queue(poll);
	return 0;
}

/* After vhost_dev_init(): what needs the initialized device. */
void vhost_trace_port_init(struct vhost_trace_port *port)
{
	vt_poll_init(&port->sink_poll, vt_handle_sink_room, EPOLLOUT,
		     &port->vt->dev, vt_tx_vq(port));
	init_waitqueue_func_entry(&port->sink_poll.wait, vt_sink_wakeup);
}

void vhost_trace_kick_port(struct vhost_trace_port *port)
{
	vhost_poll_queue(&vt_tx_vq(port)->poll);
}

/* Called with vq->mutex held. */
static int vt_port_start(struct vhost_trace_port *port)
{
	struct vhost_virtqueue *vq = vt_tx_vq(port);
	int r;

	/*
	 * A queue the guest did not set up is not serviced, nor one stopped
	 * on an error until it is set up again (vhost_trace_vring_set_up).
	 */
	if (!vq->desc || vhost_vq_get_backend(vq) || port->broken)
		return 0;
	if (!vhost_vq_access_ok(vq))
		return -EFAULT;
	vhost_vq_set_backend(vq, port);
	r = vhost_vq_init_access(vq);
	if (r) {
		vhost_vq_set_backend(vq, NULL);
		return r;
	}
	WRITE_ONCE(port->running, true);
	return 0;
}

/*
 * A VHOST_SET_VRING_NUM, _BASE or _ADDR on vhost queue idx succeeded (the
 * core refuses them while the queue has a backend): its port, if stopped
 * on an error, may be started again. Called with dev.mutex held.
 */
void vhost_trace_vring_set_up(struct vhost_trace *vt, u32 idx)
{
	struct vhost_trace_port *port;

	if (idx >= vt->nports * 2 || idx % 2 != VT_VQ_TX)
		return;
	port = &vt->ports[array_index_nospec(idx / 2, vt->nports)];
	mutex_lock(&vt_tx_vq(port)->mutex);
	WRITE_ONCE(port->broken, false);
	mutex_unlock(&vt_tx_vq(port)->mutex);
}

/* Called with vq->mutex held. */
static void vt_port_stop(struct vhost_trace_port *port)
{
	vhost_vq_set_backend(vt_tx_vq(port), NULL);
	WRITE_ONCE(port->running, false);
	vhost_trace_unwait(port);
	/* a retry running now queues work that finds the queue stopped */
}

void vhost_trace_stop_ports(struct vhost_trace *vt)
{
	u32 i;

	for (i = 0; i < vt->nports; i++) {
		struct vhost_trace_port *port = &vt->ports[i];

		mutex_lock(&vt_tx_vq(port)->mutex);
		vt_port_stop(port);
		mutex_unlock(&vt_tx_vq(port)->mutex);
	}
	vhost_dev_flush(&vt->dev);
}

/* VHOST_TRACE_SET_RUNNING; called with ioctl_mutex held. */
long vhost_trace_set_running(struct vhost_trace *vt, bool run)
{
	long r;
	u32 i;

	mutex_lock(&vt->dev.mutex);
	r = vhost_dev_check_owner(&vt->dev);
	if (r)
		goto out;

	if (!run) {
		vhost_trace_stop_ports(vt);
		goto out;
	}

	for (i = 0; i < vt->nports; i++) {
		struct vhost_trace_port *port = &vt->ports[i];

		mutex_lock(&vt_tx_vq(port)->mutex);
		r = vt_port_start(port);
		mutex_unlock(&vt_tx_vq(port)->mutex);
		if (r) {
			vhost_trace_stop_ports(vt);
			goto out;
		}
	}
	/* Buffers may have been posted before the start. */
	for (i = 0; i < vt->nports; i++)
		vhost_trace_kick_port(&vt->ports[i]);
out:
	mutex_unlock(&vt->dev.mutex);
	return r;
}
