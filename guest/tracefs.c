// SPDX-License-Identifier: GPL-2.0
/* Finding tracefs and reading and writing its files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

static int is_tracefs(const char *dir)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/per_cpu", dir);
	return access(p, R_OK) == 0;
}

/*
 * want: a directory given by the user, or NULL to try /sys/kernel/tracing
 * and the older /sys/kernel/debug/tracing, mounting tracefs if neither is
 * there (a minimal guest).
 */
int tracefs_find(char *dir, size_t len, const char *want)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	size_t i;

	if (want) {
		if (!is_tracefs(want)) {
			msg("%s is not a tracefs directory (no per_cpu/)", want);
			return -ENOENT;
		}
		snprintf(dir, len, "%s", want);
		return 0;
	}
	for (i = 0; i < 2; i++) {
		if (is_tracefs(dirs[i])) {
			snprintf(dir, len, "%s", dirs[i]);
			return 0;
		}
	}
	if (mount("tracefs", dirs[0], "tracefs", 0, NULL) == 0 &&
	    is_tracefs(dirs[0])) {
		msg("mounted tracefs on %s", dirs[0]);
		snprintf(dir, len, "%s", dirs[0]);
		return 0;
	}
	msg("no tracefs at /sys/kernel/tracing or /sys/kernel/debug/tracing, "
	    "and mounting it failed: %s", strerror(errno));
	return -ENOENT;
}

int tracefs_path(char *out, size_t len, const char *rel)
{
	int n = snprintf(out, len, "%s/%s", agent.tracefs, rel);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int tracefs_read(const char *rel, struct vt_buf *b)
{
	char p[512];

	if (tracefs_path(p, sizeof(p), rel))
		return -ENAMETOOLONG;
	return vt_buf_read_file(b, p);
}

/* Writes val (a newline is added); O_TRUNC as the shell's ">" does. */
int tracefs_write(const char *rel, const char *val)
{
	char p[512], line[1100];
	int fd, n, ret = 0;

	if (tracefs_path(p, sizeof(p), rel))
		return -ENAMETOOLONG;
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(line, sizeof(line), "%s\n", val);
	if (write(fd, line, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

int tracefs_read_line(const char *rel, char *out, size_t len)
{
	struct vt_buf b = { 0 };
	int ret = tracefs_read(rel, &b);

	if (!ret)
		snprintf(out, len, "%.*s", (int)strcspn(b.p, "\n"), b.p);
	vt_buf_free(&b);
	return ret;
}

/* trace_clock reads "local [global] counter"; cur gets "global". */
int tracefs_clock(char *cur, size_t len, struct vt_buf *all)
{
	struct vt_buf b = { 0 };
	char *s, *e;
	int ret = tracefs_read("trace_clock", &b);

	if (ret)
		return ret;
	snprintf(cur, len, "?");
	s = strchr(b.p, '[');
	e = s ? strchr(s, ']') : NULL;
	if (s && e)
		snprintf(cur, len, "%.*s", (int)(e - s - 1), s + 1);
	if (all) {
		for (s = b.p; *s; s++)
			if (*s != '[' && *s != ']' && *s != '\n')
				vt_buf_append(all, s, 1);
	}
	vt_buf_free(&b);
	return 0;
}

/* Possible CPUs: the per_cpu/cpuN directories. */
int tracefs_count_cpus(void)
{
	char p[512];
	struct dirent *d;
	DIR *dir;
	int max = -1, n;

	if (tracefs_path(p, sizeof(p), "per_cpu"))
		return -ENAMETOOLONG;
	dir = opendir(p);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (sscanf(d->d_name, "cpu%d", &n) == 1 && n > max)
			max = n;
	}
	closedir(dir);
	if (max + 1 > AGENT_MAX_CPUS)
		return AGENT_MAX_CPUS;
	return max + 1;
}
