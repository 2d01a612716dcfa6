// SPDX-License-Identifier: GPL-2.0
/*
 * A guest's metadata as libtracedat reads it (tools/tracedat/meta.c,
 * info.c) on the way to a trace.dat: the input is split at NUL bytes
 * into header_page, an event format, the info file and trace_clock;
 * then one valid ring-buffer page is written with them.
 */
#include <sys/mman.h>

#include "tracedat.h"
#include "meta_fixture.h"

static void no_log(int level, const char *msg)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	tracedat_set_log(no_log);
	return 0;
}

/* The next NUL-separated part of the input. */
static const char *part(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *nul;

	if (s >= end) {
		*len = 0;
		return NULL;
	}
	nul = memchr(s, '\0', end - s);
	*len = (nul ? nul : end) - s;
	*p = nul ? nul + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *hp, *fmt, *info,
		   *clk;
	size_t hplen, fmtlen, infolen, clklen;
	unsigned char page[4096] = { 0 };
	char meta[256], path[256], out[256];
	struct tracedat *td;
	int fd;

	hp = part(&p, end, &hplen);
	fmt = part(&p, end, &fmtlen);
	info = part(&p, end, &infolen);
	clk = part(&p, end, &clklen);
	snprintf(meta, sizeof(meta), "%s/meta", fuzz_tmpdir());
	snprintf(out, sizeof(out), "%s/out.dat", fuzz_tmpdir());
	meta_fixture(meta, hp, hplen, fmt, fmtlen);
	if (info) {
		snprintf(path, sizeof(path), "%s/info", meta);
		fuzz_write_file(path, info, infolen);
	}
	if (clk) {
		snprintf(path, sizeof(path), "%s/trace_clock", meta);
		fuzz_write_file(path, clk, clklen);
	}
	/* one page: time stamp 1, commit 8, one 4-byte event */
	page[0] = 1;
	page[8] = 8;
	page[16] = 1;		/* type_len 1 */
	fd = memfd_create("cpu0", MFD_CLOEXEC);
	if (fd < 0 || write(fd, page, sizeof(page)) != sizeof(page))
		abort();
	td = tracedat_open(out, size & 1 ? 6 : 7, TRACEDAT_COMPRESS_NONE);
	if (td) {
		if (tracedat_load_meta(td, meta) ||
		    tracedat_add_cpu_fd(td, 0, fd, "cpu0"))
			tracedat_abort(td);
		else
			tracedat_close(td);
	}
	close(fd);
	fuzz_rm_rf(meta);
	unlink(out);
	return 0;
}
