// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the vDPA front end's trace ports, the data path of its
 * worker (vdpa.c): each port's guest-to-host queue to its sink, as tx.c
 * does for the vhost front end, with the same lazy used signalling
 * (signal_delay_ms) and kick batching (look_delay_ms); buffers lent to
 * pipes given back as used when the pipes let go, and settled when the
 * queue stops.
 */
#include <linux/jiffies.h>
#include <linux/timer.h>

#include "vdpa.h"

/* Work one trace queue may do before the others get their turn. */
#define VT_VDPA_PKT_WEIGHT	256
#define VT_VDPA_BYTE_WEIGHT	0x80000

/* Work of kind VT_WORK_* for a trace port (any context). */
void vt_vdpa_port_work(struct vt_vdpa_port *vp, unsigned int kind)
{
	set_bit(VT_WORK_BITS * vp->index + kind, vp->vd->pending);
	vt_vdpa_queue(vp->vd);
}

static void vt_vdpa_kick(struct vt_port *port)
{
	vt_vdpa_port_work(container_of(port, struct vt_vdpa_port, port),
			  VT_WORK_KICK);
}

static void vt_vdpa_room(struct vt_port *port)
{
	vt_vdpa_port_work(container_of(port, struct vt_vdpa_port, port),
			  VT_WORK_ROOM);
}

static void vt_vdpa_signal_timer(struct timer_list *t)
{
	struct vt_vdpa_port *vp = from_timer(vp, t, signal_timer);

	vt_vdpa_port_work(vp, VT_WORK_SIGNAL);
}

static void vt_vdpa_look_timer(struct timer_list *t)
{
	struct vt_vdpa_port *vp = from_timer(vp, t, look_timer);

	vt_vdpa_port_work(vp, VT_WORK_KICK);
}

static const struct vt_port_ops vt_vdpa_port_ops = {
	.kick	= vt_vdpa_kick,
	.room	= vt_vdpa_room,
	.lends	= true,
};

/* Trace port i of vd, before the device can run. */
void vt_vdpa_port_init(struct vt_vdpa *vd, u32 i)
{
	struct vt_vdpa_port *vp = &vd->ports[i];

	vp->vd = vd;
	vp->index = i;
	vp->descs = 1;
	timer_setup(&vp->signal_timer, vt_vdpa_signal_timer, 0);
	timer_setup(&vp->look_timer, vt_vdpa_look_timer, 0);
	vt_port_init(&vp->port, &vd->core, &vt_vdpa_port_ops);
	vd->core.ports[i] = &vp->port;
}

static bool vt_vdpa_indirect(struct vt_vdpa *vd)
{
	return READ_ONCE(vd->features) & BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
}

struct vt_vring *vt_vdpa_port_vq(struct vt_vdpa_port *vp)
{
	return &vp->vd->vqs[VT_Q_PORTS + 2 * vp->index + 1];
}

/*
 * Buffers lent to pipes (ref.c: only from the bound mm, never the host's
 * own pages) go back to the driver out of order, as the pipes let go of
 * them: a used entry each, one notification for all of them.
 */
struct vt_vdpa_give {
	struct vt_vdpa *vd;
	struct vt_vring *vq;
	bool used;		/* an entry was written: notify */
	int err;		/* the used ring could not be written */
};

static void vt_vdpa_give_one(void *ctx, u32 head)
{
	struct vt_vdpa_give *g = ctx;

	if (g->err)
		return;
	g->err = vt_vring_add_used(g->vd, g->vq, head, 0);
	if (!g->err)
		g->used = true;
}

/* The ring is gone: a lent buffer is only marked returned. */
static void vt_vdpa_give_none(void *ctx, u32 head)
{
}

/*
 * No timer of the port runs after this, and none is armed again until its
 * queue runs (only a pass of a running queue arms them). A VT_WORK_SIGNAL
 * or VT_WORK_KICK already set finds nothing owed or the queue stopped.
 */
void vt_vdpa_port_timers_stop(struct vt_vdpa_port *vp)
{
	vp->signal_due = false;
	timer_delete_sync(&vp->signal_timer);
	timer_delete_sync(&vp->look_timer);
}

/*
 * Used entries were written: the driver is interrupted now when it may be
 * near a full ring (or signal_delay_ms is 0), else once signal_delay_ms
 * later, when vt_vring_notify() tells whether it still wants it (it has
 * not reclaimed meanwhile). One deferral for all entries until it runs.
 * Port lock held.
 */
static void vt_vdpa_signal(struct vt_vdpa *vd, struct vt_vdpa_port *vp)
{
	struct vt_vring *vq = vt_vdpa_port_vq(vp);
	unsigned int delay = vt_signal_delay();

	if (!delay || vt_vring_near_full(vd, vq, vp->descs)) {
		if (vp->signal_due) {
			vp->signal_due = false;
			timer_delete(&vp->signal_timer);
		}
		vt_vring_notify(vd, vq);
	} else if (!vp->signal_due) {
		vp->signal_due = true;
		mod_timer(&vp->signal_timer, jiffies + msecs_to_jiffies(delay));
	}
}

