// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace-launch: start QEMU with a vhost-trace device the way a
 * management process does it: open /dev/vhost-trace, set the port count,
 * keep the control fd, attach the sinks, and run QEMU with the device fd
 * inherited (vhost-trace-pci,vhostfd=N). Statistics are written while QEMU
 * runs and printed when it ends.
 *
 *   vhost-trace-launch [-n PORTS] [-s PORT=PATH[:drop]]... [-o STATS]
 *                      [-i SECONDS] -- QEMU ARG...
 *
 * "@VHOSTFD@" in a QEMU argument becomes the device fd number. A sink PATH
 * is opened for writing (created and truncated if it is a regular file;
 * a FIFO waits for its reader).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vhost_trace.h>

static pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static void die(const char *what)
{
	fprintf(stderr, "vhost-trace-launch: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void attach(int ctl, const char *spec)
{
	struct vhost_trace_sink s = { .policy = VHOST_TRACE_POLICY_BLOCK };
	char *path, *opt, *end;
	struct stat st;
	int fd, flags = O_WRONLY;

	s.port = strtoul(spec, &end, 0);
	if (*end != '=') {
		fprintf(stderr, "vhost-trace-launch: bad sink '%s'\n", spec);
		exit(2);
	}
	path = strdup(end + 1);
	opt = strrchr(path, ':');
	if (opt && !strcmp(opt, ":drop")) {
		s.policy = VHOST_TRACE_POLICY_DROP;
		*opt = 0;
	}
	if (stat(path, &st) || !S_ISFIFO(st.st_mode))
		flags |= O_CREAT | O_TRUNC;
	fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	s.fd = fd;
	if (ioctl(ctl, VHOST_TRACE_SET_SINK, &s))
		die(path);
	close(fd);
	free(path);
}

static void stats(int ctl, unsigned int nports, FILE *out)
{
	struct vhost_trace_stats st;
	unsigned int p;

	for (p = 0; p < nports; p++) {
		st = (struct vhost_trace_stats){ .port = p };
		if (ioctl(ctl, VHOST_TRACE_GET_STATS, &st))
			die("VHOST_TRACE_GET_STATS");
		fprintf(out, "port %u bytes %llu buffers %llu dropped_bytes %llu"
			" dropped_buffers %llu stalls %llu sink_errors %llu"
			" bad_buffers %llu queue_errors %llu last_error %d"
			" flags %#x\n", p, st.bytes, st.buffers,
			st.dropped_bytes, st.dropped_buffers, st.stalls,
			st.sink_errors, st.bad_buffers, st.queue_errors,
			st.last_error, st.flags);
	}
}

static void stats_file(int ctl, unsigned int nports, const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	stats(ctl, nports, f);
	if (fclose(f) || rename(tmp, path))
		die(path);
}

int main(int argc, char **argv)
{
	unsigned int nports = 1, interval = 1;
	const char *statpath = NULL;
	char fdarg[16], **args;
	int opt, dev, ctl, status, i;

	while ((opt = getopt(argc, argv, "n:s:o:i:")) != -1) {
		switch (opt) {
		case 'n': nports = strtoul(optarg, NULL, 0); break;
		case 'o': statpath = optarg; break;
		case 'i': interval = strtoul(optarg, NULL, 0); break;
		case 's': break;	/* after the ports are set */
		default:
			fprintf(stderr, "usage: vhost-trace-launch [-n PORTS] "
				"[-s PORT=PATH[:drop]]... [-o STATS] "
				"[-i SECONDS] -- QEMU ARG...\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vhost-trace-launch: no QEMU command\n");
		return 2;
	}

	dev = open("/dev/vhost-trace", O_RDWR);	/* inherited by QEMU */
	if (dev < 0)
		die("/dev/vhost-trace");
	if (ioctl(dev, VHOST_TRACE_SET_PORTS, &nports))
		die("VHOST_TRACE_SET_PORTS");
	ctl = ioctl(dev, VHOST_TRACE_GET_CTL_FD);
	if (ctl < 0)
		die("VHOST_TRACE_GET_CTL_FD");
	optind = 1;
	while ((opt = getopt(argc, argv, "n:s:o:i:")) != -1)
		if (opt == 's')
			attach(ctl, optarg);

	snprintf(fdarg, sizeof(fdarg), "%d", dev);
	args = calloc(argc - optind + 1, sizeof(*args));
	for (i = optind; i < argc; i++) {
		char *at = strstr(argv[i], "@VHOSTFD@");

		if (!at) {
			args[i - optind] = argv[i];
			continue;
		}
		if (asprintf(&args[i - optind], "%.*s%s%s", (int)(at - argv[i]),
			     argv[i], fdarg, at + strlen("@VHOSTFD@")) < 0)
			die("asprintf");
	}

	signal(SIGINT, forward);
	signal(SIGTERM, forward);
	signal(SIGPIPE, SIG_IGN);
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		execvp(args[0], args);
		die(args[0]);
	}
	/* Only QEMU holds the device fd now: its exit releases the device. */
	close(dev);

	for (;;) {
		pid_t r = waitpid(child, &status, WNOHANG);

		if (r == child)
			break;
		if (r < 0 && errno != EINTR)
			die("waitpid");
		if (statpath)
			stats_file(ctl, nports, statpath);
		sleep(interval);
	}
	if (statpath)
		stats_file(ctl, nports, statpath);
	stats(ctl, nports, stdout);
	if (WIFSIGNALED(status)) {
		printf("qemu killed by signal %d\n", WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	printf("qemu exited with status %d\n", WEXITSTATUS(status));
	return WEXITSTATUS(status);
}
