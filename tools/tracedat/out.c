// SPDX-License-Identifier: GPL-2.0
/* The output file: sequential writes with a sticky error, and patches. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static void out_fail(struct out *o, int err)
{
	if (o->err)
		return;
	o->err = err;
	td_err("%s: write failed: %s", o->name, strerror(-err));
}

void out_write(struct out *o, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (!o->err && len) {
		n = pwrite(o->fd, p, len, o->pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			out_fail(o, n < 0 ? -errno : -EIO);
			return;
		}
		p += n;
		len -= n;
		o->pos += n;
	}
}

void out_u16(struct out *o, uint16_t v)
{
	unsigned char le[2] = { v, v >> 8 };

	out_write(o, le, 2);
}

void out_u32(struct out *o, uint32_t v)
{
	unsigned char le[4] = { v, v >> 8, v >> 16, v >> 24 };

	out_write(o, le, 4);
}

void out_u64(struct out *o, uint64_t v)
{
	unsigned char le[8];
	int i;

	for (i = 0; i < 8; i++)
		le[i] = v >> (8 * i);
	out_write(o, le, 8);
}

/* Zero fill up to the next multiple of @align (a power of two). */
void out_pad_to(struct out *o, off_t align)
{
	static const char zero[4096];
	off_t end = (o->pos + align - 1) & ~(align - 1);

	while (!o->err && o->pos < end) {
		size_t n = end - o->pos;

		if (n > sizeof(zero))
			n = sizeof(zero);
		out_write(o, zero, n);
	}
}

static void out_patch(struct out *o, off_t at, const unsigned char *le, int n)
{
	off_t save = o->pos;

	o->pos = at;
	out_write(o, le, n);
	o->pos = save;
}

void out_patch_u64(struct out *o, off_t at, uint64_t v)
{
	unsigned char le[8];
	int i;

	for (i = 0; i < 8; i++)
		le[i] = v >> (8 * i);
	out_patch(o, at, le, 8);
}

void out_patch_u32(struct out *o, off_t at, uint32_t v)
{
	unsigned char le[4];
	int i;

	for (i = 0; i < 4; i++)
		le[i] = v >> (8 * i);
	out_patch(o, at, le, 4);
}
