/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace selftests: the data the guest sends and its checking.
 *
 * Every buffer is one 4096-byte page of 512 words; word i of page seq of
 * port p is VT_WORD(p, seq, i). Word 0 therefore names the page, so a
 * checker reading a sink finds lost, duplicated, reordered, foreign or
 * torn pages.
 */
#ifndef _VT_PATTERN_H
#define _VT_PATTERN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef VT_PAGE
#define VT_PAGE		4096u	/* as vt_guest.h */
#endif
#define VT_PAGE_WORDS	512u
#define VT_SEQ_MASK	((1ULL << 47) - 1)

static inline uint64_t vt_word(unsigned int port, uint64_t seq, unsigned int i)
{
	return ((uint64_t)(port + 1) << 56) | ((seq & VT_SEQ_MASK) << 9) | i;
}

/* Words first .. first + n - 1 of a page, written to dst. */
void vt_fill_words(void *dst, unsigned int port, uint64_t seq,
		   unsigned int first, unsigned int n);

/* Checker flags. */
#define VT_CHECK_GAPS		(1u << 0)	/* pages may be missing */
#define VT_CHECK_ANY_START	(1u << 1)	/* the first page may be any */

struct vt_check {
	unsigned int port;
	unsigned int flags;
	uint64_t next_seq;		/* expected (GAPS: least) next seq */
	uint64_t first_seq;		/* of the first page seen */
	uint64_t pages;
	uint64_t bytes;
	size_t partial;			/* bytes of buf holding a torn page */
	uint64_t buf[VT_PAGE_WORDS];
	bool bad;
	char why[200];
};

void vt_check_init(struct vt_check *c, unsigned int port, uint64_t first_seq,
		   unsigned int flags);
/* Feed sink data in order; false (and c->why) once something is wrong. */
bool vt_check_feed(struct vt_check *c, const void *data, size_t len);
/* The stream ended: false if a torn page is left over. */
bool vt_check_end(struct vt_check *c);
/* Check a whole file from offset 0 and end the stream. */
bool vt_check_file(struct vt_check *c, int fd);

/*
 * A thread reading a pipe into a checker until EOF. It can be paused
 * (it stops reading, so the pipe fills) and resumed.
 */
struct vt_reader {
	int fd;
	struct vt_check chk;
	pthread_t th;
	int paused;
	int quit;
	int eof;
	int err;		/* errno of a failed read */
	pid_t tid;
	bool started;
};

int vt_reader_start(struct vt_reader *r, int fd, unsigned int port,
		    uint64_t first_seq, unsigned int flags);
void vt_reader_pause(struct vt_reader *r, bool paused);
/*
 * Wait up to timeout_ms for EOF, then stop the thread. True when EOF was
 * seen, no read failed and the data checked out.
 */
bool vt_reader_finish(struct vt_reader *r, int timeout_ms);
/* Bytes checked so far (safe while running). */
uint64_t vt_reader_bytes(struct vt_reader *r);

/* A pipe with a capacity of size bytes (0: default); 0 or -errno. */
int vt_pipe(int fds[2], unsigned int size);
/* A fresh regular file in dir, unlinked already, open O_RDWR. */
int vt_tmpfile(const char *dir);

#endif /* _VT_PATTERN_H */