/*
 * Every buffer of the port still lent to a pipe is settled, because its
 * queue stops. ring_ok: the driver disables the queue from the bound mm,
 * its ring still valid: they are returned as used now (best effort: not
 * once the used ring cannot be written), so that last_avail equals the
 * used index when it reads the queue's state back. Otherwise (a reset,
 * the mm unbound) they are only marked returned: no used entry is ever
 * written for them, their pages stay in the pipes until these let go.
 * Called with vd->lock held (the worker is not in a pass).
 */
void vt_vdpa_port_settle(struct vt_vdpa *vd, struct vt_vdpa_port *vp,
			 bool ring_ok)
{
	struct vt_vdpa_give g = { .vd = vd, .vq = vt_vdpa_port_vq(vp) };

	mutex_lock(&vp->port.lock);
	vt_refs_return(&vp->port, true, 0,
		       ring_ok ? vt_vdpa_give_one : vt_vdpa_give_none, &g);
	/* a deferred interrupt is given now, with the ring */
	if (g.used || (ring_ok && vp->signal_due))
		vt_vring_notify(vd, g.vq);
	vt_vdpa_port_timers_stop(vp);
	mutex_unlock(&vp->port.lock);
}

/*
 * A trace port's guest-to-host queue, as tx.c does for the vhost one;
 * signal: the deferred interrupt's time has come.
 */
void vt_vdpa_handle_port(struct vt_vdpa *vd, struct vt_vdpa_port *vp,
			 bool sink_room, bool signal)
{
	struct vt_vring *vq = vt_vdpa_port_vq(vp);
	struct vt_chain ch = { .segs = vd->segs, .max_segs = VT_VDPA_MAX_SEGS };
	struct vt_vdpa_give g = { .vd = vd, .vq = vq };
	struct vt_port *port = &vp->port;
	unsigned int pkts = 0;
	struct iov_iter iter;
	bool was_waiting;
	size_t len, total = 0;
	int r;

	mutex_lock(&port->lock);
	if (!vq->ready || !port->running || port->broken)
		goto unlock;
	if (signal && vp->signal_due) {
		vp->signal_due = false;
		vt_vring_notify(vd, vq);
	}
	/* what the pipes let go of first: used entries, out of order */
	vt_refs_return(port, false, vq->num, vt_vdpa_give_one, &g);
	if (g.err)
		goto broken;
	if (!vt_port_begin(port, sink_room, &was_waiting))
		goto notify;

	/* no kicks while in the pass; asked for again once it is empty */
	if (vt_vring_disable_notify(vd, vq))
		goto broken;
	for (;;) {
		if (pkts >= VT_VDPA_PKT_WEIGHT || total >= VT_VDPA_BYTE_WEIGHT) {
			vt_vdpa_kick(port);	/* the others first */
			break;
		}
		r = vt_vring_peek(vd, vq, &ch);
		if (!r) {
			/* buffers came in this pass: more may follow */
			if (pkts && vt_look_later(&vp->look_timer))
				break;
			r = vt_vring_enable_notify(vd, vq);
			if (!r)
				break;
			/* added while we asked: go on (a turn of the weight) */
			if (r > 0) {
				if (vt_vring_disable_notify(vd, vq))
					goto broken;
				pkts++;
				continue;
			}
		}
		if (r < 0)
			goto broken;
		/* descriptors of a buffer, at most (indirect: one in all) */
		if (unlikely(ch.nsegs > vp->descs) && !vt_vdpa_indirect(vd))
			vp->descs = min(ch.nsegs, vq->num);
		len = ch.read_len;
		r = VT_BUF_DONE;
		if (unlikely(vt_bad_buffer(ch.write_len != 0, len))) {
			vt_count(port, &port->stats.bad_buffers, 1);
			len = 0;
		} else {
			vt_vring_iter(vd, &ch, &iter);
			r = vt_port_consume(port, &iter, len, ch.head,
					    was_waiting);
			if (r == VT_BUF_KEEP)
				break;
		}
		vt_vring_pop(vq);
		/* a lent buffer is used once its pipe lets go of it */
		if (r != VT_BUF_LENT) {
			if (vt_vring_add_used(vd, vq, ch.head, 0))
				goto broken;
			g.used = true;
		}
		pkts++;
		total += len;
	}
	goto notify;
broken:
	vt_count(port, &port->stats.queue_errors, 1);
	WRITE_ONCE(port->broken, true);
	vt_vdpa_queue_error(vd);
	/* no pass runs on a broken queue: what it used, signalled now */
	if (g.used || vp->signal_due) {
		vp->signal_due = false;
		vt_vring_notify(vd, vq);
	}
	goto unlock;
notify:
	if (g.used)
		vt_vdpa_signal(vd, vp);
unlock:
	mutex_unlock(&port->lock);
}
