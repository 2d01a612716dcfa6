// SPDX-License-Identifier: GPL-2.0
/*
 * Version 6 (trace-cmd.dat.v6(5)): the metadata in a fixed order, the CPU
 * count, "options  " with the options, "flyrecord" with a table of
 * (offset, size) per CPU, the trace clock, then page-aligned CPU data.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "sections.h"

static const int meta_order[] = {
	OPT_HEADER_INFO, OPT_FTRACE_EVENTS, OPT_EVENT_FORMATS,
	OPT_KALLSYMS, OPT_PRINTK, OPT_CMDLINES,
};

int td_write_v6(struct tracedat *td)
{
	struct td_out *o = &td->out;
	int ncpus = td_nr_cpus(td);
	struct vt_buf b = { 0 };
	char clock[80];
	off_t table;
	unsigned int i;
	int cpu, ret = 0;

	td_put_file_start(td);
	for (i = 0; !ret && i < sizeof(meta_order) / sizeof(*meta_order); i++)
		ret = td_build_meta(td, meta_order[i], &b);
	if (ret) {
		vt_buf_free(&b);
		return ret;
	}
	td_out_write(o, b.p, b.len);
	vt_buf_free(&b);

	td_out_le(o, ncpus, 4);
	td_out_write(o, "options  ", 10);
	td_put_options(td, &b);
	vt_buf_put_u16(&b, OPT_DONE);
	if (b.err)
		return b.err;
	td_out_write(o, b.p, b.len);
	vt_buf_free(&b);

	td_out_write(o, "flyrecord", 10);
	table = o->pos;
	for (cpu = 0; cpu < ncpus; cpu++) {
		td_out_le(o, 0, 8);
		td_out_le(o, 0, 8);
	}
	/* read back because TRACECLOCK is set: u64 length, "[clock]" */
	snprintf(clock, sizeof(clock), "[%s]", td->info.trace_clock);
	td_out_le(o, strlen(clock), 8);
	td_out_write(o, clock, strlen(clock));

	for (cpu = 0; !ret && cpu < ncpus; cpu++) {
		struct td_cpu *c = cpu < td->nr_cpus ? &td->cpus[cpu] : NULL;

		td_out_pad_to(o, td->info.page_size);
		td_out_patch_u64(o, table + 16 * cpu, o->pos);
		if (!c || c->fd < 0 || !c->size)
			continue;
		ret = td_copy_cpu_raw(td, c);
		td_out_patch_u64(o, table + 16 * cpu + 8, c->size);
	}
	return ret ? ret : o->err;
}
