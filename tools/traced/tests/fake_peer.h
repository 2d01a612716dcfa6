/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's end of the agent's control port in the daemon's unit tests
 * (agent_test.c, hostile_test.c): a socket of a socketpair.
 */
#ifndef FAKE_PEER_H
#define FAKE_PEER_H

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* All of s; 0, or -1 when the daemon's end is gone. */
static inline int peer_put(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		s += w;
		n -= w;
	}
	return 0;
}

/* One request line appended to got (its '\n' as ';'); 0, or -1 at the end. */
static inline int peer_take_line(int fd, char *got, size_t size)
{
	size_t n = strlen(got);
	char c;

	while (read(fd, &c, 1) == 1) {
		if (n + 1 < size)
			got[n++] = c == '\n' ? ';' : c;
		got[n] = '\0';
		if (c == '\n')
			return 0;
	}
	return -1;
}

#endif
