// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: guest pages lent to a pipe (VHOST_TRACE_SINK_BY_REF).
 *
 * A buffer goes into a pipe or FIFO sink as references to the guest's own
 * pages, one pipe slot per page piece, without a copy in the module (as
 * vmsplice() does with a user's pages, but pinned: FOLL_PIN unshares a
 * copy-on-write page first and keeps it out of a later fork's sharing,
 * so the pipe holds the owner's page, never one another process may
 * write). The buffer is not returned to the guest then: a loan is (its
 * head, its pins, and a count of the pipe buffers that refer to it), once
 * the pipe has let go of every piece (the reader read it, spliced it
 * onward, or the pipe was freed); then the pages are unpinned. The pipe
 * buffers hold no page reference of their own: the loan's pins keep the
 * pages; whoever takes a page from a pipe buffer (a socket's skb) takes
 * its own reference. tee() counts on the loan (.get), so a tee'd buffer
 * is returned once both pipes have let go.
 *
 * The pipe side never touches the device: the last piece released (any
 * context that drops a pipe buffer, under that pipe's lock) moves the loan
 * to the port's list of loans to return, which the worker's next pass for
 * the port writes as used entries. That pass is mostly the guest's next
 * kick: a reader that keeps up lets go of each buffer before the next one
 * comes, and waking the worker for every loan would cost a second pass
 * per buffer (and the reader the wakeup). The worker is woken for them
 * (ops->room) only once a quarter of the ring (at most VT_REF_WAKE_MAX
 * loans) waits, as a guest with a full ring waits for them, or
 * VT_REF_RETURN_DELAY after the first of them was let go of: no loan
 * waits longer for a kick that may never come. Loans outlive the device:
 * they hold a reference to the port's struct vt_refs, which holds the
 * module; when the device is gone (vt_refs_orphan) a loan is only freed
 * when its pipe lets go. The lock order is port->lock, pipe lock,
 * refs->lock.
 *
 * The pages are the guest's: the guest can write them while they sit in
 * the pipe (see the uapi header for what a reader sees). A reader may
 * never steal them (no .try_steal): splice to a file copies them into the
 * page cache.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pipe_fs_i.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <linux/uio.h>
#include <linux/version.h>

#include "vhost_trace.h"

/* Loans let go of that wake the worker at once, at most. */
#define VT_REF_WAKE_MAX		16U
/* How long a loan let go of waits for the worker's next pass, at most. */
#define VT_REF_RETURN_DELAY	(HZ / 10)

/* One buffer lent to pipes. */
struct vt_loan {
	struct list_head node;	/* on refs->out or refs->done */
	struct vt_refs *refs;
	atomic_t count;		/* pipe buffers that refer to it */
	u32 head;		/* the front end's id of the buffer */
	bool returned;		/* given back early (queue stopped) */
	unsigned int npages;
	struct page *pages[];	/* pinned */
};

static void vt_refs_free(struct kref *ref)
{
	struct vt_refs *refs = container_of(ref, struct vt_refs, ref);

	/* disarmed since vt_refs_orphan(): never rearmed without a port */
	timer_delete_sync(&refs->timer);
	kfree(refs);
	module_put(THIS_MODULE);
}

/* Loans let go of have waited VT_REF_RETURN_DELAY: the worker returns them. */
static void vt_refs_timer(struct timer_list *t)
{
	struct vt_refs *refs = from_timer(refs, t, timer);
	unsigned long flags;

	spin_lock_irqsave(&refs->lock, flags);
	if (refs->port && refs->ndone)
		refs->port->ops->room(refs->port);
	spin_unlock_irqrestore(&refs->lock, flags);
}

void vt_refs_put(struct vt_refs *refs)
{
	kref_put(&refs->ref, vt_refs_free);
}

struct vt_refs *vt_refs_alloc(struct vt_port *port)
{
	struct vt_refs *refs;

	refs = kzalloc(sizeof(*refs), GFP_KERNEL_ACCOUNT);
	if (!refs)
		return NULL;
	spin_lock_init(&refs->lock);
	kref_init(&refs->ref);
	INIT_LIST_HEAD(&refs->out);
	INIT_LIST_HEAD(&refs->done);
	timer_setup(&refs->timer, vt_refs_timer, 0);
	refs->wake_at = 1;
	refs->port = port;
	__module_get(THIS_MODULE);
	return refs;
}

static void vt_loan_free(struct vt_loan *loan)
{
	struct vt_refs *refs = loan->refs;

	unpin_user_pages(loan->pages, loan->npages);
	kfree(loan);
	vt_refs_put(refs);
}

/* A pipe let go of one piece of a loan. Any context. */
static void vt_loan_put(struct vt_loan *loan)
{
	struct vt_refs *refs = loan->refs;
	struct vt_port *port;
	unsigned long flags;
	bool keep = false;

	if (!atomic_dec_and_test(&loan->count))
		return;
	spin_lock_irqsave(&refs->lock, flags);
	port = refs->port;
	refs->pending--;
	if (port && !loan->returned) {
		list_move_tail(&loan->node, &refs->done);
		keep = true;
		/*
		 * Returned by the worker's next pass; woken for it only when
		 * wake_at wait, or after a while (see the top of the file).
		 * refs->port stays valid while refs->lock is held.
		 */
		if (++refs->ndone >= refs->wake_at)
			port->ops->room(port);
		else if (refs->ndone == 1)
			mod_timer(&refs->timer, jiffies + VT_REF_RETURN_DELAY);
	} else {
		list_del_init(&loan->node);
	}
	spin_unlock_irqrestore(&refs->lock, flags);
	if (!keep)
		vt_loan_free(loan);
}

static void vt_ref_buf_release(struct pipe_inode_info *pipe,
			       struct pipe_buffer *buf)
{
	vt_loan_put((struct vt_loan *)buf->private);
}

static bool vt_ref_buf_get(struct pipe_inode_info *pipe,
			   struct pipe_buffer *buf)
{
	struct vt_loan *loan = (struct vt_loan *)buf->private;

	atomic_inc(&loan->count);
	return true;
}

/* No .try_steal: the page is the guest's. No .confirm: it is up to date. */
static const struct pipe_buf_operations vt_ref_buf_ops = {
	.release	= vt_ref_buf_release,
	.get		= vt_ref_buf_get,
};

/*
 * Whether a buffer of len bytes in n page pieces goes by reference: every
 * piece takes a pipe slot, so the pieces must carry at least half a page
 * on average (a writer's small buffers would fill a pipe's slots with a
 * few bytes each: they are copied, and merged in the pipe).
 */
static bool vt_ref_worth(size_t len, unsigned int n)
{
	return n && n <= VT_REF_SLOTS && len * 2 >= (size_t)n * PAGE_SIZE;
}

/* The user iovec iter is at (vhost: the owner's addresses). */
static const struct iovec *vt_iter_iov(const struct iov_iter *iter)
{
#if KERNEL_VERSION(6, 4, 0) <= LINUX_VERSION_CODE
	return iter_iov(iter);
#else
	return iter->iov;
#endif
}

/*
 * Pin the pages of the first len bytes of iter into loan->pages, one
 * pipe buffer per page piece into refs->bufs. Returns the number of
 * pieces, or -EFAULT (nothing left pinned) when a page cannot be pinned
 * or there are more than max pieces. Does not advance iter.
 */
static int vt_ref_pin(struct vt_refs *refs, struct vt_loan *loan,
		      const struct iov_iter *iter, size_t len,
		      unsigned int max)
{
	const struct iovec *iov = vt_iter_iov(iter);
	size_t skip = iter->iov_offset;
	unsigned long s;
	unsigned int np = 0;
	int r;

	for (s = 0; len && s < iter->nr_segs; s++, skip = 0) {
		unsigned long addr = (unsigned long)iov[s].iov_base + skip;
		size_t seg = min(iov[s].iov_len - skip, len);
		unsigned int i, npages;

		if (!seg)
			continue;
		npages = DIV_ROUND_UP(offset_in_page(addr) + seg, PAGE_SIZE);
		if (npages > max - np)
			goto fail;
		r = pin_user_pages_fast(addr & PAGE_MASK, npages, 0,
					loan->pages + np);
		if (r > 0)
			loan->npages += r;
		if (r != npages)
			goto fail;
		len -= seg;
		for (i = 0; i < npages; i++) {
			size_t off = offset_in_page(addr);
			size_t piece = min_t(size_t, seg, PAGE_SIZE - off);

			refs->bufs[np] = (struct pipe_buffer) {
				.page = loan->pages[np],
				.offset = off,
				.len = piece,
				.ops = &vt_ref_buf_ops,
				.private = (unsigned long)loan,
			};
			np++;
			addr += piece;
			seg -= piece;
		}
	}
	if (!len)
		return np;
fail:
	unpin_user_pages(loan->pages, loan->npages);
	loan->npages = 0;
	return -EFAULT;
}

/* Wake a pipe's readers, as fs/splice.c does after it filled a pipe. */
static void vt_ref_wake_readers(struct pipe_inode_info *pipe)
{
	wake_up_interruptible_sync_poll(&pipe->rd_wait, EPOLLIN | EPOLLRDNORM);
	kill_fasync(&pipe->fasync_readers, SIGIO, POLL_IN);
}

/*
 * Lend the buffer in iter (len bytes, head its id) to the pipe sink file.
 * Returns len when all of it is in the pipe (the loan is returned later,
 * by ops->room and vt_refs_return), -EAGAIN when the pipe has fewer
 * free slots than the buffer needs, -EPIPE when it has no reader, or
 * -EOPNOTSUPP when the buffer goes by copy instead (small pieces, more
 * pieces than the pipe holds, memory that has no pages to lend, no
 * memory for the loan). iter is advanced only when len is returned.
 * Called by the worker with the port lock held.
 */
ssize_t vt_ref_write(struct vt_port *port, struct file *file,
		     struct iov_iter *iter, size_t len, u32 head)
{
	struct pipe_inode_info *pipe = file->private_data;
	struct vt_refs *refs = port->refs;
	unsigned int n, used, i;
	struct vt_loan *loan;
	int np;
	ssize_t r;

	/* user memory only: never lend the host kernel's own pages */
	if (!refs || !iter_is_iovec(iter))
		return -EOPNOTSUPP;
	n = iov_iter_npages(iter, VT_REF_SLOTS + 1);
	if (!vt_ref_worth(len, n) || n > READ_ONCE(pipe->max_usage))
		return -EOPNOTSUPP;
	if (vhost_trace_pipe_room(file) < (size_t)n * PAGE_SIZE)
		return -EAGAIN;

	loan = kmalloc(struct_size(loan, pages, n), GFP_KERNEL_ACCOUNT);
	if (!loan)
		return -EOPNOTSUPP;
	loan->npages = 0;
	np = vt_ref_pin(refs, loan, iter, len, n);
	if (np < 0) {
		kfree(loan);
		return -EOPNOTSUPP;	/* copied, or the copy fails too */
	}

	loan->refs = refs;
	loan->head = head;
	loan->returned = false;
	atomic_set(&loan->count, np);

	pipe_lock(pipe);
	used = pipe->head - pipe->tail;
	if (!pipe->readers) {
		r = -EPIPE;	/* never add_to_pipe()'s SIGPIPE */
	} else if (pipe_has_watch_queue(pipe)) {
		r = -EOPNOTSUPP;
	} else if (used > pipe->max_usage || pipe->max_usage - used < np) {
		r = -EAGAIN;
	} else {
		kref_get(&refs->ref);
		spin_lock_irq(&refs->lock);
		list_add_tail(&loan->node, &refs->out);
		refs->pending++;
		spin_unlock_irq(&refs->lock);
		/* room checked: each piece goes in, none is released here */
		for (i = 0; i < np; i++)
			add_to_pipe(pipe, &refs->bufs[i]);
		pipe_unlock(pipe);
		vt_ref_wake_readers(pipe);
		iov_iter_advance(iter, len);
		return len;
	}
	pipe_unlock(pipe);
	unpin_user_pages(loan->pages, loan->npages);
	kfree(loan);
	return r;
}

/*
 * Return to the guest the loans of port that pipes have let go of; with
 * all (the queue stops), also those still in a pipe: these are marked
 * returned and freed when their pipe lets go. give(ctx, head) returns one
 * (it may sleep: it is called without refs->lock). ring: the size of the
 * port's ring (0: unknown), whose quarter of loans let go of wakes the
 * worker at once from now on. Called by the front end with its queue's
 * lock and the port lock held, at the start of each pass of its worker.
 */
void vt_refs_return(struct vt_port *port, bool all, unsigned int ring,
		    void (*give)(void *ctx, u32 head), void *ctx)
{
	struct vt_refs *refs = port->refs;
	struct vt_loan *loan, *tmp;
	u32 heads[16];
	unsigned int k, i;
	LIST_HEAD(list);

	if (!refs)
		return;
	do {
		k = 0;
		spin_lock_irq(&refs->lock);
		if (ring)
			refs->wake_at = clamp(ring / 4, 1U, VT_REF_WAKE_MAX);
		list_splice_tail_init(&refs->done, &list);
		refs->ndone = 0;
		/*
		 * With all, the loans still in pipes are marked returned (a
		 * pipe that lets go of one from now on frees it), a batch at
		 * a time. One a pipe let go of meanwhile (give() may sleep)
		 * is on done again: it is given in the next round, so none
		 * is left behind, unreturned, when this returns.
		 */
		list_for_each_entry_safe(loan, tmp, &refs->out, node) {
			if (!all || k == ARRAY_SIZE(heads))
				break;
			loan->returned = true;
			list_del_init(&loan->node);
			heads[k++] = loan->head;
		}
		spin_unlock_irq(&refs->lock);
		if (list_empty(&list) && !k)
			break;
		list_for_each_entry_safe(loan, tmp, &list, node) {
			give(ctx, loan->head);
			list_del(&loan->node);
			vt_loan_free(loan);
		}
		for (i = 0; i < k; i++)
			give(ctx, heads[i]);
	} while (all);
}

/* Loans in pipes, not returned yet (statistics). */
u64 vt_refs_pending(struct vt_port *port)
{
	struct vt_refs *refs = READ_ONCE(port->refs);

	return refs ? READ_ONCE(refs->pending) : 0;
}

/*
 * The device is gone: loans still in pipes are never returned (they are
 * freed when their pipe lets go); those let go of already are freed now.
 * port->refs stays for the statistics until vt_port_cleanup(). Called
 * with the port lock held, the worker stopped; again is harmless.
 */
void vt_refs_orphan(struct vt_port *port)
{
	struct vt_refs *refs = port->refs;
	struct vt_loan *loan, *tmp;
	LIST_HEAD(list);

	if (!refs)
		return;
	spin_lock_irq(&refs->lock);
	refs->port = NULL;
	list_splice_init(&refs->done, &list);
	refs->ndone = 0;
	spin_unlock_irq(&refs->lock);
	/* no port: vt_loan_put() arms it no more, nor does it wake anyone */
	timer_delete_sync(&refs->timer);
	list_for_each_entry_safe(loan, tmp, &list, node) {
		list_del(&loan->node);
		vt_loan_free(loan);
	}
}
