// SPDX-License-Identifier: GPL-2.0
/*
 * trace.dat input (tools/tracedat/edit.c): a host's trace.dat that
 * `vhost-trace merge` amends. The input is the file; its options are
 * read, one is patched and one appended.
 */
#include "tracedat.h"
#include "fuzz.h"

static void no_log(int level, const char *msg)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	tracedat_set_log(no_log);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char guest[] = "guest\0\1\2\3\4\5\6\7\x8";
	struct tracedat_edit *e;
	const unsigned char *v;
	unsigned int id, sz;
	char path[256];

	snprintf(path, sizeof(path), "%s/in.dat", fuzz_tmpdir());
	if (fuzz_write_file(path, data, size))
		return 0;
	e = tracedat_edit_open(path);
	if (e) {
		for (id = 0; id < 20; id++) {
			v = tracedat_edit_get(e, id, -1, &sz);
			if (v && sz)
				(void)*(volatile const unsigned char *)
					(v + sz - 1);
			tracedat_edit_count(e, id);
		}
		if (tracedat_edit_get(e, TRACEDAT_OPT_TRACEID, 0, &sz) &&
		    sz >= 8)
			tracedat_edit_patch(e, TRACEDAT_OPT_TRACEID, 0, 0,
					    "\1\2\3\4\5\6\7\x8", 8);
		tracedat_edit_append(e, TRACEDAT_OPT_GUEST, guest,
				     sizeof(guest));
		tracedat_edit_close(e);
	}
	unlink(path);
	return 0;
}
