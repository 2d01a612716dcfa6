// SPDX-License-Identifier: GPL-2.0
/*
 * vt-pattern: write or check a stream of 4096-byte pages whose contents
 * are a function of (stream id, page number), so that loss, duplication,
 * reordering and corruption all show. The pattern and its checker are the
 * kselftests' (selftests/vhost_trace/vt_pattern.c, built here with
 * VT_PATTERN_ONLY): stream ID is the pattern's port.
 *
 *   vt-pattern write ID PAGES FILE [splice]   write PAGES pages to FILE,
 *                                             by write(2) or through a
 *                                             pipe with splice(2)
 *   vt-pattern check ID FILE                  check FILE (or - for stdin);
 *                                             prints the pages and bytes
 *
 * Built static: the same binary runs in a busybox guest and on the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vt_pattern.h"

#define PAGE VT_PAGE
#define MAX_ID 254	/* vt_word() keeps port + 1 in the top byte */

static void fill(uint8_t *p, uint32_t id, uint64_t n)
{
	vt_fill_words(p, id, n, 0, VT_PAGE_WORDS);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t r = write(fd, p, len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		len -= r;
	}
	return 0;
}

static int do_write(uint32_t id, uint64_t pages, const char *path, int use_splice)
{
	uint8_t page[PAGE];
	int fd, p[2];
	uint64_t n;

	fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		fprintf(stderr, "vt-pattern: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (use_splice && pipe(p)) {
		perror("vt-pattern: pipe");
		return 1;
	}
	for (n = 0; n < pages; n++) {
		fill(page, id, n);
		if (!use_splice) {
			if (write_all(fd, page, PAGE))
				goto fail;
			continue;
		}
		/* one page into the pipe, then spliced out whole */
		if (write_all(p[1], page, PAGE))
			goto fail;
		for (size_t left = PAGE; left; ) {
			ssize_t r = splice(p[0], NULL, fd, NULL, left,
					   SPLICE_F_MOVE);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				goto fail;
			left -= r;
		}
	}
	close(fd);
	printf("wrote %llu pages (%llu bytes) id %u by %s\n",
	       (unsigned long long)pages, (unsigned long long)pages * PAGE,
	       id, use_splice ? "splice" : "write");
	return 0;
fail:
	fprintf(stderr, "vt-pattern: writing page %llu: %s\n",
		(unsigned long long)n, strerror(errno));
	return 1;
}

static int do_check(uint32_t id, const char *path)
{
	static struct vt_check c;
	uint8_t buf[16 * PAGE];
	int fd = strcmp(path, "-") ? open(path, O_RDONLY) : 0;

	if (fd < 0) {
		fprintf(stderr, "vt-pattern: %s: %s\n", path, strerror(errno));
		return 1;
	}
	vt_check_init(&c, id, 0, 0);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			perror("vt-pattern: read");
			return 1;
		}
		if (!r)
			break;
		if (!vt_check_feed(&c, buf, r))
			break;
	}
	if (!vt_check_end(&c)) {
		fprintf(stderr, "vt-pattern: %s\n", c.why);
		return 1;
	}
	printf("%llu pages %llu bytes\n", (unsigned long long)c.pages,
	       (unsigned long long)c.bytes);
	return 0;
}

static int id_ok(const char *s)
{
	return strtoul(s, NULL, 0) <= MAX_ID;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !id_ok(argv[2])) {
		fprintf(stderr, "vt-pattern: ID is 0 to %d\n", MAX_ID);
		return 2;
	}
	if (argc >= 5 && !strcmp(argv[1], "write"))
		return do_write(atoi(argv[2]), strtoull(argv[3], NULL, 0),
				argv[4], argc > 5 && !strcmp(argv[5], "splice"));
	if (argc == 4 && !strcmp(argv[1], "check"))
		return do_check(atoi(argv[2]), argv[3]);
	fprintf(stderr, "usage: vt-pattern write ID PAGES FILE [splice]\n"
		"       vt-pattern check ID FILE|-\n");
	return 2;
}
