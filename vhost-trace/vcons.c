// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the vDPA device's virtio-console control queue and port 0.
 *
 * The module plays QEMU's virtio-serial bus: on the guest's DEVICE_READY
 * it adds ports 0..nports (PORT_ADD); on each PORT_READY it names the port
 * (PORT_NAME: "agent-ctl-path" for port 0, "trace-path-cpu<k-1>" for port
 * k) and opens it from the host side (PORT_OPEN 1). The guest's PORT_OPEN
 * for port 0 is noted. Port 0's bytes go through two FIFOs to the control
 * fd: what the guest writes is read() there, what is write()n there goes
 * to the guest's posted buffers.
 *
 * Worker functions run with vd->lock held, in the driver's mm if any.
 */
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vdpa.h"

/* Control messages the guest may send in one worker run. */
#define VT_CTL_WEIGHT	64
/* Times a queue found empty is looked at again in one run. */
#define VT_CTL_LOOKS	8
/* Pieces of a control message's chain (8 bytes; a name at most 32). */
#define VT_CTL_SEGS	8

/* Called with ctl_lock held. */
static void vt_cmsg_push(struct vt_vcons *c, u32 id, u16 event, u16 value)
{
	struct vt_cmsg *m;

	if (c->count == c->nmsgs_max)
		return;		/* a guest repeating itself: dropped */
	m = &c->msgs[(c->head + c->count) % c->nmsgs_max];
	m->id = id;
	m->event = event;
	m->value = value;
	c->count++;
}

/* The guest's control message. Called with ctl_lock held. */
static void vt_ctl_handle(struct vt_vdpa *vd,
			  const struct virtio_console_control *m)
{
	struct vt_vcons *c = &vd->cons;
	u32 id = le32_to_cpu((__force __le32)m->id);
	u16 value = le16_to_cpu((__force __le16)m->value);
	u32 i;

	switch (le16_to_cpu((__force __le16)m->event)) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		if (value != 1)
			break;
		for (i = 0; i <= vd->nports; i++)
			vt_cmsg_push(c, i, VIRTIO_CONSOLE_PORT_ADD, 1);
		break;
	case VIRTIO_CONSOLE_PORT_READY:
		if (id > vd->nports || value != 1)
			break;
		vt_cmsg_push(c, id, VIRTIO_CONSOLE_PORT_NAME, 0);
		vt_cmsg_push(c, id, VIRTIO_CONSOLE_PORT_OPEN, 1);
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (id == 0) {
			/* what waits for the guest goes now */
			WRITE_ONCE(c->guest_open, !!value);
			wake_up_interruptible_all(&c->p0_wait);
			if (value)
				vt_vdpa_queue_ctl(vd, VT_Q_P0_RX);
		}
		break;
	default:
		break;
	}
}

/*
 * What a queue's handler does with a chain: the bytes it wrote into it,
 * -EINVAL for a chain the queue does not take (given back unread), or
 * -EAGAIN to leave it on the ring for now.
 */
typedef int (*vt_chain_fn)(struct vt_vdpa *vd, const struct vt_chain *ch);

/*
 * The walker of the control queues and port 0: up to weight chains of
 * queue q, each handed to handle, while more (if any) says there is
 * something to do. Returns how many chains were used.
 */
static int vt_vcons_serve(struct vt_vdpa *vd, u32 q, struct vt_chain *ch,
			  int weight, bool (*more)(struct vt_vdpa *vd),
			  vt_chain_fn handle)
{
	struct vt_vring *vq = &vd->vqs[q];
	int n = 0, looks = 0, r;

	while (READ_ONCE(vq->ready) && n < weight && (!more || more(vd))) {
		r = vt_vring_peek(vd, vq, ch);
		if (!r) {
			/* empty: a kick for the next chain, unless one came */
			r = vt_vring_enable_notify(vd, vq);
			if (r > 0) {
				if (++looks <= VT_CTL_LOOKS)
					continue;
				/* an index that comes and goes: later */
				vt_vdpa_queue_ctl(vd, q);
				break;
			}
		}
		if (r <= 0) {
			if (r)
				vt_vdpa_queue_error(vd);
			break;
		}
		r = handle(vd, ch);
		if (r == -EAGAIN)
			break;
		n++;
		vt_vring_pop(vq);
		if (vt_vring_add_used(vd, vq, ch->head, max(r, 0))) {
			vt_vdpa_queue_error(vd);
			break;
		}
	}
	return n;
}

