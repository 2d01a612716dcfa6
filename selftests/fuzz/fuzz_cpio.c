// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's metadata archive (tools/libvt/cpio.c): every entry walked, names
 * checked; what is accepted must be a safe relative path inside the
 * archive. A written archive reads back.
 */
#include "vt_cpio.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *ar = (const char *)data;
	struct vt_cpio_entry e;
	size_t off = 0, prev;
	int ret, n = 0;

	for (;;) {
		prev = off;
		ret = vt_cpio_next(ar, size, &off, &e);
		if (ret <= 0)
			break;
		if (off <= prev || off > size || !vt_cpio_path_ok(e.name) ||
		    e.data < ar || e.data + e.size > ar + size)
			abort();
		n++;
	}
	if (size && size < 4096) {
		char name[64];
		struct vt_buf b = { 0 };

		snprintf(name, sizeof(name), "events/%.*s", (int)(size % 40),
			 ar);
		if (!vt_cpio_add(&b, name, ar, size) && !vt_cpio_finish(&b)) {
			off = 0;
			if (vt_cpio_next(b.p, b.len, &off, &e) != 1 ||
			    e.size != size || memcmp(e.data, ar, size))
				abort();
		}
		vt_buf_free(&b);
	}
	return 0;
}
