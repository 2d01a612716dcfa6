/* SPDX-License-Identifier: GPL-2.0 */
/* A connection to the agent's control port (QEMU chardev unix socket). */
#ifndef VT_CONN_H
#define VT_CONN_H

#include <stddef.h>
#include <sys/types.h>

#include "vt_buf.h"

int vt_conn_open(const char *sock, int timeout_ms);
int vt_conn_send(int fd, const char *data, size_t len);
/* Reads exactly len bytes; -ETIMEDOUT, -EPIPE on end of stream. */
int vt_conn_read(int fd, void *data, size_t len, int timeout_ms);
/* One request line; the reply's status (1 ok, 0 err) and body. */
int vt_conn_request(int fd, const char *line, struct vt_buf *body, int timeout_ms);
/* Reads one reply (after a request sent otherwise): as vt_conn_request. */
int vt_conn_reply(int fd, struct vt_buf *body, int timeout_ms);
/*
 * As vt_conn_reply, a body of at most max bytes (-EMSGSIZE, nothing read
 * of it); vt_conn_reply's is VT_PROTO_MAX_BODY. One deadline for the
 * whole reply.
 */
int vt_conn_reply_max(int fd, struct vt_buf *body, int timeout_ms, size_t max);
/*
 * sendmsg() of len bytes on a unix socket, with passfd (when >= 0) going
 * along with them (SCM_RIGHTS); flags as sendmsg's. Returns sendmsg's.
 */
ssize_t vt_send_fd(int sock, const void *p, size_t len, int passfd, int flags);

#endif
