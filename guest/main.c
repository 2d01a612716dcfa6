// SPDX-License-Identifier: GPL-2.0
/*
 * trace-agent: moves each CPU's ftrace ring-buffer pages into the
 * virtio-serial ports trace-path-cpuN, started and stopped by the host on
 * agent-ctl-path. See README and PROTOCOL.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent.h"

struct agent agent = {
	.port_dir = "/dev/virtio-ports",
	.port_prefix = "trace-path-cpu",
	.ctl_name = "agent-ctl-path",
	.pipe_size = AGENT_DEF_BATCH,
	.own_tracing_on = true,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void vmsg(const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "trace-agent: %s\n", line);
}

void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void dbg(const char *fmt, ...)
{
	va_list ap;

	if (!agent.verbose)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: trace-agent [options]\n"
"  Splices each CPU's ftrace ring-buffer pages (per_cpu/cpuN/trace_pipe_raw)\n"
"  into the virtio-serial port trace-path-cpuN; the host starts and stops it\n"
"  on the port agent-ctl-path (\"1\\n\", \"0\\n\", or the protocol in PROTOCOL).\n"
"  -s          start at once, without waiting for the host\n"
"  -p BYTES    pipe size per CPU, whole 4096-byte pages, at most 256 KiB\n"
"              (default 256 KiB): the most one port write (one virtqueue\n"
"              buffer) carries; 4096 = one page per buffer\n"
"  -t DIR      tracefs directory (default /sys/kernel/tracing, then\n"
"              /sys/kernel/debug/tracing)\n"
"  -d DIR      directory of the port links (default /dev/virtio-ports)\n"
"  -P PREFIX   data port name prefix (default trace-path-cpu)\n"
"  -c NAME     control port name (default agent-ctl-path)\n"
"  -n          leave tracing_on alone (default: start sets it, stop clears it)\n"
"  -v          verbose\n"
"  SIGINT/SIGTERM stop tracing, write every page to the host, and exit.\n");
	exit(status);
}

static void copy_opt(char *dst, size_t len, const char *src, const char *what)
{
	if (strlen(src) >= len) {
		fprintf(stderr, "trace-agent: %s too long\n", what);
		exit(2);
	}
	strcpy(dst, src);
}

int main(int argc, char **argv)
{
	const char *tracefs = NULL;
	bool start_now = false;
	unsigned long long total, dropped;
	sigset_t set;
	char *end;
	int c, sig_fd, cpu;

	while ((c = getopt(argc, argv, "sp:t:d:P:c:nvh")) != -1) {
		switch (c) {
		case 's':
			start_now = true;
			break;
		case 'p':
			agent.pipe_size = strtoul(optarg, &end, 0);
			if (*end || agent.pipe_size < AGENT_PAGE ||
			    agent.pipe_size % AGENT_PAGE ||
			    agent.pipe_size > AGENT_MAX_BATCH) {
				fprintf(stderr, "trace-agent: -p %s: not a "
					"multiple of %d up to %d\n", optarg,
					AGENT_PAGE, AGENT_MAX_BATCH);
				return 2;
			}
			break;
		case 't':
			tracefs = optarg;
			break;
		case 'd':
			copy_opt(agent.port_dir, sizeof(agent.port_dir), optarg,
				 "-d");
			break;
		case 'P':
			copy_opt(agent.port_prefix, sizeof(agent.port_prefix),
				 optarg, "-P");
			break;
		case 'c':
			copy_opt(agent.ctl_name, sizeof(agent.ctl_name), optarg,
				 "-c");
			break;
		case 'n':
			agent.own_tracing_on = false;
			break;
		case 'v':
			agent.verbose = true;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (sysconf(_SC_PAGESIZE) != AGENT_PAGE) {
		msg("page size %ld: only 4096-byte pages are supported",
		    sysconf(_SC_PAGESIZE));
		return 1;
	}
	if (tracefs_find(agent.tracefs, sizeof(agent.tracefs), tracefs))
		return 1;
	agent.ncpus = tracefs_count_cpus();
	if (agent.ncpus <= 0) {
		msg("no per_cpu directories in %s", agent.tracefs);
		return 1;
	}
	msg("tracefs %s, %d possible CPUs, pipe %zu bytes", agent.tracefs,
	    agent.ncpus, agent.pipe_size);

	/* blocked in every thread; the main loop takes them from signalfd */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sig_fd < 0) {
		msg("signalfd: %s", strerror(errno));
		return 1;
	}

	ctl_loop(sig_fd, start_now);

	/* with the pages of threads whose port was unplugged */
	total = agent.retired_pages;
	dropped = agent.retired_dropped;

	for (cpu = 0; cpu < agent.ncpus; cpu++) {
		struct worker *w = agent.workers[cpu];

		if (!w)
			continue;
		msg("cpu%d: %llu pages sent in %llu port writes (%llu partial "
		    "pages, %llu short writes), %llu dropped", cpu,
		    (unsigned long long)w->pages,
		    (unsigned long long)w->writes,
		    (unsigned long long)w->partial_pages,
		    (unsigned long long)w->short_writes,
		    (unsigned long long)w->dropped);
		total += w->pages;
		dropped += w->dropped;
	}
	msg("exit: %llu pages sent, %llu dropped", total, dropped);
	return dropped ? 1 : 0;
}
