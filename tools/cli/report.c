// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace report [-H HOST.DAT] DIR [-- TRACE-CMD-REPORT-ARG...]:
 * the guest trace in DIR (DIR/trace.dat, written at stop) through the
 * stock reader, trace-cmd report. With -H, a host trace recorded at the
 * same time (trace-cmd record -C x86-tsc) is paired with it first
 * (merge.c) and both are shown on one time line:
 *     trace-cmd report -i HOST.DAT -i DIR/trace.dat [ARG...]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "merge.h"

#define MAX_ARGS	64

static void report_usage(FILE *f)
{
	fprintf(f,
"usage: vhost-trace report [-H HOST.DAT] DIR [-- ARG...]\n"
"  runs trace-cmd report on DIR/trace.dat; with -H, pairs HOST.DAT\n"
"  (trace-cmd record -C x86-tsc on the host, at the same time) with it\n"
"  first (as vhost-trace merge) and reports both on one time line.\n"
"  ARGs go to trace-cmd report (e.g. --cpu 0, -F sched_switch).\n");
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *host = NULL, *args[MAX_ARGS + 8];
	char gpath[4200];
	int opt, n = 0, i;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+H:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': host = optarg; break;
		case 'h': report_usage(stdout); return 0;
		default: report_usage(stderr); return 2;
		}
	}
	if (optind >= argc || argc - optind - 1 > MAX_ARGS) {
		report_usage(stderr);
		return 2;
	}
	snprintf(gpath, sizeof(gpath), "%s/trace.dat", argv[optind]);
	if (access(gpath, R_OK)) {
		fprintf(stderr, "vhost-trace: %s: %s (vhost-traced writes it at "
			"stop, with file sinks and an agent of version 1)\n",
			gpath, strerror(errno));
		return 1;
	}
	if (host && merge_files(host, argv[optind], stderr))
		return 1;
	args[n++] = "trace-cmd";
	args[n++] = "report";
	if (host) {
		args[n++] = "-i";
		args[n++] = host;
	}
	args[n++] = "-i";
	args[n++] = gpath;
	for (i = optind + 1; i < argc; i++)
		if (strcmp(argv[i], "--") || i != optind + 1)
			args[n++] = argv[i];
	args[n] = NULL;
	fflush(stdout);
	execvp(args[0], (char **)args);
	fprintf(stderr, "vhost-trace: cannot run trace-cmd: %s (apt install "
		"trace-cmd)\n", strerror(errno));
	return 127;
}
