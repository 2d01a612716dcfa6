/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Metadata archives: cpio "newc" (SVR4, no CRC), the format of initramfs,
 * so `cpio -id` unpacks one too. Regular files only; directories are
 * implied by the paths.
 */
#ifndef VT_CPIO_H
#define VT_CPIO_H

#include <stddef.h>

#include "buf.h"

#define CPIO_MAX_NAME	512

struct cpio_entry {
	char name[CPIO_MAX_NAME];
	const char *data;
	size_t size;
	unsigned int mode;
};

int cpio_add(struct buf *b, const char *name, const void *data, size_t len);
int cpio_finish(struct buf *b);

/*
 * Walks an archive: *off starts at 0. Returns 1 and fills e for each
 * file, 0 at the trailer, -EINVAL on a malformed or unsafe archive.
 */
int cpio_next(const char *ar, size_t len, size_t *off, struct cpio_entry *e);

/* A relative path without "..", "." or empty components. */
int cpio_path_ok(const char *name);

#endif
