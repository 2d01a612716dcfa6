// SPDX-License-Identifier: GPL-2.0
/*
 * The metadata directory: a copy of the parts of the guest's tracefs that
 * a trace.dat carries.
 *
 *	header_page, header_event	required (or under events/)
 *	events/<system>/<event>/format	at least one; ftrace's own under
 *					events/ftrace/
 *	kallsyms, printk_formats,
 *	saved_cmdlines			optional
 *	trace_clock			optional, tracefs content ("[local] ...")
 *	info				optional, key=value lines (info.c)
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* snprintf into a PATH_MAX buffer; a too-long path is an error */
static int __attribute__((format(printf, 2, 3)))
mkpath(char *dst, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX) {
		td_err("path too long: %.64s...", dst);
		return -ENAMETOOLONG;
	}
	return 0;
}

static int read_opt(struct vt_buf *b, const char *dir, const char *name,
		    int *found)
{
	char path[PATH_MAX];
	int ret;

	ret = mkpath(path, "%s/%s", dir, name);
	if (ret)
		return ret;
	ret = vt_buf_read_file(b, path);
	if (ret == -ENOENT) {
		*found = 0;
		return 0;
	}
	if (ret) {
		td_err("%s: %s", path, strerror(-ret));
		return ret;
	}
	*found = 1;
	return 0;
}

/* header_page and header_event: in the directory itself or under events/ */
static int read_header(struct vt_buf *b, const char *dir, const char *name)
{
	char sub[64];
	int found, ret;

	ret = read_opt(b, dir, name, &found);
	if (ret || found)
		return ret;
	snprintf(sub, sizeof(sub), "events/%s", name);
	ret = read_opt(b, dir, sub, &found);
	if (ret || found)
		return ret;
	td_err("%s: missing %s (copy events/%s from the traced machine's tracefs)",
	       dir, name, name);
	return -ENOENT;
}

static int is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the subdirectories of @path; NULL-terminated list. */
static char **list_dirs(const char *path, int *nr)
{
	char sub[PATH_MAX];
	char **names = NULL, **tmp;
	struct dirent *de;
	DIR *d;
	int n = 0;

	*nr = 0;
	d = opendir(path);
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (mkpath(sub, "%s/%s", path, de->d_name) || !is_dir(sub))
			continue;
		tmp = realloc(names, (n + 2) * sizeof(*names));
		if (!tmp)
			break;
		names = tmp;
		names[n] = strdup(de->d_name);
		if (!names[n])
			break;
		names[++n] = NULL;
	}
	closedir(d);
	if (names)
		qsort(names, n, sizeof(*names), cmp_name);
	*nr = n;
	return names;
}

static void free_names(char **names)
{
	char **p;

	for (p = names; p && *p; p++)
		free(*p);
	free(names);
}

static int add_format(struct td_format **list, int *nr, const char *sys,
		      const char *event, const char *path)
{
	struct td_format *tmp, *f;
	int ret;

	tmp = realloc(*list, (*nr + 1) * sizeof(**list));
	if (!tmp)
		return -ENOMEM;
	*list = tmp;
	f = &tmp[*nr];
	memset(f, 0, sizeof(*f));
	f->system = strdup(sys);
	f->event = strdup(event);
	ret = vt_buf_read_file(&f->text, path);
	if (!f->system || !f->event)
		ret = -ENOMEM;
	(*nr)++;
	if (ret)
		td_err("%s: %s", path, strerror(-ret));
	return ret;
}

static int load_formats(struct td_meta *m, const char *dir)
{
	char events[PATH_MAX], sysdir[PATH_MAX], fmt[PATH_MAX];
	char **systems, **evs;
	int nsys = 0, nev = 0, i, j, ret = 0;

	ret = mkpath(events, "%s/events", dir);
	systems = ret ? NULL : list_dirs(events, &nsys);
	for (i = 0; !ret && i < nsys; i++) {
		ret = mkpath(sysdir, "%s/%s", events, systems[i]);
		evs = ret ? NULL : list_dirs(sysdir, &nev);
		for (j = 0; !ret && j < nev; j++) {
			ret = mkpath(fmt, "%s/%s/format", sysdir, evs[j]);
			if (ret || access(fmt, F_OK))
				continue;
			if (!strcmp(systems[i], "ftrace"))
				ret = add_format(&m->ftrace, &m->nr_ftrace,
						 systems[i], evs[j], fmt);
			else
				ret = add_format(&m->events, &m->nr_events,
						 systems[i], evs[j], fmt);
		}
		free_names(evs);
	}
	free_names(systems);
	if (!ret && !m->nr_events && !m->nr_ftrace) {
		td_err("%s: no event formats (expected events/<system>/<event>/format)",
		       dir);
		ret = -ENOENT;
	}
	return ret;
}

