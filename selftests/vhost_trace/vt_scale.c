// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace scale benchmark (not a timed test): D devices of P ports at
 * once, each driven from userspace by a guest thread of its own that
 * keeps every port's ring full (vt_producer: one page per buffer), into
 * file sinks (memfd, emptied by the guest thread as it goes), policy
 * block. For each D:
 *   - kernel memory per device and per port: /proc/meminfo's SUnreclaim +
 *     KernelStack + VmallocUsed + Percpu (not the guest's memory: that is
 *     this process's), before the devices
 *     are opened and once they are set up and running (per port: D
 *     devices of 1 port against D of P);
 *   - the vhost worker threads (one per device expected);
 *   - aggregate MB/s over the window, the workers' CPU seconds per GB
 *     (the host's cost) and the guest threads' (the guest's);
 *   - fairness between devices: the least and the most any device moved,
 *     and Jain's index over the devices' bytes (1: all equal).
 * Printed as TAP diagnostics, "scale:" lines.
 *
 *   vt_scale [-d 1,16,64] [-p ports] [-t seconds] [-n ring size]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "vt_cpu.h"
#include "vt_guest.h"
#include "vt_producer.h"

#include "kselftest.h"

#define MAX_DEVS	256
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

struct guest {
	struct vt_dev d;
	struct vt_producer *pr;	/* per port */
	int *sink;		/* per port: memfd */
	pthread_t th;
	pid_t tid;
	double cpu;		/* the thread's CPU seconds, at its end */
	volatile int stop;
};

/* Kernel memory in KiB, as /proc/meminfo counts what a device takes. */
static long kmem_kib(void)
{
	static const char * const keys[] = { "SUnreclaim:", "KernelStack:",
		"VmallocUsed:", "Percpu:" };
	char line[128];
	long v, sum = 0;
	unsigned int i;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])) &&
			    sscanf(line + strlen(keys[i]), "%ld", &v) == 1)
				sum += v;
	fclose(f);
	return sum;
}

static void settle(void)
{
	sync();
	usleep(200 * 1000);
}

/*
 * The guest of one device: every port's ring kept full. Its sinks are
 * emptied after every SINK_PAGES pages it got back, so memory stays
 * bounded whatever the scheduler does to other threads.
 */
#define SINK_PAGES	256
static void *guest_main(void *arg)
{
	struct guest *g = arg;
	unsigned int p, moved, since = 0;
	const struct timespec idle = { 0, 500 * 1000 };

	while (!g->stop) {
		moved = 0;
		for (p = 0; p < g->d.nports; p++) {
			moved += vt_prod_reap(&g->pr[p]);
			moved += vt_prod_post(&g->pr[p]);
		}
		since += moved;
		if (since >= SINK_PAGES) {
			for (p = 0; p < g->d.nports; p++)
				if (ftruncate(g->sink[p], 0))
					break;
			since = 0;
		}
		if (!moved)
			nanosleep(&idle, NULL);
	}
	g->cpu = vt_self_cpu();
	return NULL;
}

static int guest_setup(struct guest *g, unsigned int ports, unsigned int num)
{
	unsigned int p;
	int r;

	memset(g, 0, sizeof(*g));
	r = vt_dev_setup(&g->d, ports, num, VT_F_VERSION_1 | VT_F_EVENT_IDX,
			 (size_t)ports * num * VT_PAGE + (1 << 20));
	g->pr = calloc(ports, sizeof(*g->pr));
	g->sink = calloc(ports, sizeof(*g->sink));
	if (r || !g->pr || !g->sink)
		return r ? r : -ENOMEM;
	for (p = 0; p < ports; p++) {
		r = vt_prod_init(&g->pr[p], &g->d.mem, &g->d.tx[p], p, 1,
				 false);
		if (r)
			return r;
		g->pr[p].fill = false;
		g->pr[p].total = UINT64_MAX;
		g->sink[p] = memfd_create("vt-scale", MFD_CLOEXEC);
		if (g->sink[p] < 0)
			return -errno;
		r = vt_set_sink(g->d.ctl, p, g->sink[p],
				VHOST_TRACE_POLICY_BLOCK);
		if (r)
			return r;
	}
	return vt_dev_run(&g->d, 1);
}

static void guest_free(struct guest *g, unsigned int ports)
{
	unsigned int p;

	for (p = 0; g->pr && p < ports; p++)
		vt_prod_free(&g->pr[p]);
	vt_dev_close(&g->d);
	for (p = 0; g->sink && p < ports; p++)
		if (g->sink[p] > 0)
			close(g->sink[p]);
	free(g->pr);
	free(g->sink);
}

static uint64_t dev_bytes(struct guest *g)
{
	struct vhost_trace_stats st;
	uint64_t sum = 0;
	unsigned int p;

	for (p = 0; p < g->d.nports; p++)
		if (!vt_get_stats(g->d.ctl, p, &st))
			sum += st.bytes;
	return sum;
}

/* Kernel KiB taken by ndev devices of ports ports each, set up and run. */
static long kmem_of(unsigned int ndev, unsigned int ports, unsigned int num)
{
	struct guest *g = calloc(ndev, sizeof(*g));
	long before, after = -1;
	unsigned int i;

	if (!g)
		return -1;
	settle();
	before = kmem_kib();
	for (i = 0; i < ndev; i++)
		if (guest_setup(&g[i], ports, num))
			break;
	settle();
	if (i == ndev)
		after = kmem_kib();
	while (i--)
		guest_free(&g[i], ports);
	free(g);
	return after < 0 ? -1 : after - before;
}

