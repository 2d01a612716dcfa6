// SPDX-License-Identifier: GPL-2.0
/* Just enough JSON for QMP (see json.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

static size_t skip_ws(const char *p, size_t len, size_t i)
{
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
			   p[i] == '\r'))
		i++;
	return i;
}

/* p[i] is '"': the index after the closing quote, 0 incomplete, -1 bad. */
static ssize_t string_end(const char *p, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		unsigned char c = p[i];

		if (c == '"')
			return i + 1;
		if (c < 0x20)
			return -1;
		if (c == '\\')
			i++;	/* checked when decoded */
	}
	return 0;
}

static int literal_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.';
}

ssize_t json_value_len(const char *p, size_t len)
{
	char stack[JSON_MAX_DEPTH];
	int depth = 0;
	size_t i = skip_ws(p, len, 0);
	ssize_t n;

	if (i == len)
		return 0;
	if (p[i] != '{' && p[i] != '[' && p[i] != '"') {
		if (!strchr("-0123456789tfn", p[i]))
			return -1;
		while (i < len && literal_char(p[i]))
			i++;
		return i == len ? 0 : (ssize_t)i;	/* a number may go on */
	}
	while (i < len) {
		char c = p[i];

		if (c == '"') {
			n = string_end(p, len, i);
			if (n <= 0)
				return n;
			i = n;
		} else if (c == '{' || c == '[') {
			if (depth == JSON_MAX_DEPTH)
				return -1;
			stack[depth++] = c == '{' ? '}' : ']';
			i++;
		} else if (c == '}' || c == ']') {
			if (!depth || stack[depth - 1] != c)
				return -1;
			i++;
			if (!--depth)
				return i;
		} else if (c == ',' || c == ':' || c == ' ' || c == '\t' ||
			   c == '\n' || c == '\r' || literal_char(c)) {
			i++;
		} else {
			return -1;
		}
		if (!depth)	/* a lone string */
			return i;
	}
	return 0;
}

int json_member(const char *obj, size_t len, const char *key,
		const char **val, size_t *vlen)
{
	size_t i = skip_ws(obj, len, 0), klen = strlen(key);
	ssize_t n, v;

	if (i >= len || obj[i] != '{')
		return -EINVAL;
	i = skip_ws(obj, len, i + 1);
	if (i < len && obj[i] == '}')
		return -ENOENT;
	for (;;) {
		size_t kstart = i + 1;

		if (i >= len || obj[i] != '"')
			return -EINVAL;
		n = string_end(obj, len, i);
		if (n <= 0)
			return -EINVAL;
		i = skip_ws(obj, len, n);
		if (i >= len || obj[i] != ':')
			return -EINVAL;
		i = skip_ws(obj, len, i + 1);
		v = json_value_len(obj + i, len - i);
		if (v <= 0)
			return -EINVAL;
		if ((size_t)n - kstart - 1 == klen &&
		    !memcmp(obj + kstart, key, klen)) {
			*val = obj + i;
			*vlen = v;
			return 0;
		}
		i = skip_ws(obj, len, i + v);
		if (i < len && obj[i] == '}')
			return -ENOENT;
		if (i >= len || obj[i] != ',')
			return -EINVAL;
		i = skip_ws(obj, len, i + 1);
	}
}

int json_array_count(const char *arr, size_t len)
{
	size_t i = skip_ws(arr, len, 0);
	int n = 0;
	ssize_t v;

	if (i >= len || arr[i] != '[')
		return -EINVAL;
	i = skip_ws(arr, len, i + 1);
	if (i < len && arr[i] == ']')
		return 0;
	for (;;) {
		v = json_value_len(arr + i, len - i);
		if (v <= 0)
			return -EINVAL;
		n++;
		i = skip_ws(arr, len, i + v);
		if (i < len && arr[i] == ']')
			return n;
		if (i >= len || arr[i] != ',')
			return -EINVAL;
		i = skip_ws(arr, len, i + 1);
	}
}

static int hex4(const char *p, uint32_t *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return -1;
	}
	return 0;
}

/* UTF-8 of code point cp into u; its length. */
static size_t utf8(uint32_t cp, char *u)
{
	if (cp < 0x80) {
		u[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = 0xc0 | cp >> 6;
		u[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = 0xe0 | cp >> 12;
		u[1] = 0x80 | ((cp >> 6) & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	u[0] = 0xf0 | cp >> 18;
	u[1] = 0x80 | ((cp >> 12) & 0x3f);
	u[2] = 0x80 | ((cp >> 6) & 0x3f);
	u[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* The escape at p[i] ('\\'): its code point, and how many bytes it took. */
static int unescape(const char *p, size_t end, size_t i, uint32_t *cp,
		    size_t *used)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	uint32_t lo;

	if (i + 1 >= end)
		return -EINVAL;
	e = strchr(from, p[i + 1]);
	if (e && p[i + 1]) {
		*cp = (unsigned char)to[e - from];
		*used = 2;
		return 0;
	}
	if (p[i + 1] != 'u' || i + 6 > end || hex4(p + i + 2, cp))
		return -EINVAL;
	*used = 6;
	if (*cp < 0xd800 || *cp > 0xdfff)
		return 0;
	/* a surrogate pair: high, then low */
	if (*cp > 0xdbff || i + 12 > end || p[i + 6] != '\\' ||
	    p[i + 7] != 'u' || hex4(p + i + 8, &lo) || lo < 0xdc00 ||
	    lo > 0xdfff)
		return -EINVAL;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	*used = 12;
	return 0;
}

int json_string(const char *val, size_t vlen, char *out, size_t outsz)
{
	size_t i, o = 0, end = vlen - 1, n;
	int cut = 0;

	if (!outsz)
		return -E2BIG;
	out[0] = '\0';
	if (vlen < 2 || val[0] != '"' || val[end] != '"')
		return -EINVAL;
	for (i = 1; i < end; ) {
		char u[4];
		uint32_t cp;
		size_t used = 1;

		if (val[i] == '\\') {
			if (unescape(val, end, i, &cp, &used))
				return -EINVAL;
			n = utf8(cp, u);
		} else if ((unsigned char)val[i] < 0x20) {
			return -EINVAL;
		} else {
			u[0] = val[i];
			n = 1;
		}
		i += used;
		if (cut || o + n >= outsz) {
			cut = 1;
			continue;
		}
		memcpy(out + o, u, n);
		o += n;
		out[o] = '\0';
	}
	return cut ? -E2BIG : 0;
}

int json_add_string(struct sbuf *b, const char *s)
{
	int err = sbuf_add(b, "\"", 1);

	for (; *s && !err; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			err = sbuf_printf(b, "\\%c", c);
		else if (c == '\n')
			err = sbuf_add(b, "\\n", 2);
		else if (c == '\t')
			err = sbuf_add(b, "\\t", 2);
		else if (c < 0x20)
			err = sbuf_printf(b, "\\u%04x", c);
		else
			err = sbuf_add(b, s, 1);
	}
	return err ? err : sbuf_add(b, "\"", 1);
}
