// SPDX-License-Identifier: GPL-2.0
/*
 * Version 7 (trace-cmd.dat.v7(5)): a header naming the compression and
 * pointing to the first options section, then a chain of sections. Each
 * section: u16 id, u16 flags, u32 description (offset into the strings
 * section), u64 size of what follows. The reader walks the chain from the
 * header to find the strings, so the file is sections end to end.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "sections.h"

struct v7 {
	struct tracedat *td;
	struct vt_buf strings;
	struct vt_buf opts;		/* options naming the sections */
};

static uint32_t add_string(struct v7 *v, const char *s)
{
	uint32_t at = v->strings.len;

	vt_buf_put_str(&v->strings, s);
	return at;
}

/* Section header; returns where its size goes (patched by sec_end). */
static off_t sec_start(struct v7 *v, uint16_t id, uint16_t flags,
		       const char *desc)
{
	struct td_out *o = &v->td->out;
	off_t at;

	td_out_le(o, id, 2);
	td_out_le(o, flags, 2);
	td_out_le(o, add_string(v, desc), 4);
	at = o->pos;
	td_out_le(o, 0, 8);
	return at;
}

static void sec_end(struct v7 *v, off_t size_at)
{
	struct td_out *o = &v->td->out;

	td_out_patch_u64(o, size_at, o->pos - size_at - 8);
}

/* A section holding @data, compressed as one block if the file is. */
static int put_section(struct v7 *v, uint16_t id, const char *desc,
		       struct vt_buf *data)
{
	struct tracedat *td = v->td;
	uint16_t flags = td->z ? SEC_FL_COMPRESS : 0;
	off_t at;
	int ret = 0;

	at = sec_start(v, id, flags, desc);
	if (td->z)
		ret = td_z_block(td->z, &td->out, data->p, data->len);
	else
		td_out_write(&td->out, data->p, data->len);
	sec_end(v, at);
	return ret ? ret : td->out.err;
}

static int put_meta(struct v7 *v)
{
	static const struct {
		int id;
		const char *desc;
	} secs[] = {
		{ OPT_HEADER_INFO, "headers" },
		{ OPT_FTRACE_EVENTS, "ftrace events" },
		{ OPT_EVENT_FORMATS, "events format" },
		{ OPT_KALLSYMS, "kallsyms" },
		{ OPT_PRINTK, "printk" },
		{ OPT_CMDLINES, "command lines" },
	};
	struct td_meta *m = &v->td->meta;
	struct vt_buf b = { 0 };
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < sizeof(secs) / sizeof(*secs); i++) {
		if ((secs[i].id == OPT_KALLSYMS && !m->kallsyms.len) ||
		    (secs[i].id == OPT_PRINTK && !m->printk.len) ||
		    (secs[i].id == OPT_CMDLINES && !m->cmdlines.len))
			continue;
		vt_buf_put_u16(&v->opts, secs[i].id);
		vt_buf_put_u32(&v->opts, 8);
		vt_buf_put_u64(&v->opts, v->td->out.pos);
		ret = td_build_meta(v->td, secs[i].id, &b);
		if (!ret)
			ret = put_section(v, secs[i].id, secs[i].desc, &b);
		b.len = 0;
	}
	vt_buf_free(&b);
	return ret;
}

/*
 * The flyrecord section: page-aligned data per CPU, raw or as zstd chunks,
 * and the BUFFER option describing it (clock, page size, per CPU id,
 * offset and size in the file; all CPUs listed, empty ones with size 0).
 */
static int put_flyrecord(struct v7 *v)
{
	struct tracedat *td = v->td;
	struct td_out *o = &td->out;
	int ncpus = td_nr_cpus(td), cpu, ret = 0;
	struct vt_buf opt = { 0 };
	uint64_t size;
	off_t start, at;

	start = o->pos;
	at = sec_start(v, OPT_BUFFER, td->z ? SEC_FL_COMPRESS : 0,
		       "buffer flyrecord ");
	vt_buf_put_u64(&opt, start);
	vt_buf_put_str(&opt, "");			/* top instance */
	vt_buf_put_str(&opt, td->info.trace_clock);
	vt_buf_put_u32(&opt, td->info.page_size);
	vt_buf_put_u32(&opt, ncpus);
	for (cpu = 0; !ret && cpu < ncpus; cpu++) {
		struct td_cpu *c = cpu < td->nr_cpus ? &td->cpus[cpu] : NULL;

		td_out_pad_to(o, td->info.page_size);
		vt_buf_put_u32(&opt, cpu);
		vt_buf_put_u64(&opt, o->pos);
		size = 0;
		if (c && c->fd >= 0 && c->size) {
			if (td->z) {
				ret = td_z_copy_chunks(td->z, o, c->fd, c->size,
						       td->info.page_size, &size);
			} else {
				ret = td_copy_cpu_raw(td, c);
				size = c->size;
			}
		}
		vt_buf_put_u64(&opt, size);
	}
	sec_end(v, at);
	vt_buf_put_u16(&v->opts, OPT_BUFFER);
	vt_buf_put_u32(&v->opts, opt.len);
	vt_buf_put(&v->opts, opt.p, opt.len);
	ret = ret ? ret : opt.err;
	vt_buf_free(&opt);
	return ret ? ret : o->err;
}

/* The one options section: ours, the section pointers, DONE (no next) */
static int put_options_section(struct v7 *v, off_t header_ptr)
{
	struct tracedat *td = v->td;
	struct vt_buf b = { 0 };
	off_t at;

	td_out_patch_u64(&td->out, header_ptr, td->out.pos);
	at = sec_start(v, OPT_DONE, 0, "options");
	td_put_options(td, &b);
	vt_buf_put(&b, v->opts.p, v->opts.len);
	vt_buf_put_u16(&b, OPT_DONE);
	vt_buf_put_u32(&b, 8);
	vt_buf_put_u64(&b, 0);
	if (b.err || v->opts.err) {
		vt_buf_free(&b);
		return -ENOMEM;
	}
	td_out_write(&td->out, b.p, b.len);
	vt_buf_free(&b);
	sec_end(v, at);
	return td->out.err;
}

int td_write_v7(struct tracedat *td)
{
	struct v7 v = { .td = td };
	struct td_out *o = &td->out;
	off_t header_ptr;
	int ret;

	td_put_file_start(td);
	if (td->z) {
		td_out_write(o, "zstd", 5);
		td_out_write(o, td_z_version(), strlen(td_z_version()) + 1);
	} else {
		td_out_write(o, "none", 5);
		td_out_write(o, "", 1);
	}
	header_ptr = o->pos;
	td_out_le(o, 0, 8);

	ret = put_meta(&v);
	if (!ret)
		ret = put_flyrecord(&v);
	if (!ret)
		ret = put_options_section(&v, header_ptr);
	/* last: its header adds its own description before the data goes */
	if (!ret)
		ret = put_section(&v, OPT_STRINGS, "strings", &v.strings);
	if (!ret && v.strings.err)
		ret = v.strings.err;
	vt_buf_free(&v.strings);
	vt_buf_free(&v.opts);
	return ret ? ret : o->err;
}
