/* SPDX-License-Identifier: GPL-2.0 */
/* Unpacks the agent's metadata archive into a tracefs-like directory. */
#ifndef VT_METADIR_H
#define VT_METADIR_H

#include <stddef.h>

/* Returns the number of files written, or a negative error (msg in err). */
int vt_metadir_unpack(const char *ar, size_t len, const char *dir, char *err,
		      size_t errsz);

#endif