static int run_case(unsigned int ndev, unsigned int ports, unsigned int num,
		    double secs, long kmem_1port)
{
	struct guest *g = calloc(ndev, sizeof(*g));
	pid_t wpid[MAX_DEVS], wtid[MAX_DEVS];
	uint64_t *b0 = calloc(ndev, sizeof(*b0));
	double t0, t1, w0 = 0, w1 = 0, gcpu = 0, sum = 0, sq = 0, gb;
	uint64_t lo = UINT64_MAX, hi = 0, total = 0, b;
	long before, after;
	unsigned int i, set = 0;
	int nw, j, r = -1;

	if (!g || !b0)
		goto out;
	settle();
	before = kmem_kib();
	for (set = 0; set < ndev; set++) {
		if (guest_setup(&g[set], ports, num)) {
			ksft_print_msg("device %u: %s\n", set, vt_error());
			goto out;
		}
	}
	settle();
	after = kmem_kib();
	nw = vt_find_workers(wpid, wtid, MAX_DEVS);
	for (i = 0; i < ndev; i++)
		if (pthread_create(&g[i].th, NULL, guest_main, &g[i]))
			goto out;
	usleep(500 * 1000);	/* all running */
	for (i = 0; i < ndev; i++)
		b0[i] = dev_bytes(&g[i]);
	for (j = 0; j < nw; j++)
		w0 += vt_thread_cpu(wpid[j], wtid[j]);
	t0 = vt_now();
	while ((t1 = vt_now()) - t0 < secs)
		usleep(100 * 1000);
	for (i = 0; i < ndev; i++) {
		b = dev_bytes(&g[i]) - b0[i];
		total += b;
		lo = b < lo ? b : lo;
		hi = b > hi ? b : hi;
		sum += b;
		sq += (double)b * b;
	}
	for (j = 0; j < nw; j++)
		w1 += vt_thread_cpu(wpid[j], wtid[j]);
	for (i = 0; i < ndev; i++) {
		g[i].stop = 1;
		pthread_join(g[i].th, NULL);
		g[i].th = 0;
		gcpu += g[i].cpu;	/* includes the 0.5 s ramp: an upper bound */
	}
	gb = total / 1e9;
	ksft_print_msg("scale: %3u devices x %u ports: kernel %ld KiB/device (%ld KiB/port), %d workers, %.1f MB/s, host %.2f CPU s/GB, guest %.2f CPU s/GB, per device %.1f-%.1f MB/s, Jain %.3f\n",
		       ndev, ports, (after - before) / (long)ndev,
		       ports > 1 && kmem_1port >= 0 ?
		       (after - before - kmem_1port) / (long)(ndev * (ports - 1)) : -1,
		       nw, total / 1e6 / (t1 - t0),
		       gb ? (w1 - w0) / gb : 0, gb ? gcpu / gb : 0,
		       lo / 1e6 / (t1 - t0), hi / 1e6 / (t1 - t0),
		       sq ? sum * sum / (ndev * sq) : 0);
	r = nw == (int)ndev && total ? 0 : -1;
	if (nw != (int)ndev)
		ksft_print_msg("scale: %d workers for %u devices\n", nw, ndev);
out:
	for (i = 0; g && i < set; i++) {
		g[i].stop = 1;
		if (g[i].th)
			pthread_join(g[i].th, NULL);
		guest_free(&g[i], ports);
	}
	free(g);
	free(b0);
	return r;
}

int main(int argc, char **argv)
{
	unsigned int devs[16], ndevs = 0, ports = 8, num = 32, i;
	double secs = 5;
	char *list = NULL, *tok, *save;
	struct rlimit nofile;
	long kmem_1port;
	int c, fails = 0;

	while ((c = getopt(argc, argv, "d:p:t:n:")) != -1) {
		switch (c) {
		case 'd': list = strdup(optarg); break;
		case 'p': ports = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'n': num = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: vt_scale [-d 1,16,64] [-p ports] [-t seconds] [-n ring]\n");
			return 2;
		}
	}
	if (!list)
		list = strdup("1,16,64");
	for (tok = strtok_r(list, ",", &save); tok && ndevs < 16;
	     tok = strtok_r(NULL, ",", &save))
		devs[ndevs++] = atoi(tok);
	vt_ignore_sigpipe();
	/* ~60 fds a device of 8 ports (eventfds, sinks): past the 1024 */
	nofile.rlim_cur = nofile.rlim_max = 65536;
	if (setrlimit(RLIMIT_NOFILE, &nofile))
		perror("setrlimit RLIMIT_NOFILE");
	ksft_print_header();
	ksft_set_plan(ndevs);
	for (i = 0; i < ndevs; i++) {
		if (!devs[i] || devs[i] > MAX_DEVS || ports < 1) {
			ksft_test_result_fail("bad arguments\n");
			fails++;
			continue;
		}
		/* per port: the case's own devices against as many of 1 port */
		kmem_1port = ports > 1 ? kmem_of(devs[i], 1, num) : -1;
		if (run_case(devs[i], ports, num, secs, kmem_1port)) {
			ksft_test_result_fail("%u devices x %u ports\n", devs[i], ports);
			fails++;
		} else {
			ksft_test_result_pass("%u devices x %u ports\n", devs[i], ports);
		}
	}
	return fails ? KSFT_FAIL : KSFT_PASS;
}
