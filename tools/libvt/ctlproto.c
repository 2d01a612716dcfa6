// SPDX-License-Identifier: GPL-2.0
/* The vhost-traced control protocol: request words, reply framing. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"
#include "vt_reply.h"

/* Bytes that stand for themselves in a word. */
static int plain(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '%';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ctl_add_word(struct vt_buf *b, const char *word)
{
	const unsigned char *s = (const unsigned char *)word;
	int err = 0;

	if (b->len)
		err = vt_buf_append(b, " ", 1);
	if (!*s)
		return err ? err : vt_buf_append(b, "%-", 2);
	if (!strcmp(word, "--"))	/* not the separator */
		return err ? err : vt_buf_append(b, "%2D-", 4);
	for (; *s && !err; s++) {
		if (plain(*s))
			err = vt_buf_append(b, s, 1);
		else
			err = vt_buf_printf(b, "%%%02X", *s);
	}
	return err;
}

/* Decodes one word of len bytes; NULL with errno set on error. */
static char *decode(const char *w, size_t len)
{
	char *out, *o;
	size_t i;

	if (len == 2 && !memcmp(w, "%-", 2))
		return strdup("");
	out = malloc(len + 1);
	if (!out)
		return NULL;
	for (i = 0, o = out; i < len; i++) {
		int hi, lo;

		if (w[i] != '%') {
			*o++ = w[i];
			continue;
		}
		if (i + 2 >= len)
			goto bad;
		hi = hexval(w[i + 1]);
		lo = hexval(w[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			goto bad;
		*o++ = hi << 4 | lo;
		i += 2;
	}
	*o = 0;
	return out;
bad:
	free(out);
	errno = EINVAL;
	return NULL;
}

void ctl_req_free(struct ctl_req *req)
{
	int i;

	for (i = 0; i < req->argc; i++)
		free(req->argv[i]);
	for (i = 0; i < req->nextra; i++)
		free(req->extra[i]);
	free(req->argv);
	free(req->extra);
	memset(req, 0, sizeof(*req));
}

int ctl_parse(const char *line, size_t len, struct ctl_req *req)
{
	char **words;
	int n = 0, i, dash = -1;
	size_t pos = 0;

	memset(req, 0, sizeof(*req));
	if (len >= CTL_MAX_LINE)
		return -E2BIG;
	if (len && line[len - 1] == '\r')
		len--;
	words = calloc(CTL_MAX_WORDS, sizeof(*words));
	if (!words)
		return -ENOMEM;
	while (pos < len) {
		size_t start;

		if (line[pos] == ' ' || line[pos] == '\t') {
			pos++;
			continue;
		}
		start = pos;
		while (pos < len && line[pos] != ' ' && line[pos] != '\t') {
			if (!plain(line[pos]) && line[pos] != '%')
				goto inval;
			pos++;
		}
		if (n == CTL_MAX_WORDS)
			goto inval;
		if (dash < 0 && pos - start == 2 && !memcmp(line + start, "--", 2)) {
			dash = n;
			continue;
		}
		words[n] = decode(line + start, pos - start);
		if (!words[n]) {
			int err = -errno;

			for (i = 0; i < n; i++)
				free(words[i]);
			free(words);
			return err;
		}
		n++;
	}
	if (!n || dash == 0)
		goto inval;
	if (dash < 0)
		dash = n;
	req->argc = dash;
	req->argv = calloc(dash + 1, sizeof(char *));
	req->nextra = n - dash;
	req->extra = calloc(n - dash + 1, sizeof(char *));
	if (!req->argv || !req->extra) {
		for (i = 0; i < n; i++)
			free(words[i]);
		free(words);
		free(req->argv);
		free(req->extra);
		memset(req, 0, sizeof(*req));
		return -ENOMEM;
	}
	memcpy(req->argv, words, dash * sizeof(char *));
	memcpy(req->extra, words + dash, (n - dash) * sizeof(char *));
	free(words);
	return 0;
inval:
	for (i = 0; i < n; i++)
		free(words[i]);
	free(words);
	return -EINVAL;
}

const char *ctl_get(const struct ctl_req *req, const char *key)
{
	size_t klen = strlen(key);
	int i;

	for (i = 1; i < req->argc; i++)
		if (!strncmp(req->argv[i], key, klen) && req->argv[i][klen] == '=')
			return req->argv[i] + klen + 1;
	return NULL;
}

int ctl_check_keys(const struct ctl_req *req, const char *const *keys,
		   const char **bad)
{
	int i, k;

	for (i = 1; i < req->argc; i++) {
		const char *eq = strchr(req->argv[i], '=');
		size_t klen = eq ? (size_t)(eq - req->argv[i]) : 0;

		for (k = 0; eq && keys[k]; k++)
			if (strlen(keys[k]) == klen &&
			    !strncmp(keys[k], req->argv[i], klen))
				break;
		if (!eq || !keys[k]) {
			*bad = req->argv[i];
			return -EINVAL;
		}
	}
	return 0;
}

int ctl_reply(struct vt_buf *out, int ok, const void *body, size_t len)
{
	char hdr[32];

	if (vt_buf_append(out, hdr, vt_reply_header(hdr, sizeof(hdr), ok, len)))
		return -ENOMEM;
	return vt_buf_append(out, body, len);
}

int ctl_parse_reply_header(const char *line, int *ok, size_t *len)
{
	return vt_reply_parse(line, CTL_MAX_BODY, ok, len);
}

const char *ctl_body_get(const char *body, const char *key, char *val,
			 size_t vlen)
{
	size_t klen = strlen(key);
	const char *l = body;

	while (l && *l) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);

		if (n > klen && !strncmp(l, key, klen) && l[klen] == '=') {
			n -= klen + 1;
			if (n >= vlen)
				n = vlen - 1;
			memcpy(val, l + klen + 1, n);
			val[n] = 0;
			return val;
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}
