// SPDX-License-Identifier: GPL-2.0
/*
 * The info file of a metadata directory: key=value lines, '#' comments.
 *
 *	cpus=4			CPUs of the traced machine
 *	page_size=4096		ring-buffer page size
 *	long_size=8		user-space long of the traced machine
 *	trace_clock=local	or the tracefs content "[local] global ..."
 *	uname=Linux guest 6.1.0-56-amd64 #1 SMP ... x86_64
 *	kernel_release=6.1.0-56-amd64
 *	version=...		tool that recorded the pages
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int set_str(char **dst, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int parse_uint(const char *key, const char *value, unsigned long min,
		      unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(value, &end, 0);
	if (errno || end == value || *end || *out < min || *out > max) {
		td_err("info: %s=%s: expected a number from %lu to %lu",
		       key, value, min, max);
		return -EINVAL;
	}
	return 0;
}

/* "local", "[local]" or "[local] global counter" -> "local" */
static int set_clock(struct td_info *info, const char *value)
{
	const char *p = strchr(value, '[');
	char name[64];
	size_t n;

	if (p) {
		value = p + 1;
		n = strcspn(value, "]");
	} else {
		while (isspace((unsigned char)*value))
			value++;
		n = strcspn(value, " \t\n");
	}
	if (!n || n >= sizeof(name)) {
		td_err("info: trace_clock: no clock name in '%s'", value);
		return -EINVAL;
	}
	memcpy(name, value, n);
	name[n] = '\0';
	return set_str(&info->trace_clock, name);
}

int td_info_set(struct td_info *info, const char *key, const char *value)
{
	unsigned long v;
	int ret;

	if (!strcmp(key, "cpus")) {
		ret = parse_uint(key, value, 1, TD_MAX_CPUS, &v);
		if (!ret)
			info->cpus = v;
		return ret;
	}
	if (!strcmp(key, "page_size")) {
		ret = parse_uint(key, value, 64, 1 << 24, &v);
		if (!ret && (v & (v - 1))) {
			td_err("info: page_size=%s: not a power of two", value);
			ret = -EINVAL;
		}
		if (!ret)
			info->page_size = v;
		return ret;
	}
	if (!strcmp(key, "long_size")) {
		ret = parse_uint(key, value, 4, 8, &v);
		if (!ret && v != 4 && v != 8) {
			td_err("info: long_size=%s: must be 4 or 8", value);
			ret = -EINVAL;
		}
		if (!ret)
			info->long_size = v;
		return ret;
	}
	if (!strcmp(key, "trace_clock"))
		return set_clock(info, value);
	if (!strcmp(key, "uname"))
		return set_str(&info->uname, value);
	if (!strcmp(key, "kernel_release"))
		return set_str(&info->release, value);
	if (!strcmp(key, "version"))
		return set_str(&info->version, value);
	td_warn("info: unknown key '%s' ignored", key);
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int td_info_load(struct td_info *info, const char *path)
{
	char line[4096], *eq, *key;
	int lineno = 0, ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		td_err("%s: %s", path, strerror(errno));
		return ret;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		lineno++;
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			td_err("%s:%d: expected key=value", path, lineno);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		ret = td_info_set(info, trim(key), trim(eq + 1));
		if (ret)
			td_err("%s:%d: bad line", path, lineno);
	}
	fclose(f);
	return ret;
}
