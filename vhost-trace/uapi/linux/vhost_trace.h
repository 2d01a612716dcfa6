/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vhost-trace: move a guest's ftrace pages from virtio-console ports to
 * host files in kernel context.
 *
 * /dev/vhost-trace is a vhost device. Besides the standard vhost ioctls
 * (VHOST_SET_OWNER, VHOST_GET_FEATURES, VHOST_SET_MEM_TABLE,
 * VHOST_SET_VRING_*, ...) it takes the ioctls below. Any other ioctl
 * fails with ENOTTY.
 *
 * Queue layout. The guest sees a MULTIPORT virtio-console. QEMU keeps
 * queues 0..3 (port 0 and the control queues). Trace port p (0-based,
 * virtio-console port p + 1) uses guest queues 2p + 4 (host to guest)
 * and 2p + 5 (guest to host). The vhost device holds only these
 * 2 * nports queues: vhost queue index q is trace port q / 2, direction
 * q % 2 (0: host to guest, accepted and never serviced; 1: guest to host).
 *
 * Life of a device:
 *   fd = open("/dev/vhost-trace")
 *   VHOST_TRACE_SET_PORTS(fd, n)         before VHOST_SET_OWNER
 *   ctl = VHOST_TRACE_GET_CTL_FD(fd)     for the process that manages sinks
 *   VHOST_SET_OWNER, VHOST_SET_FEATURES, VHOST_SET_MEM_TABLE,
 *   VHOST_SET_VRING_* on queues 2p + 1    (the owner, e.g. QEMU)
 *   VHOST_TRACE_SET_RUNNING(fd, 1)        the owner starts the data path
 *   VHOST_TRACE_SET_SINK(ctl, ...)        any time, from the ctl holder
 *   VHOST_TRACE_GET_STATS(ctl, ...)       any time, even after fd is closed
 *
 * Each guest-to-host buffer (descriptor chain) is written to the port's
 * sink whole and in ring order, never split or reinterpreted. What the
 * device does with a chain, case by case:
 *   - readable descriptors only, 1..VHOST_TRACE_MAX_BUFFER bytes in all:
 *     written to the sink (or waits, or is dropped: see the policies);
 *   - a device-writable descriptor of length 0 maps no memory and is
 *     ignored, wherever it is in the chain: the chain is its readable
 *     descriptors (so a chain of such descriptors only is empty, below);
 *   - a chain with a device-writable descriptor of nonzero length after
 *     all its readable ones (or with writable ones only), a chain of zero
 *     total length, or one longer than VHOST_TRACE_MAX_BUFFER: returned
 *     to the guest unread (used length 0) and counted in bad_buffers;
 *     the port goes on;
 *   - a readable descriptor after a device-writable one of nonzero
 *     length, an address outside the memory table, a loop, a bad indirect
 *     table, a chain longer than the ring or mapping to more than 1024
 *     pieces (UIO_MAXIOV): the
 *     vhost core cannot map it. It is reported on the queue's error
 *     eventfd (VHOST_SET_VRING_ERR), counted in queue_errors, not
 *     returned, and stops that queue until it is set up again: stop
 *     (VHOST_TRACE_SET_RUNNING 0), VHOST_SET_VRING_NUM, _BASE or _ADDR
 *     on it, start. A start without that setup leaves it stopped (see
 *     VHOST_TRACE_SET_RUNNING).
 *
 * Used buffers and the guest's interrupt (the queue's call eventfd; the
 * vDPA front end below the same way, through its queue's callback:
 * vhost_vdpa's call eventfd, virtio_vdpa's interrupt). A buffer is
 * marked used in the used ring as soon as the device is done with it
 * (written, dropped, returned unread, or let go of by a pipe: see
 * VHOST_TRACE_SINK_BY_REF). With VIRTIO_RING_F_EVENT_IDX negotiated (and
 * VIRTIO_F_NOTIFY_ON_EMPTY not), the interrupt for used entries comes:
 *   - at once when the guest holds at least half of the ring unreclaimed:
 *     (the avail idx the device last read - used_event) x descriptors per
 *     buffer >= queue size / 2, where a buffer counts as one descriptor
 *     with VIRTIO_RING_F_INDIRECT_DESC and otherwise as the most
 *     descriptors the device has seen in one buffer since the queue
 *     started (so a guest whose ring is full gets it at once; within
 *     the delay below when it mixes direct chains into an indirect ring,
 *     or when a pass stops on a full sink before the device has read
 *     the guest's latest avail idx);
 *   - otherwise within the module parameter signal_delay_ms (default 10,
 *     at most 1000; plus timer granularity and the worker's scheduling),
 *     and only if the guest has not reclaimed those entries meanwhile:
 *     the usual used_event test (vring_need_event) is made when the delay
 *     ends, against the entries signalled so far. A guest that keeps
 *     writing, and reclaims used entries as it writes (virtio_console
 *     does on each write), gets no interrupt at all while it streams.
 * So the notification for a used entry is late by up to the delay, or
 * skipped for entries the driver has already consumed (its used_event
 * moved past them before the delay ended). The virtio spec sets no time
 * for the notification its event index asks for; skipping it departs
 * from a strict reading, but only for entries the driver has already
 * taken, so it costs the driver one interrupt less and nothing else. A
 * driver that waits for used entries without a full ring (it waits for a
 * few buffers) gets its interrupt within the delay.
 * VHOST_TRACE_SET_RUNNING 0 gives a deferred interrupt at once; closing
 * the device fd drops it (vDPA: the driver disabling the queue from the
 * bound mm gives it at once, a reset drops it). Without EVENT_IDX (or with NOTIFY_ON_EMPTY, or
 * with signal_delay_ms 0) every batch of used entries is signalled at
 * once, unless the guest set VRING_AVAIL_F_NO_INTERRUPT.
 *
 * Kicks (both front ends). After a pass that took buffers the device does
 * not ask for a kick (avail_event stays where it was; without EVENT_IDX,
 * VRING_USED_F_NO_NOTIFY stays set) and looks at the ring again after
 * the module parameter look_delay_ms (default 1, at most 1000; at least
 * one jiffy): a buffer the guest adds meanwhile needs no kick, as the
 * virtio rules for a device that asked for none say, and is taken by
 * that look. A look that finds the ring empty asks for the next kick,
 * as a pass always did before (look_delay_ms 0).
 *
 * Rights. /dev/vhost-trace is created 0600 root:root by the misc core. To
 * let a group use it, a udev rule such as
 *   KERNEL=="vhost-trace", GROUP="vhost-trace", MODE="0660"
 * in /etc/udev/rules.d/65-vhost-trace.rules. Holding a file descriptor is
 * what counts afterwards:
 *   - the device fd (open("/dev/vhost-trace")): a holder sets the ports,
 *     becomes the owner (VHOST_SET_OWNER: the memory table then maps the
 *     owner's own memory only), runs the queues, and gets control fds.
 *     It reads guest memory it already has; it gets no other process's
 *     memory and no file it could not open.
 *   - the control fd: a holder attaches, swaps and detaches sinks and
 *     reads statistics. A sink is a file the caller has open for writing
 *     and is written with the credentials of whoever opened that file
 *     (its f_cred), never the module's or the owner's: permissions
 *     checked at write time, quota, reserved blocks, setuid stripping and
 *     security modules see the opener. A regular file is also held to the
 *     RLIMIT_FSIZE the caller of VHOST_TRACE_SET_SINK had then (EFBIG at
 *     it; nobody gets SIGXFSZ). So a holder can make the module write
 *     guest data only where the file's opener could write. It sees no
 *     guest memory but the trace data written to its sinks, and cannot
 *     touch the queues, the memory table or the owner.
 *
 * Waiting sinks hold nothing else up. The worker never sleeps on a sink:
 * pipes and FIFOs are written without blocking; a regular file on a
 * frozen filesystem is not written (the module takes the file's freeze
 * protection without waiting and holds it over the write, on every
 * kernel) and is tried again every 50 ms. GET_STATS never waits for the
 * worker; stopping the queues, VHOST_TRACE_SET_SINK and closing the
 * device fd answer at once with full or frozen sinks. (A filesystem whose
 * writes block for other reasons, such as a FUSE server that does not
 * answer, blocks the worker, and with it these three.)
 */
#ifndef _UAPI_LINUX_VHOST_TRACE_H
#define _UAPI_LINUX_VHOST_TRACE_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vhost.h>

/* Most trace ports one device may have. */
#define VHOST_TRACE_MAX_PORTS	256

/*
 * Longest buffer (descriptor chain) written to a sink, in bytes. A longer
 * one is returned to the guest unread and counted in bad_buffers.
 */
#define VHOST_TRACE_MAX_BUFFER	(256 * 1024)

/*
 * VHOST_TRACE_SET_PORTS: the number of trace ports, 1..VHOST_TRACE_MAX_PORTS.
 * Allowed once, before VHOST_SET_OWNER.
 *   EINVAL  count out of range
 *   EBUSY   ports already set, or the device already has an owner
 *   ENOMEM  the virtqueues could not be allocated
 * VHOST_TRACE_GET_PORTS: the number of trace ports (0 when not yet set).
 * Both work on the device fd; GET_PORTS on the control fd too.
 */
#define VHOST_TRACE_SET_PORTS	_IOW(VHOST_VIRTIO, 0xA0, __u32)
#define VHOST_TRACE_GET_PORTS	_IOR(VHOST_VIRTIO, 0xA1, __u32)

/*
 * VHOST_TRACE_GET_CTL_FD: returns a new file descriptor (O_CLOEXEC), the
 * control fd, for the process that manages sinks and reads statistics.
 * Any holder of the device fd may ask for it; it needs no ownership. It
 * keeps the device's ports, sinks and statistics alive, not the owner's
 * memory: once the device fd is closed (the owner exited), the data path
 * is gone, sinks are detached, and statistics stay readable.
 *   EINVAL  the ports are not set yet
 */
#define VHOST_TRACE_GET_CTL_FD	_IO(VHOST_VIRTIO, 0xA2)

/*
 * VHOST_TRACE_SET_RUNNING: start (1) or stop (0) servicing the guest-to-host
 * queues; the owner calls it after setting the vrings up (start) and before
 * reading them back with VHOST_GET_VRING_BASE (stop), as QEMU does for
 * vhost-vsock. Device fd, owner only. A start leaves out a queue the owner
 * has not set up, and one stopped on a queue error (VHOST_TRACE_STATS_BROKEN)
 * until a VHOST_SET_VRING_NUM, _BASE or _ADDR on it has succeeded since
 * the error: it stays stopped (no RUNNING flag), with BROKEN, and its
 * chains are not read, so the chain that stopped it is not met, counted
 * or signalled again. The other queues start.
 *   EPERM   not the owner
 *   EFAULT  a queue's rings are not accessible
 */
#define VHOST_TRACE_SET_RUNNING	_IOW(VHOST_VIRTIO, 0xA3, int)

/* Policy of a port when its sink is full, frozen or absent. */
enum {
	/*
	 * The buffers wait in the ring: nothing is lost; the guest's writer
	 * blocks (or gets EAGAIN) once the ring is full.
	 */
	VHOST_TRACE_POLICY_BLOCK = 0,
	/*
	 * Buffers that cannot be written at once are returned to the guest
	 * and counted in dropped_*: the guest never waits. A buffer goes to
	 * a pipe only when the pipe has room for all of it; a buffer larger
	 * than the pipe is therefore always dropped.
	 */
	VHOST_TRACE_POLICY_DROP = 1,
};

/*
 * VHOST_TRACE_SET_SINK (control fd): attach, swap or detach the sink of a
 * port, and set its policy.
 *   fd >= 0: a pipe, FIFO or regular file open for writing. Pipes and
 *            FIFOs are written without blocking (vhost-trace opens its own
 *            non-blocking file on the same pipe, with the credentials of
 *            fd's opener); a full one makes the port wait for room (block)
 *            or drop (drop). A pipe sink must have no other writer.
 *            Regular files are written at their file position.
 *   fd == -1: detach. Buffers then wait (block) or are dropped (drop).
 * Whole buffers: a sink gets whole buffers only, whatever the order of
 * swaps, detaches, queue resets and guest rewrites of its ring. When a
 * sink takes only part of a buffer (a pipe short of room takes part of a
 * buffer larger than PIPE_BUF), the device keeps the rest of that one
 * buffer (up to VHOST_TRACE_MAX_BUFFER bytes), returns the buffer to the
 * guest, and writes the rest to that same sink before anything else of
 * the port goes to any sink. A swap or detach takes effect after it: under
 * block the next buffers wait for the old sink to take the rest, under
 * drop they are dropped meanwhile. A queue reset does not touch it. Every
 * byte goes to exactly one sink.
 * A failed write (EPIPE: the reader is gone; ENOSPC, EFBIG, EIO, ...) is
 * counted in sink_errors and last_error and detaches the sink (a rest
 * owed to it is counted dropped). The sink may end in part of a buffer;
 * that buffer then waits whole for a new sink (block) or is dropped
 * (drop).
 *   EINVAL  port out of range, unknown policy or flags, or fd is not a
 *           pipe, FIFO or regular file
 *   EBADF   fd is not an open file, or not open for writing
 *   ENXIO   fd is a FIFO with no reader
 *   ENODEV  the device fd is closed (the owner is gone)
 *
 * By reference (flags VHOST_TRACE_SINK_BY_REF, opt-in). A pipe or FIFO sink
 * then receives the guest's pages themselves, not a copy: each page piece
 * of a buffer takes a pipe slot referring to the guest's page (pinned as
 * for direct I/O: a copy-on-write page is unshared first, so the pipe
 * holds the owner's own page), and the buffer is returned to the guest
 * only when the pipe has let go of all of them: the reader read them, or
 * spliced them onward (to a file: copied into the page cache by the
 * reader's splice; to a socket or another pipe: moved without a copy),
 * or the pipe was freed. tee() keeps a buffer out until both pipes let
 * go. A buffer let go of is returned when the worker next services the
 * port (the guest's next kick), at the latest about 100 ms after, or at
 * once when a quarter of the ring (16 buffers at most) waits; its
 * interrupt then comes as for any used entry (see "Used buffers and the
 * guest's interrupt" above). The rules:
 *   - What goes by reference: a buffer whose pieces carry at least half a
 *     page each on average (guest trace pages do), and that needs no more
 *     slots than the pipe has. Other buffers (a writer's small writes)
 *     are copied as without the flag, in ring order with the lent ones:
 *     the pipe holds the port's bytes in order either way. Regular file
 *     sinks are always copied (the flag is accepted and has no effect).
 *   - Policies keep their meaning. Block: a buffer waits in the ring
 *     until the pipe has a free slot for each of its pieces (it is lent
 *     whole, never in part). Drop: buffers are copied as without the
 *     flag (a lent buffer stays out until the reader reads it, and drop
 *     promises that the guest never waits for one); buffers lent under
 *     block before a switch to drop still come back only when their
 *     pipe lets go of them.
 *   - Counted delivered (bytes, buffers, ref_bytes, ref_buffers) when it
 *     enters the pipe. The pages stay the guest's: a guest that writes a
 *     page while it sits in a pipe (only a broken or hostile one: the
 *     buffer is not returned yet) changes what the reader reads, until
 *     the reader has read it (a reader reads that guest's pages as they
 *     are then, never any other memory). Once a buffer is returned
 *     the guest reuses it; pages a reader spliced onward to a socket
 *     (which takes page references of its own and lets go of the pipe
 *     buffer at once) may then be sent with the guest's new contents.
 *     Copy (no flag) when the stream must be fixed the moment it is
 *     counted.
 *   - VHOST_TRACE_SET_RUNNING 0 returns every lent buffer at once (the
 *     owner then reads the ring state back); their pages stay in the
 *     pipes and the guest may reuse them as above. Closing the device fd
 *     returns none (the ring is gone); their pages stay pinned in the
 *     pipes, and readable, until the pipes let go (also when the owner
 *     was killed and its memory is otherwise gone). Swapping the sink leaves lent
 *     buffers in the old pipe, returned as its reader reads them.
 *   - Pages in a pipe hold the module: it cannot be unloaded until every
 *     pipe has let go of them. A pipe holds at most its slots' worth of
 *     guest pages.
 *   - The vDPA front end (below) lends the same way when vhost_vdpa drives
 *     the device (the pages are the bound mm's); with virtio_vdpa (the
 *     host's own memory) every buffer is copied: copied_bytes, never
 *     ref_bytes. Its lent buffers are returned as used entries, out of
 *     ring order, as the pipes let go. The driver disabling the queue
 *     (VHOST_VDPA_SET_VRING_ENABLE 0, as the owner) returns them all at
 *     once, as SET_RUNNING 0 does, so last_avail (VHOST_GET_VRING_BASE)
 *     then equals the used index. A device reset (also when the
 *     vhost_vdpa fd is closed, or the driver unbound) returns none: no
 *     used entry is written into a ring after its reset; their pages stay
 *     readable in the pipes until these let go, also after the device is
 *     deleted. A driver that starts a ring again after a reset at its
 *     used index (QEMU stopping and continuing a VM: this device offers
 *     no VHOST_BACKEND_F_SUSPEND) hands the device the avail entries
 *     after it again: buffers still lent at the reset may reach the sink
 *     twice. Copy where that matters.
 *   EOPNOTSUPP  the front end does not lend pages (none does now: kept
 *               for tools that check)
 */
struct vhost_trace_sink {
	__u32 port;
	__s32 fd;
	__u32 policy;	/* VHOST_TRACE_POLICY_* */
	__u32 flags;	/* VHOST_TRACE_SINK_*, others must be 0 */
};

/* vhost_trace_sink.flags: lend the guest's pages to a pipe sink. */
#define VHOST_TRACE_SINK_BY_REF	(1U << 0)

#define VHOST_TRACE_SET_SINK	_IOW(VHOST_VIRTIO, 0xA4, struct vhost_trace_sink)

/* vhost_trace_stats.flags */
#define VHOST_TRACE_STATS_SINK		(1U << 0) /* a sink is attached */
#define VHOST_TRACE_STATS_WAITING	(1U << 1) /* waiting: full or frozen */
#define VHOST_TRACE_STATS_RUNNING	(1U << 2) /* the queue is serviced */
#define VHOST_TRACE_STATS_BROKEN	(1U << 3) /* stopped on a queue error */
#define VHOST_TRACE_STATS_RELEASED	(1U << 4) /* the device fd is closed */

/*
 * VHOST_TRACE_GET_STATS (control fd): statistics of one port. Set port;
 * the rest is filled in. Counters only grow, whatever the guest writes
 * into its ring. It never waits for the worker or a sink. When the device
 * fd is closed, the rest of a buffer still owed to a sink is counted in
 * dropped_bytes and dropped_buffers. bytes = ref_bytes + copied_bytes:
 * copies per byte written are copied_bytes / bytes (0 for a pipe fed by
 * reference; a reader that splices it onward copies nothing either).
 * The struct grew at its end: the command's size field tells the module
 * how much of it the caller has (the first 80 bytes at least; older
 * programs keep their ioctl number and get what they know).
 *   EINVAL  port out of range
 */
struct vhost_trace_stats {
	__u32 port;		/* in */
	__u32 flags;		/* VHOST_TRACE_STATS_* */
	__u64 bytes;		/* written to sinks */
	__u64 buffers;		/* buffers written whole */
	__u64 dropped_bytes;	/* drop policy: not written */
	__u64 dropped_buffers;
	__u64 stalls;		/* times the port waited for a sink */
	__u64 sink_errors;	/* writes that failed (EPIPE, ENOSPC, ...) */
	__u64 bad_buffers;	/* returned unread: see the chain cases */
	__u64 queue_errors;	/* chains the vhost core could not map */
	__s32 last_error;	/* errno of the last sink error, 0 if none */
	__u32 reserved;
	/* Since the by-reference sinks (older callers get the above only): */
	__u64 ref_bytes;	/* of bytes: lent to pipes, no copy */
	__u64 copied_bytes;	/* of bytes: copied by the module */
	__u64 ref_buffers;	/* of buffers: lent to pipes */
	/* Not a counter: lent buffers whose pages are in pipes now. */
	__u64 ref_pending;
};

#define VHOST_TRACE_GET_STATS	_IOWR(VHOST_VIRTIO, 0xA5, struct vhost_trace_stats)

/*
 * The vDPA front end (kernels with CONFIG_VDPA: Debian 6.12, not 6.1).
 *
 * vhost_trace.ko is then also a vDPA parent: it registers the vDPA
 * management device "vhost-trace" (`vdpa mgmtdev show`). A vDPA device
 * presents the whole virtio-console to a driver: with vhost_vdpa bound
 * (/dev/vhost-vdpa-N), stock QEMU >= 8.0 hands it to a guest with
 *   -device vhost-vdpa-device-pci,vhostdev=/dev/vhost-vdpa-N
 * (QEMU 10.0 has no vhostfd property: an fd goes through an fd set,
 * -add-fd fd=N,set=S and vhostdev=/dev/fdset/S);
 * with virtio_vdpa bound, the host's own virtio_console drives it
 * (/dev/vportNpM, /sys/class/virtio-ports). Guest memory is reached by
 * user virtual address (use_va: vhost_vdpa binds the guest's mm), so
 * nothing pins the guest's RAM.
 *
 * The device: virtio-console (device id 3) with VIRTIO_F_VERSION_1,
 * VIRTIO_F_ACCESS_PLATFORM and VIRTIO_CONSOLE_F_MULTIPORT, max_nr_ports =
 * nports + 1. Port 0 is "agent-ctl-path", port k >= 1 "trace-path-cpu<k-1>"
 * (trace port p of the control fd = virtio-console port p + 1). The module
 * answers the control queue itself: DEVICE_READY -> PORT_ADD for each port;
 * PORT_READY -> PORT_NAME and PORT_OPEN; the guest's PORT_OPEN is noted.
 * The trace ports' guest-to-host buffers go to the sinks exactly as with
 * the vhost front end (same policies, whole buffers, statistics, chain
 * cases above). The module walks the rings itself with the vhost core's
 * rules, and counts the same way: a chain it cannot map (an address
 * outside the driver's map or without the access needed, a loop, a head
 * or next index out of the ring or table, an avail index moved by more
 * than the ring size, a bad indirect table (nested, of a length that is
 * not a multiple of 16 or holds more than 1024 descriptors, or with NEXT
 * set on the indirect descriptor), a readable descriptor after a
 * device-writable one of nonzero length, more than 1024 pieces) counts in
 * queue_errors, is not returned, and stops that queue
 * (VHOST_TRACE_STATS_BROKEN) until the driver resets the device, or
 * disables the queue and enables it again (as a queue set up again on
 * the vhost device: the chain that stopped it is then met again and
 * counted again); the device shows VIRTIO_CONFIG_S_NEEDS_RESET in its
 * status until the reset. Refused
 * chains (bad_buffers) are returned with used length 0 as above.
 * Ring size: 1..256, a power of two. Split rings only (no
 * VIRTIO_F_RING_PACKED); VIRTIO_RING_F_EVENT_IDX and
 * VIRTIO_RING_F_INDIRECT_DESC are offered, interrupts and kicks as for
 * the vhost device (see "Used buffers and the guest's interrupt").
 * Memory: with vhost_vdpa, only what the driver mapped (IOTLB messages),
 * read as user memory of the process that did VHOST_SET_OWNER (bind_mm);
 * a vhost_vdpa user without an owner gets no service. vhost_vdpa (6.12)
 * maps only shared file-backed memory in this mode (it skips anonymous or
 * private mappings), so QEMU's guest RAM must be e.g.
 * -object memory-backend-memfd,id=mem,size=...,share=on -machine memory-backend=mem. With virtio_vdpa,
 * the host's own DMA (physical) addresses.
 *
 * Creating a device:
 *   - `vdpa dev add mgmtdev vhost-trace name NAME`: the vhost_trace module
 *     parameter vdpa_ports (default 4) trace ports; no creator (rights:
 *     CAP_SYS_ADMIN only, as for the vdpa tool itself).
 *   - VHOST_TRACE_VDPA_ADD on an fd of /dev/vhost-trace that has not set
 *     ports (any holder of the node): nports trace ports; returns a
 *     control fd (O_CLOEXEC). The caller's euid is the device's creator.
 * A device lives until deleted (VHOST_TRACE_VDPA_DEL or `vdpa dev del`),
 * whoever holds control fds; the module cannot be unloaded while devices
 * exist. A control fd of a deleted device answers GET_STATS (released).
 */
struct vhost_trace_vdpa {
	char name[32];		/* NUL-terminated; [A-Za-z0-9_.-], not empty */
	__u32 nports;		/* ADD: 1..VHOST_TRACE_MAX_PORTS; else 0 */
	__u32 flags;		/* must be 0 */
};

/*
 * VHOST_TRACE_VDPA_ADD: create device name with nports trace ports; returns
 * a control fd.
 *   EEXIST      the name is taken (by any vDPA device)
 *   EINVAL      bad name, count or flags; or this fd has set ports
 *   EOPNOTSUPP  the kernel has no vDPA (CONFIG_VDPA); the ioctls exist on
 *               every kernel so that the tools can say why
 * VHOST_TRACE_VDPA_CTL: a new control fd for the existing device name (a
 * restarted daemon).
 *   ENOENT      no such vhost-trace device
 *   EPERM       neither its creator's euid nor CAP_SYS_ADMIN
 * VHOST_TRACE_VDPA_DEL: delete device name (same rights as CTL). Its
 * driver is unbound first (virtio_vdpa: the host's ports go away).
 *   EBUSY       a vhost_vdpa user (QEMU) has bound an mm to it
 *
 * The control fd of a vDPA device takes VHOST_TRACE_SET_SINK, GET_STATS and
 * GET_PORTS as above, and carries port 0 ("agent-ctl-path") as a byte
 * stream: read() returns what the guest wrote to it, write() queues bytes
 * for the guest, and takes them only while the guest has port 0 open (up
 * to 64 KiB wait in the module for the guest's buffers; a driver reset
 * drops them), poll() says which is possible (EPOLLIN,
 * EPOLLOUT; EPOLLHUP once the device is deleted, when read() returns 0 and
 * write() fails with EPIPE). Without O_NONBLOCK read() and write() wait;
 * with it they fail with EAGAIN. The guest's bytes are taken from its ring
 * only while they fit (64 KiB): a daemon that does not read makes the
 * guest's writer wait, nothing is lost. On the control fd of a
 * vhost front end device (VHOST_TRACE_GET_CTL_FD) read() and write() fail
 * with EINVAL: QEMU owns port 0 there.
 */
#define VHOST_TRACE_VDPA_ADD	_IOW(VHOST_VIRTIO, 0xA6, struct vhost_trace_vdpa)
#define VHOST_TRACE_VDPA_CTL	_IOW(VHOST_VIRTIO, 0xA7, struct vhost_trace_vdpa)
#define VHOST_TRACE_VDPA_DEL	_IOW(VHOST_VIRTIO, 0xA8, struct vhost_trace_vdpa)

#endif /* _UAPI_LINUX_VHOST_TRACE_H */
