// SPDX-License-Identifier: GPL-2.0
/*
 * The metadata a trace.dat needs, packed as a cpio archive whose paths
 * mirror tracefs: events/header_page, events/header_event,
 * events/<system>/<event>/format (ftrace's own and the enabled events'),
 * printk_formats, saved_cmdlines, trace_clock, and kallsyms (/proc).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "vt_cpio.h"

static int add_file(struct vt_buf *out, const char *name, const char *src,
		    int required, char *err, size_t errsz)
{
	struct vt_buf b = { 0 };
	int ret = vt_buf_read_file(&b, src);

	if (ret) {
		vt_buf_free(&b);
		if (!required)
			return 0;
		snprintf(err, errsz, "cannot read %s: %s", src, strerror(-ret));
		return ret;
	}
	ret = vt_cpio_add(out, name, b.p ? b.p : "", b.len);
	vt_buf_free(&b);
	if (ret)
		snprintf(err, errsz, "cannot pack %s", name);
	return ret;
}

static int add_tracefs(struct vt_buf *out, const char *rel, int required,
		       char *err, size_t errsz)
{
	char p[512];

	if (tracefs_path(p, sizeof(p), rel))
		return -ENAMETOOLONG;
	return add_file(out, rel, p, required, err, errsz);
}

static int add_event(struct vt_buf *out, const char *sys, const char *ev,
		     char *err, size_t errsz)
{
	char rel[300];

	snprintf(rel, sizeof(rel), "events/%s/%s/format", sys, ev);
	return add_tracefs(out, rel, 1, err, errsz);
}

/* Every event of the ftrace system: trace-cmd always records these. */
static int add_ftrace_events(struct vt_buf *out, char *err, size_t errsz)
{
	char p[512];
	struct dirent *d;
	DIR *dir;
	int ret = 0;

	if (tracefs_path(p, sizeof(p), "events/ftrace"))
		return -ENAMETOOLONG;
	dir = opendir(p);
	if (!dir)
		return 0;
	while (!ret && (d = readdir(dir))) {
		char f[800];

		if (d->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s/format", p, d->d_name);
		if (access(f, R_OK))
			continue;
		ret = add_event(out, "ftrace", d->d_name, err, errsz);
	}
	closedir(dir);
	return ret;
}

/* set_event lists the enabled events, one "system:event" a line. */
static int add_enabled_events(struct vt_buf *out, char *err, size_t errsz)
{
	struct vt_buf set = { 0 };
	char *line, *save;
	int ret = tracefs_read("set_event", &set);

	if (ret) {
		snprintf(err, errsz, "cannot read set_event: %s", strerror(-ret));
		return ret;
	}
	for (line = strtok_r(set.p, "\n", &save); !ret && line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		if (!strcmp(line, "ftrace"))
			continue;	/* already there */
		ret = add_event(out, line, colon + 1, err, errsz);
	}
	vt_buf_free(&set);
	return ret;
}

int meta_pack(struct vt_buf *out, char *err, size_t errsz)
{
	int ret;

	ret = add_tracefs(out, "events/header_page", 1, err, errsz);
	if (!ret)
		ret = add_tracefs(out, "events/header_event", 1, err, errsz);
	if (!ret)
		ret = add_ftrace_events(out, err, errsz);
	if (!ret)
		ret = add_enabled_events(out, err, errsz);
	if (!ret)
		ret = add_tracefs(out, "printk_formats", 1, err, errsz);
	if (!ret)
		ret = add_tracefs(out, "saved_cmdlines", 1, err, errsz);
	if (!ret)
		ret = add_tracefs(out, "trace_clock", 1, err, errsz);
	if (!ret)
		ret = add_file(out, "kallsyms", "/proc/kallsyms", 0, err, errsz);
	if (!ret)
		ret = vt_cpio_finish(out);
	return ret;
}
