// SPDX-License-Identifier: GPL-2.0
/*
 * The forked children of the daemon that run QEMU (launch.c) or ask it
 * what it offers (front.c) run as the requester: uid, gid and the
 * supplementary groups it connected with (SO_PEERGROUPS, server.c).
 */
#include <grp.h>
#include <unistd.h>

#include "session.h"

int session_become_requester(const struct sess_args *a)
{
	if (!a->uid)
		return 0;
	return setgroups(a->ngroups, a->groups) || setgid(a->gid) ||
	       setuid(a->uid);
}
