// SPDX-License-Identifier: GPL-2.0
/*
 * The library's entry points: a handle collects metadata, options and
 * per-CPU page files; tracedat_close() writes the whole file under a
 * temporary name, fsyncs it and renames it into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct tracedat *tracedat_open(const char *path, int version,
			       enum tracedat_compress compress)
{
	struct tracedat *td;
	mode_t mask;

	if (version != 6 && version != 7) {
		td_err("%s: version %d not supported (6 or 7)", path, version);
		errno = EINVAL;
		return NULL;
	}
	if (compress && version < 7) {
		td_err("%s: compression needs file version 7", path);
		errno = EINVAL;
		return NULL;
	}
	if (compress != TRACEDAT_COMPRESS_NONE &&
	    compress != TRACEDAT_COMPRESS_ZSTD) {
		td_err("%s: unknown compression %d", path, compress);
		errno = EINVAL;
		return NULL;
	}
	td = calloc(1, sizeof(*td));
	if (!td)
		return NULL;
	td->version = version;
	td->compress = compress;
	td->out.fd = -1;
	td->path = strdup(path);
	if (!td->path || asprintf(&td->tmp_path, "%s.tmp-XXXXXX", path) < 0) {
		td->tmp_path = NULL;
		goto fail;
	}
	td->out.fd = mkostemp(td->tmp_path, O_CLOEXEC);
	if (td->out.fd < 0) {
		int err = errno;

		td_err("cannot create %s: %s", path, strerror(err));
		free(td->tmp_path);
		td->tmp_path = NULL;
		errno = err;
		goto fail;
	}
	mask = umask(0);
	umask(mask);
	fchmod(td->out.fd, 0666 & ~mask);
	td->out.name = td->path;
	if (compress) {
		td->z = td_z_new();
		if (!td->z) {
			td_err("zstd: cannot allocate a context");
			errno = ENOMEM;
			goto fail;
		}
	}
	return td;
fail:
	tracedat_abort(td);
	return NULL;
}

int tracedat_set_flags(struct tracedat *td, unsigned int flags)
{
	td->flags = flags;
	return 0;
}

int tracedat_load_meta(struct tracedat *td, const char *dir)
{
	return td_meta_load(&td->meta, &td->info, dir);
}

int tracedat_set_info(struct tracedat *td, const char *key, const char *value)
{
	return td_info_set(&td->info, key, value);
}

int tracedat_add_cpu_fd(struct tracedat *td, int cpu, int fd, const char *name)
{
	struct td_cpu *tmp;
	char label[32];
	int dfd;

	if (cpu < 0 || cpu >= TD_MAX_CPUS) {
		td_err("cpu %d out of range (0..%d)", cpu, TD_MAX_CPUS - 1);
		return -EINVAL;
	}
	if (cpu < td->nr_cpus && td->cpus[cpu].fd >= 0) {
		td_err("cpu %d: data given twice (%s, %s)", cpu,
		       td->cpus[cpu].name, name ? name : "fd");
		return -EEXIST;
	}
	if (cpu >= td->nr_cpus) {
		tmp = realloc(td->cpus, (cpu + 1) * sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		td->cpus = tmp;
		while (td->nr_cpus <= cpu) {
			memset(&tmp[td->nr_cpus], 0, sizeof(*tmp));
			tmp[td->nr_cpus++].fd = -1;
		}
	}
	if (!name) {
		snprintf(label, sizeof(label), "cpu%d data", cpu);
		name = label;
	}
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0) {
		td_err("%s: %s", name, strerror(errno));
		return -errno;
	}
	td->cpus[cpu].name = strdup(name);
	td->cpus[cpu].fd = dfd;
	return td->cpus[cpu].name ? 0 : -ENOMEM;
}

int tracedat_add_cpu_file(struct tracedat *td, int cpu, const char *path)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		td_err("%s: %s", path, strerror(errno));
		return ret;
	}
	ret = tracedat_add_cpu_fd(td, cpu, fd, path);
	close(fd);
	return ret;
}

/* CPUs in the file: the traced machine's count, or more if data says so */
int td_nr_cpus(struct tracedat *td)
{
	return td->info.cpus > td->nr_cpus ? td->info.cpus : td->nr_cpus;
}

static int set_defaults(struct tracedat *td)
{
	struct td_info *info = &td->info;

	if (!td->meta.loaded) {
		td_err("%s: no metadata loaded (header_page, event formats)",
		       td->path);
		return -EINVAL;
	}
	if (!info->page_size)
		info->page_size = 4096;
	if (!info->long_size)
		info->long_size = 8;
	if (!info->trace_clock)
		return td_info_set(info, "trace_clock", "local");
	return 0;
}

static int check_cpus(struct tracedat *td)
{
	int cpu, ret;

	if (!td_nr_cpus(td)) {
		td_err("%s: no CPU data given and the CPU count is unknown (info cpus=)",
		       td->path);
		return -EINVAL;
	}
	if (td->info.cpus && td->nr_cpus > td->info.cpus)
		td_warn("data for %d CPUs, but the traced machine has %d; writing %d",
			td->nr_cpus, td->info.cpus, td->nr_cpus);
	for (cpu = 0; cpu < td->nr_cpus; cpu++) {
		if (td->cpus[cpu].fd < 0)
			continue;
		ret = td_cpu_check(td, &td->cpus[cpu]);
		if (ret)
			return ret;
	}
	return 0;
}

static int finish(struct tracedat *td)
{
	int ret;

	if (fsync(td->out.fd)) {
		ret = -errno;
		td_err("%s: fsync: %s", td->path, strerror(errno));
		return ret;
	}
	if (close(td->out.fd)) {
		td->out.fd = -1;
		ret = -errno;
		td_err("%s: close: %s", td->path, strerror(errno));
		return ret;
	}
	td->out.fd = -1;
	if (rename(td->tmp_path, td->path)) {
		ret = -errno;
		td_err("cannot rename %s to %s: %s", td->tmp_path, td->path,
		       strerror(errno));
		return ret;
	}
	free(td->tmp_path);
	td->tmp_path = NULL;
	return 0;
}

int tracedat_close(struct tracedat *td)
{
	int ret;

	ret = set_defaults(td);
	if (!ret)
		ret = check_cpus(td);
	if (!ret)
		ret = td_common_options(td);
	if (!ret)
		ret = td->version == 6 ? td_write_v6(td) : td_write_v7(td);
	if (!ret && td->out.err)
		ret = td->out.err;
	if (!ret)
		ret = finish(td);
	tracedat_abort(td);
	return ret;
}

/* Frees the handle; removes the temporary file if it is still there. */
void tracedat_abort(struct tracedat *td)
{
	int i;

	if (!td)
		return;
	if (td->out.fd >= 0)
		close(td->out.fd);
	if (td->tmp_path)
		unlink(td->tmp_path);
	for (i = 0; i < td->nr_cpus; i++) {
		if (td->cpus[i].fd >= 0)
			close(td->cpus[i].fd);
		free(td->cpus[i].name);
	}
	free(td->cpus);
	for (i = 0; i < td->nr_opts; i++)
		vt_buf_free(&td->opts[i].data);
	free(td->opts);
	td_tshift_free(&td->tshift);
	td_meta_free(&td->meta);
	free(td->info.trace_clock);
	free(td->info.uname);
	free(td->info.release);
	free(td->info.version);
	td_z_free(td->z);
	free(td->tmp_path);
	free(td->path);
	free(td);
}
