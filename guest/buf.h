/* SPDX-License-Identifier: GPL-2.0 */
/* A growable byte buffer. */
#ifndef VT_BUF_H
#define VT_BUF_H

#include <stddef.h>

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

int buf_reserve(struct buf *b, size_t more);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_read_fd(struct buf *b, int fd);
int buf_read_file(struct buf *b, const char *path);
void buf_free(struct buf *b);

#endif
