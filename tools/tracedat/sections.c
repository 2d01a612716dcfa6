// SPDX-License-Identifier: GPL-2.0
/*
 * Contents shared by versions 6 and 7: the file's initial bytes, the
 * metadata blocks (headers, formats, kallsyms, printk, cmdlines), options
 * and raw CPU data copies.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "sections.h"

void td_put_file_start(struct tracedat *td)
{
	static const char magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c',
				      'i', 'n', 'g' };
	struct td_out *o = &td->out;
	unsigned char b[2];

	td_out_write(o, magic, sizeof(magic));
	td_out_write(o, td->version == 6 ? "6" : "7", 2);
	b[0] = 0;			/* little endian */
	b[1] = td->info.long_size;
	td_out_write(o, b, 2);
	td_out_le(o, td->info.page_size, 4);
}

static void put_sized8(struct vt_buf *b, const struct vt_buf *data)
{
	vt_buf_put_u64(b, data->len);
	vt_buf_put(b, data->p, data->len);
}

static void put_sized4(struct vt_buf *b, const struct vt_buf *data)
{
	vt_buf_put_u32(b, data->len);
	vt_buf_put(b, data->p, data->len);
}

int td_build_meta(struct tracedat *td, int id, struct vt_buf *b)
{
	struct td_meta *m = &td->meta;
	int i, j, nsys = 0;

	switch (id) {
	case OPT_HEADER_INFO:
		vt_buf_put_str(b, "header_page");
		put_sized8(b, &m->header_page);
		vt_buf_put_str(b, "header_event");
		put_sized8(b, &m->header_event);
		break;
	case OPT_FTRACE_EVENTS:
		vt_buf_put_u32(b, m->nr_ftrace);
		for (i = 0; i < m->nr_ftrace; i++)
			put_sized8(b, &m->ftrace[i].text);
		break;
	case OPT_EVENT_FORMATS:
		for (i = 0; i < m->nr_events; i++)
			if (!i || strcmp(m->events[i].system,
					 m->events[i - 1].system))
				nsys++;
		vt_buf_put_u32(b, nsys);
		for (i = 0; i < m->nr_events; i = j) {
			for (j = i; j < m->nr_events &&
			     !strcmp(m->events[j].system, m->events[i].system);
			     j++)
				;
			vt_buf_put_str(b, m->events[i].system);
			vt_buf_put_u32(b, j - i);
			for (; i < j; i++)
				put_sized8(b, &m->events[i].text);
		}
		break;
	case OPT_KALLSYMS:
		put_sized4(b, &m->kallsyms);
		break;
	case OPT_PRINTK:
		put_sized4(b, &m->printk);
		break;
	case OPT_CMDLINES:
		put_sized8(b, &m->cmdlines);
		break;
	default:
		return -EINVAL;
	}
	return b->err;
}

void td_put_options(struct tracedat *td, struct vt_buf *b)
{
	int i;

	for (i = 0; i < td->nr_opts; i++) {
		vt_buf_put_u16(b, td->opts[i].id);
		vt_buf_put_u32(b, td->opts[i].data.len);
		vt_buf_put(b, td->opts[i].data.p, td->opts[i].data.len);
	}
}

int td_copy_cpu_raw(struct tracedat *td, struct td_cpu *c)
{
	size_t bsize = 256 * 1024;
	uint64_t off = 0;
	ssize_t n;
	char *buf;
	int ret = 0;

	buf = malloc(bsize);
	if (!buf)
		return -ENOMEM;
	while (!td->out.err && off < c->size) {
		size_t want = c->size - off < bsize ? c->size - off : bsize;

		n = pread(c->fd, buf, want, off);
		if (n != (ssize_t)want) {
			ret = n < 0 ? -errno : -EIO;
			td_err("%s: read failed: %s", c->name,
			       n < 0 ? strerror(errno) : "file shrank");
			break;
		}
		td_out_write(&td->out, buf, n);
		off += n;
	}
	free(buf);
	return ret ? ret : td->out.err;
}
