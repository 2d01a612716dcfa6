/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VT_MERGE_H
#define VT_MERGE_H

#include <stdio.h>

/*
 * Pairs HOST.DAT with the guest trace in DIR (merge.c); what was done goes
 * to out. 0, or 1 with the reason on stderr.
 */
int merge_files(const char *host, const char *dir, FILE *out);
/* vhost-trace merge HOST.DAT DIR; returns the exit status */
int cmd_merge(int argc, char **argv);
/* vhost-trace report [-H HOST.DAT] DIR [-- ARG...] (report.c) */
int cmd_report(int argc, char **argv);

#endif
