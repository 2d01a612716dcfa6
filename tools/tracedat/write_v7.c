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
	struct buf strings;
	struct buf opts;		/* options naming the sections */
};

static uint32_t add_string(struct v7 *v, const char *s)
{
	uint32_t at = v->strings.len;

	buf_put_str(&v->strings, s);
	return at;
}

/* Section header; returns where its size goes (patched by sec_end). */
static off_t sec_start(struct v7 *v, uint16_t id, uint16_t flags,
		       const char *desc)
{
	struct out *o = &v->td->out;
	off_t at;

	out_u16(o, id);
	out_u16(o, flags);
	out_u32(o, add_string(v, desc));
	at = o->pos;
	out_u64(o, 0);
	return at;
}

static void sec_end(struct v7 *v, off_t size_at)
{
	struct out *o = &v->td->out;

	out_patch_u64(o, size_at, o->pos - size_at - 8);
}

/* A section holding @data, compressed as one block if the file is. */
static int put_section(struct v7 *v, uint16_t id, const char *desc,
		       struct buf *data)
{
	struct tracedat *td = v->td;
	uint16_t flags = td->z ? SEC_FL_COMPRESS : 0;
	off_t at;
	int ret = 0;

	at = sec_start(v, id, flags, desc);
	if (td->z)
		ret = z_block(td->z, &td->out, data->data, data->len);
	else
		out_write(&td->out, data->data, data->len);
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
	struct buf b = { 0 };
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < sizeof(secs) / sizeof(*secs); i++) {
		if ((secs[i].id == OPT_KALLSYMS && !m->kallsyms.len) ||
		    (secs[i].id == OPT_PRINTK && !m->printk.len) ||
		    (secs[i].id == OPT_CMDLINES && !m->cmdlines.len))
			continue;
		buf_put_u16(&v->opts, secs[i].id);
		buf_put_u32(&v->opts, 8);
		buf_put_u64(&v->opts, v->td->out.pos);
		ret = build_meta(v->td, secs[i].id, &b);
		if (!ret)
			ret = put_section(v, secs[i].id, secs[i].desc, &b);
		b.len = 0;
	}
	buf_free(&b);
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
	struct out *o = &td->out;
	int ncpus = td_nr_cpus(td), cpu, ret = 0;
	struct buf opt = { 0 };
	uint64_t size;
	off_t start, at;

	start = o->pos;
	at = sec_start(v, OPT_BUFFER, td->z ? SEC_FL_COMPRESS : 0,
		       "buffer flyrecord ");
	buf_put_u64(&opt, start);
	buf_put_str(&opt, "");			/* top instance */
	buf_put_str(&opt, td->info.trace_clock);
	buf_put_u32(&opt, td->info.page_size);
	buf_put_u32(&opt, ncpus);
	for (cpu = 0; !ret && cpu < ncpus; cpu++) {
		struct td_cpu *c = cpu < td->nr_cpus ? &td->cpus[cpu] : NULL;

		out_pad_to(o, td->info.page_size);
		buf_put_u32(&opt, cpu);
		buf_put_u64(&opt, o->pos);
		size = 0;
		if (c && c->fd >= 0 && c->size) {
			if (td->z) {
				ret = z_copy_chunks(td->z, o, c->fd, c->size,
						    td->info.page_size, &size);
			} else {
				ret = copy_cpu_raw(td, c);
				size = c->size;
			}
		}
		buf_put_u64(&opt, size);
	}
	sec_end(v, at);
	buf_put_u16(&v->opts, OPT_BUFFER);
	buf_put_u32(&v->opts, opt.len);
	buf_put(&v->opts, opt.data, opt.len);
	ret = ret ? ret : opt.err;
	buf_free(&opt);
	return ret ? ret : o->err;
}

/* The one options section: ours, the section pointers, DONE (no next) */
static int put_options_section(struct v7 *v, off_t header_ptr)
{
	struct tracedat *td = v->td;
	struct buf b = { 0 };
	off_t at;

	out_patch_u64(&td->out, header_ptr, td->out.pos);
	at = sec_start(v, OPT_DONE, 0, "options");
	put_options(td, &b);
	buf_put(&b, v->opts.data, v->opts.len);
	buf_put_u16(&b, OPT_DONE);
	buf_put_u32(&b, 8);
	buf_put_u64(&b, 0);
	if (b.err || v->opts.err) {
		buf_free(&b);
		return -ENOMEM;
	}
	out_write(&td->out, b.data, b.len);
	buf_free(&b);
	sec_end(v, at);
	return td->out.err;
}

int write_v7(struct tracedat *td)
{
	struct v7 v = { .td = td };
	struct out *o = &td->out;
	off_t header_ptr;
	int ret;

	put_file_start(td);
	if (td->z) {
		out_write(o, "zstd", 5);
		out_write(o, z_version(), strlen(z_version()) + 1);
	} else {
		out_write(o, "none", 5);
		out_write(o, "", 1);
	}
	header_ptr = o->pos;
	out_u64(o, 0);

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
	buf_free(&v.strings);
	buf_free(&v.opts);
	return ret ? ret : o->err;
}
