/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Metadata archives: cpio "newc" (SVR4, no CRC), the format of initramfs,
 * so `cpio -id` unpacks one too. Regular files only; directories are
 * implied by the paths.
 */
#ifndef VT_CPIO_H
#define VT_CPIO_H

#include <stddef.h>

#include "vt_buf.h"

#define VT_CPIO_MAX_NAME	512

struct vt_cpio_entry {
	char name[VT_CPIO_MAX_NAME];
	const char *data;
	size_t size;
	unsigned int mode;
};

int vt_cpio_add(struct vt_buf *b, const char *name, const void *data, size_t len);
int vt_cpio_finish(struct vt_buf *b);

/*
 * Walks an archive: *off starts at 0. Returns 1 and fills e for each
 * file, 0 at the trailer, -EINVAL on a malformed or unsafe archive.
 */
int vt_cpio_next(const char *ar, size_t len, size_t *off, struct vt_cpio_entry *e);

/* A relative path without "..", "." or empty components. */
int vt_cpio_path_ok(const char *name);

#endif
