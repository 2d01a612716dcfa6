// SPDX-License-Identifier: GPL-2.0
/*
 * Options of the file: the ones every file gets (CPUCOUNT, TRACECLOCK,
 * UNAME, VERSION), and the host/guest merging ones (TRACEID, TIME_SHIFT,
 * GUEST). Encoded as trace-cmd reads them (trace-cmd.dat.v7(5)).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifndef TRACEDAT_VERSION
#define TRACEDAT_VERSION "0.1"
#endif

/* Takes ownership of @data's contents. */
int td_opt_append(struct tracedat *td, uint16_t id, struct vt_buf *data)
{
	struct td_option *tmp;

	if (data->err)
		return data->err;
	tmp = realloc(td->opts, (td->nr_opts + 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	td->opts = tmp;
	tmp[td->nr_opts].id = id;
	tmp[td->nr_opts].data = *data;
	memset(data, 0, sizeof(*data));
	td->nr_opts++;
	return 0;
}

int tracedat_add_option(struct tracedat *td, unsigned short id,
			const void *data, unsigned int size)
{
	struct vt_buf b = { 0 };
	int ret;

	vt_buf_put(&b, data, size);
	ret = td_opt_append(td, id, &b);
	vt_buf_free(&b);
	return ret;
}

int tracedat_add_traceid(struct tracedat *td, uint64_t trace_id)
{
	struct vt_buf b = { 0 };
	int i;

	for (i = 0; i < td->nr_opts; i++) {
		if (td->opts[i].id == OPT_TRACEID) {
			td_err("TRACEID given twice");
			return -EEXIST;
		}
	}
	vt_buf_put_u64(&b, trace_id);
	return td_opt_append(td, OPT_TRACEID, &b);
}

int tracedat_add_guest(struct tracedat *td, const char *name,
		       uint64_t trace_id, int nr_vcpus, const int *host_tids)
{
	struct vt_buf b = { 0 };
	int i;

	if (!name || !*name || nr_vcpus <= 0 || nr_vcpus > TD_MAX_CPUS) {
		td_err("guest '%s': needs a name and 1 to %d vCPUs",
		       name ? name : "", TD_MAX_CPUS);
		return -EINVAL;
	}
	vt_buf_put_str(&b, name);
	vt_buf_put_u64(&b, trace_id);
	vt_buf_put_u32(&b, nr_vcpus);
	for (i = 0; i < nr_vcpus; i++) {
		vt_buf_put_u32(&b, i);
		vt_buf_put_u32(&b, host_tids[i]);
	}
	return td_opt_append(td, OPT_GUEST, &b);
}

int tracedat_set_time_shift(struct tracedat *td, uint64_t peer_id,
			    uint32_t flags)
{
	td->tshift.set = 1;
	td->tshift.peer_id = peer_id;
	td->tshift.flags = flags;
	return 0;
}

int tracedat_add_ts_sample(struct tracedat *td, int cpu, uint64_t time,
			   int64_t offset, uint64_t scaling, uint64_t fraction)
{
	struct td_tshift *ts = &td->tshift;
	struct td_sample *s;
	void *p;

	if (cpu < 0 || cpu >= TD_MAX_CPUS || !scaling || fraction > 63) {
		td_err("time shift sample for cpu %d: needs cpu < %d, scaling > 0, fraction < 64 (got scaling %llu, fraction %llu)",
		       cpu, TD_MAX_CPUS, (unsigned long long)scaling,
		       (unsigned long long)fraction);
		return -EINVAL;
	}
	if (cpu >= ts->nr_cpus) {
		p = realloc(ts->samples, (cpu + 1) * sizeof(*ts->samples));
		if (!p)
			return -ENOMEM;
		ts->samples = p;
		p = realloc(ts->counts, (cpu + 1) * sizeof(*ts->counts));
		if (!p)
			return -ENOMEM;
		ts->counts = p;
		while (ts->nr_cpus <= cpu) {
			ts->samples[ts->nr_cpus] = NULL;
			ts->counts[ts->nr_cpus++] = 0;
		}
	}
	s = realloc(ts->samples[cpu], (ts->counts[cpu] + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	ts->samples[cpu] = s;
	s += ts->counts[cpu]++;
	s->time = time;
	s->offset = offset;
	s->scaling = scaling;
	s->fraction = fraction;
	return 0;
}

void td_tshift_free(struct td_tshift *ts)
{
	int i;

	for (i = 0; i < ts->nr_cpus; i++)
		free(ts->samples[i]);
	free(ts->samples);
	free(ts->counts);
	memset(ts, 0, sizeof(*ts));
}

static int cmp_sample(const void *a, const void *b)
{
	const struct td_sample *x = a, *y = b;

	return x->time < y->time ? -1 : x->time > y->time;
}

/*
 * peer id, flags, cpu count, per CPU: count, times, offsets, scalings;
 * then per CPU: fractions. The reader indexes the CPU arrays by guest CPU
 * and breaks on a CPU without samples, so each one needs at least one.
 */
int td_tshift_build(struct tracedat *td, struct vt_buf *b)
{
	struct td_tshift *ts = &td->tshift;
	int cpu, i;

	if (!ts->nr_cpus) {
		td_err("time shift: peer id given but no samples");
		return -EINVAL;
	}
	for (cpu = 0; cpu < ts->nr_cpus; cpu++) {
		if (!ts->counts[cpu]) {
			td_err("time shift: no sample for CPU %d (every CPU from 0 to %d needs one)",
			       cpu, ts->nr_cpus - 1);
			return -EINVAL;
		}
		qsort(ts->samples[cpu], ts->counts[cpu], sizeof(struct td_sample),
		      cmp_sample);
	}
	vt_buf_put_u64(b, ts->peer_id);
	vt_buf_put_u32(b, ts->flags);
	vt_buf_put_u32(b, ts->nr_cpus);
	for (cpu = 0; cpu < ts->nr_cpus; cpu++) {
		struct td_sample *s = ts->samples[cpu];
		int n = ts->counts[cpu];

		vt_buf_put_u32(b, n);
		for (i = 0; i < n; i++)
			vt_buf_put_u64(b, s[i].time);
		for (i = 0; i < n; i++)
			vt_buf_put_u64(b, s[i].offset);
		for (i = 0; i < n; i++)
			vt_buf_put_u64(b, s[i].scaling);
	}
	for (cpu = 0; cpu < ts->nr_cpus; cpu++)
		for (i = 0; i < ts->counts[cpu]; i++)
			vt_buf_put_u64(b, ts->samples[cpu][i].fraction);
	return b->err;
}

static int add_str_opt(struct tracedat *td, uint16_t id, const char *s)
{
	struct vt_buf b = { 0 };

	vt_buf_put_str(&b, s);
	return td_opt_append(td, id, &b);
}

/* Options every file gets; called once, at close, before writing. */
int td_common_options(struct tracedat *td)
{
	struct td_info *info = &td->info;
	struct vt_buf b = { 0 };
	int ret;

	vt_buf_put_u32(&b, td_nr_cpus(td));
	ret = td_opt_append(td, OPT_CPUCOUNT, &b);
	if (!ret) {
		vt_buf_put(&b, "[", 1);
		vt_buf_put(&b, info->trace_clock, strlen(info->trace_clock));
		vt_buf_put_str(&b, "]");
		ret = td_opt_append(td, OPT_TRACECLOCK, &b);
	}
	if (!ret && (info->uname || info->release))
		ret = add_str_opt(td, OPT_UNAME,
				  info->uname ? info->uname : info->release);
	if (!ret)
		ret = add_str_opt(td, OPT_VERSION, info->version ? info->version :
				  "vhost-trace-dat " TRACEDAT_VERSION);
	if (!ret && td->tshift.nr_cpus && !td->tshift.set) {
		td_err("time shift samples given without the peer's trace id");
		ret = -EINVAL;
	}
	if (!ret && td->tshift.set) {
		ret = td_tshift_build(td, &b);
		if (!ret)
			ret = td_opt_append(td, OPT_TIME_SHIFT, &b);
	}
	vt_buf_free(&b);
	return ret;
}
