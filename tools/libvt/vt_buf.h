/* SPDX-License-Identifier: GPL-2.0 */
/* A growable byte buffer, kept NUL-terminated; { 0 } is an empty one. */
#ifndef VT_BUF_H
#define VT_BUF_H

#include <stddef.h>
#include <stdint.h>

struct vt_buf {
	char *p;
	size_t len;
	size_t cap;
	int err;	/* sticky: -ENOMEM once a growth failed */
};

void vt_buf_init(struct vt_buf *b);
int vt_buf_reserve(struct vt_buf *b, size_t more);
int vt_buf_append(struct vt_buf *b, const void *data, size_t len);
int vt_buf_printf(struct vt_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int vt_buf_read_fd(struct vt_buf *b, int fd);
/* A regular file, last component no link, never waits on a FIFO. */
int vt_buf_read_file(struct vt_buf *b, const char *path);
void vt_buf_free(struct vt_buf *b);

/*
 * Writers for binary formats: after a failure (b->err) they do nothing,
 * so a caller checks b->err once at the end. Integers little-endian.
 */
void vt_buf_put(struct vt_buf *b, const void *data, size_t len);
void vt_buf_put_str(struct vt_buf *b, const char *s);	/* with its NUL */
void vt_buf_put_u16(struct vt_buf *b, uint16_t v);
void vt_buf_put_u32(struct vt_buf *b, uint32_t v);
void vt_buf_put_u64(struct vt_buf *b, uint64_t v);
/* Overwrites 4 bytes at at (within len). */
void vt_buf_set_u32(struct vt_buf *b, size_t at, uint32_t v);

#endif
