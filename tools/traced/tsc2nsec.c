// SPDX-License-Identifier: GPL-2.0
/*
 * The host kernel's TSC to nanoseconds terms, ns = (tsc * mult) >> shift,
 * as perf publishes them in an event's first mmap page (cap_user_time):
 * what trace-cmd's TSC2NSEC option carries, so that a reader shows TSC
 * times in seconds (see clock.h).
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"

/* the terms of CPU @cpu through a dummy software event of this process */
static int cpu_terms(int cpu, uint32_t *mult, uint32_t *shift)
{
	struct perf_event_attr attr;
	volatile struct perf_event_mmap_page *pg;
	long psize = sysconf(_SC_PAGESIZE);
	uint32_t seq;
	int fd, ret = 0, user_time;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_DUMMY;
	attr.disabled = 1;
	fd = syscall(SYS_perf_event_open, &attr, 0, cpu, -1,
		     PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	pg = mmap(NULL, psize, PROT_READ, MAP_SHARED, fd, 0);
	if (pg == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	do {
		seq = pg->lock;
		__sync_synchronize();
		user_time = pg->cap_user_time;
		*mult = pg->time_mult;
		*shift = pg->time_shift;
		__sync_synchronize();
	} while (pg->lock != seq);
	munmap((void *)pg, psize);
	if (!user_time || !*mult)
		ret = -EOPNOTSUPP;
out:
	close(fd);
	return ret;
}

int host_tsc2nsec(uint32_t *mult, uint32_t *shift, char *err, size_t errsz)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN), cpu;
	uint32_t m, s;
	int ret;

	ret = cpu_terms(0, mult, shift);
	/* the others must agree (one not online is skipped) */
	for (cpu = 1; !ret && cpu < cpus; cpu++) {
		if (!cpu_terms(cpu, &m, &s) && (m != *mult || s != *shift)) {
			snprintf(err, errsz, "CPU %ld converts TSC to ns with "
				 "%u >> %u, CPU 0 with %u >> %u", cpu, m, s,
				 *mult, *shift);
			return -ERANGE;
		}
	}
	if (ret == -EOPNOTSUPP)
		snprintf(err, errsz, "the kernel gives no TSC to ns terms "
			 "(perf cap_user_time 0: its sched_clock is not the "
			 "TSC's, e.g. a guest on kvm-clock, or the TSC is "
			 "unstable)");
	else if (ret)
		snprintf(err, errsz, "perf_event_open: %s", strerror(-ret));
	return ret;
}
