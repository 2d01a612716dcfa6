// SPDX-License-Identifier: GPL-2.0
/*
 * zstd compression in trace-cmd's two layouts:
 *  - a block (compressed sections): u32 csize, u32 usize, zstd frame
 *  - chunks (flyrecord CPU data): u32 count, then count times
 *    u32 csize, u32 usize (page aligned), zstd frame
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "internal.h"

struct td_zctx {
	ZSTD_CCtx *cctx;
	void *out;
	size_t out_cap;
};

struct td_zctx *td_z_new(void)
{
	struct td_zctx *z = calloc(1, sizeof(*z));

	if (!z)
		return NULL;
	z->cctx = ZSTD_createCCtx();
	if (!z->cctx) {
		free(z);
		return NULL;
	}
	return z;
}

void td_z_free(struct td_zctx *z)
{
	if (!z)
		return;
	ZSTD_freeCCtx(z->cctx);
	free(z->out);
	free(z);
}

const char *td_z_version(void)
{
	return ZSTD_versionString();
}

static int z_compress(struct td_zctx *z, const void *data, size_t len,
		      size_t *clen)
{
	size_t bound = ZSTD_compressBound(len), r;
	void *p;

	if (len > UINT32_MAX / 2)
		return -EFBIG;
	if (bound > z->out_cap) {
		p = realloc(z->out, bound);
		if (!p)
			return -ENOMEM;
		z->out = p;
		z->out_cap = bound;
	}
	r = ZSTD_compressCCtx(z->cctx, z->out, bound, data, len,
			      ZSTD_CLEVEL_DEFAULT);
	if (ZSTD_isError(r)) {
		td_err("zstd: %s", ZSTD_getErrorName(r));
		return -EIO;
	}
	*clen = r;
	return 0;
}

int td_z_block(struct td_zctx *z, struct td_out *o, const void *data, size_t len)
{
	size_t clen;
	int ret;

	ret = z_compress(z, data, len, &clen);
	if (ret)
		return ret;
	td_out_le(o, clen, 4);
	td_out_le(o, len, 4);
	td_out_write(o, z->out, clen);
	return o->err;
}

int td_z_copy_chunks(struct td_zctx *z, struct td_out *o, int fd, uint64_t size,
		     unsigned int page_size, uint64_t *written)
{
	size_t chunk = (size_t)TD_CHUNK_PAGES * page_size, n, clen;
	off_t start = o->pos;
	uint64_t off = 0;
	uint32_t count = 0;
	char *in;
	ssize_t r;
	int ret = 0;

	in = malloc(chunk);
	if (!in)
		return -ENOMEM;
	td_out_le(o, 0, 4);
	while (!ret && !o->err && off < size) {
		n = size - off < chunk ? size - off : chunk;
		r = pread(fd, in, n, off);
		if (r != (ssize_t)n) {
			ret = r < 0 ? -errno : -EIO;
			td_err("read of CPU data failed: %s",
			       r < 0 ? strerror(errno) : "file shrank");
			break;
		}
		ret = z_compress(z, in, n, &clen);
		if (ret)
			break;
		td_out_le(o, clen, 4);
		td_out_le(o, n, 4);
		td_out_write(o, z->out, clen);
		off += n;
		count++;
	}
	free(in);
	td_out_patch_u32(o, start, count);
	if (!ret)
		ret = o->err;
	*written = o->pos - start;
	return ret;
}
