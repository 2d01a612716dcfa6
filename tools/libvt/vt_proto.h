/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent control protocol (see guest/PROTOCOL): request lines, reply headers
 * and the conversion of tracefs statistics. Shared by the guest agent and
 * the host tool agent-ctl; no I/O here.
 */
#ifndef VT_PROTO_H
#define VT_PROTO_H

#include <stddef.h>

#include "vt_reply.h"

#define VT_PROTO_VERSION		1
#define VT_PROTO_MAX_LINE		1024
#define VT_PROTO_MAX_ARGS		32
#define VT_PROTO_MAX_BODY		(256u << 20)

enum vt_proto_cmd {
	VT_CMD_NONE = 0,
	VT_CMD_LEGACY_START,	/* "1" */
	VT_CMD_LEGACY_STOP,	/* "0" */
	VT_CMD_HELLO,
	VT_CMD_INFO,
	VT_CMD_CLOCK,
	VT_CMD_EVENTS,
	VT_CMD_SET,
	VT_CMD_META,
	VT_CMD_STATS,
	VT_CMD_START,
	VT_CMD_STOP,
	VT_CMD_RESET,
	VT_CMD_QUIT,
};

struct vt_proto_req {
	enum vt_proto_cmd cmd;
	int argc;			/* arguments after the command */
	char *argv[VT_PROTO_MAX_ARGS + 2];
	char line[VT_PROTO_MAX_LINE];	/* argv points in here */
};

/* Line assembly from a byte stream. */
struct vt_proto_lines {
	char buf[VT_PROTO_MAX_LINE];
	size_t len;
	int overflow;		/* current line too long: discard to '\n' */
};

/*
 * Feed bytes; returns how many were used. When a whole line is complete,
 * it is copied NUL-terminated (without "\n" or "\r\n") to line and *got
 * is set: 1 a line, -1 a line that was too long (discarded).
 */
size_t vt_proto_lines_feed(struct vt_proto_lines *pl, const char *data, size_t len,
			   char *line, int *got);

/* 0, or -EINVAL with a message in err (size errsz). */
int vt_proto_parse(const char *line, struct vt_proto_req *req, char *err,
		   size_t errsz);
const char *vt_proto_cmd_name(enum vt_proto_cmd cmd);

/*
 * Parses a reply header line (no "\n") whose body is at most
 * VT_PROTO_MAX_BODY; 0 or -EINVAL. The framing itself: vt_reply.h.
 */
int vt_proto_parse_reply(const char *line, int *ok, size_t *len);

/*
 * per_cpu/cpuN/stats ("entries: 3\ncommit overrun: 0\n...") to one line
 * of key=value words ("entries=3 commit_overrun=0 ..."), appended to out.
 * Returns the number of pairs, or -ENOSPC.
 */
int vt_proto_stats_kv(const char *stats, char *out, size_t outsz);

/* Looks up KEY in a line of key=value words; 0 or -ENOENT. */
int vt_proto_kv_get(const char *kv, const char *key, char *val, size_t valsz);

#endif
