/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tracedat: write trace-cmd trace.dat files (versions 6 and 7) natively.
 *
 * Usage:
 *	td = tracedat_open("out.dat", 7, TRACEDAT_COMPRESS_ZSTD);
 *	tracedat_load_meta(td, "meta");		guest's tracefs copy
 *	tracedat_add_cpu_file(td, 0, "cpu0.raw");	whole ring-buffer pages
 *	tracedat_add_traceid(td, id);		optional options
 *	tracedat_close(td);			writes, fsyncs, renames
 *
 * Nothing appears at the output path until tracedat_close() succeeds: the
 * file is written under a temporary name in the same directory and renamed
 * at the end. tracedat_abort() (or any failure in tracedat_close()) removes
 * the temporary file. Every function returns 0 or a negative errno and
 * reports the reason through the log hook (stderr by default).
 */
#ifndef TRACEDAT_H
#define TRACEDAT_H

#include <stdint.h>

enum tracedat_compress {
	TRACEDAT_COMPRESS_NONE = 0,
	TRACEDAT_COMPRESS_ZSTD = 1,
};

/* tracedat_set_flags() */
#define TRACEDAT_F_DROP_PARTIAL	0x1	/* drop a partial last page, warn */

/* trace-cmd option ids (trace-cmd.dat.v7(5)) */
enum tracedat_option {
	TRACEDAT_OPT_DATE	= 1,
	TRACEDAT_OPT_CPUSTAT	= 2,
	TRACEDAT_OPT_TRACECLOCK	= 4,
	TRACEDAT_OPT_HOOK	= 6,
	TRACEDAT_OPT_OFFSET	= 7,
	TRACEDAT_OPT_PROCMAPS	= 10,
	TRACEDAT_OPT_TRACEID	= 11,
	TRACEDAT_OPT_TIME_SHIFT	= 12,
	TRACEDAT_OPT_GUEST	= 13,
	TRACEDAT_OPT_TSC2NSEC	= 14,
};

/* TIME_SHIFT flags */
#define TRACEDAT_TSYNC_INTERPOLATE	0x1

struct tracedat;

struct tracedat *tracedat_open(const char *path, int version,
			       enum tracedat_compress compress);
int tracedat_set_flags(struct tracedat *td, unsigned int flags);

/*
 * Metadata: a directory mirroring tracefs (see README). Keys of its info
 * file can also be set one by one (cpus, page_size, long_size,
 * trace_clock, uname, kernel_release, version).
 */
int tracedat_load_meta(struct tracedat *td, const char *dir);
int tracedat_set_info(struct tracedat *td, const char *key, const char *value);

/* Raw per-CPU data: a sequence of whole ring-buffer pages. */
int tracedat_add_cpu_file(struct tracedat *td, int cpu, const char *path);
int tracedat_add_cpu_fd(struct tracedat *td, int cpu, int fd,
			const char *name);

/* Host/guest merging */
int tracedat_add_traceid(struct tracedat *td, uint64_t trace_id);
int tracedat_set_time_shift(struct tracedat *td, uint64_t peer_id,
			    uint32_t flags);
/* host = ((guest * scaling) >> fraction) + offset from @time on (guest clock) */
int tracedat_add_ts_sample(struct tracedat *td, int cpu, uint64_t time,
			   int64_t offset, uint64_t scaling, uint64_t fraction);
int tracedat_add_guest(struct tracedat *td, const char *name,
		       uint64_t trace_id, int nr_vcpus, const int *host_tids);

/* Any other option, written verbatim (little endian data). */
int tracedat_add_option(struct tracedat *td, unsigned short id,
			const void *data, unsigned int size);

int tracedat_close(struct tracedat *td);
void tracedat_abort(struct tracedat *td);

/*
 * Amending an existing version 7 file (trace-cmd's or ours, little
 * endian): its options, as trace-cmd record does after a recording.
 *	e = tracedat_edit_open("host.dat");
 *	id = tracedat_edit_get(e, TRACEDAT_OPT_TRACEID, -1, &size);
 *	tracedat_edit_append(e, TRACEDAT_OPT_GUEST, data, size);
 *	tracedat_edit_close(e);		new options section, then linked
 * n selects among options with the same id: 0 the first, -1 the last.
 * tracedat_edit_patch() overwrites bytes of an option in place (at once,
 * synced). tracedat_edit_free() drops what was not written.
 */
struct tracedat_edit;

struct tracedat_edit *tracedat_edit_open(const char *path);
int tracedat_edit_count(struct tracedat_edit *e, unsigned short id);
const void *tracedat_edit_get(struct tracedat_edit *e, unsigned short id,
			      int n, unsigned int *size);
int tracedat_edit_patch(struct tracedat_edit *e, unsigned short id, int n,
			unsigned int at, const void *data, unsigned int size);
int tracedat_edit_append(struct tracedat_edit *e, unsigned short id,
			 const void *data, unsigned int size);
int tracedat_edit_close(struct tracedat_edit *e);
void tracedat_edit_free(struct tracedat_edit *e);

/* Log hook: level 0 = error, 1 = warning. NULL restores stderr. */
void tracedat_set_log(void (*fn)(int level, const char *msg));

#endif /* TRACEDAT_H */
