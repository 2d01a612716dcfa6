/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reply framing shared by the agent protocol (guest/PROTOCOL) and the
 * daemon's control protocol (tools/traced/PROTOCOL): a header line
 * "ok LEN\n" or "err LEN\n", then LEN bytes of body.
 */
#ifndef VT_REPLY_H
#define VT_REPLY_H

#include <stddef.h>

/* Formats the header into out; returns its length (as snprintf). */
int vt_reply_header(char *out, size_t outsz, int ok, size_t len);

/*
 * Parses a header line (without "\n"): *ok 1 for "ok", 0 for "err", and
 * a body length of at most max. Returns 0 or -EINVAL.
 */
int vt_reply_parse(const char *line, size_t max, int *ok, size_t *len);

#endif
