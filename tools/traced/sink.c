// SPDX-License-Identifier: GPL-2.0
/*
 * A session's sinks: DIR/cpuN.raw files (opened once) or DIR/cpuN.fifo
 * FIFOs (opened when they have a reader, again after it left), set on
 * the control fd. Files and FIFOs are the requester's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session_int.h"

#define FAIL(...) do { sbuf_printf(err, __VA_ARGS__); goto fail; } while (0)

void sink_path(struct session *s, unsigned int p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/cpu%u.%s", s->dir, p, s->fifo ? "fifo" : "raw");
}

int session_attach_sink(struct session *s, unsigned int p)
{
	struct vhost_trace_sink sink = { .port = p, .policy = s->policy };
	char path[PATH_MAX + 32];
	int fd;

	if (s->sinkfd[p] >= 0)
		return 1;
	sink_path(s, p, path, sizeof(path));
	if (s->fifo)
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	else
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == ENXIO ? 0 : -errno;
	sink.fd = fd;
	if (ioctl(s->ctl, VHOST_TRACE_SET_SINK, &sink)) {
		int err = -errno;

		close(fd);
		return err == -ENXIO ? 0 : err;
	}
	s->sinkfd[p] = fd;
	return 1;
}

/* A file the module wrote through another daemon's fd (recovered). */
static void sync_file(struct session *s, unsigned int p)
{
	char path[PATH_MAX + 32];
	int fd;

	sink_path(s, p, path, sizeof(path));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	fsync(fd);
	close(fd);
}

/*
 * A recovered session: the counters go on from the module's; a file
 * sink that is still attached is left alone (the module writes at its
 * file position: a new fd would start elsewhere); one the module dropped
 * (a write error) is attached again for appending. FIFOs are attached
 * again by session_tick() (the same pipe: nothing moves).
 */
void session_check_sinks(struct session *s)
{
	struct vhost_trace_sink sink = { .policy = s->policy };
	struct vhost_trace_stats st;
	char path[PATH_MAX + 32];
	unsigned int p;
	int fd;

	for (p = 0; p < s->nports; p++) {
		if (session_get_stats(s, p, &st))
			continue;
		s->last_bytes[p] = st.bytes;
		if (s->fifo || (st.flags & VHOST_TRACE_STATS_SINK) ||
		    uatomic_read(&s->state) != SESS_RUNNING)
			continue;
		sink_path(s, p, path, sizeof(path));
		setfsgid(s->gid);
		setfsuid(s->uid);
		fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		setfsuid(0);
		setfsgid(0);
		sink.port = p;
		sink.fd = fd;
		if (fd < 0 || ioctl(s->ctl, VHOST_TRACE_SET_SINK, &sink)) {
			sess_log(s, "port %u had no sink (last error %d); "
				 "cannot attach %s again: %s", p,
				 st.last_error, path, strerror(errno));
			if (fd >= 0)
				close(fd);
			continue;
		}
		s->sinkfd[p] = fd;
		sess_log(s, "port %u had no sink (last error %d): %s attached "
			 "again, appending", p, st.last_error, path);
	}
}

void session_detach_sinks(struct session *s)
{
	struct vhost_trace_sink sink = { .fd = -1, .policy = s->policy };
	unsigned int p;

	for (p = 0; p < s->nports; p++) {
		sink.port = p;
		/* ENODEV: QEMU is gone and the sinks with it */
		ioctl(s->ctl, VHOST_TRACE_SET_SINK, &sink);
		if (s->sinkfd[p] < 0) {
			if (!s->fifo)
				sync_file(s, p);
			continue;
		}
		if (!s->fifo)
			fsync(s->sinkfd[p]);
		close(s->sinkfd[p]);
		s->sinkfd[p] = -1;
	}
}

/* As the requester (this thread's fs ids): the directory and the sinks. */
int session_make_outputs(struct session *s, struct sbuf *err)
{
	char path[PATH_MAX + 32];
	unsigned int p;
	int rc = -1;

	setfsgid(s->gid);
	setfsuid(s->uid);
	if (mkdir(s->dir, 0755) && errno != EEXIST)
		FAIL("cannot create %s: %s", s->dir, strerror(errno));
	for (p = 0; p < s->nports; p++) {
		sink_path(s, p, path, sizeof(path));
		if (!s->fifo) {
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
				      O_CLOEXEC, 0644);

			if (fd < 0)
				FAIL("cannot create %s: %s", path, strerror(errno));
			s->sinkfd[p] = fd;
			continue;
		}
		unlink(path);
		if (mkfifo(path, 0644))
			FAIL("cannot create FIFO %s: %s", path, strerror(errno));
	}
	rc = 0;
fail:
	setfsuid(0);
	setfsgid(0);
	return rc;
}

int session_attach_sinks(struct session *s, struct sbuf *err)
{
	struct vhost_trace_sink sink = { .policy = s->policy };
	unsigned int p;

	for (p = 0; p < s->nports; p++) {
		if (s->fifo) {
			session_attach_sink(s, p);	/* when a reader is there */
			continue;
		}
		sink.port = p;
		sink.fd = s->sinkfd[p];
		if (ioctl(s->ctl, VHOST_TRACE_SET_SINK, &sink))
			FAIL("VHOST_TRACE_SET_SINK port %u: %s", p,
			     strerror(errno));
	}
	return 0;
fail:
	return -1;
}
