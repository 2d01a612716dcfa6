/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small QMP client (QEMU Machine Protocol) on a unix socket: the
 * greeting, qmp_capabilities, one command at a time, an fd passed with
 * SCM_RIGHTS (for getfd), QEMU's pid from SO_PEERCRED. Asynchronous
 * events that arrive while a command waits for its answer are skipped,
 * except that DEVICE_DELETED for a watched device id is remembered.
 *
 * QEMU serves one QMP client per monitor socket at a time: connect,
 * do the work, close.
 *
 * JSON is Debian's jansson (libjansson): QEMU's output is parsed by a
 * maintained library, each message at most QMP_MAX_MSG bytes.
 */
#ifndef VT_QMP_H
#define VT_QMP_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "ctlproto.h"

#define QMP_MAX_MSG	(4 << 20)	/* one message from QEMU */
#define QMP_ID_MAX	64

struct qmp {
	int fd;
	pid_t pid;		/* the peer (QEMU), from SO_PEERCRED */
	uid_t uid;
	gid_t gid;
	struct vt_buf in;		/* received, not yet handled */
	char watch[QMP_ID_MAX];	/* DEVICE_DELETED of this device id ... */
	int deleted;		/* ... has arrived */
	unsigned int events;	/* events seen (and skipped) */
	char err[512];		/* why the last call failed */
};

/*
 * Connects to the QMP socket path, reads the greeting and sends
 * qmp_capabilities, all within timeout_ms. 0, or -errno with q->err set
 * (q is then closed).
 */
int qmp_connect(struct qmp *q, const char *path, int timeout_ms);
/* The same on a connected socket (taken: closed on failure). */
int qmp_open(struct qmp *q, int fd, int timeout_ms);
/*
 * Runs command cmd with args (a JSON object, or NULL) and waits up to
 * timeout_ms for its answer. With fd >= 0, fd goes along (SCM_RIGHTS).
 * The "return" value's JSON text (compact, as jansson writes it) goes to
 * ret (when not NULL). 0;
 * -EREMOTEIO when QEMU answered with an error, its "desc" verbatim in
 * q->err; -ETIMEDOUT, -ECONNRESET (QEMU closed the connection), -EPROTO,
 * other -errno, with q->err set. After any error but -EREMOTEIO the
 * connection is closed (-ENOTCONN from then on).
 */
int qmp_exec(struct qmp *q, const char *cmd, const char *args, int fd,
	     struct vt_buf *ret, int timeout_ms);
/* Remembers DEVICE_DELETED for device id from now on. */
void qmp_watch_deleted(struct qmp *q, const char *id);
/* Waits for it (it may have come already). 0, -ETIMEDOUT, -errno. */
int qmp_wait_deleted(struct qmp *q, int timeout_ms);
void qmp_close(struct qmp *q);
/* Appends s (NUL terminated, UTF-8) as a JSON string. 0, -EINVAL (not
 * UTF-8), -ENOMEM. */
int qmp_add_string(struct vt_buf *b, const char *s);
/* The number of elements of the JSON array text (len bytes), or -EINVAL. */
int qmp_array_count(const char *text, size_t len);

#endif
