// SPDX-License-Identifier: GPL-2.0
/* Growable byte buffer with little-endian encoders. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int buf_grow(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->err)
		return -1;
	if (b->len + need <= b->cap)
		return 0;
	while (cap < b->len + need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->err = -ENOMEM;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void buf_put(struct buf *b, const void *data, size_t len)
{
	if (!len || buf_grow(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void buf_put_str(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s) + 1);
}

void buf_put_u16(struct buf *b, uint16_t v)
{
	unsigned char le[2] = { v, v >> 8 };

	buf_put(b, le, 2);
}

void buf_put_u32(struct buf *b, uint32_t v)
{
	unsigned char le[4];
	int i;

	for (i = 0; i < 4; i++)
		le[i] = v >> (8 * i);
	buf_put(b, le, 4);
}

void buf_put_u64(struct buf *b, uint64_t v)
{
	unsigned char le[8];
	int i;

	for (i = 0; i < 8; i++)
		le[i] = v >> (8 * i);
	buf_put(b, le, 8);
}

void buf_set_u32(struct buf *b, size_t at, uint32_t v)
{
	int i;

	if (b->err || at + 4 > b->len)
		return;
	for (i = 0; i < 4; i++)
		b->data[at + i] = v >> (8 * i);
}

void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Read a whole file; tracefs files report size 0, so read to EOF. */
int buf_read_file(struct buf *b, const char *path)
{
	char chunk[16384];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		buf_put(b, chunk, n);
	}
	close(fd);
	return b->err;
}
