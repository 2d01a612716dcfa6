// SPDX-License-Identifier: GPL-2.0
/*
 * vt-benchg: the guest side of the transport benchmark (selftests/vm/
 * bench_transports.py). Static, for busybox guests.
 *
 *   vt-benchg pingpong SECONDS
 *	Two processes, pinned to CPU 0 and CPU 1, pass one byte back and
 *	forth through two pipes for SECONDS; prints "iters N" (round trips).
 *	Every round trip is syscalls and cross-CPU wakeups on both CPUs:
 *	sched and raw_syscalls events on both.
 *   vt-benchg rusage FILE CMD [ARG...]
 *	Runs CMD and writes "cpu_us N" to FILE when it has ended: its user
 *	and system CPU time, with that of its reaped descendants (wait4).
 *   vt-benchg cpu COMM...
 *	Prints "cpu_us N": user and system time of the live processes whose
 *	comm is one of COMM, with that of their reaped children.
 *   vt-benchg drain splice|read FIFO COUNTER
 *	The host's reader of every FIFO row (one per FIFO): opens FIFO for
 *	reading, sets its pipe to 1 MiB and moves what arrives to /dev/null,
 *	by splice() (the pages are released, never touched) or by read()
 *	into a 1 MiB buffer (one copy). It keeps the bytes moved so far in
 *	the first 8 bytes of the file COUNTER (mmap, for the bench to watch)
 *	and ends at EOF or on SIGTERM (a FIFO whose writer never closes:
 *	QEMU's pipe chardev), printing "bytes N cpu S": S is its CPU time
 *	from the FIFO's open on (CLOCK_PROCESS_CPUTIME_ID), so that neither
 *	its exec nor its exit counts: a tracing host's reader runs for
 *	hours, the bench starts one per window.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int pingpong(double seconds)
{
	int a[2], b[2];
	unsigned long long iters = 0;
	double end;
	char c = 0;
	pid_t pid;

	if (pipe(a) || pipe(b))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		pin(1);
		while (read(a[0], &c, 1) == 1)
			if (write(b[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	pin(0);
	end = now() + seconds;
	for (;;) {
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			break;
		iters++;
		if (!(iters & 63) && now() >= end)
			break;
	}
	close(a[1]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("iters %llu\n", iters);
	return 0;
}

static int rusage_run(const char *file, char **argv)
{
	struct rusage ru;
	int status;
	FILE *f;
	pid_t pid = fork();

	if (pid < 0)
		return 1;
	if (!pid) {
		execv(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	signal(SIGTERM, SIG_IGN);	/* the command gets its own */
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return 1;
	f = fopen(file, "w");
	if (!f)
		return 1;
	fprintf(f, "cpu_us %lld\n",
		(long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
		ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int cpu_of(int argc, char **argv)
{
	long tck = sysconf(_SC_CLK_TCK);
	unsigned long long sum = 0;
	struct dirent *d;
	DIR *dir = opendir("/proc");

	if (!dir)
		return 1;
	while ((d = readdir(dir))) {
		char p[300], buf[1024], *s;
		unsigned long long ut, st, cut, cst;
		FILE *f;
		int i;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", d->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		s = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (!s || !(s = strchr(buf, '(')))
			continue;
		for (i = 0; i < argc; i++) {
			size_t n = strlen(argv[i]);

			if (!strncmp(s + 1, argv[i], n) && s[1 + n] == ')')
				break;
		}
		if (i == argc || !(s = strrchr(buf, ')')))
			continue;
		/* after ")": state ppid pgrp session tty tpgid flags minflt
		 * cminflt majflt cmajflt utime stime cutime cstime */
		if (sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			   "%llu %llu %llu %llu", &ut, &st, &cut, &cst) == 4)
			sum += ut + st + cut + cst;
	}
	closedir(dir);
	printf("cpu_us %llu\n", sum * 1000000ULL / tck);
	return 0;
}

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static int drain(const char *mode, const char *fifo, const char *counter)
{
	struct sigaction sa = { .sa_handler = on_term };	/* no SA_RESTART */
	int use_splice = !strcmp(mode, "splice");
	unsigned long long total = 0;
	volatile unsigned long long *cnt;
	char *buf = NULL;
	int in, out, c;
	double cpu0;
	ssize_t n;

	sigaction(SIGTERM, &sa, NULL);
	c = open(counter, O_RDWR | O_CREAT, 0644);
	if (c < 0 || ftruncate(c, 4096)) {
		perror(counter);
		return 1;
	}
	cnt = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, c, 0);
	if (cnt == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	*cnt = 0;
	in = open(fifo, O_RDONLY);
	out = open("/dev/null", O_WRONLY);
	if (in < 0 || out < 0) {
		perror(fifo);
		return 1;
	}
	if (fcntl(in, F_SETPIPE_SZ, 1 << 20) < 0)
		perror("F_SETPIPE_SZ");
	if (!use_splice && !(buf = malloc(1 << 20)))
		return 1;
	cpu0 = cpu_now();
	while (!stopping) {
		if (use_splice)
			n = splice(in, NULL, out, NULL, 1 << 20, SPLICE_F_MOVE);
		else if ((n = read(in, buf, 1 << 20)) > 0 &&
			 write(out, buf, n) != n)
			n = -1;
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror(use_splice ? "splice" : "read");
			return 1;
		}
		total += n;
		*cnt = total;
	}
	printf("bytes %llu cpu %.6f\n", total, cpu_now() - cpu0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "drain"))
		return drain(argv[2], argv[3], argv[4]);
	if (argc >= 3 && !strcmp(argv[1], "pingpong"))
		return pingpong(atof(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "rusage"))
		return rusage_run(argv[2], argv + 3);
	if (argc >= 3 && !strcmp(argv[1], "cpu"))
		return cpu_of(argc - 2, argv + 2);
	fprintf(stderr, "usage: vt-benchg pingpong SECONDS | rusage FILE CMD... "
		"| cpu COMM... | drain splice|read FIFO COUNTER\n");
	return 2;
}
