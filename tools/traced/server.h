/* SPDX-License-Identifier: GPL-2.0 */
/* The control socket: permissions, one thread per connection, requests. */
#ifndef VT_SERVER_H
#define VT_SERVER_H

#include <sys/types.h>

#include "ctlproto.h"

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t *groups;		/* supplementary (SO_PEERGROUPS), malloc'd */
	int ngroups;
	/*
	 * An fd that came with the request (SCM_RIGHTS), or -1: record
	 * --domain's libvirt bridge (libvirt.c). A request that keeps it
	 * sets it to -1; the connection closes what is left.
	 */
	int fd;
};

/* Binds path (mode 0600, or 0660 with group gid when gid != -1). */
int server_listen(const char *path, gid_t gid);
/* Root, or a member of the control group (primary or supplementary). */
int server_peer_allowed(int fd, gid_t gid, struct peer *peer);
/* Handles one parsed request; the reply (header and body) into out. */
void server_handle(const struct ctl_req *req, struct peer *peer,
		   struct vt_buf *out);
/* Serves a connection in a new detached thread; takes fd. */
int server_spawn(int fd, gid_t gid);

#endif
