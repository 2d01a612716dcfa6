// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_clock (clock.c) on a fake /proc and debugfs: finding QEMU's VM
 * through a launcher, the vCPU threads, sampling and change dating, the
 * unstable-TSC heuristic, the inverse of a scaled TSC, and a guest
 * WORKDIR/trace.dat with TIME_SHIFT (from META and two CPU files) that
 * clock_test.sh has stock trace-cmd read.
 *
 * Usage: clock_test [WORKDIR [META CPU0.RAW CPU1.RAW]] (default: a new
 * directory in /tmp, removed at the end)
 * Host times (fake): found at 10e9, polls at 11e9 and 12e9, end 14e9.
 * vCPU 0: guest = host - 4e9. vCPU 1: host - 4.5e9, then (seen by the
 * 12e9 poll, so from the 11e9 one on, guest time 6.5e9) a TSC scaled by
 * 1.5: guest = host * 1.5 - 10e9.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "tap.h"
#include "tracedat.h"

static char root[4096];

static void put(const char *rel, const char *text)
{
	char path[8192], *s;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void fake_tree(void)
{
	/* launcher 400 -> timeout 401 -> qemu 500; 600: another VM */
	put("proc/1/stat", "1 (init) S 0 1 1 0\n");
	put("proc/400/stat", "400 (guestrun) S 1 400 400 0\n");
	put("proc/401/stat", "401 (time out) S 400 400 400 0\n");
	put("proc/500/stat", "500 (qemu-system-x86) S 401 400 400 0\n");
	put("proc/500/task/500/comm", "qemu-system-x86\n");
	put("proc/500/task/509/comm", "IO mon_iothread\n");
	put("proc/500/task/510/comm", "CPU 0/KVM\n");
	put("proc/500/task/511/comm", "CPU 1/KVM\n");
	put("proc/600/stat", "600 (qemu-system-x86) S 1 600 600 0\n");
	put("proc/600/task/601/comm", "CPU 0/KVM\n");
	put("debugfs/kvm/600-9/vcpu0/tsc-offset", "-1\n");
	/* 500-7: an old VM without vCPUs; 500-12 the one */
	put("debugfs/kvm/500-7/pid", "500\n");
	put("debugfs/kvm/500-12/vcpu0/tsc-offset", "-4000000000\n");
	put("debugfs/kvm/500-12/vcpu1/tsc-offset", "-4500000000\n");
	/* KVM's vcpuN/pid: vCPU 0 has run (thread 520), vCPU 1 not yet */
	put("debugfs/kvm/500-12/vcpu0/pid", "520\n");
	put("debugfs/kvm/500-12/vcpu1/pid", "0\n");
}

static int close_to(uint64_t a, uint64_t b, uint64_t tol)
{
	return a > b ? a - b <= tol : b - a <= tol;
}

static void scaled(void)
{
	/* a guest TSC 1.5 times the host's (AMD: 32 fraction bits) */
	struct kvm_tsc t = { .offset = -123456789, .ratio = 3ULL << 31,
			     .frac = 32 };
	uint64_t g, worst = 0;
	int ok = 1;

	for (g = 1000; g < 1ULL << 62; g = g * 3 + 7) {
		uint64_t got = g + kvm_tsc_host_offset(&t, g);
		uint64_t want = (uint64_t)(((__int128)g - t.offset) * 2 / 3);

		if (!close_to(got, want, 1))
			ok = 0;
		if ((got > want ? got - want : want - got) > worst)
			worst = got > want ? got - want : want - got;
		/* and back: the guest TSC of that host time */
		if (!close_to(kvm_tsc_guest(&t, got), g, 2))
			ok = 0;
	}
	tap_ok(ok, "scaled TSC (1.5): host - guest exact up to 2^62 (off by "
	       "at most %llu), and back", (unsigned long long)worst);
	t.ratio = 1ULL << 32;
	tap_ok(kvm_tsc_host_offset(&t, 1ULL << 50) == 123456789,
	       "ratio 1.0: host = guest - offset exactly");
}

/* the host's TSC to ns terms against CLOCK_MONOTONIC_RAW, over 200 ms */
static void host_terms(void)
{
	struct timespec a, b;
	uint64_t t0, t1, ns, tns;
	uint32_t mult, shift;
	char err[256], why[300];

	if (host_tsc2nsec(&mult, &shift, err, sizeof(err))) {
		snprintf(why, sizeof(why), "host TSC to ns terms: %s", err);
		tap_skip(why);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	t0 = host_tsc();
	usleep(200000);
	clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	t1 = host_tsc();
	ns = (b.tv_sec - a.tv_sec) * 1000000000ULL + b.tv_nsec - a.tv_nsec;
	tns = ((unsigned __int128)(t1 - t0) * mult) >> shift;
	tap_ok(close_to(tns, ns, ns / 100), "host TSC to ns (* %u >> %u): "
	       "%llu ns by the terms, %llu by CLOCK_MONOTONIC_RAW", mult,
	       shift, (unsigned long long)tns, (unsigned long long)ns);
}

int main(int argc, char **argv)
{
	char dbg[4200], proc[4200], err[4400], path[8192], buf[8192];
	struct kvm_clock c, u;
	struct tracedat *td;
	FILE *fp;
	int ret, i, n, dirfd;

	if (argc > 2 && argc != 5) {
		fprintf(stderr, "usage: clock_test [WORKDIR [META CPU0 CPU1]]\n");
		return 2;
	}
	snprintf(root, sizeof(root), "%s", argc > 1 ? argv[1] :
		 "/tmp/clock_test.XXXXXX");
	if (argc == 1 && !mkdtemp(root)) {
		perror(root);
		return 1;
	}
	fake_tree();
	snprintf(dbg, sizeof(dbg), "%s/debugfs", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	tap_plan("kvm_clock", argc == 5 ? 19 : 17);
	host_terms();

	ret = kvm_clock_open(&c, dbg, proc, 1234, 1, err, sizeof(err));
	tap_ok(ret == -ENOENT && strstr(err, "no KVM VM"),
	       "no VM for a process without one: -ENOENT (%s)", err);
	ret = kvm_clock_open(&c, dbg, proc, 400, 10000000000ULL, err,
			     sizeof(err));
	tap_ok(!ret && c.pid == 500, "the VM of the launcher's grandchild "
	       "QEMU (pid %d) found: %s", c.pid, ret ? err : c.dir);
	tap_ok(!ret && strstr(c.dir, "/kvm/500-12") && c.nr_vcpus == 2,
	       "the VM with vCPUs, 2 of them");
	tap_ok(!ret && c.vcpu[0].tid == 520 && c.vcpu[1].tid == 511,
	       "vCPU threads: 520 from KVM's vcpu0/pid, 511 from \"CPU 1/KVM\" "
	       "(vcpu1 has not run)");
	tap_ok(!ret && c.vcpu[1].nr == 1 &&
	       c.vcpu[1].ch[0].tsc.offset == -4500000000LL &&
	       !c.vcpu[1].ch[0].tsc.ratio, "first sample: offsets, no scaling");
	if (ret)
		return 1;
	n = kvm_clock_poll(&c, 11000000000ULL);
	tap_ok(n == 0 && c.vcpu[0].nr == 1, "unchanged: nothing recorded");
	put("debugfs/kvm/500-12/vcpu1/tsc-offset", "-10000000000\n");
	put("debugfs/kvm/500-12/vcpu1/tsc-scaling-ratio", "6442450944\n");
	put("debugfs/kvm/500-12/vcpu1/tsc-scaling-ratio-frac-bits", "32\n");
	n = kvm_clock_poll(&c, 12000000000ULL);
	tap_ok(n == 1 && c.vcpu[1].nr == 2 && c.vcpu[0].nr == 1 &&
	       c.vcpu[1].ch[1].since == 11000000000ULL &&
	       c.vcpu[1].ch[1].seen == 12000000000ULL,
	       "a change: recorded with the polls around it");
	ret = kvm_clock_finish(&c, 14000000000ULL);
	tap_ok(!ret && c.end == 14000000000ULL && c.changes == 1 &&
	       !kvm_clock_unstable(&c), "finish; 1 change in 3 polls: stable");

	tap_ok(kvm_tsc_host_offset(&c.vcpu[0].ch[0].tsc, 7000000000ULL) ==
	       4000000000LL && c.vcpu[1].ch[1].tsc.ratio == 6442450944ULL &&
	       c.vcpu[1].ch[1].tsc.frac == 32 &&
	       kvm_tsc_host_offset(&c.vcpu[1].ch[1].tsc, 8000000000ULL) ==
	       12000000000LL - 8000000000LL,
	       "unscaled: host = guest + 4e9; scaled: terms read");
	scaled();

	/* an unstable host TSC: a new offset on every poll */
	ret = kvm_clock_open(&u, dbg, proc, 500, 1, err, sizeof(err));
	for (i = 0; !ret && i < 20; i++) {
		snprintf(buf, sizeof(buf), "%d\n", -1000 * i);
		put("debugfs/kvm/500-12/vcpu0/tsc-offset", buf);
		kvm_clock_poll(&u, 2 + i);
	}
	tap_ok(!ret && kvm_clock_unstable(&u),
	       "offsets changing on every poll: unstable (%lu changes, %lu "
	       "polls)", u.changes, u.polls);
	kvm_clock_free(&u);
	put("debugfs/kvm/500-12/vcpu0/tsc-offset", "-4000000000\n");

	c.ns_mult = 3;
	c.ns_shift = 2;
	dirfd = open(root, O_RDONLY | O_DIRECTORY);
	ret = kvm_clock_write_files(&c, dirfd, "vm7", 0x1234abcdULL, "x86-tsc");
	close(dirfd);
	snprintf(path, sizeof(path), "%s/guest.map", root);
	fp = fopen(path, "r");
	n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
	buf[n] = '\0';
	if (fp)
		fclose(fp);
	tap_ok(!ret && strstr(buf, "\nname=vm7\n") &&
	       strstr(buf, "\ntrace_id=0x000000001234abcd\n") &&
	       strstr(buf, "\nvcpus=2\n") && strstr(buf, "\nvcpu0=520\n") &&
	       strstr(buf, "\nvcpu1=511\n") && strstr(buf, "\nclock=x86-tsc\n") &&
	       strstr(buf, "\ntsc_stable=yes\n") &&
	       strstr(buf, "\ntsc2nsec=3 2\n"), "guest.map");
	snprintf(path, sizeof(path), "%s/tsc", root);
	fp = fopen(path, "r");
	n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
	buf[n] = '\0';
	if (fp)
		fclose(fp);
	tap_ok(!ret && strstr(buf, "\n1 11000000000 12000000000 -10000000000 6442450944 32\n") &&
	       strstr(buf, "\n# end 14000000000\n"), "tsc: every sample");

	/* QEMU gone (its debugfs directory with it): the poll says so */
	snprintf(path, sizeof(path), "%s/kvm/500-12", dbg);
	snprintf(buf, sizeof(buf), "%s/kvm/gone", dbg);
	rename(path, buf);
	ret = kvm_clock_poll(&c, 15000000000ULL);
	rename(buf, path);
	tap_ok(ret == -ENOENT, "VM gone: the poll fails (%d)", ret);
	tap_ok(c.changes == 1 && c.end == 14000000000ULL &&
	       c.vcpu[0].nr == 1 && c.vcpu[1].nr == 2,
	       "a failed poll changes nothing");
	if (argc == 5) {
		snprintf(path, sizeof(path), "%s/trace.dat", root);
		td = tracedat_open(path, 7, TRACEDAT_COMPRESS_NONE);
		ret = !td || tracedat_load_meta(td, argv[2]) ||
		      tracedat_set_info(td, "trace_clock", "x86-tsc") ||
		      tracedat_add_cpu_file(td, 0, argv[3]) ||
		      tracedat_add_cpu_file(td, 1, argv[4]) ||
		      tracedat_add_traceid(td, 0x1234abcdULL);
		tap_ok(!ret && !kvm_clock_time_shift(&c, td, 0x42),
		       "TIME_SHIFT samples added");
		tap_ok(!ret && !tracedat_close(td), "guest.dat written");
	}
	kvm_clock_free(&c);
	if (argc == 1)
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_failed ? 1 : 0;
}
