// SPDX-License-Identifier: GPL-2.0
/* A growable byte buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vt_buf.h"
#include "vt_le.h"

void vt_buf_init(struct vt_buf *b)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->err = 0;
}

int vt_buf_reserve(struct vt_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->len + more + 1 <= b->cap)
		return 0;
	while (cap < b->len + more + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* The buffer is kept NUL-terminated, so text can be used as a string. */
int vt_buf_append(struct vt_buf *b, const void *data, size_t len)
{
	if (vt_buf_reserve(b, len))
		return -ENOMEM;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

int vt_buf_printf(struct vt_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || vt_buf_reserve(b, n))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
	return 0;
}

/*
 * Read until end of file: tracefs files report a size of 0. Through a
 * chunk on the stack, so that a small file takes a small buffer.
 */
int vt_buf_read_fd(struct vt_buf *b, int fd)
{
	char chunk[16384];
	ssize_t n;

	if (vt_buf_reserve(b, 0))
		return -ENOMEM;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if (vt_buf_append(b, chunk, n))
			return -ENOMEM;
	}
	b->p[b->len] = '\0';
	return 0;
}

/*
 * A regular file only, not through a link in its last component, and
 * without waiting on a FIFO put in its place: the host reads files the
 * guest's metadata made (DIR/meta) this way.
 */
int vt_buf_read_file(struct vt_buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	int ret;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	ret = vt_buf_read_fd(b, fd);
	close(fd);
	return ret;
}

void vt_buf_free(struct vt_buf *b)
{
	free(b->p);
	vt_buf_init(b);
}

void vt_buf_put(struct vt_buf *b, const void *data, size_t len)
{
	if (!b->err && len)
		vt_buf_append(b, data, len);
}

void vt_buf_put_str(struct vt_buf *b, const char *s)
{
	vt_buf_put(b, s, strlen(s) + 1);
}

static void put_le(struct vt_buf *b, uint64_t v, int n)
{
	unsigned char le[8];

	vt_le_put(le, v, n);
	vt_buf_put(b, le, n);
}

void vt_buf_put_u16(struct vt_buf *b, uint16_t v)
{
	put_le(b, v, 2);
}

void vt_buf_put_u32(struct vt_buf *b, uint32_t v)
{
	put_le(b, v, 4);
}

void vt_buf_put_u64(struct vt_buf *b, uint64_t v)
{
	put_le(b, v, 8);
}

void vt_buf_set_u32(struct vt_buf *b, size_t at, uint32_t v)
{
	if (!b->err && at + 4 <= b->len)
		vt_le_put((unsigned char *)b->p + at, v, 4);
}
