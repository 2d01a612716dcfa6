// SPDX-License-Identifier: GPL-2.0
/* QEMU command lines (vt_qemu.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "vt_qemu.h"

static int smp_value(const char *s)
{
	unsigned long prod = 1, cpus = 0;
	char *copy = strdup(s), *tok, *save = NULL;
	int first = 1, err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save), first = 0) {
		char *eq = strchr(tok, '='), *end;
		unsigned long v;

		errno = 0;
		v = strtoul(eq ? eq + 1 : tok, &end, 10);
		if (errno || *end || end == (eq ? eq + 1 : tok) || !v || v > 4096) {
			err = -EINVAL;
			break;
		}
		if (!eq) {
			if (!first)
				err = -EINVAL;
			cpus = v;
		} else if (!strncmp(tok, "cpus=", 5)) {
			cpus = v;
		} else if (!strncmp(tok, "sockets=", 8) || !strncmp(tok, "dies=", 5) ||
			   !strncmp(tok, "clusters=", 9) || !strncmp(tok, "cores=", 6) ||
			   !strncmp(tok, "threads=", 8)) {
			prod *= v;
		} else if (strncmp(tok, "maxcpus=", 8) && strncmp(tok, "books=", 6) &&
			   strncmp(tok, "drawers=", 8)) {
			err = -EINVAL;
		}
	}
	free(copy);
	if (err)
		return err;
	if (!cpus)
		cpus = prod;
	return cpus > INT_MAX ? -EINVAL : (int)cpus;
}

int vt_qemu_smp_cpus(int argc, char *const *argv)
{
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-smp") && strcmp(argv[i], "--smp"))
			continue;
		if (i + 1 >= argc)
			return -EINVAL;
		n = smp_value(argv[++i]);	/* the last -smp wins */
		if (n < 0)
			return n;
	}
	return n;
}
