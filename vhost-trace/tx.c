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
#include <linux/moduleparam.h>
#include <linux/nospec.h>
#include <linux/uio.h>

#include "vhost_trace.h"

/* Buffers returned to the guest in one vhost_add_used_n(). */
#define VT_USED_BATCH	64

/*
 * Lazy used signalling. A guest's virtio_console never turns its output
 * queue's interrupt off, asks with EVENT_IDX for one on the next used
 * entry each time it reclaims (it does so on its next write), and needs
 * one only when its ring is full and a writer waits. Every other
 * interrupt costs the guest exits for nothing. So used entries are
 * signalled at once only when the guest may be near a full ring: it holds
 * at least half of it unreclaimed, counted as the buffers it posted
 * (avail idx, as the worker last read it) since the used entry it asked
 * to hear of (used_event), times the descriptors a buffer takes at most.
 * Otherwise the signal is deferred by signal_delay_ms; vhost_signal()
 * then fires only if the guest has not reclaimed meanwhile
 * (vring_need_event against the entries signalled so far), so a guest
 * that keeps writing gets no interrupt. Without EVENT_IDX, with
 * NOTIFY_ON_EMPTY, with an IOTLB or with signal_delay_ms 0: at once, as
 * before. The uapi header states the contract. The vDPA front end
 * (vdpa.c) defers the same way, by the same parameter.
 */
static unsigned int signal_delay_ms = 10;
module_param(signal_delay_ms, uint, 0644);
MODULE_PARM_DESC(signal_delay_ms,
		 "Used entries the guest has not reclaimed after this long (ms, max 1000) are signalled; 0: always at once");

/* The delays of signal_delay_ms and look_delay_ms, at most. */
#define VT_DELAY_MAX_MS		1000U

/* A delay parameter's value now, in ms, bounded. */
static unsigned int vt_delay_ms(const unsigned int *param)
{
	return min(READ_ONCE(*param), VT_DELAY_MAX_MS);
}

unsigned int vt_signal_delay(void)
{
	return vt_delay_ms(&signal_delay_ms);
}

static struct vhost_trace_port *vt_vq_port(struct vhost_virtqueue *vq)
{
	return container_of(vq, struct vhost_trace_port, vqs[VT_VQ_TX]);
}

/* Whether used entries are signalled now: the guest may be waiting. */
static bool vt_signal_now(struct vhost_trace_port *vport,
			  struct vhost_virtqueue *vq, unsigned int delay)
{
	__virtio16 event;
	u16 unreclaimed;

	if (!delay || vq->iotlb ||
	    !vhost_has_feature(vq, VIRTIO_RING_F_EVENT_IDX) ||
	    vhost_has_feature(vq, VIRTIO_F_NOTIFY_ON_EMPTY))
		return true;
	/* used_event, where vhost_notify() reads it (no IOTLB: user memory) */
	if (get_user(event, (__virtio16 __user *)&vq->avail->ring[vq->num]))
		return true;
	unreclaimed = vq->avail_idx - vhost16_to_cpu(vq, event);
	return vt_near_full(unreclaimed, vport->descs, vq->num);
}

/*
 * Kick batching. A guest's agent writes several buffers each time it
 * wakes, and a worker that is done with one before the next comes asks
 * for a kick on each (about one exit each). So a pass that took buffers
 * and finds the ring empty leaves kicks off and looks at the ring again
 * after look_delay_ms (at least a jiffy): buffers added meanwhile need no
 * kick. A look that finds nothing asks for the next kick, as before. The
 * vDPA front end (vdpa.c) batches the same way, by the same parameter.
 */
static unsigned int look_delay_ms = 1;
module_param(look_delay_ms, uint, 0644);
MODULE_PARM_DESC(look_delay_ms,
		 "After a pass that took buffers, look at the ring again after this long (ms, max 1000) instead of asking for a kick; 0: ask at once");

static void vt_look_timer(struct timer_list *t)
{
	struct vhost_trace_port *vport = from_timer(vport, t, look_timer);

	vhost_poll_queue(&vt_tx_vq(vport)->poll);
}

/*
 * A pass that took buffers found the ring empty: its port's look timer
 * armed for look_delay_ms from now (both front ends); false when that is
 * 0 (ask for a kick at once).
 */
bool vt_look_later(struct timer_list *look_timer)
{
	unsigned int delay = vt_delay_ms(&look_delay_ms);

	if (!delay)
		return false;
	mod_timer(look_timer, jiffies + msecs_to_jiffies(delay));
	return true;
}

/* Called with vq->mutex held, by the worker or the owner. */
static void vt_return_used(struct vhost_virtqueue *vq, int *nused)
{
	struct vhost_trace_port *vport = vt_vq_port(vq);
	unsigned int delay = vt_signal_delay();

	if (!*nused)
		return;
	vhost_add_used_n(vq, vq->heads, *nused);
	*nused = 0;
	if (vt_signal_now(vport, vq, delay)) {
		if (vport->signal_due) {
			vport->signal_due = false;
			timer_delete(&vport->signal_timer);
		}
		vhost_signal(vq->dev, vq);
	} else if (!vport->signal_due) {
		/* one deferral for all entries until it runs: bounded */
		vport->signal_due = true;
		mod_timer(&vport->signal_timer,
			  jiffies + msecs_to_jiffies(delay));
	}
}

