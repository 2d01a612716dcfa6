/* SPDX-License-Identifier: GPL-2.0 */
/* The CLI's side of the vhost-traced control socket. */
#ifndef VT_CLIENT_H
#define VT_CLIENT_H

#include "ctlproto.h"

/* Exit codes of vhost-trace (see --help). */
#define EXIT_REFUSED	1	/* the daemon answered an error */
#define EXIT_USAGE	2
#define EXIT_DAEMON	3	/* no daemon, permission, protocol */
#define EXIT_GUEST	4	/* the traced VM's QEMU failed */

/* Connects; on failure prints why and returns -1. */
int client_open(const char *path);
/*
 * Sends the request words (argv, then "--" and extra when nextra >= 0)
 * and reads the reply: 0 ok, EXIT_REFUSED (body is the message),
 * EXIT_DAEMON (printed).
 */
int client_call(int fd, char *const *argv, int argc, char *const *extra,
		int nextra, struct vt_buf *body);
/* The same, passing passfd (SCM_RIGHTS) with the request when >= 0. */
int client_call_fd(int fd, char *const *argv, int argc, char *const *extra,
		   int nextra, int passfd, struct vt_buf *body);

#endif
