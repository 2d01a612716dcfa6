// SPDX-License-Identifier: GPL-2.0
/* cpio "newc" writer and reader for metadata archives. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vt_cpio.h"

#define NEWC_MAGIC	"070701"
#define NEWC_HDR	110
#define TRAILER		"TRAILER!!!"

static size_t pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

static int add_entry(struct vt_buf *b, const char *name, unsigned int mode,
		     const void *data, size_t len)
{
	static const char zeros[4];
	static unsigned int ino = 1;
	char hdr[NEWC_HDR + 1];
	size_t nlen = strlen(name) + 1;

	if (len > 0xffffffffu || nlen > VT_CPIO_MAX_NAME)
		return -EINVAL;
	snprintf(hdr, sizeof(hdr),
		 "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X",
		 NEWC_MAGIC, ino++, mode, 0, 0, 1, 0, (unsigned int)len,
		 0, 0, 0, 0, nlen, 0);
	if (vt_buf_append(b, hdr, NEWC_HDR) ||
	    vt_buf_append(b, name, nlen) ||
	    vt_buf_append(b, zeros, pad4(NEWC_HDR + nlen)) ||
	    vt_buf_append(b, data, len) ||
	    vt_buf_append(b, zeros, pad4(len)))
		return -ENOMEM;
	return 0;
}

int vt_cpio_add(struct vt_buf *b, const char *name, const void *data, size_t len)
{
	if (!vt_cpio_path_ok(name))
		return -EINVAL;
	return add_entry(b, name, 0100644, data, len);
}

int vt_cpio_finish(struct vt_buf *b)
{
	return add_entry(b, TRAILER, 0, "", 0);
}

int vt_cpio_path_ok(const char *name)
{
	const char *p = name;

	if (!*name || *name == '/' || strlen(name) >= VT_CPIO_MAX_NAME)
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/') {
			p++;
			if (!*p)
				return 0;
		}
	}
	return 1;
}

static int hex8(const char *s, unsigned int *v)
{
	unsigned int r = 0;
	int i;

	for (i = 0; i < 8; i++) {
		char c = s[i];

		r <<= 4;
		if (c >= '0' && c <= '9')
			r |= c - '0';
		else if (c >= 'a' && c <= 'f')
			r |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			r |= c - 'A' + 10;
		else
			return -EINVAL;
	}
	*v = r;
	return 0;
}

int vt_cpio_next(const char *ar, size_t len, size_t *off, struct vt_cpio_entry *e)
{
	unsigned int f[13];
	size_t o = *off, nlen, size;
	int i;

	if (o > len || len - o < NEWC_HDR || memcmp(ar + o, NEWC_MAGIC, 6))
		return -EINVAL;
	for (i = 0; i < 13; i++)
		if (hex8(ar + o + 6 + 8 * i, &f[i]))
			return -EINVAL;
	e->mode = f[1];
	size = f[6];
	nlen = f[11];
	if (nlen < 2 || nlen > VT_CPIO_MAX_NAME)
		return -EINVAL;
	o += NEWC_HDR;
	if (len - o < nlen || ar[o + nlen - 1] != '\0' ||
	    memchr(ar + o, '\0', nlen - 1))
		return -EINVAL;
	memcpy(e->name, ar + o, nlen);
	o += nlen + pad4(NEWC_HDR + nlen);
	if (o > len || len - o < size)
		return -EINVAL;
	e->data = ar + o;
	e->size = size;
	o += size + pad4(size);
	if (!strcmp(e->name, TRAILER)) {
		*off = o > len ? len : o;
		return 0;
	}
	if ((e->mode & 0170000) != 0100000 || !vt_cpio_path_ok(e->name))
		return -EINVAL;
	*off = o > len ? len : o;
	return 1;
}
