// SPDX-License-Identifier: GPL-2.0
/* Acting as the requester on their files (see fsid.h). */
#include <errno.h>
#include <sys/fsuid.h>

#include "fsid.h"

int fsid_user(uid_t uid, gid_t gid)
{
	setfsgid(gid);
	setfsuid(uid);
	/* both calls return the previous id: -1 reads them back */
	if (setfsgid(-1) != (int)gid || setfsuid(-1) != (int)uid) {
		fsid_root();
		return -EPERM;
	}
	return 0;
}

void fsid_root(void)
{
	setfsuid(0);
	setfsgid(0);
}
