/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vhost-traced control protocol (see tools/traced/PROTOCOL): request lines of
 * escaped words, replies "ok LEN\n" / "err LEN\n" followed by a body.
 * Shared by the daemon and the vhost-trace CLI.
 */
#ifndef VT_CTLPROTO_H
#define VT_CTLPROTO_H

#include <stdarg.h>
#include <stddef.h>

#include "vt_buf.h"

#define CTL_PROTO_VERSION	1
#define CTL_MAX_LINE		65536		/* request line, "\n" included */
#define CTL_MAX_BODY		(16 << 20)	/* reply body */
#define CTL_MAX_WORDS		1024

/* A parsed request: decoded words; words before "--" may be KEY=VALUE. */
struct ctl_req {
	int argc;		/* words before "--" (argv[0] is the command) */
	char **argv;
	int nextra;		/* words after "--" (a command line) */
	char **extra;
};

/*
 * Parses one request line (without its "\n"; a trailing "\r" is allowed).
 * Returns 0, -EINVAL (empty line, bad escape, control byte, a NUL in a
 * word, too many words), -E2BIG (line too long) or -ENOMEM.
 */
int ctl_parse(const char *line, size_t len, struct ctl_req *req);
void ctl_req_free(struct ctl_req *req);
/* The value of KEY=VALUE among the words before "--", or NULL. */
const char *ctl_get(const struct ctl_req *req, const char *key);
/* Every KEY=VALUE word and the command must be in the NULL ended list. */
int ctl_check_keys(const struct ctl_req *req, const char *const *keys,
		   const char **bad);

/* Appends word escaped (and a separating blank if b is not empty). */
int ctl_add_word(struct vt_buf *b, const char *word);

/* Reply framing (vt_reply.h), bodies of at most CTL_MAX_BODY. */
int ctl_reply(struct vt_buf *out, int ok, const void *body, size_t len);
/*
 * Parses a reply header line (without "\n"): *ok 1 for "ok", 0 for "err".
 * Returns 0 or -EINVAL.
 */
int ctl_parse_reply_header(const char *line, int *ok, size_t *len);

/* Body helpers: "KEY=VALUE" lines. */
const char *ctl_body_get(const char *body, const char *key, char *val,
			 size_t vlen);

#endif
