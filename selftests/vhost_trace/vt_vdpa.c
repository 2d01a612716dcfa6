// SPDX-License-Identifier: GPL-2.0
/*
 * vt_vdpa: the vDPA front end's ioctls from the shell, for
 * selftests/vm/vdpa_virtio.sh.
 *
 *   vt_vdpa add NAME NPORTS            create a device (exit 0)
 *   vt_vdpa del NAME                   delete it
 *   vt_vdpa errno CMD NAME [NPORTS]    run add/ctl/del, print the errno
 *                                      name (OK when it succeeds)
 *   vt_vdpa sink NAME PORT FILE|- block|drop [ref]
 *                                      set (or, with -, detach) a sink;
 *                                      FILE is opened for writing (a FIFO
 *                                      needs its reader first); ref:
 *                                      VHOST_TRACE_SINK_BY_REF
 *   vt_vdpa stats NAME PORT            one line of the port's statistics
 *   vt_vdpa read NAME BYTES            port 0: read BYTES from the guest,
 *                                      to stdout (waits)
 *   vt_vdpa write NAME STRING          port 0: STRING and a newline to the
 *                                      guest
 *   vt_vdpa poll NAME                  port 0: poll() bits, nonblocking
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vhost_trace.h>

#include "vt_vdpa_lib.h"

static void die(const char *what)
{
	fprintf(stderr, "vt_vdpa: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int ctl_fd(const char *name)
{
	int r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_CTL, name, 0);

	if (r < 0) {
		errno = -r;
		die("VHOST_TRACE_VDPA_CTL");
	}
	return r;
}

static unsigned long cmd_of(const char *s)
{
	if (!strcmp(s, "add"))
		return VHOST_TRACE_VDPA_ADD;
	if (!strcmp(s, "ctl"))
		return VHOST_TRACE_VDPA_CTL;
	if (!strcmp(s, "del"))
		return VHOST_TRACE_VDPA_DEL;
	fprintf(stderr, "vt_vdpa: unknown command %s\n", s);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *c = argc > 2 ? argv[1] : "";
	const char *name = argc > 2 ? argv[2] : "";
	struct vhost_trace_stats st;
	struct vhost_trace_sink sk;
	int fd, r;

	if (!strcmp(c, "add") && argc == 4) {
		r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_ADD, name, atoi(argv[3]));
		if (r < 0) {
			errno = -r;
			die("VHOST_TRACE_VDPA_ADD");
		}
		return 0;
	}
	if (!strcmp(c, "del") && argc == 3) {
		r = vt_vdpa_ioctl(VHOST_TRACE_VDPA_DEL, name, 0);
		if (r < 0) {
			errno = -r;
			die("VHOST_TRACE_VDPA_DEL");
		}
		return 0;
	}
	if (!strcmp(c, "errno") && argc >= 4) {
		r = vt_vdpa_ioctl(cmd_of(argv[2]), argv[3],
			       argc > 4 ? atoi(argv[4]) : 0);
		printf("%s\n", r >= 0 ? "OK" : strerrorname_np(-r));
		return 0;
	}
	if (!strcmp(c, "sink") && (argc == 6 ||
				   (argc == 7 && !strcmp(argv[6], "ref")))) {
		fd = ctl_fd(name);
		sk.port = atoi(argv[3]);
		sk.fd = -1;
		if (strcmp(argv[4], "-")) {
			sk.fd = open(argv[4], O_WRONLY | O_CREAT | O_CLOEXEC,
				     0644);
			if (sk.fd < 0)
				die(argv[4]);
		}
		sk.policy = !strcmp(argv[5], "drop") ?
			    VHOST_TRACE_POLICY_DROP : VHOST_TRACE_POLICY_BLOCK;
		sk.flags = argc == 7 ? VHOST_TRACE_SINK_BY_REF : 0;
		if (ioctl(fd, VHOST_TRACE_SET_SINK, &sk))
			die("VHOST_TRACE_SET_SINK");
		return 0;
	}
	if (!strcmp(c, "stats") && argc == 4) {
		fd = ctl_fd(name);
		memset(&st, 0, sizeof(st));
		st.port = atoi(argv[3]);
		if (ioctl(fd, VHOST_TRACE_GET_STATS, &st))
			die("VHOST_TRACE_GET_STATS");
		printf("bytes=%llu buffers=%llu dropped_bytes=%llu "
		       "dropped_buffers=%llu stalls=%llu sink_errors=%llu "
		       "bad_buffers=%llu queue_errors=%llu ref_bytes=%llu "
		       "copied_bytes=%llu ref_pending=%llu flags=%#x\n",
		       (unsigned long long)st.bytes,
		       (unsigned long long)st.buffers,
		       (unsigned long long)st.dropped_bytes,
		       (unsigned long long)st.dropped_buffers,
		       (unsigned long long)st.stalls,
		       (unsigned long long)st.sink_errors,
		       (unsigned long long)st.bad_buffers,
		       (unsigned long long)st.queue_errors,
		       (unsigned long long)st.ref_bytes,
		       (unsigned long long)st.copied_bytes,
		       (unsigned long long)st.ref_pending, st.flags);
		return 0;
	}
	if (!strcmp(c, "read") && argc == 4) {
		char buf[4096];
		long want = atol(argv[3]);

		fd = ctl_fd(name);
		while (want > 0) {
			ssize_t n = read(fd, buf, want < (long)sizeof(buf) ?
					 (size_t)want : sizeof(buf));

			if (n <= 0)
				die("read");
			if (write(1, buf, n) != n)
				die("stdout");
			want -= n;
		}
		return 0;
	}
	if (!strcmp(c, "write") && argc == 4) {
		char line[4096];
		int len = snprintf(line, sizeof(line), "%s\n", argv[3]);

		fd = ctl_fd(name);
		if (len >= (int)sizeof(line) || write(fd, line, len) != len)
			die("write");
		return 0;
	}
	if (!strcmp(c, "poll") && argc == 3) {
		struct pollfd p = { .events = POLLIN | POLLOUT };

		p.fd = ctl_fd(name);
		if (poll(&p, 1, 0) < 0)
			die("poll");
		printf("%s%s%s\n", p.revents & POLLIN ? "in " : "",
		       p.revents & POLLOUT ? "out " : "",
		       p.revents & POLLHUP ? "hup" : "");
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of vt_vdpa.c\n");
	return 2;
}
