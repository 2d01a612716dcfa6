// SPDX-License-Identifier: GPL-2.0
/*
 * Amending an existing version 7 file (trace-cmd's or ours): read its
 * options, overwrite option bytes in place, add options. Version 7 keeps
 * options in a chain of uncompressed "options" sections (section id 0):
 * each ends with a DONE option whose 8-byte value is the offset of the
 * next options section, 0 for the last. Adding options is what trace-cmd
 * record itself does after a recording (tracecmd_append_options): a new
 * options section at the end of the file, and the last DONE pointed at it.
 * Version 6 files keep their options inline, before the data: those
 * cannot be amended without rewriting the file, and are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define EDIT_MAX_SECTIONS	1024	/* a loop in the chain, surely */
#define EDIT_MAX_OPTION		(64U << 20)

struct ed_opt {
	uint16_t id;
	uint32_t size;
	off_t at;		/* its data in the file */
	char *data;
};

struct tracedat_edit {
	int fd;
	char *path;
	struct ed_opt *opts;
	int nr_opts;
	off_t last_done;	/* the last DONE option's 8-byte value */
	uint32_t desc;		/* the options sections' description */
	struct vt_buf append;	/* options to add, encoded */
	int nr_append;
};

static int read_at(struct tracedat_edit *e, off_t at, void *buf, size_t len)
{
	ssize_t r = pread(e->fd, buf, len, at);

	if (r == (ssize_t)len)
		return 0;
	td_err("%s: %s at offset %lld", e->path,
	       r < 0 ? strerror(errno) : "file ends", (long long)at);
	return r < 0 ? -errno : -EINVAL;
}

static int write_at(struct tracedat_edit *e, off_t at, const void *buf,
		    size_t len)
{
	ssize_t r = pwrite(e->fd, buf, len, at);

	if (r == (ssize_t)len)
		return 0;
	td_err("%s: write at offset %lld: %s", e->path, (long long)at,
	       r < 0 ? strerror(errno) : "short write");
	return r < 0 ? -errno : -EIO;
}

/* A NUL-terminated string at *at (at most 64 bytes); *at moves past it. */
static int skip_string(struct tracedat_edit *e, off_t *at)
{
	char s[64];
	ssize_t r = pread(e->fd, s, sizeof(s), *at);
	char *nul = r > 0 ? memchr(s, '\0', r) : NULL;

	if (!nul) {
		td_err("%s: bad header string at offset %lld", e->path,
		       (long long)*at);
		return -EINVAL;
	}
	*at += nul - s + 1;
	return 0;
}

/* Magic, version 7, little endian; *first: the first options section. */
static int read_header(struct tracedat_edit *e, off_t *first)
{
	static const unsigned char magic[] = { 0x17, 0x08, 0x44, 't', 'r',
					       'a', 'c', 'i', 'n', 'g' };
	unsigned char h[18], b[8];
	off_t at;
	int ret;

	ret = read_at(e, 0, h, sizeof(h));
	if (ret)
		return ret;
	if (memcmp(h, magic, sizeof(magic))) {
		td_err("%s: not a trace.dat file", e->path);
		return -EINVAL;
	}
	if (h[10] != '7' || h[11]) {
		td_err("%s: file version %.2s: only version 7 files can be amended (trace-cmd record writes version 7 by default)",
		       e->path, (char *)h + 10);
		return -EOPNOTSUPP;
	}
	if (h[12]) {
		td_err("%s: big-endian files are not supported", e->path);
		return -EOPNOTSUPP;
	}
	at = 18;		/* endian, long size, page size */
	ret = skip_string(e, &at);	/* compression name */
	if (!ret)
		ret = skip_string(e, &at);	/* its version */
	if (!ret)
		ret = read_at(e, at, b, 8);
	if (ret)
		return ret;
	*first = vt_le64(b);
	return 0;
}

