// SPDX-License-Identifier: GPL-2.0
/*
 * Library API tests (TAP): argument checks, the no-partial-file promise,
 * cpu data from fds, and a file written through the API that stock
 * trace-cmd decodes. Usage: test_api METADIR WORKDIR (run.sh makes them).
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracedat.h"
#include "rbpage.h"
#include "tap.h"

static int nr_errors;
static char last_error[1024];

static void log_hook(int level, const char *msg)
{
	if (!level)
		nr_errors++;
	snprintf(last_error, sizeof(last_error), "%s", msg);
	printf("# %s: %s\n", level ? "warning" : "error", msg);
}

static int exists(const char *path)
{
	return !access(path, F_OK);
}

static int tmp_left(const char *path)
{
	char pat[4200];
	glob_t g;
	int found;

	snprintf(pat, sizeof(pat), "%s.tmp-*", path);
	found = !glob(pat, 0, NULL, &g);
	if (found)
		globfree(&g);
	return found;
}

/* @nr events on one page set for @cpu into a new unlinked-later file */
static int make_cpu_fd(const char *dir, int cpu, int nr)
{
	struct rbw w;
	char path[4200];
	unsigned char ev[24];
	int fd, i;

	snprintf(path, sizeof(path), "%s/api-cpu%d.raw", dir, cpu);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || rb_init(&w, fd, 4096))
		return -1;
	for (i = 0; i < nr; i++) {
		memset(ev, 0, sizeof(ev));
		vt_le_put(ev, 1000, 2);		/* vtest_event */
		vt_le_put(ev + 4, 100 + cpu, 4);
		vt_le_put(ev + 8, i, 4);
		vt_le_put(ev + 12, cpu, 4);
		rb_event(&w, 2000000000ULL + i * 333ULL, ev, sizeof(ev));
	}
	rb_flush(&w);
	free(w.page);
	return w.err ? -1 : fd;
}

static int count_events(const char *file)
{
	char cmd[4300];
	FILE *p;
	int count = -1;

	snprintf(cmd, sizeof(cmd),
		 "trace-cmd report -i '%s' 2>/dev/null | grep -c vtest_event:",
		 file);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (fscanf(p, "%d", &count) != 1)
		count = -1;
	pclose(p);
	return count;
}

int main(int argc, char **argv)
{
	const char *meta, *dir;
	char out[4200];
	struct tracedat *td;
	int fd0, fd1, ret, tids[2] = { 4242, 4343 };

	if (argc != 3) {
		fprintf(stderr, "usage: test_api METADIR WORKDIR\n");
		return 2;
	}
	meta = argv[1];
	dir = argv[2];
	tracedat_set_log(log_hook);
	printf("TAP version 13\n");

	snprintf(out, sizeof(out), "%s/api.dat", dir);
	errno = 0;
	tap_ok(!tracedat_open(out, 5, TRACEDAT_COMPRESS_NONE) && errno == EINVAL,
	       "api: version 5 refused (EINVAL)");
	tap_ok(!tracedat_open(out, 6, TRACEDAT_COMPRESS_ZSTD),
	       "api: zstd with version 6 refused");
	tap_ok(!exists(out) && !tmp_left(out), "api: refused opens leave nothing");

	td = tracedat_open(out, 7, TRACEDAT_COMPRESS_NONE);
	tap_ok(td && !exists(out), "api: open creates nothing at the path yet");
	tracedat_abort(td);
	tap_ok(!exists(out) && !tmp_left(out), "api: abort removes the temporary file");

	td = tracedat_open(out, 7, TRACEDAT_COMPRESS_NONE);
	nr_errors = 0;
	ret = td ? tracedat_close(td) : 0;
	tap_ok(ret < 0 && nr_errors && strstr(last_error, "no metadata") &&
	       !exists(out) && !tmp_left(out),
	       "api: close without metadata fails, says so, leaves nothing");

	td = tracedat_open(out, 7, TRACEDAT_COMPRESS_NONE);
	tap_ok(td && tracedat_load_meta(td, meta) == 0, "api: metadata loads");
	tap_ok(tracedat_set_info(td, "page_size", "1000") == -EINVAL,
	       "api: page_size not a power of two refused");
	tap_ok(tracedat_set_info(td, "cpus", "0") == -EINVAL,
	       "api: cpus=0 refused");
	tap_ok(tracedat_add_ts_sample(td, 0, 0, 1, 0, 0) == -EINVAL,
	       "api: time shift scaling 0 refused");
	tap_ok(tracedat_add_guest(td, "", 1, 1, tids) == -EINVAL,
	       "api: guest without a name refused");
	tap_ok(tracedat_add_traceid(td, 7) == 0 &&
	       tracedat_add_traceid(td, 8) == -EEXIST, "api: TRACEID only once");

	fd0 = make_cpu_fd(dir, 0, 300);
	fd1 = make_cpu_fd(dir, 1, 20);
	tap_ok(fd0 >= 0 && fd1 >= 0 &&
	       tracedat_add_cpu_fd(td, 0, fd0, "api cpu0") == 0 &&
	       tracedat_add_cpu_fd(td, 1, fd1, NULL) == 0,
	       "api: cpu data from file descriptors");
	tap_ok(tracedat_add_cpu_fd(td, 1, fd1, NULL) == -EEXIST,
	       "api: the same CPU twice refused");
	close(fd0);	/* the library holds its own descriptors */
	close(fd1);
	tap_ok(tracedat_add_guest(td, "g", 0x99, 2, tids) == 0 &&
	       tracedat_set_time_shift(td, 0x55, 0) == 0 &&
	       tracedat_add_ts_sample(td, 0, 0, -1000, 1, 0) == 0 &&
	       tracedat_add_ts_sample(td, 1, 0, -1000, 1, 0) == 0,
	       "api: GUEST and TIME_SHIFT options");
	ret = tracedat_close(td);
	tap_ok(ret == 0 && exists(out) && !tmp_left(out),
	       "api: close writes the file, no temporary left");
	ret = count_events(out);
	printf("# trace-cmd report: %d events\n", ret);
	tap_ok(ret == 320, "api: trace-cmd report decodes the 320 events");

	printf("1..%d\n", tap_n);
	return tap_done();
}