/* The deferred signal, by the worker. */
static void vt_handle_signal(struct vhost_work *work)
{
	struct vhost_trace_port *vport = container_of(work,
			struct vhost_trace_port, signal_poll.work);
	struct vhost_virtqueue *vq = vt_tx_vq(vport);

	mutex_lock(&vq->mutex);
	if (vport->signal_due && vhost_vq_get_backend(vq)) {
		vport->signal_due = false;
		vhost_signal(vq->dev, vq);
	}
	mutex_unlock(&vq->mutex);
}

static void vt_signal_timer(struct timer_list *t)
{
	struct vhost_trace_port *vport = from_timer(vport, t, signal_timer);

	vhost_poll_queue(&vport->signal_poll);
}

/*
 * The queue stops (vq->mutex held): a deferred signal is given now by the
 * owner (give_back: its mm holds the ring), or dropped; neither timer
 * (signal, look) runs after this, and none is armed until the queue runs
 * again (only a pass of a running queue arms them). A work already queued
 * finds nothing due, or the queue stopped; vhost_trace_stop_ports()
 * flushes it.
 */
static void vt_port_timers_stop(struct vhost_trace_port *vport, bool give_back)
{
	struct vhost_virtqueue *vq = vt_tx_vq(vport);

	if (vport->signal_due && give_back)
		vhost_signal(vq->dev, vq);
	vport->signal_due = false;
	timer_delete_sync(&vport->signal_timer);
	timer_delete_sync(&vport->look_timer);
}

/* Lent buffers back to the guest, in vq->heads batches. */
struct vt_give {
	struct vhost_virtqueue *vq;
	int nused;
};

static void vt_give_one(void *ctx, u32 head)
{
	struct vt_give *g = ctx;

	g->vq->heads[g->nused].id = cpu_to_vhost32(g->vq, head);
	g->vq->heads[g->nused].len = 0;
	if (++g->nused == VT_USED_BATCH)
		vt_return_used(g->vq, &g->nused);
}

/*
 * Return the buffers pipes have let go of (with all, every lent buffer:
 * the queue stops). Called with vq->mutex and the port lock held, by the
 * worker or by the owner (whose mm the used ring is in).
 */
static void vt_return_lent(struct vhost_trace_port *vport, bool all)
{
	struct vt_give g = { .vq = vt_tx_vq(vport) };

	vt_refs_return(&vport->port, all, g.vq->num, vt_give_one, &g);
	vt_return_used(g.vq, &g.nused);
}

static void vt_handle_tx(struct vhost_trace_port *vport, bool sink_room)
{
	struct vhost_virtqueue *vq = vt_tx_vq(vport);
	struct vt_port *port = &vport->port;
	struct vhost_dev *dev = vq->dev;
	int head, pkts = 0, nused = 0, r;
	struct iov_iter iter;
	unsigned int out, in;
	bool was_waiting;
	size_t len, total = 0;

	mutex_lock(&vq->mutex);
	mutex_lock(&port->lock);
	if (!vhost_vq_get_backend(vq) || port->broken)
		goto unlock;
	vt_return_lent(vport, false);
	if (!vt_port_begin(port, sink_room, &was_waiting))
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
			/* buffers came in this pass: more may follow */
			if (pkts && vt_look_later(&vport->look_timer))
				break;
			if (unlikely(vhost_enable_notify(dev, vq))) {
				vhost_disable_notify(dev, vq);
				continue;
			}
			break;
		}

		/*
		 * Descriptors of the buffer in the ring, at most: one per
		 * piece, or one in all when indirect (not told apart here:
		 * with INDIRECT_DESC a buffer is counted as one).
		 */
		if (unlikely(out + in > vport->descs) &&
		    !vhost_has_feature(vq, VIRTIO_RING_F_INDIRECT_DESC))
			vport->descs = min(out + in, vq->num);
		len = iov_length(vq->iov, out);
		if (unlikely(vt_bad_buffer(in, len))) {
			vt_count(port, &port->stats.bad_buffers, 1);
			len = 0;
		} else {
			iov_iter_init(&iter, ITER_SOURCE, vq->iov, out, len);
			r = vt_port_consume(port, &iter, len, head,
					    was_waiting);
			if (r == VT_BUF_KEEP) {
				vhost_discard_vq_desc(vq, 1);
				break;
			}
			if (r == VT_BUF_LENT) {
				total += len;
				continue;
			}
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
	mutex_unlock(&port->lock);
	mutex_unlock(&vq->mutex);
}

static void vt_handle_kick(struct vhost_work *work)
{
	struct vhost_virtqueue *vq = container_of(work, struct vhost_virtqueue,
						  poll.work);

	vt_handle_tx(vt_vq_port(vq), false);
}