/* The guest's control message in ch (VT_Q_CTL_TX) into m; false: none. */
static bool vt_ctl_read(struct vt_vdpa *vd, const struct vt_chain *ch,
			struct virtio_console_control *m)
{
	return !ch->write_len && ch->read_len >= sizeof(*m) &&
	       vt_vring_copy_from(vd, ch, m, sizeof(*m)) == sizeof(*m);
}

/* One control message from the guest; ctl_lock held. */
static int vt_ctl_tx_one(struct vt_vdpa *vd, const struct vt_chain *ch)
{
	struct virtio_console_control m;

	if (!vt_ctl_read(vd, ch, &m))
		return -EINVAL;
	vt_ctl_handle(vd, &m);
	return 0;
}

/* The same from the worker under vhost_vdpa: the copy may fault. */
static int vt_ctl_tx_user(struct vt_vdpa *vd, const struct vt_chain *ch)
{
	struct virtio_console_control m;
	unsigned long flags;

	if (!vt_ctl_read(vd, ch, &m))
		return -EINVAL;
	spin_lock_irqsave(&vd->cons.ctl_lock, flags);
	vt_ctl_handle(vd, &m);
	spin_unlock_irqrestore(&vd->cons.ctl_lock, flags);
	return 0;
}

/*
 * The guest's control messages (VT_Q_CTL_TX). phys (virtio_vdpa): with
 * ctl_lock held, from the driver's kick or the worker; nothing here
 * sleeps then. Otherwise (vhost_vdpa: user memory) from the worker only,
 * which takes ctl_lock for the pending messages. Returns how many chains
 * were used.
 */
static int vt_ctl_tx(struct vt_vdpa *vd, bool phys)
{
	struct vt_seg segs[VT_CTL_SEGS];
	struct vt_chain ch = { .segs = segs, .max_segs = VT_CTL_SEGS };
	int n;

	n = vt_vcons_serve(vd, VT_Q_CTL_TX, &ch, VT_CTL_WEIGHT, NULL,
			   phys ? vt_ctl_tx_one : vt_ctl_tx_user);
	if (n == VT_CTL_WEIGHT)
		vt_vdpa_queue_ctl(vd, VT_Q_CTL_TX);
	return n;
}

/*
 * virtio_vdpa kicked its control queue: serve it now, on the kicking CPU
 * (any context). The worker sends our answers.
 */
