/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Acting as the requester on their files. setfsuid()/setfsgid() change
 * the file-system ids of the calling thread only (glibc does not
 * broadcast them), and with a non-zero fsuid the kernel drops the
 * thread's file capabilities (CAP_DAC_OVERRIDE, CAP_FOWNER, ...): every
 * open, mkdir, rename and connect is checked as the user's own would be.
 * main() clears root's supplementary groups at start, so that none of
 * them applies either.
 */
#ifndef VT_FSID_H
#define VT_FSID_H

#include <sys/types.h>

/* This thread acts as uid/gid on files. 0, or -EPERM (and acts as root). */
int fsid_user(uid_t uid, gid_t gid);
/* This thread acts as root on files again. */
void fsid_root(void);

#endif