static void vt_handle_sink_room(struct vhost_work *work)
{
	vt_handle_tx(container_of(work, struct vhost_trace_port,
				  room_poll.work), true);
}

static void vt_vhost_kick(struct vt_port *port)
{
	struct vhost_trace_port *vport = container_of(port,
			struct vhost_trace_port, port);

	vhost_poll_queue(&vt_tx_vq(vport)->poll);
}

static void vt_vhost_room(struct vt_port *port)
{
	struct vhost_trace_port *vport = container_of(port,
			struct vhost_trace_port, port);

	vhost_poll_queue(&vport->room_poll);
}

static const struct vt_port_ops vt_vhost_port_ops = {
	.kick	= vt_vhost_kick,
	.room	= vt_vhost_room,
	.lends	= true,
};

/* Before vhost_dev_init(): the queues' kick handlers. */
void vhost_trace_port_prepare(struct vhost_trace_port *vport,
			      struct vhost_trace *vt)
{
	vport->vqs[VT_VQ_TX].handle_kick = vt_handle_kick;
	vt_port_init(&vport->port, &vt->core, &vt_vhost_port_ops);
}

/* After vhost_dev_init(): what needs the initialized device. */
void vhost_trace_port_init(struct vhost_trace_port *vport)
{
	struct vhost_trace *vt = container_of(vport->port.core,
					      struct vhost_trace, core);

	vt_poll_init(&vport->room_poll, vt_handle_sink_room, EPOLLOUT,
		     &vt->dev, vt_tx_vq(vport));
	vt_poll_init(&vport->signal_poll, vt_handle_signal, 0,
		     &vt->dev, vt_tx_vq(vport));
	timer_setup(&vport->signal_timer, vt_signal_timer, 0);
	timer_setup(&vport->look_timer, vt_look_timer, 0);
}

/* Called with vq->mutex held. */
static int vt_port_start(struct vhost_trace_port *vport)
{
	struct vhost_virtqueue *vq = vt_tx_vq(vport);
	struct vt_port *port = &vport->port;
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
	vport->descs = 1;
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
	struct vhost_trace_port *vport;

	if (idx >= vt->core.nports * 2 || idx % 2 != VT_VQ_TX)
		return;
	vport = &vt->ports[array_index_nospec(idx / 2, vt->core.nports)];
	mutex_lock(&vt_tx_vq(vport)->mutex);
	mutex_lock(&vport->port.lock);
	WRITE_ONCE(vport->port.broken, false);
	mutex_unlock(&vport->port.lock);
	mutex_unlock(&vt_tx_vq(vport)->mutex);
}

/*
 * Called with vq->mutex held. give_back: the owner stops the queue (its mm
 * holds the used ring): buffers still lent to pipes are returned now,
 * before the owner reads the ring's state back; their pages stay in the
 * pipes. Otherwise (the device fd is closed) they are never returned.
 */
static void vt_port_stop(struct vhost_trace_port *vport, bool give_back)
{
	struct vt_port *port = &vport->port;
	bool was_running = vhost_vq_get_backend(vt_tx_vq(vport));

	mutex_lock(&port->lock);
	if (give_back && was_running)
		vt_return_lent(vport, true);
	vt_port_timers_stop(vport, give_back && was_running);
	vhost_vq_set_backend(vt_tx_vq(vport), NULL);
	WRITE_ONCE(port->running, false);
	vt_port_unwait(port);
	mutex_unlock(&port->lock);
	/* a retry running now queues work that finds the queue stopped */
}

void vhost_trace_stop_ports(struct vhost_trace *vt, bool give_back)
{
	u32 i;

	for (i = 0; i < vt->core.nports; i++) {
		struct vhost_trace_port *vport = &vt->ports[i];

		mutex_lock(&vt_tx_vq(vport)->mutex);
		vt_port_stop(vport, give_back);
		mutex_unlock(&vt_tx_vq(vport)->mutex);
	}
	vhost_dev_flush(&vt->dev);
}

/* VHOST_TRACE_SET_RUNNING; called with core.lock held. */
long vhost_trace_set_running(struct vhost_trace *vt, bool run)
{
	long r;
	u32 i;

	mutex_lock(&vt->dev.mutex);
	r = vhost_dev_check_owner(&vt->dev);
	if (r)
		goto out;

	if (!run) {
		vhost_trace_stop_ports(vt, true);
		goto out;
	}

	for (i = 0; i < vt->core.nports; i++) {
		struct vhost_trace_port *vport = &vt->ports[i];

		mutex_lock(&vt_tx_vq(vport)->mutex);
		r = vt_port_start(vport);
		mutex_unlock(&vt_tx_vq(vport)->mutex);
		if (r) {
			vhost_trace_stop_ports(vt, true);
			goto out;
		}
	}
	/* Buffers may have been posted before the start. */
	for (i = 0; i < vt->core.nports; i++)
		vt_vhost_kick(&vt->ports[i].port);
out:
	mutex_unlock(&vt->dev.mutex);
	return r;
}
