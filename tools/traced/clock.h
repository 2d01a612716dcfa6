/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's TSC as the host sees it, for merging host and guest traces.
 *
 * KVM keeps, per vCPU, guest_tsc = ((host_tsc * ratio) >> frac) + offset
 * and shows the terms in debugfs: DEBUGFS/kvm/PID-FD/vcpuN/tsc-offset,
 * tsc-scaling-ratio and tsc-scaling-ratio-frac-bits (the last two only
 * where the CPU scales TSCs). PID is QEMU's, FD its VM file descriptor.
 * kvm_clock finds the VM of a launched process (QEMU itself or a process
 * it started, e.g. a wrapper script), maps vCPUs to host threads (KVM's
 * vcpuN/pid, else QEMU's thread names "CPU N/KVM"), and samples the terms: once when found, on every
 * kvm_clock_poll() (the session thread: every 250 ms) and at stop,
 * keeping an entry only when a term changed. A change is dated by the
 * host TSC of the poll that saw it and of the poll before (it happened in
 * between).
 *
 * From these, the guest trace.dat gets trace-cmd's TIME_SHIFT option, the
 * one trace-cmd record -A's kvm time sync writes: per guest CPU, samples
 * (guest time, offset, scaling, fraction), host = ((guest * scaling) >>
 * fraction) + offset. trace-cmd's kvm plugin sends -tsc-offset with the
 * KVM ratio as scaling, right only for an unscaled TSC (and the reader's
 * 64-bit product overflows for real ratios). Here the samples carry
 * scaling 1 and the exact host - guest offset at their guest time, with
 * the INTERPOLATE flag: each segment of constant terms gets a sample at
 * its first and last guest cycle (and, scaled, every 2^30 cycles, the
 * reader interpolating linearly in between). The guest's trace clock must
 * be x86-tsc and the host's too (trace-cmd record -C x86-tsc).
 *
 * Only meaningful with a stable host TSC: where the host kernel marks its
 * TSC unstable, KVM rewrites each vCPU's offset on every vCPU load (the
 * guest's TSC stops while its thread is off the CPU), thousands of times
 * a second, and no sampling can follow; kvm_clock_unstable() says so.
 */
#ifndef VT_CLOCK_H
#define VT_CLOCK_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

struct tracedat;

struct kvm_tsc {
	int64_t offset;
	uint64_t ratio;		/* 0: no scaling files (not scaled) */
	unsigned int frac;
};

struct kvm_tsc_change {
	uint64_t since;		/* host TSC: the poll before */
	uint64_t seen;		/* host TSC: the poll that saw it */
	struct kvm_tsc tsc;
};

struct kvm_vcpu_clock {
	int tid;		/* the host thread running it, 0 not known */
	char dir[PATH_MAX + 32];	/* .../vcpuN */
	struct kvm_tsc_change *ch;	/* ch[0]: the first sample */
	unsigned int nr, cap;
};

struct kvm_clock {
	pid_t pid;		/* the process that owns the VM */
	char dir[PATH_MAX];	/* DEBUGFS/kvm/PID-FD */
	unsigned int nr_vcpus;
	struct kvm_vcpu_clock *vcpu;
	uint64_t last_poll;	/* host TSC */
	uint64_t end;		/* host TSC of the final sample (0: none) */
	unsigned long polls;
	unsigned long changes;	/* over all vCPUs, after the first sample */
	const char *proc;	/* "/proc" (tests: a fake tree) */
	uint32_t ns_mult;	/* host_tsc2nsec() when known, for guest.map */
	uint32_t ns_shift;
};

/* The host's TSC (rdtsc), the clock of trace-cmd record -C x86-tsc. */
uint64_t host_tsc(void);

/*
 * The host kernel's TSC to ns terms, ns = (tsc * mult) >> shift, the same
 * on every CPU (tsc2nsec.c); 0, or -errno with the reason in @err. With
 * them in a guest trace.dat (TSC2NSEC, after TIME_SHIFT has made guest
 * times host TSC), trace-cmd report shows seconds, as for trace-cmd
 * record -C tsc2nsec.
 */
int host_tsc2nsec(uint32_t *mult, uint32_t *shift, char *err, size_t errsz);

/*
 * Where debugfs is mounted; mounts it on /sys/kernel/debug when it is
 * not. NULL (and err) when that fails.
 */
const char *kvm_debugfs(char *err, size_t errsz);

/*
 * Finds the KVM VM of @pid or of one of its descendants under
 * DEBUGFS/kvm, the vCPU threads under PROC, and takes the first sample
 * at host time @now. 0 found; -ENOENT not (yet); other -errno (err).
 */
int kvm_clock_open(struct kvm_clock *c, const char *debugfs,
		   const char *proc, pid_t pid, uint64_t now, char *err,
		   size_t errsz);
/* Samples every vCPU at host time @now; returns the changes seen. */
int kvm_clock_poll(struct kvm_clock *c, uint64_t now);
/* The last sample, at stop (kept even without a change). */
int kvm_clock_finish(struct kvm_clock *c, uint64_t now);
/* More offset changes than a stable TSC explains (see above). */
int kvm_clock_unstable(const struct kvm_clock *c);
/*
 * Adds TIME_SHIFT (peer @peer_id) to @td: per vCPU, the first terms from
 * guest time 0, each change from the guest time it can first have
 * applied (the poll before the one that saw it), up to the end.
 */
int kvm_clock_time_shift(const struct kvm_clock *c, struct tracedat *td,
			 uint64_t peer_id);
/*
 * DIR/guest.map (key=value: what `vhost-trace merge` needs for the
 * host file's GUEST option) and DIR/tsc (every sample, for humans), in
 * DIR's fd dirfd, with the caller's fs ids, no link followed, regular
 * files only.
 */
int kvm_clock_write_files(const struct kvm_clock *c, int dirfd,
			  const char *name, uint64_t trace_id,
			  const char *guest_clock);
void kvm_clock_free(struct kvm_clock *c);

/*
 * host - guest at guest TSC @guest under these terms: -offset unscaled;
 * scaled, (guest - offset) * 2^frac / ratio - guest, rounded.
 */
int64_t kvm_tsc_host_offset(const struct kvm_tsc *t, uint64_t guest);
/* The guest TSC at host TSC @host. */
uint64_t kvm_tsc_guest(const struct kvm_tsc *t, uint64_t host);

#endif
