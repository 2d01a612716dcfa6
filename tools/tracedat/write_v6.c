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

int write_v6(struct tracedat *td)
{
	struct out *o = &td->out;
	int ncpus = td_nr_cpus(td);
	struct buf b = { 0 };
	char clock[80];
	off_t table;
	unsigned int i;
	int cpu, ret = 0;

	put_file_start(td);
	for (i = 0; !ret && i < sizeof(meta_order) / sizeof(*meta_order); i++)
		ret = build_meta(td, meta_order[i], &b);
	if (ret) {
		buf_free(&b);
		return ret;
	}
	out_write(o, b.data, b.len);
	buf_free(&b);

	out_u32(o, ncpus);
	out_write(o, "options  ", 10);
	put_options(td, &b);
	buf_put_u16(&b, OPT_DONE);
	if (b.err)
		return b.err;
	out_write(o, b.data, b.len);
	buf_free(&b);

	out_write(o, "flyrecord", 10);
	table = o->pos;
	for (cpu = 0; cpu < ncpus; cpu++) {
		out_u64(o, 0);
		out_u64(o, 0);
	}
	/* read back because TRACECLOCK is set: u64 length, "[clock]" */
	snprintf(clock, sizeof(clock), "[%s]", td->info.trace_clock);
	out_u64(o, strlen(clock));
	out_write(o, clock, strlen(clock));

	for (cpu = 0; !ret && cpu < ncpus; cpu++) {
		struct td_cpu *c = cpu < td->nr_cpus ? &td->cpus[cpu] : NULL;

		out_pad_to(o, td->info.page_size);
		out_patch_u64(o, table + 16 * cpu, o->pos);
		if (!c || c->fd < 0 || !c->size)
			continue;
		ret = copy_cpu_raw(td, c);
		out_patch_u64(o, table + 16 * cpu + 8, c->size);
	}
	return ret ? ret : o->err;
}