static int add_opt(struct tracedat_edit *e, uint16_t id, uint32_t size,
		   off_t at)
{
	struct ed_opt *o;
	int ret;

	o = realloc(e->opts, (e->nr_opts + 1) * sizeof(*o));
	if (!o)
		return -ENOMEM;
	e->opts = o;
	o += e->nr_opts;
	o->id = id;
	o->size = size;
	o->at = at;
	o->data = malloc(size ? size : 1);
	if (!o->data)
		return -ENOMEM;
	ret = read_at(e, at, o->data, size);
	if (ret) {
		free(o->data);
		return ret;
	}
	e->nr_opts++;
	return 0;
}

/* One options section at @at; *next: the next one (0: none). */
static int read_section(struct tracedat_edit *e, off_t at, off_t *next)
{
	unsigned char h[16], oh[6], b[8];
	uint64_t size;
	off_t p, end;
	int ret;

	ret = read_at(e, at, h, sizeof(h));
	if (ret)
		return ret;
	if (vt_le16(h) != OPT_DONE) {
		td_err("%s: offset %lld: section %u where an options section should be",
		       e->path, (long long)at, vt_le16(h));
		return -EINVAL;
	}
	if (vt_le16(h + 2) & SEC_FL_COMPRESS) {
		td_err("%s: compressed options section at offset %lld: not supported",
		       e->path, (long long)at);
		return -EOPNOTSUPP;
	}
	e->desc = vt_le32(h + 4);
	size = vt_le64(h + 8);
	p = at + 16;
	end = p + size;
	for (;;) {
		if (p + 6 > end) {
			td_err("%s: options section at offset %lld has no DONE option",
			       e->path, (long long)at);
			return -EINVAL;
		}
		ret = read_at(e, p, oh, sizeof(oh));
		if (ret)
			return ret;
		if (vt_le32(oh + 2) > EDIT_MAX_OPTION ||
		    p + 6 + vt_le32(oh + 2) > end) {
			td_err("%s: option %u at offset %lld runs past its section",
			       e->path, vt_le16(oh), (long long)p);
			return -EINVAL;
		}
		if (vt_le16(oh) == OPT_DONE)
			break;
		ret = add_opt(e, vt_le16(oh), vt_le32(oh + 2), p + 6);
		if (ret)
			return ret;
		p += 6 + vt_le32(oh + 2);
	}
	if (vt_le32(oh + 2) != 8) {
		td_err("%s: DONE option of %u bytes at offset %lld", e->path,
		       vt_le32(oh + 2), (long long)p);
		return -EINVAL;
	}
	e->last_done = p + 6;
	ret = read_at(e, e->last_done, b, 8);
	if (ret)
		return ret;
	*next = vt_le64(b);
	return 0;
}

struct tracedat_edit *tracedat_edit_open(const char *path)
{
	struct tracedat_edit *e = calloc(1, sizeof(*e));
	off_t at, next;
	int n, ret = -ENOMEM;

	if (!e)
		goto fail;
	e->fd = -1;
	e->path = strdup(path);
	if (!e->path)
		goto fail;
	e->fd = open(path, O_RDWR | O_CLOEXEC);
	if (e->fd < 0) {
		ret = -errno;
		td_err("%s: %s", path, strerror(errno));
		goto fail;
	}
	ret = read_header(e, &at);
	for (n = 0; !ret && at; n++) {
		if (n == EDIT_MAX_SECTIONS) {
			td_err("%s: more than %d options sections (a loop?)",
			       path, EDIT_MAX_SECTIONS);
			ret = -ELOOP;
			break;
		}
		ret = read_section(e, at, &next);
		at = next;
	}
	if (!ret && !e->last_done) {
		td_err("%s: no options section", path);
		ret = -EINVAL;
	}
	if (!ret)
		return e;
fail:
	tracedat_edit_free(e);
	errno = -ret;
	return NULL;
}

int tracedat_edit_count(struct tracedat_edit *e, unsigned short id)
{
	int i, n = 0;

	for (i = 0; i < e->nr_opts; i++)
		n += e->opts[i].id == id;
	return n;
}

static struct ed_opt *nth(struct tracedat_edit *e, unsigned short id, int n)
{
	int i;

