// SPDX-License-Identifier: GPL-2.0
/* vhost-trace benchmarks: thread CPU time and vhost workers (vt_cpu.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vt_cpu.h"

double vt_thread_cpu(pid_t pid, pid_t tid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd;

	if (tid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	/* after ") ": state is field 3, utime 14, stime 15 */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

double vt_self_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double vt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool comm_is(const char *path, const char *name)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return !strcmp(buf, name);
}

int vt_find_workers(pid_t *pid, pid_t *tid, int max)
{
	static const char * const dirs[] = { "/proc/self/task", "/proc" };
	char name[32], path[300];
	struct dirent *e;
	unsigned int i;
	int n = 0;

	snprintf(name, sizeof(name), "vhost-%ld", (long)syscall(SYS_gettid));
	for (i = 0; i < 2 && n < max; i++) {
		DIR *d = opendir(dirs[i]);

		while (d && n < max && (e = readdir(d))) {
			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "%s/%s/comm", dirs[i],
				 e->d_name);
			if (!comm_is(path, name))
				continue;
			tid[n] = atoi(e->d_name);
			pid[n] = i ? tid[n] : getpid();
			n++;
		}
		if (d)
			closedir(d);
	}
	return n;
}
