// SPDX-License-Identifier: GPL-2.0
/*
 * Ring-buffer pages from a guest: libvt's page checker
 * (tools/libvt/page.c) on every 4096-byte page of the input, and
 * libtracedat's (tools/tracedat/pages.c) on the way to a trace.dat. The
 * first byte picks the page size (64..8192) and the trace.dat version.
 */
#include <sys/mman.h>

#include "vt_page.h"
#include "tracedat.h"
#include "meta_fixture.h"

static char meta[256];

static void no_log(int level, const char *msg)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	tracedat_set_log(no_log);
	snprintf(meta, sizeof(meta), "%s/meta", fuzz_tmpdir());
	meta_fixture(meta, NULL, 0, NULL, 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_page_info pi;
	struct tracedat *td;
	char out[256], err[160], ps[16];
	size_t off;
	int fd;

	if (!size)
		return 0;
	for (off = 1; off + VT_PAGE_SIZE <= size; off += VT_PAGE_SIZE)
		vt_page_check(data + off, &pi, err, sizeof(err));
	snprintf(out, sizeof(out), "%s/out.dat", fuzz_tmpdir());
	snprintf(ps, sizeof(ps), "%u", 64u << (data[0] & 7));
	fd = memfd_create("cpu0", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	td = tracedat_open(out, data[0] & 8 ? 6 : 7,
			   data[0] & 16 ? TRACEDAT_COMPRESS_ZSTD :
			   TRACEDAT_COMPRESS_NONE);
	if (td) {
		if (tracedat_set_flags(td, data[0] & 32 ?
				       TRACEDAT_F_DROP_PARTIAL : 0) ||
		    tracedat_load_meta(td, meta) ||
		    tracedat_set_info(td, "page_size", ps) ||
		    tracedat_add_cpu_fd(td, 0, fd, "cpu0"))
			tracedat_abort(td);
		else
			tracedat_close(td);
	}
	close(fd);
	unlink(out);
	return 0;
}
