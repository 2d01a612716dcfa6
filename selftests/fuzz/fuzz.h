/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the libFuzzer targets (selftests/fuzz/fuzz_*.c).
 */
#ifndef VT_FUZZ_H
#define VT_FUZZ_H

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * The code under test logs to stderr: to /dev/null (libFuzzer keeps its
 * own copy of the stream; sanitizer reports go to fd 2 directly).
 */
static inline void fuzz_quiet(void)
{
	FILE *f = fopen("/dev/null", "w");

	if (f && !getenv("FUZZ_VERBOSE"))
		stderr = f;
}

static void fuzz_rm_rf(const char *path);
static char fuzz_dir[64];

static void fuzz_tmpdir_remove(void)
{
	fuzz_rm_rf(fuzz_dir);
}

/* A private temporary directory, made once per process, gone at exit. */
static inline const char *fuzz_tmpdir(void)
{
	char *dir = fuzz_dir;

	if (!dir[0]) {
		snprintf(dir, sizeof(fuzz_dir), "%s/vt-fuzz.XXXXXX",
			 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
		if (!mkdtemp(dir))
			abort();
		atexit(fuzz_tmpdir_remove);
	}
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/* Removes path and everything under it. */
static void fuzz_rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int fuzz_write_file(const char *path, const void *d, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t w = -1;

	if (fd < 0)
		return -1;
	if (n == 0 || (w = write(fd, d, n)) == (ssize_t)n)
		w = 0;
	close(fd);
	return w ? -1 : 0;
}

/*
 * A socketpair whose far end already holds data and then the end of the
 * stream: what a peer that sends data and hangs up looks like. The far
 * end is returned in *peer (the code under test may write to it). -1
 * when data does not fit the socket buffer.
 */
static inline int fuzz_peer(const void *data, size_t size, int *peer)
{
	int sv[2], sz = 4 << 20;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (size && send(sv[1], data, size, MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	shutdown(sv[1], SHUT_WR);
	*peer = sv[1];
	return sv[0];
}

#endif
