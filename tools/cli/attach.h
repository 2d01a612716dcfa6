/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VT_ATTACH_H
#define VT_ATTACH_H

/* vhost-trace attach HOST.DAT DIR (attach.c); returns the exit status */
int cmd_attach(int argc, char **argv);

#endif
