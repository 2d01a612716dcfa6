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
#include <linux/uio.h>

#include "vhost_trace.h"

/* Buffers returned to the guest in one vhost_add_used_n(). */
#define VT_USED_BATCH	64

static void vt_drop(struct vhost_trace_port *port, size_t len)
{
	port->stats.dropped_buffers++;
	port->stats.dropped_bytes += len - port->partial;
	port->partial = 0;
}

/*
 * Give the buffer at the head of the ring (in vq->iov) to the sink.
 * Returns true when the buffer is done with (written, dropped or refused)
 * and goes back to the guest, false when it must stay in the ring.
 */
static bool vt_consume(struct vhost_trace_port *port, unsigned int out,
		       size_t len)
{
	ssize_t r;

	if (!port->sink) {
		if (port->policy == VHOST_TRACE_POLICY_BLOCK)
			return false;	/* until a sink is attached */
		vt_drop(port, len);
		return true;
	}

	r = vhost_trace_sink_write(port, out, len);
	if (r >= 0) {
		port->stats.buffers++;
		return true;
	}

	/* The worker is being killed with its owner: leave the buffer. */
	if (r == -EINTR)
		return false;

	if (r == -EAGAIN) {
		/* A buffer is written whole or not at all, even under drop. */
		if (port->policy == VHOST_TRACE_POLICY_DROP && !port->partial) {
			vt_drop(port, len);
			return true;
		}
		port->stats.stalls++;
		if (!vhost_poll_start(&port->sink_poll, port->sink)) {
			port->waiting = true;
			return false;
		}
		/* EPOLLERR: the pipe lost its reader since the write. */
		r = -EPIPE;
	}

	port->stats.sink_errors++;
	port->stats.last_error = -r;
	vhost_trace_sink_fail(port);
	if (port->policy == VHOST_TRACE_POLICY_BLOCK)
		return false;
	vt_drop(port, len);
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

static void vt_handle_tx(struct vhost_trace_port *port, bool sink_room)
{
	struct vhost_virtqueue *vq = vt_tx_vq(port);
	struct vhost_dev *dev = vq->dev;
	int head, pkts = 0, total = 0, nused = 0;
	unsigned int out, in;
	size_t len;

	mutex_lock(&vq->mutex);
	if (!vhost_vq_get_backend(vq) || port->broken)
		goto unlock;
	if (port->waiting) {
		/* A guest kick does not make room in a full sink. */
		if (!sink_room)
			goto unlock;
		vhost_trace_sink_unpoll(port);
	}

	vhost_disable_notify(dev, vq);
	do {
		head = vhost_get_vq_desc(vq, vq->iov, ARRAY_SIZE(vq->iov),
					 &out, &in, NULL, NULL);
		if (unlikely(head < 0)) {
			/* The core has signalled the error eventfd. */
			port->stats.queue_errors++;
			port->broken = true;
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
		if (unlikely(in || !len)) {
			/* Not a trace buffer: give it back unread. */
			port->stats.bad_buffers++;
		} else if (!vt_consume(port, out, len)) {
			vhost_discard_vq_desc(vq, 1);
			break;
		}

		vq->heads[nused].id = cpu_to_vhost32(vq, head);
		vq->heads[nused].len = 0;
		if (++nused == VT_USED_BATCH)
			vt_return_used(vq, &nused);
		total += len;
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

/* Before vhost_dev_init(): the queues' kick handlers. */
void vhost_trace_port_prepare(struct vhost_trace_port *port,
			      struct vhost_trace *vt)
{
	port->vt = vt;
	port->vqs[VT_VQ_TX].handle_kick = vt_handle_kick;
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

	/* A queue the guest did not set up is not serviced. */
	if (!vq->desc || vhost_vq_get_backend(vq))
		return 0;
	if (!vhost_vq_access_ok(vq))
		return -EFAULT;
	vhost_vq_set_backend(vq, port);
	r = vhost_vq_init_access(vq);
	if (r) {
		vhost_vq_set_backend(vq, NULL);
		return r;
	}
	port->broken = false;
	return 0;
}

/* Called with vq->mutex held. */
static void vt_port_stop(struct vhost_trace_port *port)
{
	vhost_vq_set_backend(vt_tx_vq(port), NULL);
	vhost_trace_sink_unpoll(port);
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
