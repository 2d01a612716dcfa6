// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU raw data: whole ring-buffer pages as trace_pipe_raw hands them
 * out, stored verbatim. Checked before anything is written: the size must
 * be a multiple of the page size (or the partial tail dropped on request)
 * and every page's commit must fit its data area.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define COMMIT_MASK	((1ULL << 27) - 1)	/* flags live above */

static int check_pages(struct tracedat *td, struct td_cpu *c, int cpu)
{
	unsigned int psize = td->info.page_size;
	int hdr = td_header_page_data_offset(&td->meta.header_page);
	int lsize = hdr >= 16 ? 8 : 4;
	uint64_t off, commit;
	unsigned char *page;
	ssize_t n;
	int ret = 0;

	if (hdr < 0)
		return hdr;
	if ((unsigned int)hdr >= psize) {
		td_err("%s (cpu %d): page header of %d bytes (header_page) does not fit a page of %u bytes",
		       c->name, cpu, hdr, psize);
		return -EINVAL;
	}
	page = malloc(psize);
	if (!page)
		return -ENOMEM;
	for (off = 0; off < c->size; off += psize) {
		n = pread(c->fd, page, psize, off);
		if (n != (ssize_t)psize) {
			ret = n < 0 ? -errno : -EIO;
			td_err("%s: read at %llu failed: %s", c->name,
			       (unsigned long long)off,
			       n < 0 ? strerror(errno) : "short read");
			break;
		}
		commit = vt_le_get(page + 8, lsize) & COMMIT_MASK;
		if (commit > psize - hdr) {
			td_err("%s (cpu %d): page %llu at offset %llu: commit %llu exceeds the page's data area (%u bytes); not a ring-buffer page?",
			       c->name, cpu, (unsigned long long)(off / psize),
			       (unsigned long long)off,
			       (unsigned long long)commit, psize - hdr);
			ret = -EINVAL;
			break;
		}
	}
	free(page);
	return ret;
}

int td_cpu_check(struct tracedat *td, struct td_cpu *c)
{
	unsigned int psize = td->info.page_size;
	int cpu = c - td->cpus;
	struct stat st;
	uint64_t tail;

	if (fstat(c->fd, &st)) {
		td_err("%s: %s", c->name, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		td_err("%s: not a regular file (copy pipes/FIFOs to a file first)",
		       c->name);
		return -EINVAL;
	}
	c->size = st.st_size;
	tail = c->size % psize;
	if (tail) {
		if (!(td->flags & TRACEDAT_F_DROP_PARTIAL)) {
			td_err("%s (cpu %d): size %llu is not a multiple of the page size %u: the last page is partial (%llu bytes); a truncated copy?",
			       c->name, cpu, (unsigned long long)c->size, psize,
			       (unsigned long long)tail);
			return -EINVAL;
		}
		td_warn("%s (cpu %d): dropping a partial last page (%llu bytes)",
			c->name, cpu, (unsigned long long)tail);
		c->size -= tail;
	}
	return check_pages(td, c, cpu);
}
