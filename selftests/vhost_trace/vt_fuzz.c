// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace selftests: a randomized hostile driver.
 *
 * Plays the guest (vt_guest.c's rings) and the sink manager at once, with
 * random ring contents (chains of random shape and length, unknown
 * descriptor flags, indirect tables, addresses in, out of and partly out
 * of the map, rewrites between kicks) and random ioctl sequences (sinks
 * attached, swapped, closed; policies flipped; queues stopped, reset and
 * restarted; kick, call and error eventfds replaced, unbound or closed
 * while bound; fds closed in any order), through either front end:
 * /dev/vhost-trace (vt_fuzz_vhost.c) or a vDPA device driven through
 * vhost_vdpa (vt_fuzz_vdpa.c, with its own steps and checks). It checks
 * after every step what the uapi (linux/vhost_trace.h) promises:
 *   - every sink gets whole buffers, intact, in ring order; no buffer goes
 *     to two sinks or twice to one;
 *   - at a quiescent point (readers drained, sinks attached, queues
 *     running), every buffer the guest posted came back used, and
 *     buffers + dropped_buffers + bad_buffers equals the used entries,
 *     bytes equals what the sinks hold (when no reader was closed under
 *     a sink): "delivered once and in order, or counted as dropped";
 *   - counters never decrease (GET_STATS, on every step, also across a
 *     new control fd);
 *   - no queue is left with posted buffers and no reason to wait, nor
 *     WAITING with nothing to write; a port under the drop policy never
 *     makes the guest wait;
 *   - the error eventfd and queue_errors only for chains the contract says
 *     the vhost core cannot map (outside the memory table, loop, bad
 *     indirect table, readable after writable), each met once: a queue
 *     stopped on one stays stopped through a start until its vring is set
 *     up again; every queue error signalled; such chains are never
 *     returned; writable-after-readable and empty chains come back unread
 *     (used length 0) and are counted in bad_buffers;
 *   - once the device fd is closed (after a quiescent point or in the
 *     middle of everything), what the counters say was written is what
 *     the sinks hold;
 *   - ioctl errors as documented (EINVAL, EBADF, ENOTTY, ENODEV).
 *
 * A run is a sequence of episodes (one device each: open, ports, ring
 * size, features, then random steps, then its fds closed in random
 * order, after a quiescent point or, one time in three, with buffers in
 * flight, sinks full and readers paused). Each episode has its own seed,
 * printed; `--seed N` runs that episode alone. The seed also picks the
 * front end (even: vhost, odd: vDPA, unless --front says otherwise or the
 * kernel has no vhost_vdpa). The kernel's timing is not replayed: a seed
 * replays the same choices, which usually reproduces a failure but may
 * not.
 *
 * Usage: vt_fuzz [--time SEC] [--seed N] [--steps N] [--contract 1|2]
 *                [--front vhost|vdpa|both] [--verbose]
 *   --time SEC   total time (default 10); episodes start until it is up
 *   --seed N     one episode with seed N (then --time is only a bound)
 *   --steps N    most steps per episode (default 600)
 *   --contract 1 the uapi before whole buffers across swaps (see contract)
 *   --front F    vhost or vdpa: every episode on that front end; both
 *                (default): by the seed's parity
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vt_fuzz.h"

/* ---------------------------------------------------------------- PRNG */

/*
 * Two streams from the episode's seed: the first makes the choices the
 * driver made when the seeds in FUZZ_SEEDS (selftests/check.sh) were
 * recorded, in the same order; choices added since come from the second,
 * so those seeds still replay what they found (with more around it).
 */
static uint64_t rs, rs2;

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

unsigned int rn(unsigned int n)
{
	return n ? rnd(&rs) % n : 0;
}

int chance(unsigned int pct)
{
	return rn(100) < pct;
}

unsigned int rn2(unsigned int n)
{
	return n ? rnd(&rs2) % n : 0;
}

int chance2(unsigned int pct)
{
	return rn2(100) < pct;
}

const struct fz_fe *fe = &fz_vhost;
struct vt_dev dev;
struct port ports[MAX_PORTS];
struct sink sinks[MAX_SINKS];
unsigned int nports, num;
int running, released, verbose, indirect_ok;
/*
 * 2 (default): the contract coming with whole buffers across swaps
 * (the rest of a buffer a pipe took in part goes to that same sink; drop
 * never waits). 1: the uapi before it, where a swap may split a buffer
 * between two sinks and drop may wait for a pipe to take such a rest: a
 * sink's stream may then begin and end inside a buffer, the sums are not
 * checked, and drop_never_waits() is not run.
 */
int contract = 2;
uint8_t *outside;	/* memory not in the table */
uint64_t ep_seed, step, total_steps;
/* drains that found buffers in a sink after the used entries were reaped */
uint64_t drains, late_drains;
/* what the device counted, per front end (vhost, vdpa) */
static struct fz_totals {
	uint64_t buffers, dropped, bad, queue_errors;
} totals[2];
/* the front ends episodes alternate between (seed parity): --front */
static const struct fz_fe *fronts[2] = { &fz_vhost, &fz_vhost };

void fail(const char *fmt, ...)
{
	va_list ap;
	char b[200];
	unsigned int p;

	printf("not ok vt_fuzz: seed %" PRIu64 " (%s) step %" PRIu64 ": ",
	       ep_seed, fe->name, step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	for (p = 0; p < nports; p++) {
		struct vhost_trace_stats st;

		if (dev.ctl >= 0 && !vt_get_stats(dev.ctl, p, &st))
			printf("#   %s\n", vt_stats_str(&st, b, sizeof(b)));
		printf("#   port %u: posted %" PRIu64 " inflight %" PRIu64
		       " used good %" PRIu64 " bad %" PRIu64
		       " sinks: %" PRIu64 " buffers %" PRIu64
		       " bytes, err chains %" PRIu64 " exact %d\n", p,
		       ports[p].next_seq, ports[p].inflight,
		       ports[p].used_good, ports[p].used_bad,
		       ports[p].sink_bufs, ports[p].sink_bytes,
		       ports[p].err_posted, ports[p].exact);
	}
	for (p = 0; p < MAX_SINKS; p++) {
		struct sink *s = &sinks[p];

		if (s->used)
			printf("#   sink %u: port %d %s%s%s%s%s, %" PRIu64
			       " buffers %" PRIu64 " bytes, %zu pending\n", p,
			       s->port, s->is_pipe ? "pipe" : "file",
			       ports[s->port].cur == (int)p ? " current" : "",
			       s->paused ? " paused" : "",
			       s->eof ? " eof" : "",
			       s->rfd < 0 ? " closed" : "", s->bufs, s->bytes,
			       s->have);
	}
	printf("# rerun: vt_fuzz --front %s --seed %" PRIu64
	       " (FUZZ_SEED=%" PRIu64 " fuzz.sh)\n", fe->name, ep_seed,
	       ep_seed);
	fflush(stdout);
	exit(1);
}

void note(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	printf("#   %" PRIu64 ": ", step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

uint8_t pat(unsigned int port, uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + port * 29 + (i >> 8));
}

void fill(uint8_t *dst, unsigned int port, uint64_t seq, uint32_t len)
{
	uint32_t i;

	memset(dst, 0, HDR);
	((uint32_t *)dst)[0] = MAGIC;
	((uint32_t *)dst)[1] = port;
	((uint32_t *)dst)[2] = len;
	memcpy(dst + 16, &seq, 8);
	for (i = HDR; i < len; i++)
		dst[i] = pat(port, seq, i);
}

/* -------------------------------------------------------- an episode */

/*
 * An eventfd of a queue replaced, unbound or closed while bound; or the
 * front end's own step.
 */
static void extra_step(unsigned int p)
{
	if (rn2(10) < 4) {
		swap_eventfd(p, rn2(3), rn2(3));
		if (chance2(50))
			vt_vq_kick_always(ports[p].q);
	} else if (fe->step) {
		fe->step(p);
	}
}

static void episode(uint64_t seed, uint64_t max_steps, int64_t deadline)
{
	static const unsigned int nums[] = { 8, 16, 32, 64 };
	uint64_t features = VT_F_VERSION_1;
	unsigned int p, i, order[MAX_PORTS + 2];
	uint64_t steps;
	int busy_end;

	ep_seed = seed;
	rs = seed * 0x9E3779B97F4A7C15ULL + 1;
	rs2 = seed * 0xD1B54A32D192ED03ULL + 7;
	fe = fronts[seed & 1];
	step = 0;
	running = released = 0;
	nports = 1 + rn(MAX_PORTS);
	num = nums[rn(4)];
	if (chance(50))
		features |= VT_F_INDIRECT;
	if (chance(50))
		features |= VT_F_EVENT_IDX;
	if (!fe->event_idx)
		features &= ~VT_F_EVENT_IDX;
	indirect_ok = !!(features & VT_F_INDIRECT);
	memset(ports, 0, sizeof(ports));
	memset(sinks, 0, sizeof(sinks));
	fe->setup(features);
	for (p = 0; p < nports; p++) {
		struct port *pt = &ports[p];

		pt->q = &dev.tx[p];
		pt->cur = -1;
		pt->exact = contract >= 2;
		pt->areas = vt_mem_alloc(&dev.mem, (size_t)num * 2 * AREA,
					 4096);
		pt->tables = vt_mem_alloc(&dev.mem,
					  num * MAX_SEG * sizeof(*pt->tables),
					  16);
		if (!pt->areas || !pt->tables)
			fail("guest memory");
		if (chance(70))
			attach(p, rn(2));
	}
	if (chance(90))
		fe->run(1);
	steps = 50 + rn(max_steps);
	for (step = 1; step <= steps && vt_now_ms() < deadline; step++) {
		unsigned int w, k;

		/* steps added since FUZZ_SEEDS were recorded: the 2nd stream */
		if (chance2(10))
			extra_step(rn2(nports));
		w = rn(100);
		p = rn(nports);
		if (w < 40) {
			for (k = 1 + rn(num); k; k--)
				if (!post_good(p, 0))
					break;
			if (chance(85))
				vt_vq_kick(ports[p].q);
		} else if (w < 45) {
			post_good(p, 1 + rn(2));
			vt_vq_kick_always(ports[p].q);
		} else if (w < 47) {
			post_err(p);
			vt_vq_kick_always(ports[p].q);
		} else if (w < 53) {
			rewrite(p);
		} else if (w < 58) {
			vt_vq_kick_always(ports[p].q);
		} else if (w < 70) {
			attach(p, rn(4));
		} else if (w < 75) {
			if (ports[p].cur >= 0)
				sinks[ports[p].cur].paused ^= 1;
		} else if (w < 77) {
			close_reader(p);
		} else if (w < 80) {
			fe->run(!running);
		} else if (w < 83) {
			fe->reset_queue(p);
		} else if (w < 88) {
			bad_ioctls();
		} else if (w < 90) {
			drain();
		} else if (w < 92) {
			drop_never_waits(p);
		} else if (w < 93) {
			fe->new_ctl();
		} else {
			usleep(rn(3000));
		}
		pump_all();
		check_stats();
		if (fe->check)
			fe->check();
	}
	/* most episodes end quiescent, some with everything in flight */
	busy_end = chance(33);
	if (!busy_end)
		drain();
	else
		note("closing while busy");
	total_steps += step - 1;

	/* close everything in a random order: 0 device fd, 1 ctl, 2 sinks */
	for (i = 0; i < 3; i++)
		order[i] = i;
	for (i = 2; i > 0; i--) {
		unsigned int j = rn(i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < 3; i++) {
		switch (order[i]) {
		case 0:
			fe->release();
			released = 1;
			if (dev.ctl >= 0) {
				check_stats();
				bad_ioctls();
				attach(rn(nports), rn(2));
			}
			break;
		case 1:
			close(dev.ctl);
			dev.ctl = -1;
			break;
		default:
			/* while busy a sink may end in a buffer's head */
			for (p = 0; p < MAX_SINKS; p++)
				sink_close(&sinks[p], released || busy_end);
			if (released && dev.ctl >= 0)
				released_sums();
			break;
		}
	}
	for (p = 0; p < nports; p++) {
		struct fz_totals *t = &totals[fe == &fz_vdpa];

		t->buffers += ports[p].last.buffers;
		t->dropped += ports[p].last.dropped_buffers;
		t->bad += ports[p].last.bad_buffers;
		t->queue_errors += ports[p].last.queue_errors;
	}
	fe->close();
	for (p = 0; p < MAX_PORTS; p++)
		free(ports[p].delivered);
	memset(ports, 0, sizeof(ports));
}

static void on_alarm(int sig)
{
	char b[160];
	int n = snprintf(b, sizeof(b), "not ok vt_fuzz: seed %" PRIu64
			 " step %" PRIu64 ": no progress (an ioctl or the "
			 "driver hangs)\n", ep_seed, step);

	(void)sig;
	if (write(1, b, n) < 0)
		_exit(1);
	_exit(1);
}

int main(int argc, char **argv)
{
	int64_t t0, deadline, secs = 10;
	uint64_t seed = 0, max_steps = 600, episodes = 0, first;
	uint64_t fe_steps[2] = { 0 }, fe_ms[2] = { 0 }, fe_eps[2] = { 0 };
	const char *front = "both";
	int one = 0, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--time") && i + 1 < argc)
			secs = strtoll(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
			one = 1;
		} else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
			max_steps = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--front") && i + 1 < argc)
			front = argv[++i];
		else if (!strcmp(argv[i], "--contract") && i + 1 < argc)
			contract = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			verbose = 1;
		else {
			fprintf(stderr, "usage: vt_fuzz [--time SEC] [--seed N] "
				"[--steps N] [--front vhost|vdpa|both] "
				"[--contract 1|2] [--verbose]\n");
			return 2;
		}
	}
	/* both: even seeds vhost, odd ones vDPA where the kernel has it */
	if (!strcmp(front, "vdpa") ||
	    (!strcmp(front, "both") &&
	     !access("/sys/bus/vdpa/drivers/vhost_vdpa", F_OK)))
		fronts[1] = &fz_vdpa;
	if (!strcmp(front, "vdpa"))
		fronts[0] = &fz_vdpa;
	else if (strcmp(front, "vhost") && strcmp(front, "both")) {
		fprintf(stderr, "vt_fuzz: --front vhost, vdpa or both\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access(VT_DEV, R_OK | W_OK)) {
		printf("ok 1 # SKIP vt_fuzz: no %s\n", VT_DEV);
		return 4;
	}
	vt_ignore_sigpipe();
	signal(SIGALRM, on_alarm);
	outside = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!one) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000003u + ts.tv_nsec % 1000003u;
		seed %= 1000000000u;
	}
	first = seed;
	printf("# vt_fuzz: first seed %" PRIu64 ", %s, contract %d, front "
	       "ends: even seeds %s, odd seeds %s\n", seed,
	       one ? "one episode" : "episodes until the time is up",
	       contract, fronts[0]->name, fronts[1]->name);
	t0 = vt_now_ms();
	deadline = t0 + secs * 1000;
	do {
		uint64_t before = total_steps;
		int64_t e0 = vt_now_ms();
		int k;

		alarm(secs + 120);
		episode(seed, max_steps, one ? deadline + 3600000 : deadline);
		k = fe == &fz_vdpa;
		fe_steps[k] += total_steps - before;
		fe_ms[k] += vt_now_ms() - e0;
		fe_eps[k]++;
		printf("# episode seed %" PRIu64 " (%s): %u ports, ring %u, %"
		       PRIu64 " steps\n", seed, fe->name, nports, num,
		       total_steps - before);
		episodes++;
		seed++;
	} while (!one && vt_now_ms() < deadline);
	alarm(0);
	t0 = vt_now_ms() - t0;
	printf("# vt_fuzz: %" PRIu64 " episodes (seeds %" PRIu64 "..%" PRIu64
	       "), %" PRIu64 " steps in %.1f s: %.0f steps/s\n", episodes,
	       first, seed - 1, total_steps, t0 / 1000.0,
	       t0 ? total_steps * 1000.0 / t0 : 0.0);
	for (i = 0; i < 2; i++)
		if (fe_eps[i])
			printf("# vt_fuzz: %s: %" PRIu64 " episodes, %" PRIu64
			       " steps in %.1f s: %.0f steps/s\n",
			       i ? "vdpa" : "vhost", fe_eps[i], fe_steps[i],
			       fe_ms[i] / 1000.0, fe_ms[i] ?
			       fe_steps[i] * 1000.0 / fe_ms[i] : 0.0);
	for (i = 0; i < 2; i++)
		if (fe_eps[i])
			printf("# vt_fuzz: %s: the device counted %" PRIu64
			       " buffers written, %" PRIu64 " dropped, %"
			       PRIu64 " bad, %" PRIu64 " queue errors\n",
			       i ? "vdpa" : "vhost", totals[i].buffers,
			       totals[i].dropped, totals[i].bad,
			       totals[i].queue_errors);
	if (fe_eps[1])
		p0_summary();
	printf("# vt_fuzz: %" PRIu64 " quiescent points checked, %" PRIu64
	       " with buffers read only after their used entries\n", drains,
	       late_drains);
	printf("ok 1 vt_fuzz\n");
	return 0;
}

