/* SPDX-License-Identifier: GPL-2.0 */
/* tracedat internals: shared by the library's files, not installed. */
#ifndef TRACEDAT_INTERNAL_H
#define TRACEDAT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracedat.h"
#include "vt_buf.h"
#include "vt_le.h"

#define TD_MAX_CPUS		4096
#define TD_CHUNK_PAGES		10	/* pages per compressed chunk */

/* trace-cmd option / section ids */
enum {
	OPT_DONE		= 0,
	OPT_BUFFER		= 3,
	OPT_TRACECLOCK		= 4,
	OPT_UNAME		= 5,
	OPT_CPUCOUNT		= 8,
	OPT_VERSION		= 9,
	OPT_TRACEID		= 11,
	OPT_TIME_SHIFT		= 12,
	OPT_GUEST		= 13,
	OPT_STRINGS		= 15,
	OPT_HEADER_INFO		= 16,
	OPT_FTRACE_EVENTS	= 17,
	OPT_EVENT_FORMATS	= 18,
	OPT_KALLSYMS		= 19,
	OPT_PRINTK		= 20,
	OPT_CMDLINES		= 21,
};

#define SEC_FL_COMPRESS		0x1

/* Growable buffers and their little-endian writers: struct vt_buf of
 * tools/libvt (vt_buf_put*, sticky b->err). */

/* out.c: the output file, with a sticky error */
struct td_out {
	int fd;
	off_t pos;
	int err;
	const char *name;	/* for messages */
};

void td_out_write(struct td_out *o, const void *data, size_t len);
void td_out_le(struct td_out *o, uint64_t v, int n);	/* n bytes of v */
void td_out_pad_to(struct td_out *o, off_t align);
void td_out_patch_u64(struct td_out *o, off_t at, uint64_t v);
void td_out_patch_u32(struct td_out *o, off_t at, uint32_t v);

/* meta.c: what the metadata directory holds */
struct td_format {
	char *system;
	char *event;
	struct vt_buf text;
};

struct td_meta {
	struct vt_buf header_page;
	struct vt_buf header_event;
	struct td_format *ftrace;	/* system "ftrace" */
	int nr_ftrace;
	struct td_format *events;	/* sorted by system, event */
	int nr_events;
	struct vt_buf kallsyms;
	struct vt_buf printk;
	struct vt_buf cmdlines;
	int loaded;
};

struct td_info {
	int cpus;
	unsigned int page_size;
	int long_size;
	char *trace_clock;	/* name, e.g. "local" */
	char *uname;
	char *release;
	char *version;
};

int td_meta_load(struct td_meta *m, struct td_info *info, const char *dir);
void td_meta_free(struct td_meta *m);
int td_info_set(struct td_info *info, const char *key, const char *value);
int td_info_load(struct td_info *info, const char *path);
/* the page header's size, TD_PAGE_HDR_MIN..MAX, or -EINVAL (logged) */
#define TD_PAGE_HDR_MIN		12	/* u64 time_stamp, 32-bit local_t */
#define TD_PAGE_HDR_MAX		64
int td_header_page_data_offset(const struct vt_buf *header_page);

/* pages.c: per-CPU raw page files */
struct td_cpu {
	int fd;			/* -1: no data */
	char *name;
	uint64_t size;		/* bytes used, whole pages */
};

int td_cpu_check(struct tracedat *td, struct td_cpu *c);

/* compress.c */
struct td_zctx;
struct td_zctx *td_z_new(void);
void td_z_free(struct td_zctx *z);
const char *td_z_version(void);
/* compressed block: u32 csize, u32 usize, data */
int td_z_block(struct td_zctx *z, struct td_out *o, const void *data, size_t len);
/* chunked copy of @size bytes from @fd: u32 count, chunks */
int td_z_copy_chunks(struct td_zctx *z, struct td_out *o, int fd, uint64_t size,
		     unsigned int page_size, uint64_t *written);

/* options.c */
struct td_option {
	uint16_t id;
	struct vt_buf data;
};

struct td_sample {
	uint64_t time;
	int64_t offset;
	uint64_t scaling;
	uint64_t fraction;
};

struct td_tshift {
	int set;
	uint64_t peer_id;
	uint32_t flags;
	int nr_cpus;
	struct td_sample **samples;	/* per CPU */
	int *counts;
};

int td_opt_append(struct tracedat *td, uint16_t id, struct vt_buf *data);
int td_tshift_build(struct tracedat *td, struct vt_buf *b);
void td_tshift_free(struct td_tshift *ts);
int td_common_options(struct tracedat *td);

struct tracedat {
	char *path;
	char *tmp_path;
	int version;
	enum tracedat_compress compress;
	unsigned int flags;
	struct td_out out;
	struct td_meta meta;
	struct td_info info;
	struct td_cpu *cpus;
	int nr_cpus;		/* allocated entries, max cpu + 1 */
	struct td_option *opts;
	int nr_opts;
	struct td_tshift tshift;
	struct td_zctx *z;
};

int td_nr_cpus(struct tracedat *td);
int td_write_v6(struct tracedat *td);
int td_write_v7(struct tracedat *td);

/* log.c */
void td_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void td_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* TRACEDAT_INTERNAL_H */
