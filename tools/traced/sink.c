// SPDX-License-Identifier: GPL-2.0
/*
 * A session's sinks: DIR/cpuN.raw files (opened once) or DIR/cpuN.fifo
 * FIFOs (opened when they have a reader, again after it left), set on
 * the control fd. DIR is the requester's: its entries are opened
 * through the session's fd of DIR, as the requester, never by a link,
 * never blocking on a FIFO, and of the right type before the module
 * gets them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsid.h"
#include "session_int.h"
#include "vdpa.h"

#define FAIL(...) do { vt_buf_printf(err, __VA_ARGS__); goto fail; } while (0)

void sink_name(struct session *s, unsigned int p, char *buf, size_t len)
{
	snprintf(buf, len, "cpu%u.%s", p, s->fifo ? "fifo" : "raw");
}

int session_open_entry(struct session *s, const char *name, int flags,
		       mode_t type)
{
	struct stat st;
	int fd, err;

	fd = openat(s->dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC, 0644);
	/* ENXIO: a FIFO without reader (or a socket) where a file is wanted */
	if (fd < 0 && errno == ENXIO && type == S_IFREG)
		return -EWRONGTYPE;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if ((st.st_mode & S_IFMT) != type) {
		close(fd);
		return -EWRONGTYPE;
	}
	/* a file: the module's writes wait as the requester's would */
	if (type == S_IFREG && fcntl(fd, F_SETFL, flags & O_APPEND)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int session_open_dir(int dirfd, const char *name)
{
	struct stat st;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd >= 0)
		return fd;
	/* O_DIRECTORY answers a link to a directory with ENOTDIR */
	if (errno == ENOTDIR && !fstatat(dirfd, name, &st,
					 AT_SYMLINK_NOFOLLOW) &&
	    S_ISLNK(st.st_mode))
		return -ELOOP;
	return -errno;
}

const char *session_strerror(int err)
{
	return err == -EWRONGTYPE ? "of the wrong type (not a regular file, "
		"or not a FIFO where one is made)" : err == -ELOOP ?
		"a symbolic link (not followed)" : strerror(-err);
}

/* Port p's sink, as the requester: an fd, or -errno. */
static int open_sink(struct session *s, unsigned int p, int flags)
{
	char name[32];
	int fd;

	sink_name(s, p, name, sizeof(name));
	if (fsid_user(s->uid, s->gid))
		return -EPERM;
	fd = session_open_entry(s, name, flags, s->fifo ? S_IFIFO : S_IFREG);
	fsid_root();
	return fd;
}

int session_attach_sink(struct session *s, unsigned int p)
{
	struct vhost_trace_sink sink = {
		.port = p, .policy = s->policy,
		.flags = s->byref ? VHOST_TRACE_SINK_BY_REF : 0,
	};
	int fd;

	if (s->sinkfd[p] >= 0)
		return 1;
	fd = open_sink(s, p, O_WRONLY);
	if (fd == -ENXIO)
		return 0;	/* a FIFO without reader */
	if (fd < 0) {
		if (s->refused != fd)
			sess_log(s, "%s/cpu%u.fifo: %s: not attached while so",
				 s->dir, p, session_strerror(fd));
		s->refused = fd;
		return fd;
	}
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
	int fd = open_sink(s, p, O_RDONLY);

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
	unsigned int p;
	int fd;

	for (p = 0; p < s->nports; p++) {
		if (session_get_stats(s, p, &st))
			continue;
		s->last_bytes[p] = st.bytes;
		if (s->fifo || (st.flags & VHOST_TRACE_STATS_SINK) ||
		    uatomic_read(&s->state) != SESS_RUNNING)
			continue;
		fd = open_sink(s, p, O_WRONLY | O_APPEND);
		sink.port = p;
		sink.fd = fd;
		if (fd >= 0 && ioctl(s->ctl, VHOST_TRACE_SET_SINK, &sink))
			fd = -errno;
		if (fd < 0) {
			sess_log(s, "port %u had no sink (last error %d); "
				 "cannot attach %s/cpu%u.raw again: %s", p,
				 st.last_error, s->dir, p, session_strerror(fd));
			if (sink.fd >= 0)
				close(sink.fd);
			continue;
		}
		s->sinkfd[p] = fd;
		sess_log(s, "port %u had no sink (last error %d): "
			 "%s/cpu%u.raw attached again, appending", p,
			 st.last_error, s->dir, p);
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

/* DIR and the sinks in it, as the requester (this thread's fs ids). */
static int make_outputs(struct session *s, struct vt_buf *err)
{
	char name[32];
	unsigned int p;
	int fd;

	if (mkdir(s->dir, 0755) && errno != EEXIST)
		FAIL("cannot create %s: %s", s->dir, strerror(errno));
	s->dirfd = session_open_dir(AT_FDCWD, s->dir);
	if (s->dirfd < 0)
		FAIL("cannot open %s: %s", s->dir, session_strerror(s->dirfd));
	for (p = 0; p < s->nports; p++) {
		sink_name(s, p, name, sizeof(name));
		if (!s->fifo) {
			fd = session_open_entry(s, name, O_WRONLY | O_CREAT |
						O_TRUNC, S_IFREG);
			if (fd < 0)
				FAIL("cannot create %s/%s: %s", s->dir, name,
				     session_strerror(fd));
			s->sinkfd[p] = fd;
			continue;
		}
		if (unlinkat(s->dirfd, name, 0) && errno != ENOENT)
			FAIL("cannot replace %s/%s: %s", s->dir, name,
			     strerror(errno));
		if (mkfifoat(s->dirfd, name, 0644))
			FAIL("cannot create FIFO %s/%s: %s", s->dir, name,
			     strerror(errno));
	}
	return 0;
fail:
	return -1;
}

int session_make_outputs(struct session *s, struct vt_buf *err)
{
	int rc;

	if (fsid_user(s->uid, s->gid)) {
		vt_buf_printf(err, "cannot act as uid %u",
			      (unsigned int)s->uid);
		return -1;
	}
	rc = make_outputs(s, err);
	fsid_root();
	return rc;
}

int session_attach_sinks(struct session *s, struct vt_buf *err)
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
