// SPDX-License-Identifier: GPL-2.0
/*
 * The agent sends a cpio archive with tracefs paths (events/header_page,
 * events/sched/sched_switch/format, printk_formats, kallsyms, ...);
 * unpacked here into DIR so that DIR mirrors the guest's tracefs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vt_cpio.h"
#include "vt_metadir.h"

static int mkdirs(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	return 0;
}

/* A regular file: no link followed, no FIFO waited on or written. */
static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
		      O_NONBLOCK, 0644);
	struct stat st;
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || ftruncate(fd, 0)) {
		close(fd);
		return -EINVAL;
	}
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			ret = -errno;
			break;
		}
		data += n;
		len -= n;
	}
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int vt_metadir_unpack(const char *ar, size_t len, const char *dir, char *err,
		      size_t errsz)
{
	struct vt_cpio_entry e;
	size_t off = 0;
	int n = 0, ret;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(err, errsz, "mkdir %s: %s", dir, strerror(errno));
		return -errno;
	}
	while ((ret = vt_cpio_next(ar, len, &off, &e)) == 1) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, e.name);
		ret = mkdirs(path);
		if (!ret)
			ret = write_file(path, e.data, e.size);
		if (ret) {
			snprintf(err, errsz, "%s: %s", path, strerror(-ret));
			return ret;
		}
		n++;
	}
	if (ret < 0) {
		snprintf(err, errsz, "malformed or unsafe archive at byte %zu",
			 off);
		return ret;
	}
	return n;
}
