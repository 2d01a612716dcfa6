/* SPDX-License-Identifier: GPL-2.0 */
/* tracedat internals: shared by the library's files, not installed. */
#ifndef TRACEDAT_INTERNAL_H
#define TRACEDAT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracedat.h"

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

/* buf.c: growable byte buffer, little-endian encoders */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	int err;		/* sticky -ENOMEM */
};

void buf_put(struct buf *b, const void *data, size_t len);
void buf_put_str(struct buf *b, const char *s);	/* with its NUL */
void buf_put_u16(struct buf *b, uint16_t v);
void buf_put_u32(struct buf *b, uint32_t v);
void buf_put_u64(struct buf *b, uint64_t v);
void buf_set_u32(struct buf *b, size_t at, uint32_t v);
void buf_free(struct buf *b);
int buf_read_file(struct buf *b, const char *path);	/* -errno */

/* out.c: the output file, with a sticky error */
struct out {
	int fd;
	off_t pos;
	int err;
	const char *name;	/* for messages */
};

void out_write(struct out *o, const void *data, size_t len);
void out_u16(struct out *o, uint16_t v);
void out_u32(struct out *o, uint32_t v);
void out_u64(struct out *o, uint64_t v);
void out_pad_to(struct out *o, off_t align);
void out_patch_u64(struct out *o, off_t at, uint64_t v);
void out_patch_u32(struct out *o, off_t at, uint32_t v);

/* meta.c: what the metadata directory holds */
struct td_format {
	char *system;
	char *event;
	struct buf text;
};

struct td_meta {
	struct buf header_page;
	struct buf header_event;
	struct td_format *ftrace;	/* system "ftrace" */
	int nr_ftrace;
	struct td_format *events;	/* sorted by system, event */
	int nr_events;
	struct buf kallsyms;
	struct buf printk;
	struct buf cmdlines;
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

int meta_load(struct td_meta *m, struct td_info *info, const char *dir);
void meta_free(struct td_meta *m);
int info_set(struct td_info *info, const char *key, const char *value);
int info_load(struct td_info *info, const char *path);
/* the page header's size, TD_PAGE_HDR_MIN..MAX, or -EINVAL (logged) */
#define TD_PAGE_HDR_MIN		12	/* u64 time_stamp, 32-bit local_t */
#define TD_PAGE_HDR_MAX		64
int header_page_data_offset(const struct buf *header_page);

/* pages.c: per-CPU raw page files */
struct td_cpu {
	int fd;			/* -1: no data */
	char *name;
	uint64_t size;		/* bytes used, whole pages */
};

int cpu_check(struct tracedat *td, struct td_cpu *c);

/* compress.c */
struct zctx;
struct zctx *z_new(void);
void z_free(struct zctx *z);
const char *z_version(void);
/* compressed block: u32 csize, u32 usize, data */
int z_block(struct zctx *z, struct out *o, const void *data, size_t len);
/* chunked copy of @size bytes from @fd: u32 count, chunks */
int z_copy_chunks(struct zctx *z, struct out *o, int fd, uint64_t size,
		  unsigned int page_size, uint64_t *written);

/* options.c */
struct td_option {
	uint16_t id;
	struct buf data;
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

int opt_append(struct tracedat *td, uint16_t id, struct buf *data);
int tshift_build(struct tracedat *td, struct buf *b);
void tshift_free(struct td_tshift *ts);
int common_options(struct tracedat *td);

struct tracedat {
	char *path;
	char *tmp_path;
	int version;
	enum tracedat_compress compress;
	unsigned int flags;
	struct out out;
	struct td_meta meta;
	struct td_info info;
	struct td_cpu *cpus;
	int nr_cpus;		/* allocated entries, max cpu + 1 */
	struct td_option *opts;
	int nr_opts;
	struct td_tshift tshift;
	struct zctx *z;
};

int td_nr_cpus(struct tracedat *td);
int write_v6(struct tracedat *td);
int write_v7(struct tracedat *td);

/* log.c */
void td_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void td_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* TRACEDAT_INTERNAL_H */
