// SPDX-License-Identifier: GPL-2.0
/* The output file: sequential writes with a sticky error, and patches. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static void td_out_fail(struct td_out *o, int err)
{
	if (o->err)
		return;
	o->err = err;
	td_err("%s: write failed: %s", o->name, strerror(-err));
}

void td_out_write(struct td_out *o, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (!o->err && len) {
		n = pwrite(o->fd, p, len, o->pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			td_out_fail(o, n < 0 ? -errno : -EIO);
			return;
		}
		p += n;
		len -= n;
		o->pos += n;
	}
}

/* v as n little-endian bytes (n <= 8) */
void td_out_le(struct td_out *o, uint64_t v, int n)
{
	unsigned char le[8];

	vt_le_put(le, v, n);
	td_out_write(o, le, n);
}

/* Zero fill up to the next multiple of @align (a power of two). */
void td_out_pad_to(struct td_out *o, off_t align)
{
	static const char zero[4096];
	off_t end = (o->pos + align - 1) & ~(align - 1);

	while (!o->err && o->pos < end) {
		size_t n = end - o->pos;

		if (n > sizeof(zero))
			n = sizeof(zero);
		td_out_write(o, zero, n);
	}
}

static void td_out_patch(struct td_out *o, off_t at, uint64_t v, int n)
{
	unsigned char le[8];
	off_t save = o->pos;

	vt_le_put(le, v, n);
	o->pos = at;
	td_out_write(o, le, n);
	o->pos = save;
}

void td_out_patch_u64(struct td_out *o, off_t at, uint64_t v)
{
	td_out_patch(o, at, v, 8);
}

void td_out_patch_u32(struct td_out *o, off_t at, uint32_t v)
{
	td_out_patch(o, at, v, 4);
}
