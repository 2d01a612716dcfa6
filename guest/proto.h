/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent control protocol (see PROTOCOL): request lines, reply headers
 * and the conversion of tracefs statistics. Shared by the guest agent and
 * the host tool agent-ctl; no I/O here.
 */
#ifndef VT_PROTO_H
#define VT_PROTO_H

#include <stddef.h>

#define PROTO_VERSION		1
#define PROTO_MAX_LINE		1024
#define PROTO_MAX_ARGS		32
#define PROTO_MAX_BODY		(256u << 20)

enum proto_cmd {
	CMD_NONE = 0,
	CMD_LEGACY_START,	/* "1" */
	CMD_LEGACY_STOP,	/* "0" */
	CMD_HELLO,
	CMD_INFO,
	CMD_CLOCK,
	CMD_EVENTS,
	CMD_SET,
	CMD_META,
	CMD_STATS,
	CMD_START,
	CMD_STOP,
	CMD_RESET,
	CMD_QUIT,
};

struct proto_req {
	enum proto_cmd cmd;
	int argc;			/* arguments after the command */
	char *argv[PROTO_MAX_ARGS + 2];
	char line[PROTO_MAX_LINE];	/* argv points in here */
};

/* Line assembly from a byte stream. */
struct proto_lines {
	char buf[PROTO_MAX_LINE];
	size_t len;
	int overflow;		/* current line too long: discard to '\n' */
};

/*
 * Feed bytes; returns how many were used. When a whole line is complete,
 * it is copied NUL-terminated (without "\n" or "\r\n") to line and *got
 * is set: 1 a line, -1 a line that was too long (discarded).
 */
size_t proto_lines_feed(struct proto_lines *pl, const char *data, size_t len,
			char *line, int *got);

/* 0, or -EINVAL with a message in err (size errsz). */
int proto_parse(const char *line, struct proto_req *req, char *err,
		size_t errsz);
const char *proto_cmd_name(enum proto_cmd cmd);

/* "ok LEN\n" or "err LEN\n"; returns its length. */
int proto_reply_header(char *out, size_t outsz, int ok, size_t len);
/* Parses a reply header line (no "\n"); 0 or -EINVAL. */
int proto_parse_reply(const char *line, int *ok, size_t *len);

/*
 * per_cpu/cpuN/stats ("entries: 3\ncommit overrun: 0\n...") to one line
 * of key=value words ("entries=3 commit_overrun=0 ..."), appended to out.
 * Returns the number of pairs, or -ENOSPC.
 */
int proto_stats_kv(const char *stats, char *out, size_t outsz);

/* Looks up KEY in a line of key=value words; 0 or -ENOENT. */
int proto_kv_get(const char *kv, const char *key, char *val, size_t valsz);

#endif