void vt_vcons_kick_ctl(struct vt_vdpa *vd)
{
	unsigned long flags;

	spin_lock_irqsave(&vd->cons.ctl_lock, flags);
	if ((READ_ONCE(vd->status) & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !READ_ONCE(vd->mm))
		vt_ctl_tx(vd, true);
	spin_unlock_irqrestore(&vd->cons.ctl_lock, flags);
	vt_vdpa_queue_ctl(vd, VT_Q_CTL_RX);
}

static bool vt_ctl_rx_more(struct vt_vdpa *vd)
{
	return READ_ONCE(vd->cons.count);
}

/* Our next control message to the guest (VT_Q_CTL_RX). */
static int vt_ctl_rx_one(struct vt_vdpa *vd, const struct vt_chain *ch)
{
	struct vt_vcons *c = &vd->cons;
	struct {
		struct virtio_console_control m;
		char name[32];
	} buf;
	unsigned long flags;
	struct vt_cmsg cm;
	size_t len;

	if (ch->read_len)
		return -EINVAL;
	/* only the worker takes messages: the head stays */
	spin_lock_irqsave(&c->ctl_lock, flags);
	cm = c->msgs[c->head];
	spin_unlock_irqrestore(&c->ctl_lock, flags);
	buf.m.id = (__force __virtio32)cpu_to_le32(cm.id);
	buf.m.event = (__force __virtio16)cpu_to_le16(cm.event);
	buf.m.value = (__force __virtio16)cpu_to_le16(cm.value);
	len = sizeof(buf.m);
	if (cm.event == VIRTIO_CONSOLE_PORT_NAME && cm.id)
		len += scnprintf(buf.name, sizeof(buf.name),
				 "trace-path-cpu%u", cm.id - 1) + 1;
	else if (cm.event == VIRTIO_CONSOLE_PORT_NAME)
		len += scnprintf(buf.name, sizeof(buf.name),
				 "agent-ctl-path") + 1;
	len = vt_vring_copy_to(vd, ch, &buf, len);
	spin_lock_irqsave(&c->ctl_lock, flags);
	c->head = (c->head + 1) % c->nmsgs_max;
	c->count--;
	spin_unlock_irqrestore(&c->ctl_lock, flags);
	return len;
}

/*
 * Port 0, guest to host: into rx_fifo while it has room for a buffer.
 * The worker is rx_fifo's only writer; the reader takes rd_lock.
 */
static int vt_p0_tx_one(struct vt_vdpa *vd, const struct vt_chain *ch)
{
	struct vt_vcons *c = &vd->cons;
	size_t n;

	if (ch->write_len || !ch->read_len || ch->read_len > VT_VDPA_P0_FIFO)
		return -EINVAL;
	if (kfifo_avail(&c->rx_fifo) < ch->read_len)
		return -EAGAIN;	/* the reader makes room, and kicks */
	n = vt_vring_copy_from(vd, ch, c->bounce, ch->read_len);
	kfifo_in(&c->rx_fifo, (u8 *)c->bounce, n);
	wake_up_interruptible_all(&c->p0_wait);
	return 0;
}

/*
 * Port 0, host to guest: tx_fifo into the guest's buffers, while the
 * guest has the port open (its driver discards what comes for a closed
 * port; like QEMU's chardev, the bytes wait for the next open). The
 * worker is tx_fifo's only reader; writers take wr_lock.
 */
static bool vt_p0_rx_more(struct vt_vdpa *vd)
{
	return READ_ONCE(vd->cons.guest_open) &&
	       !kfifo_is_empty(&vd->cons.tx_fifo);
}

static int vt_p0_rx_one(struct vt_vdpa *vd, const struct vt_chain *ch)
{
	struct vt_vcons *c = &vd->cons;
	unsigned int n;

	if (ch->read_len || !ch->write_len)
		return -EINVAL;
	n = kfifo_out(&c->tx_fifo, (u8 *)c->bounce,
		      min_t(u64, ch->write_len, VT_VDPA_P0_FIFO));
	wake_up_interruptible_all(&c->p0_wait);
	return vt_vring_copy_to(vd, ch, c->bounce, n);
}

/* The worker: the control queues and port 0. phys: virtio_vdpa. */
void vt_vcons_work(struct vt_vdpa *vd, bool phys)
{
	struct vt_chain ch = { .segs = vd->segs, .max_segs = VT_VDPA_MAX_SEGS };
	unsigned long flags;
	bool sig;

	if (phys) {
		/*
		 * A kick served in place left its interrupt to the worker:
		 * decided under ctl_lock, which the kick's used entries and
		 * the queue's notification state are written under.
		 */
		spin_lock_irqsave(&vd->cons.ctl_lock, flags);
		vt_ctl_tx(vd, true);
		sig = vt_vring_need_notify(vd, &vd->vqs[VT_Q_CTL_TX]);
		spin_unlock_irqrestore(&vd->cons.ctl_lock, flags);
		if (sig)
			vt_vring_signal(&vd->vqs[VT_Q_CTL_TX]);
	} else if (vt_ctl_tx(vd, false)) {
		vt_vring_notify(vd, &vd->vqs[VT_Q_CTL_TX]);
	}
	if (vt_vcons_serve(vd, VT_Q_CTL_RX, &ch, INT_MAX, vt_ctl_rx_more,
			   vt_ctl_rx_one))
		vt_vring_notify(vd, &vd->vqs[VT_Q_CTL_RX]);
	if (vt_vcons_serve(vd, VT_Q_P0_TX, &ch, INT_MAX, NULL, vt_p0_tx_one))
		vt_vring_notify(vd, &vd->vqs[VT_Q_P0_TX]);
	if (vt_vcons_serve(vd, VT_Q_P0_RX, &ch, INT_MAX, vt_p0_rx_more,
			   vt_p0_rx_one))
		vt_vring_notify(vd, &vd->vqs[VT_Q_P0_RX]);
}

int vt_vcons_init(struct vt_vdpa *vd)
{
	struct vt_vcons *c = &vd->cons;

	spin_lock_init(&c->ctl_lock);
	mutex_init(&c->rd_lock);
	mutex_init(&c->wr_lock);
	init_waitqueue_head(&c->p0_wait);
	/* every port added, named and opened, twice over, and some */
	c->nmsgs_max = 6 * (vd->nports + 1) + 8;
	c->msgs = kcalloc(c->nmsgs_max, sizeof(*c->msgs), GFP_KERNEL);
	c->bounce = kvmalloc(VT_VDPA_P0_FIFO, GFP_KERNEL);
	if (!c->msgs || !c->bounce)
		return -ENOMEM;
	if (kfifo_alloc(&c->rx_fifo, VT_VDPA_P0_FIFO, GFP_KERNEL))
		return -ENOMEM;
	if (kfifo_alloc(&c->tx_fifo, VT_VDPA_P0_FIFO, GFP_KERNEL))
		return -ENOMEM;
	return 0;
}

void vt_vcons_free(struct vt_vdpa *vd)
{
	struct vt_vcons *c = &vd->cons;

	kfifo_free(&c->rx_fifo);
	kfifo_free(&c->tx_fifo);
	kvfree(c->bounce);
	kfree(c->msgs);
}

/*
 * The driver reset the device: no control messages pending, port 0
 * closed, what was written for the guest dropped. What the guest wrote
 * stays readable. Called with vd->lock held.
 */
void vt_vcons_reset(struct vt_vdpa *vd)
{
	struct vt_vcons *c = &vd->cons;
	unsigned long flags;

	spin_lock_irqsave(&c->ctl_lock, flags);
	c->head = 0;
	c->count = 0;
	spin_unlock_irqrestore(&c->ctl_lock, flags);
	WRITE_ONCE(c->guest_open, false);
	/* as tx_fifo's reader (vd->lock): a writer may be adding */
	kfifo_reset_out(&c->tx_fifo);
	wake_up_interruptible_all(&c->p0_wait);
}

static struct vt_vdpa *core_to_vd(struct vt_core *core)
{
	return container_of(core, struct vt_vdpa, core);
}

/* read() on the control fd: what the guest wrote to port 0. */
ssize_t vt_vcons_read(struct vt_core *core, struct file *f,
		      char __user *buf, size_t len)
{
	struct vt_vdpa *vd = core_to_vd(core);
	struct vt_vcons *c = &vd->cons;
	unsigned int copied;
	int r;

	for (;;) {
		/* rx_fifo's one reader; the copy may fault, nothing waits */
		mutex_lock(&c->rd_lock);
		if (!kfifo_is_empty(&c->rx_fifo)) {
			r = kfifo_to_user(&c->rx_fifo, buf, len, &copied);
			mutex_unlock(&c->rd_lock);
			if (r)
				return r;
			vt_vdpa_queue_ctl(vd, VT_Q_P0_TX);
			return copied;
		}
		mutex_unlock(&c->rd_lock);
		if (READ_ONCE(core->released))
			return 0;
		if (f->f_flags & O_NONBLOCK)
			return -EAGAIN;
		r = wait_event_interruptible(c->p0_wait,
					     !kfifo_is_empty(&c->rx_fifo) ||
					     READ_ONCE(core->released));
		if (r)
			return r;
	}
}

/*
 * write() on the control fd: to the guest's port 0. Bytes are taken only
 * while the guest has port 0 open, so a completed write() is one the
 * guest's reader will see (unless it closes the port first).
 */
ssize_t vt_vcons_write(struct vt_core *core, struct file *f,
		       const char __user *buf, size_t len)
{
	struct vt_vdpa *vd = core_to_vd(core);
	struct vt_vcons *c = &vd->cons;
	unsigned int copied;
	int r;

	if (!len)
		return 0;
	for (;;) {
		if (READ_ONCE(core->released))
			return -EPIPE;
		/* tx_fifo's one writer; the copy may fault, nothing waits */
		mutex_lock(&c->wr_lock);
		if (READ_ONCE(c->guest_open) && kfifo_avail(&c->tx_fifo)) {
			r = kfifo_from_user(&c->tx_fifo, buf, len, &copied);
			mutex_unlock(&c->wr_lock);
			if (r)
				return r;
			vt_vdpa_queue_ctl(vd, VT_Q_P0_RX);
			return copied;
		}
		mutex_unlock(&c->wr_lock);
		if (f->f_flags & O_NONBLOCK)
			return -EAGAIN;
		r = wait_event_interruptible(c->p0_wait,
					     (READ_ONCE(c->guest_open) &&
					      kfifo_avail(&c->tx_fifo)) ||
					     READ_ONCE(core->released));
		if (r)
			return r;
	}
}

__poll_t vt_vcons_poll(struct vt_core *core, struct file *f,
		       poll_table *wait)
{
	struct vt_vcons *c = &core_to_vd(core)->cons;
	__poll_t mask = 0;

	poll_wait(f, &c->p0_wait, wait);
	if (!kfifo_is_empty(&c->rx_fifo))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(core->released))
		mask |= EPOLLHUP;
	else if (READ_ONCE(c->guest_open) && kfifo_avail(&c->tx_fifo))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}
