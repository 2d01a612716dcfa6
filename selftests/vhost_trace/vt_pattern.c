// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace selftests: page pattern, sink checkers, pipe reader threads.
 *
 * The pattern and the checker are also vt-pattern's (selftests/pattern,
 * a static tool for guests and VM scripts), which builds this file with
 * VT_PATTERN_ONLY: without the reader threads and vt_guest.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef VT_PATTERN_ONLY
#include "vt_guest.h"
#endif
#include "vt_pattern.h"

#define VT_READ_SIZE	(1u << 20)

void vt_fill_words(void *dst, unsigned int port, uint64_t seq,
		   unsigned int first, unsigned int n)
{
	uint64_t *w = dst, v = vt_word(port, seq, first);
	unsigned int i;

	for (i = 0; i < n; i++)
		w[i] = v + i;
}

void vt_check_init(struct vt_check *c, unsigned int port, uint64_t first_seq,
		   unsigned int flags)
{
	memset(c, 0, sizeof(*c));
	c->port = port;
	c->flags = flags;
	c->next_seq = first_seq;
	c->first_seq = first_seq;
}

static bool vt_check_fail(struct vt_check *c, const char *what, uint64_t seq,
			  unsigned int word, uint64_t got, uint64_t want)
{
	c->bad = true;
	snprintf(c->why, sizeof(c->why),
		 "port %u, page %llu of the sink (byte %llu): %s (seq %llu, word %u: %#llx, expected %#llx)",
		 c->port, (unsigned long long)c->pages,
		 (unsigned long long)c->bytes, what, (unsigned long long)seq,
		 word, (unsigned long long)got, (unsigned long long)want);
	return false;
}

static bool vt_check_page(struct vt_check *c, const uint64_t *w)
{
	uint64_t seq = (w[0] >> 9) & VT_SEQ_MASK;
	uint64_t want = vt_word(c->port, seq, 0);
	unsigned int i;

	if (w[0] != want)
		return vt_check_fail(c, "not a page of this port", seq, 0,
				     w[0], vt_word(c->port, c->next_seq, 0));
	if (c->pages == 0 && (c->flags & VT_CHECK_ANY_START)) {
		c->first_seq = seq;
		c->next_seq = seq;
	}
	if (seq != c->next_seq &&
	    (!(c->flags & VT_CHECK_GAPS) || seq < c->next_seq))
		return vt_check_fail(c, seq < c->next_seq ?
				     "page duplicated or reordered" :
				     "page missing", seq, 0, w[0],
				     vt_word(c->port, c->next_seq, 0));
	for (i = 1; i < VT_PAGE_WORDS; i++)
		if (w[i] != want + i)
			return vt_check_fail(c, "page content", seq, i, w[i],
					     want + i);
	c->next_seq = seq + 1;
	c->pages++;
	c->bytes += VT_PAGE;
	return true;
}

bool vt_check_feed(struct vt_check *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len && !c->bad) {
		size_t n;

		if (!c->partial && len >= VT_PAGE && !((uintptr_t)p & 7)) {
			if (!vt_check_page(c, (const uint64_t *)p))
				break;
			p += VT_PAGE;
			len -= VT_PAGE;
			continue;
		}
		n = VT_PAGE - c->partial;
		if (n > len)
			n = len;
		memcpy((uint8_t *)c->buf + c->partial, p, n);
		c->partial += n;
		p += n;
		len -= n;
		if (c->partial == VT_PAGE) {
			c->partial = 0;
			vt_check_page(c, c->buf);
		}
	}
	return !c->bad;
}

bool vt_check_end(struct vt_check *c)
{
	if (c->bad)
		return false;
	if (c->partial) {
		c->bad = true;
		snprintf(c->why, sizeof(c->why),
			 "port %u: the sink ends with %zu bytes of a page after %llu pages",
			 c->port, c->partial, (unsigned long long)c->pages);
		return false;
	}
	return true;
}

bool vt_check_file(struct vt_check *c, int fd)
{
	uint8_t *buf = malloc(VT_READ_SIZE);
	off_t off = 0;
	ssize_t n;

	if (!buf) {
		snprintf(c->why, sizeof(c->why), "out of memory");
		c->bad = true;
		return false;
	}
	while ((n = pread(fd, buf, VT_READ_SIZE, off)) > 0) {
		off += n;
		if (!vt_check_feed(c, buf, n))
			break;
	}
	if (n < 0 && !c->bad) {
		c->bad = true;
		snprintf(c->why, sizeof(c->why), "port %u: pread: %s",
			 c->port, strerror(errno));
	}
	free(buf);
	return vt_check_end(c);
}

#ifndef VT_PATTERN_ONLY

static void *vt_reader_main(void *arg)
{
	struct vt_reader *r = arg;
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	uint8_t *buf = malloc(VT_READ_SIZE);
	ssize_t n;

	r->tid = syscall(SYS_gettid);
	if (!buf) {
		r->err = ENOMEM;
		return NULL;
	}
	while (!__atomic_load_n(&r->quit, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&r->paused, __ATOMIC_ACQUIRE)) {
			usleep(2000);
			continue;
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(r->fd, buf, VT_READ_SIZE);
		if (n == 0) {
			__atomic_store_n(&r->eof, 1, __ATOMIC_RELEASE);
			break;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			r->err = errno;
			break;
		}
		vt_check_feed(&r->chk, buf, n);
	}
	free(buf);
	return NULL;
}

int vt_reader_start(struct vt_reader *r, int fd, unsigned int port,
		    uint64_t first_seq, unsigned int flags)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	vt_check_init(&r->chk, port, first_seq, flags);
	err = pthread_create(&r->th, NULL, vt_reader_main, r);
	if (err)
		return -err;
	r->started = true;
	return 0;
}

void vt_reader_pause(struct vt_reader *r, bool paused)
{
	__atomic_store_n(&r->paused, paused, __ATOMIC_RELEASE);
}

uint64_t vt_reader_bytes(struct vt_reader *r)
{
	return __atomic_load_n(&r->chk.bytes, __ATOMIC_ACQUIRE);
}

bool vt_reader_finish(struct vt_reader *r, int timeout_ms)
{
	int64_t end = vt_now_ms() + timeout_ms;

	if (!r->started)
		return false;
	vt_reader_pause(r, false);
	while (!__atomic_load_n(&r->eof, __ATOMIC_ACQUIRE) &&
	       vt_now_ms() < end && !r->err)
		usleep(5000);
	__atomic_store_n(&r->quit, 1, __ATOMIC_RELEASE);
	pthread_join(r->th, NULL);
	r->started = false;
	if (r->err) {
		snprintf(r->chk.why, sizeof(r->chk.why), "port %u: read: %s",
			 r->chk.port, strerror(r->err));
		return false;
	}
	if (!r->eof) {
		if (!r->chk.bad)
			snprintf(r->chk.why, sizeof(r->chk.why),
				 "port %u: no EOF on the pipe after %d ms (%llu bytes read): a write end is still open",
				 r->chk.port, timeout_ms,
				 (unsigned long long)r->chk.bytes);
		return false;
	}
	return vt_check_end(&r->chk);
}

int vt_pipe(int fds[2], unsigned int size)
{
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	if (size && fcntl(fds[1], F_SETPIPE_SZ, size) < 0) {
		int err = errno;

		close(fds[0]);
		close(fds[1]);
		return -err;
	}
	return 0;
}

int vt_tmpfile(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}
#endif /* VT_PATTERN_ONLY */