int td_meta_load(struct td_meta *m, struct td_info *info, const char *dir)
{
	char path[PATH_MAX];
	struct vt_buf clock = { 0 };
	int found, ret;

	if (m->loaded) {
		td_err("metadata already loaded");
		return -EEXIST;
	}
	if (!is_dir(dir)) {
		td_err("%s: not a metadata directory: %s", dir,
		       strerror(errno ? errno : ENOTDIR));
		return -ENOENT;
	}
	ret = read_header(&m->header_page, dir, "header_page");
	if (!ret && td_header_page_data_offset(&m->header_page) < 0)
		ret = -EINVAL;
	if (!ret)
		ret = read_header(&m->header_event, dir, "header_event");
	if (!ret)
		ret = load_formats(m, dir);
	if (!ret)
		ret = read_opt(&m->kallsyms, dir, "kallsyms", &found);
	if (!ret)
		ret = read_opt(&m->printk, dir, "printk_formats", &found);
	if (!ret)
		ret = read_opt(&m->cmdlines, dir, "saved_cmdlines", &found);
	if (!ret)
		ret = read_opt(&clock, dir, "trace_clock", &found);
	if (!ret && found) {
		vt_buf_put(&clock, "", 1);
		ret = clock.err ? clock.err :
			td_info_set(info, "trace_clock", clock.p);
	}
	vt_buf_free(&clock);
	if (!ret) {
		ret = mkpath(path, "%s/info", dir);
		if (!ret && !access(path, F_OK))
			ret = td_info_load(info, path);
	}
	if (!ret)
		m->loaded = 1;
	return ret;
}

static void free_formats(struct td_format *f, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		free(f[i].system);
		free(f[i].event);
		vt_buf_free(&f[i].text);
	}
	free(f);
}

void td_meta_free(struct td_meta *m)
{
	vt_buf_free(&m->header_page);
	vt_buf_free(&m->header_event);
	free_formats(m->ftrace, m->nr_ftrace);
	free_formats(m->events, m->nr_events);
	vt_buf_free(&m->kallsyms);
	vt_buf_free(&m->printk);
	vt_buf_free(&m->cmdlines);
	memset(m, 0, sizeof(*m));
}

/*
 * Size of the page header: the offset of the "data" field in header_page
 * ("field: char data;\toffset:16;\tsize:4080;"). 16 if there is no data
 * field. The file comes from the traced machine (a guest: hostile input):
 * a data field without a readable offset, or one outside
 * TD_PAGE_HDR_MIN..TD_PAGE_HDR_MAX, is -EINVAL (logged).
 */
int td_header_page_data_offset(const struct vt_buf *hp)
{
	const char *p, *end, *o;
	char line[256], *e;
	long off;

	if (!hp->p)
		return 16;
	p = hp->p;
	end = hp->p + hp->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = (nl ? nl : end) - p;

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : end;
		if (!strstr(line, " data;"))
			continue;
		o = strstr(line, "offset:");
		if (!o) {
			td_err("header_page: the data field has no offset: '%.80s'",
			       line);
			return -EINVAL;
		}
		errno = 0;
		off = strtol(o + 7, &e, 10);
		if (e == o + 7 || errno || off < TD_PAGE_HDR_MIN ||
		    off > TD_PAGE_HDR_MAX) {
			td_err("header_page: the data field's offset is not a number in %d..%d: '%.80s'",
			       TD_PAGE_HDR_MIN, TD_PAGE_HDR_MAX, line);
			return -EINVAL;
		}
		return off;
	}
	return 16;
}
