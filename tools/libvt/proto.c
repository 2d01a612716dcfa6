// SPDX-License-Identifier: GPL-2.0
/* The agent control protocol: parsing and formatting only (see guest/PROTOCOL). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vt_proto.h"

static const struct {
	const char *name;
	enum vt_proto_cmd cmd;
	int min_args;
	int max_args;
} cmds[] = {
	{ "1",		VT_CMD_LEGACY_START,	0, 0 },
	{ "0",		VT_CMD_LEGACY_STOP,	0, 0 },
	{ "hello",	VT_CMD_HELLO,		1, 1 },
	{ "info",	VT_CMD_INFO,		0, 0 },
	{ "clock",	VT_CMD_CLOCK,		0, 1 },
	{ "events",	VT_CMD_EVENTS,		0, VT_PROTO_MAX_ARGS },
	{ "set",	VT_CMD_SET,		2, 2 },
	{ "meta",	VT_CMD_META,		0, 0 },
	{ "stats",	VT_CMD_STATS,		0, 0 },
	{ "start",	VT_CMD_START,		0, 0 },
	{ "stop",	VT_CMD_STOP,		0, 0 },
	{ "reset",	VT_CMD_RESET,		0, 0 },
	{ "quit",	VT_CMD_QUIT,		0, 0 },
};

size_t vt_proto_lines_feed(struct vt_proto_lines *pl, const char *data, size_t len,
			   char *line, int *got)
{
	size_t i;

	*got = 0;
	for (i = 0; i < len; i++) {
		char c = data[i];

		if (c != '\n') {
			if (pl->len + 1 >= sizeof(pl->buf))
				pl->overflow = 1;
			else
				pl->buf[pl->len++] = c;
			continue;
		}
		if (pl->overflow) {
			*got = -1;
		} else {
			if (pl->len && pl->buf[pl->len - 1] == '\r')
				pl->len--;
			memcpy(line, pl->buf, pl->len);
			line[pl->len] = '\0';
			*got = 1;
		}
		pl->len = 0;
		pl->overflow = 0;
		return i + 1;
	}
	return len;
}

const char *vt_proto_cmd_name(enum vt_proto_cmd cmd)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].cmd == cmd)
			return cmds[i].name;
	return "?";
}

int vt_proto_parse(const char *line, struct vt_proto_req *req, char *err,
		   size_t errsz)
{
	size_t len = strlen(line), i;
	char *save, *word;
	int n = 0;

	memset(req, 0, sizeof(*req));
	if (len >= sizeof(req->line)) {
		snprintf(err, errsz, "request longer than %d bytes",
			 VT_PROTO_MAX_LINE - 1);
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		if (!isprint((unsigned char)line[i]) && line[i] != '\t') {
			snprintf(err, errsz, "request has a non-printable byte 0x%02x",
				 (unsigned char)line[i]);
			return -EINVAL;
		}
	}
	memcpy(req->line, line, len + 1);

	for (word = strtok_r(req->line, " \t", &save); word;
	     word = strtok_r(NULL, " \t", &save)) {
		if (n == VT_PROTO_MAX_ARGS + 1) {
			snprintf(err, errsz, "more than %d arguments",
				 VT_PROTO_MAX_ARGS);
			return -EINVAL;
		}
		req->argv[n++] = word;
	}
	if (n == 0) {
		snprintf(err, errsz, "empty request");
		return -EINVAL;
	}

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(req->argv[0], cmds[i].name))
			continue;
		req->argc = n - 1;
		if (req->argc < cmds[i].min_args ||
		    req->argc > cmds[i].max_args) {
			snprintf(err, errsz, "%s takes %d to %d arguments, not %d",
				 cmds[i].name, cmds[i].min_args,
				 cmds[i].max_args, req->argc);
			return -EINVAL;
		}
		req->cmd = cmds[i].cmd;
		/* argv[0] was the command word: shift the arguments down */
		memmove(req->argv, req->argv + 1, req->argc * sizeof(char *));
		req->argv[req->argc] = NULL;
		return 0;
	}
	snprintf(err, errsz, "unknown command '%.40s'", req->argv[0]);
	return -EINVAL;
}

/* The agent protocol's reply framing, bounded by its body limit. */
int vt_proto_parse_reply(const char *line, int *ok, size_t *len)
{
	return vt_reply_parse(line, VT_PROTO_MAX_BODY, ok, len);
}

int vt_proto_stats_kv(const char *stats, char *out, size_t outsz)
{
	size_t o = strlen(out);
	int pairs = 0;
	const char *s = stats;

	while (*s) {
		const char *eol = strchr(s, '\n');
		const char *colon, *v, *ve;
		size_t klen, i;

		if (!eol)
			eol = s + strlen(s);
		colon = memchr(s, ':', eol - s);
		if (!colon || colon == s)
			goto next;
		v = colon + 1;
		while (v < eol && isspace((unsigned char)*v))
			v++;
		ve = eol;
		while (ve > v && isspace((unsigned char)ve[-1]))
			ve--;
		if (ve == v)
			goto next;
		klen = colon - s;
		if (o + klen + (ve - v) + 3 > outsz)
			return -ENOSPC;
		if (o && out[o - 1] != ' ')
			out[o++] = ' ';
		for (i = 0; i < klen; i++) {
			char c = tolower((unsigned char)s[i]);

			out[o++] = (c == ' ' || c == '=') ? '_' : c;
		}
		out[o++] = '=';
		for (; v < ve; v++)
			out[o++] = isspace((unsigned char)*v) ? '_' : *v;
		out[o] = '\0';
		pairs++;
next:
		s = *eol ? eol + 1 : eol;
	}
	return pairs;
}

int vt_proto_kv_get(const char *kv, const char *key, char *val, size_t valsz)
{
	size_t klen = strlen(key);
	const char *p = kv;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = strcspn(v, " \n");

			if (n >= valsz)
				n = valsz - 1;
			memcpy(val, v, n);
			val[n] = '\0';
			return 0;
		}
		p += strcspn(p, " ");
	}
	return -ENOENT;
}
