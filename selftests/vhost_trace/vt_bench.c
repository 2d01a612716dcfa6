// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace benchmark (not a timed test): the same guest ring and the
 * same guest writer, serviced either by /dev/vhost-trace or by a
 * userspace relay doing what QEMU's virtio-serial port with a chardev
 * backend does (vt_relay.c), into a pipe (with a reader) and into a file.
 * Prints throughput and host CPU per GB (vhost: its worker thread; relay:
 * the relay thread; plus the pipe reader), and the vhost/relay ratios,
 * as TAP diagnostics. vhost also feeds the pipe by reference
 * (VHOST_TRACE_SINK_BY_REF, "vhost-ref"), and the pipe's reader either
 * reads it ("pipe") or splices it to /dev/null ("splice"): copies per
 * page are the module's (its copied_bytes counter) plus the reader's
 * (read(): 1, splice: 0; the relay's write: 1).
 *
 *   vt_bench [-s MiB per case] [-n ring size] [-p pipe size in KiB]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vt_cpu.h"
#include "vt_guest.h"
#include "vt_pattern.h"
#include "vt_producer.h"
#include "vt_relay.h"

#include "kselftest.h"

enum mode { VHOST, VHOST_REF, RELAY, NMODES };
enum sink { PIPE, PIPE_SPLICE, FILE_SINK, NSINKS };

static const char * const mode_name[] = { "vhost", "vhost-ref", "relay" };
static const char * const sink_name[] = { "pipe", "splice", "file" };

struct result {
	bool ok;
	double secs;		/* wall */
	double service;		/* CPU s of the worker or relay thread */
	double reader;		/* CPU s of the pipe reader */
	double guest;		/* CPU s of the guest writer */
	uint64_t bytes;
	uint64_t kicks;		/* guest to device notifications */
	uint64_t waits;		/* times the guest waited for an interrupt */
	double copies;		/* per page: the module's or relay's */
};

/* Drains a pipe, counting bytes: read(), or splice() to /dev/null. */
struct drain {
	int fd;
	int null;		/* >= 0: splice to it */
	pthread_t th;
	pid_t tid;
	uint64_t bytes;
	uint64_t kicks;		/* guest to device notifications */
	uint64_t waits;		/* times the guest waited for an interrupt */
};

static void *drain_main(void *arg)
{
	struct drain *dr = arg;
	size_t size = 1 << 20;
	char *buf = malloc(size);
	ssize_t n;

	dr->tid = syscall(SYS_gettid);
	while (buf && (n = dr->null >= 0 ?
		       splice(dr->fd, NULL, dr->null, NULL, size, 0) :
		       read(dr->fd, buf, size)) > 0)
		__atomic_add_fetch(&dr->bytes, n, __ATOMIC_RELEASE);
	free(buf);
	return NULL;
}

static int run_case(enum mode mode, enum sink sink, uint64_t bytes,
		    unsigned int num, unsigned int pipe_size, struct result *res)
{
	uint64_t pages = bytes / VT_PAGE;
	struct vt_dev d = { .fd = -1, .ctl = -1 };
	struct vt_mem mem = { 0 };
	struct vt_vq q = { .kick = -1, .call = -1, .err = -1 }, *vq;
	struct vt_producer pr = { 0 };
	struct vt_relay relay;
	struct drain dr = { .fd = -1, .null = -1 };
	bool vhost = mode != RELAY;
	pid_t wpid = 0, wtid = 0;
	int pfd[2] = { -1, -1 }, sfd = -1, r;
	double t0, s0 = 0, r0 = 0, g0;
	struct vhost_trace_stats st;

	memset(res, 0, sizeof(*res));
	if (vhost) {
		r = vt_dev_setup(&d, 1, num, VT_F_VERSION_1 | VT_F_EVENT_IDX,
				 (size_t)num * VT_PAGE + (1 << 20));
		if (r) {
			ksft_print_msg("%s\n", vt_error());
			goto out;
		}
		vq = &d.tx[0];
		if (vt_find_workers(&wpid, &wtid, 1) != 1)
			ksft_print_msg("vhost worker thread not found: its CPU time is not counted\n");
		r = vt_prod_init(&pr, &d.mem, vq, 0, 1, false);
	} else {
		r = vt_mem_init(&mem, (size_t)num * VT_PAGE + (1 << 20));
		if (!r)
			r = vt_vq_init(&q, &mem, num, true);
		vq = &q;
		if (!r)
			r = vt_prod_init(&pr, &mem, vq, 0, 1, false);
	}
	if (r)
		goto out;
	/* the guest's pages: filled once, like a warm trace buffer */
	for (r = 0; r < (int)num; r++)
		vt_fill_words(pr.pages + (size_t)r * VT_PAGE, 0, r, 0,
			      VT_PAGE_WORDS);
	pr.fill = false;

	if (sink != FILE_SINK) {
		r = vt_pipe(pfd, pipe_size);
		if (r)
			goto out;
		dr.fd = pfd[0];
		if (sink == PIPE_SPLICE) {
			dr.null = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (dr.null < 0) {
				r = -errno;
				goto out;
			}
		}
		r = -pthread_create(&dr.th, NULL, drain_main, &dr);
		if (r)
			goto out;
		sfd = pfd[1];
	} else {
		sfd = vt_tmpfile("/tmp");
		if (sfd < 0) {
			r = sfd;
			goto out;
		}
	}

	if (vhost) {
		struct vhost_trace_sink sk = {
			.fd = sfd, .policy = VHOST_TRACE_POLICY_BLOCK,
			.flags = mode == VHOST_REF ? VHOST_TRACE_SINK_BY_REF : 0,
		};

		r = ioctl(d.ctl, VHOST_TRACE_SET_SINK, &sk) ? -errno : 0;
		if (!r)
			r = vt_dev_run(&d, 1);
	} else {
		r = vt_relay_start(&relay, vq, sfd);
	}
	if (r)
		goto out;
	usleep(20000);
	if (mode == RELAY) {
		wpid = getpid();
		wtid = relay.tid;
	}

	t0 = vt_now();
	g0 = vt_self_cpu();
	s0 = vt_thread_cpu(wpid, wtid);
	r0 = sink != FILE_SINK ? vt_thread_cpu(getpid(), dr.tid) : 0;
	r = vt_prod_run(&pr, pages, 10000);
	if (r) {
		ksft_print_msg("%s\n", pr.why);
		goto out;
	}
	while (sink != FILE_SINK &&
	       __atomic_load_n(&dr.bytes, __ATOMIC_ACQUIRE) < pages * VT_PAGE &&
	       vt_now() - t0 < 600)
		usleep(500);
	res->secs = vt_now() - t0;
	res->kicks = vq->kicks;
	res->waits = vq->waits;
	res->guest = vt_self_cpu() - g0;
	res->service = vt_thread_cpu(wpid, wtid) - s0;
	if (sink != FILE_SINK)
		res->reader = vt_thread_cpu(getpid(), dr.tid) - r0;

	if (vhost) {
		vt_wait_stats(d.ctl, 0, pages, 2000, &st);
		res->bytes = st.bytes;
		res->copies = st.bytes ? (double)st.copied_bytes / st.bytes : 0;
		vt_set_sink(d.ctl, 0, -1, VHOST_TRACE_POLICY_BLOCK);
	} else {
		r = vt_relay_stop(&relay);
		res->bytes = relay.bytes;
		res->copies = 1;
	}
	if (sink != FILE_SINK && res->bytes != dr.bytes)
		res->bytes = 0;
	res->ok = !r && res->bytes == pages * VT_PAGE;
out:
	if (sink != FILE_SINK) {
		if (pfd[1] >= 0)
			close(pfd[1]);
		if (dr.fd >= 0)
			pthread_join(dr.th, NULL);
		if (pfd[0] >= 0)
			close(pfd[0]);
		if (dr.null >= 0)
			close(dr.null);
	} else if (sfd >= 0) {
		close(sfd);
	}
	vt_prod_free(&pr);
	if (vhost) {
		vt_dev_close(&d);
	} else {
		vt_vq_close(&q);
		vt_mem_free(&mem);
	}
	return r;
}

static void report(enum mode m, enum sink s, const struct result *r)
{
	double gb = r->bytes / 1e9;

	if (!r->ok) {
		ksft_test_result_fail("%s %s\n", mode_name[m], sink_name[s]);
		return;
	}
	ksft_print_msg("%s %s: %llu MiB in %.2f s, %.1f MB/s; host CPU %.2f s/GB (%s %.2f, reader %.2f); copies per page %.2f (%s %.2f, reader %d); guest writer %.2f s/GB, %llu kicks, %llu waits\n",
		       mode_name[m], sink_name[s],
		       (unsigned long long)(r->bytes >> 20), r->secs,
		       r->bytes / 1e6 / r->secs,
		       (r->service + r->reader) / gb,
		       m != RELAY ? "worker" : "relay", r->service / gb,
		       r->reader / gb,
		       r->copies + (s == PIPE), m != RELAY ? "module" : "relay",
		       r->copies, s == PIPE, r->guest / gb,
		       (unsigned long long)r->kicks,
		       (unsigned long long)r->waits);
	ksft_test_result_pass("%s %s\n", mode_name[m], sink_name[s]);
}

int main(int argc, char **argv)
{
	uint64_t mib = 128;
	unsigned int num = 256, pipe_kib = 0;
	struct result res[NSINKS][NMODES];
	int opt, s, m;

	while ((opt = getopt(argc, argv, "s:n:p:")) != -1) {
		switch (opt) {
		case 's':
			mib = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			num = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			pipe_kib = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-s MiB] [-n ring size] [-p pipe KiB]\n",
				argv[0]);
			return 2;
		}
	}
	vt_ignore_sigpipe();
	ksft_print_header();
	ksft_set_plan(NSINKS * NMODES - 1);
	ksft_print_msg("vhost-trace benchmark: %llu MiB per case, ring of %u, 4 KiB pages, one port, pipe of %u KiB\n",
		       (unsigned long long)mib, num, pipe_kib ? pipe_kib : 64);
	if (access(VT_DEV, R_OK | W_OK)) {
		ksft_print_msg("%s: %s\n", VT_DEV, strerror(errno));
		for (s = 0; s < NSINKS * NMODES - 1; s++)
			ksft_test_result_skip("no %s\n", VT_DEV);
		ksft_exit_skip("vhost_trace.ko not loaded\n");
	}
	for (s = PIPE; s < NSINKS; s++) {
		for (m = VHOST; m < NMODES; m++) {
			/* by reference: pipes only (files are copied) */
			if (m == VHOST_REF && s == FILE_SINK)
				continue;
			run_case(m, s, mib << 20, num, pipe_kib << 10, &res[s][m]);
			report(m, s, &res[s][m]);
		}
		for (m = VHOST; m < RELAY; m++) {
			struct result *v = &res[s][m], *r = &res[s][RELAY];

			if (!v->ok || !r->ok)
				continue;
			ksft_print_msg("%s: %s/relay throughput %.2f, host CPU per GB %.2f\n",
				       sink_name[s], mode_name[m],
				       (v->bytes / v->secs) / (r->bytes / r->secs),
				       (v->service + v->reader) / v->bytes /
				       ((r->service + r->reader) / r->bytes));
		}
		if (s != FILE_SINK && res[s][VHOST].ok &&
		    res[s][VHOST_REF].ok) {
			struct result *v = &res[s][VHOST_REF];
			struct result *c = &res[s][VHOST];

			ksft_print_msg("%s: vhost-ref/vhost host CPU per GB %.2f (worker %.2f, reader %.2f)\n",
				       sink_name[s],
				       (v->service + v->reader) / v->bytes /
				       ((c->service + c->reader) / c->bytes),
				       (v->service / v->bytes) /
				       (c->service / c->bytes),
				       c->reader > 0 ? (v->reader / v->bytes) /
				       (c->reader / c->bytes) : 0);
		}
	}
	if (ksft_get_fail_cnt())
		ksft_exit_fail();
	ksft_exit_pass();
}