	if (n < 0)
		n = tracedat_edit_count(e, id) - 1;
	for (i = 0; i < e->nr_opts; i++)
		if (e->opts[i].id == id && !n--)
			return &e->opts[i];
	return NULL;
}

const void *tracedat_edit_get(struct tracedat_edit *e, unsigned short id,
			      int n, unsigned int *size)
{
	struct ed_opt *o = nth(e, id, n);

	if (!o)
		return NULL;
	if (size)
		*size = o->size;
	return o->data;
}

int tracedat_edit_patch(struct tracedat_edit *e, unsigned short id, int n,
			unsigned int at, const void *data, unsigned int size)
{
	struct ed_opt *o = nth(e, id, n);
	int ret;

	if (!o) {
		td_err("%s: no option %u to change", e->path, id);
		return -ENOENT;
	}
	if (at + size > o->size || at + size < at) {
		td_err("%s: option %u has %u bytes, cannot change %u at %u",
		       e->path, id, o->size, size, at);
		return -EINVAL;
	}
	ret = write_at(e, o->at + at, data, size);
	if (ret)
		return ret;
	memcpy(o->data + at, data, size);
	if (fsync(e->fd)) {
		td_err("%s: fsync: %s", e->path, strerror(errno));
		return -errno;
	}
	return 0;
}

int tracedat_edit_append(struct tracedat_edit *e, unsigned short id,
			 const void *data, unsigned int size)
{
	if (id == OPT_DONE || size > EDIT_MAX_OPTION) {
		td_err("option %u of %u bytes cannot be added", id, size);
		return -EINVAL;
	}
	vt_buf_put_u16(&e->append, id);
	vt_buf_put_u32(&e->append, size);
	vt_buf_put(&e->append, data, size);
	e->nr_append++;
	return e->append.err;
}

/*
 * The new section goes at the end of the file and is synced before the
 * last DONE points to it: a crash in between leaves the file as it was
 * (with unreferenced bytes at its end).
 */
static int write_appended(struct tracedat_edit *e)
{
	struct vt_buf s = { 0 };
	struct stat st;
	unsigned char b[8];
	int ret;

	if (fstat(e->fd, &st)) {
		td_err("%s: %s", e->path, strerror(errno));
		return -errno;
	}
	vt_buf_put_u16(&s, OPT_DONE);		/* section id: options */
	vt_buf_put_u16(&s, 0);			/* not compressed */
	vt_buf_put_u32(&s, e->desc);		/* "options", as before */
	vt_buf_put_u64(&s, e->append.len + 14);
	vt_buf_put(&s, e->append.p, e->append.len);
	vt_buf_put_u16(&s, OPT_DONE);
	vt_buf_put_u32(&s, 8);
	vt_buf_put_u64(&s, 0);
	ret = s.err;
	if (!ret)
		ret = write_at(e, st.st_size, s.p, s.len);
	vt_buf_free(&s);
	if (!ret && fsync(e->fd)) {
		td_err("%s: fsync: %s", e->path, strerror(errno));
		ret = -errno;
	}
	vt_le_put(b, st.st_size, 8);
	if (!ret)
		ret = write_at(e, e->last_done, b, 8);
	if (!ret && fsync(e->fd)) {
		td_err("%s: fsync: %s", e->path, strerror(errno));
		ret = -errno;
	}
	return ret;
}

int tracedat_edit_close(struct tracedat_edit *e)
{
	int ret = 0;

	if (!e)
		return -EINVAL;
	if (e->nr_append)
		ret = e->append.err ? e->append.err : write_appended(e);
	if (close(e->fd) && !ret) {
		td_err("%s: close: %s", e->path, strerror(errno));
		ret = -errno;
	}
	e->fd = -1;
	tracedat_edit_free(e);
	return ret;
}

void tracedat_edit_free(struct tracedat_edit *e)
{
	int i;

	if (!e)
		return;
	if (e->fd >= 0)
		close(e->fd);
	for (i = 0; i < e->nr_opts; i++)
		free(e->opts[i].data);
	free(e->opts);
	vt_buf_free(&e->append);
	free(e->path);
	free(e);
}
