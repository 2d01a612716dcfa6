// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace-dat: write a trace.dat from a metadata directory and raw
 * per-CPU ring-buffer page files. See usage() and README.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracedat.h"

static const char *prog = "vhost-trace-dat";

static void log_msg(int level, const char *msg)
{
	fprintf(stderr, "%s: %s%s\n", prog, level ? "warning: " : "", msg);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s -m METADIR -o OUT.dat [options] [CPU=]FILE...\n"
"\n"
"Write a trace-cmd trace.dat from raw per-CPU ring-buffer pages\n"
"(per_cpu/cpuN/trace_pipe_raw, stored verbatim). FILE arguments are CPU 0,\n"
"1, ... in order, or CPU=FILE; missing CPUs are written empty.\n"
"\n"
"  -m, --meta DIR          metadata: header_page, header_event,\n"
"                          events/<sys>/<event>/format, [kallsyms,\n"
"                          printk_formats, saved_cmdlines, trace_clock, info]\n"
"  -o, --output FILE       output; written as FILE.tmp-* and renamed when\n"
"                          complete\n"
"  -v, --version 6|7       file version (default 7)\n"
"  -z, --zstd              compress sections and data with zstd (version 7)\n"
"      --set KEY=VALUE     override an info key (cpus, page_size, trace_clock,\n"
"                          uname, kernel_release, long_size, version)\n"
"      --drop-partial      drop a partial last page (warn) instead of failing\n"
"host/guest merging (trace-cmd report -i host.dat -i guest.dat):\n"
"      --trace-id ID       TRACEID: this file's trace id (64-bit)\n"
"      --peer-id ID        TIME_SHIFT: trace id of the peer (the host)\n"
"      --tsync-flags N     TIME_SHIFT flags (1 = interpolate between samples)\n"
"      --ts CPU:TIME:OFFSET[:SCALING[:FRAC]]\n"
"                          a TIME_SHIFT sample for guest CPU; from guest time\n"
"                          TIME on, host = (guest * SCALING >> FRAC) + OFFSET\n"
"                          (defaults 1, 0); repeat; every CPU needs one\n"
"      --ts-file FILE      samples, one per line: CPU TIME OFFSET [SCALING [FRAC]]\n"
"      --guest NAME:ID:TID[,TID...]\n"
"                          GUEST (host file): guest NAME with trace id ID, its\n"
"                          vCPU n runs in host thread TID n; repeatable\n"
"  -h, --help\n"
"\n"
"Exit status: 0 written, 1 failed (nothing left at OUT), 2 usage error.\n",
		prog);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

static int parse_s64(const char *s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

/* "CPU TIME OFFSET [SCALING [FRAC]]" split by @sep */
static int add_sample(struct tracedat *td, char *spec, const char *sep)
{
	uint64_t cpu, time, scaling = 1, frac = 0;
	char *f[6], *save = NULL;
	int64_t offset;
	int n = 0;

	for (f[n] = strtok_r(spec, sep, &save); f[n] && n < 5;)
		f[++n] = strtok_r(NULL, sep, &save);
	if (n < 3 || n > 5 || parse_u64(f[0], &cpu) || cpu > 4095 ||
	    parse_u64(f[1], &time) || parse_s64(f[2], &offset) ||
	    (n > 3 && parse_u64(f[3], &scaling)) ||
	    (n > 4 && parse_u64(f[4], &frac)))
		return -EINVAL;
	return tracedat_add_ts_sample(td, cpu, time, offset, scaling, frac);
}

static int add_sample_file(struct tracedat *td, const char *path)
{
	char line[512], *p;
	int lineno = 0, ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -errno;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		lineno++;
		p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		ret = add_sample(td, p, " \t\n");
		if (ret)
			fprintf(stderr, "%s: %s:%d: expected CPU TIME OFFSET [SCALING [FRAC]]\n",
				prog, path, lineno);
	}
	fclose(f);
	return ret;
}

/* NAME:ID:TID,TID,... */
static int add_guest(struct tracedat *td, char *spec)
{
	char *name = spec, *id, *tids, *t, *save = NULL;
	int tid[4096], n = 0, ret;
	uint64_t trace_id, v;

	id = strchr(name, ':');
	tids = id ? strchr(id + 1, ':') : NULL;
	if (!tids)
		return -EINVAL;
	*id++ = '\0';
	*tids++ = '\0';
	if (parse_u64(id, &trace_id))
		return -EINVAL;
	for (t = strtok_r(tids, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == 4096 || parse_u64(t, &v) || v > INT32_MAX)
			return -EINVAL;
		tid[n++] = v;
	}
	ret = tracedat_add_guest(td, name, trace_id, n, tid);
	return ret;
}

enum {
	O_SET = 256, O_DROP, O_TRACEID, O_PEER, O_TSFLAGS, O_TS, O_TSFILE,
	O_GUEST,
};

static const struct option longopts[] = {
	{ "meta",	  required_argument, NULL, 'm' },
	{ "output",	  required_argument, NULL, 'o' },
	{ "version",	  required_argument, NULL, 'v' },
	{ "zstd",	  no_argument,	     NULL, 'z' },
	{ "help",	  no_argument,	     NULL, 'h' },
	{ "set",	  required_argument, NULL, O_SET },
	{ "drop-partial", no_argument,	     NULL, O_DROP },
	{ "trace-id",	  required_argument, NULL, O_TRACEID },
	{ "peer-id",	  required_argument, NULL, O_PEER },
	{ "tsync-flags",  required_argument, NULL, O_TSFLAGS },
	{ "ts",		  required_argument, NULL, O_TS },
	{ "ts-file",	  required_argument, NULL, O_TSFILE },
	{ "guest",	  required_argument, NULL, O_GUEST },
	{ }
};

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "%s: bad %s '%s' (see --help)\n", prog, what, arg);
	return 2;
}

/* Options that need the open handle, applied in a second pass. */
static int apply(struct tracedat *td, int opt, char *arg, uint64_t *peer,
		 int *peer_set, uint64_t *tsflags)
{
	uint64_t v;
	char *eq;

	switch (opt) {
	case O_SET:
		eq = strchr(arg, '=');
		if (!eq)
			return bad("--set", arg);
		*eq = '\0';
		return tracedat_set_info(td, arg, eq + 1) ? 1 : 0;
	case O_DROP:
		return tracedat_set_flags(td, TRACEDAT_F_DROP_PARTIAL) ? 1 : 0;
	case O_TRACEID:
		if (parse_u64(arg, &v))
			return bad("trace id", arg);
		return tracedat_add_traceid(td, v) ? 1 : 0;
	case O_PEER:
		if (parse_u64(arg, peer))
			return bad("peer id", arg);
		*peer_set = 1;
		return 0;
	case O_TSFLAGS:
		if (parse_u64(arg, tsflags) || *tsflags > UINT32_MAX)
			return bad("--tsync-flags", arg);
		return 0;
	case O_TS:
		return add_sample(td, arg, ":") ? bad("--ts sample", arg) : 0;
	case O_TSFILE:
		return add_sample_file(td, arg) ? 1 : 0;
	case O_GUEST:
		return add_guest(td, arg) ? bad("--guest", arg) : 0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *meta = NULL, *outp = NULL;
	int version = 7, zstd = 0, opt, i, ret, peer_set = 0, cpu;
	uint64_t peer = 0, tsflags = 0;
	struct tracedat *td;
	char *end, *eq;

	while ((opt = getopt_long(argc, argv, "m:o:v:zh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			meta = optarg;
			break;
		case 'o':
			outp = optarg;
			break;
		case 'v':
			version = strtol(optarg, &end, 10);
			if (*end || (version != 6 && version != 7))
				return bad("version (6 or 7)", optarg);
			break;
		case 'z':
			zstd = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case '?':
			usage(stderr);
			return 2;
		}
	}
	if (!meta || !outp) {
		fprintf(stderr, "%s: -m METADIR and -o OUT are required\n", prog);
		usage(stderr);
		return 2;
	}
	if (zstd && version != 7) {
		fprintf(stderr, "%s: --zstd needs version 7\n", prog);
		return 2;
	}

	tracedat_set_log(log_msg);
	td = tracedat_open(outp, version,
			   zstd ? TRACEDAT_COMPRESS_ZSTD : TRACEDAT_COMPRESS_NONE);
	if (!td)
		return 1;
	ret = tracedat_load_meta(td, meta) ? 1 : 0;

	optind = 0;	/* second pass: options needing the handle */
	while (!ret &&
	       (opt = getopt_long(argc, argv, "m:o:v:zh", longopts, NULL)) != -1)
		ret = apply(td, opt, optarg, &peer, &peer_set, &tsflags);
	if (!ret && peer_set)
		ret = tracedat_set_time_shift(td, peer, tsflags) ? 1 : 0;

	for (i = optind, cpu = 0; !ret && i < argc; i++, cpu++) {
		const char *file = argv[i];

		eq = strchr(argv[i], '=');
		if (eq && eq != argv[i]) {
			long c = strtol(argv[i], &end, 10);

			if (end == eq) {
				cpu = c;
				file = eq + 1;
			}
		}
		ret = tracedat_add_cpu_file(td, cpu, file) ? 1 : 0;
	}
	if (ret) {
		tracedat_abort(td);
		return ret;
	}
	if (tracedat_close(td)) {
		fprintf(stderr, "%s: %s not written\n", prog, outp);
		return 1;
	}
	return 0;
}
