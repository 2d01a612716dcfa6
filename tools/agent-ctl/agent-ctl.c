// SPDX-License-Identifier: GPL-2.0
/*
 * agent-ctl: the host side of the trace-agent control protocol (see
 * guest/PROTOCOL), over the unix socket of QEMU's chardev for the
 * agent-ctl-path port; and a checker for raw ring-buffer page files.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vt_buf.h"
#include "vt_conn.h"
#include "vt_metadir.h"
#include "vt_page.h"
#include "vt_proto.h"

static int timeout_ms = 30000;
static int verbose;

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: agent-ctl -s SOCKET [-T SECONDS] COMMAND [ARGS] [+ COMMAND ...]\n"
"       agent-ctl check-pages [-v] FILE...\n"
"  SOCKET is QEMU's unix socket chardev of the guest port agent-ctl-path.\n"
"  Commands (several, separated by '+', share one connection):\n"
"    hello | info | stats | start | stop | reset | quit\n"
"    clock [NAME]            show or set the trace clock (x86-tsc, ...)\n"
"    events [SYS:EVENT...]   show or set the enabled events\n"
"    set KEY VALUE           pipe_size, buffer_size_kb, buffer_percent\n"
"    meta DIR                fetch the metadata into DIR (tracefs layout)\n"
"    legacy 1|0              upstream virtio-trace start/stop (2 bytes)\n"
"  check-pages validates files of raw 4096-byte ring-buffer pages: page\n"
"  headers, commit sizes, event walk, time stamps never going back.\n"
"  Exit status: 0 ok, 1 the agent answered an error or a check failed,\n"
"  2 usage, 3 connection or protocol failure.\n");
	exit(status);
}

static int do_legacy(int fd, const char *arg)
{
	char line[3] = { arg[0], '\n', 0 }, echo[2];
	int ret;

	if (strcmp(arg, "1") && strcmp(arg, "0")) {
		fprintf(stderr, "agent-ctl: legacy takes 1 or 0\n");
		return 2;
	}
	ret = vt_conn_send(fd, line, 2);
	if (!ret)
		ret = vt_conn_read(fd, echo, 2, timeout_ms);
	if (ret) {
		fprintf(stderr, "agent-ctl: legacy %s: %s\n", arg,
			strerror(-ret));
		return 3;
	}
	if (memcmp(echo, line, 2)) {
		fprintf(stderr, "agent-ctl: legacy %s: answered '%.2s'\n", arg,
			echo);
		return 3;
	}
	return 0;
}

/* argv[0..argc) is one command; returns the exit status. */
static int run_cmd(int fd, int argc, char **argv)
{
	struct vt_buf line = { 0 }, body = { 0 };
	const char *dir = NULL;
	char err[512];
	int i, ret;

	if (!strcmp(argv[0], "legacy")) {
		if (argc != 2)
			usage(2);
		return do_legacy(fd, argv[1]);
	}
	if (!strcmp(argv[0], "meta")) {
		if (argc != 2)
			usage(2);
		dir = argv[1];
		argc = 1;
	}
	for (i = 0; i < argc; i++)
		vt_buf_printf(&line, "%s%s", i ? " " : "", argv[i]);
	if (!strcmp(argv[0], "hello") && argc == 1)
		vt_buf_printf(&line, " %d", VT_PROTO_VERSION);
	ret = vt_conn_request(fd, line.p, &body, timeout_ms);
	if (ret < 0) {
		fprintf(stderr, "agent-ctl: %s: %s\n", line.p, strerror(-ret));
		ret = 3;
	} else if (ret == 0) {
		fprintf(stderr, "agent-ctl: %s: %s", line.p,
			body.len ? body.p : "error\n");
		ret = 1;
	} else if (dir) {
		int n = vt_metadir_unpack(body.p, body.len, dir, err, sizeof(err));

		if (n < 0) {
			fprintf(stderr, "agent-ctl: meta: %s\n", err);
			ret = 3;
		} else {
			printf("meta: %d files, %zu bytes, in %s\n", n,
			       body.len, dir);
			ret = 0;
		}
	} else {
		fwrite(body.p, 1, body.len, stdout);
		fflush(stdout);
		ret = 0;
	}
	vt_buf_free(&line);
	vt_buf_free(&body);
	return ret;
}

static int check_file(const char *path)
{
	unsigned char page[VT_PAGE_SIZE];
	unsigned long long pages = 0, events = 0, missed = 0, empty = 0;
	uint64_t first = 0, last = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), bad = 0;
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "check-pages: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = read(fd, page, sizeof(page))) == sizeof(page)) {
		struct vt_page_info pi;
		char err[256];

		if (vt_page_check(page, &pi, err, sizeof(err))) {
			printf("%s: page %llu: %s\n", path, pages, err);
			bad = 1;
			break;
		}
		if (pi.time_stamp < last) {
			printf("%s: page %llu: time stamp %llu before the "
			       "previous page's last event %llu\n", path, pages,
			       (unsigned long long)pi.time_stamp,
			       (unsigned long long)last);
			bad = 1;
			break;
		}
		if (verbose)
			printf("%s: page %llu ts %llu commit %llu events %u%s\n",
			       path, pages, (unsigned long long)pi.time_stamp,
			       (unsigned long long)pi.commit, pi.events,
			       pi.missed ? " (missed events before)" : "");
		if (!pages)
			first = pi.events ? pi.first_ts : pi.time_stamp;
		if (pi.events)
			last = pi.last_ts;
		else
			empty++;
		missed += pi.missed;
		events += pi.events;
		pages++;
	}
	if (!bad && n != 0) {
		printf("%s: %zd trailing bytes: not whole pages\n", path,
		       n < 0 ? (ssize_t)0 : n);
		bad = 1;
	}
	close(fd);
	printf("%s: %s: %llu pages, %llu events, ts %llu..%llu, "
	       "%llu with lost events before, %llu without events\n", path,
	       bad ? "INVALID" : "valid", pages, events,
	       (unsigned long long)first, (unsigned long long)last, missed,
	       empty);
	return bad;
}

static int check_pages(int argc, char **argv)
{
	int i, rc = 0;

	if (argc > 0 && !strcmp(argv[0], "-v")) {
		verbose = 1;
		argc--;
		argv++;
	}
	if (argc == 0)
		usage(2);
	for (i = 0; i < argc; i++)
		rc |= check_file(argv[i]);
	return rc;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	int c, fd, i, start, rc = 0;

	if (argc > 1 && !strcmp(argv[1], "check-pages"))
		return check_pages(argc - 2, argv + 2);
	while ((c = getopt(argc, argv, "+s:T:h")) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'T':
			timeout_ms = atoi(optarg) * 1000;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (!sock || optind >= argc)
		usage(2);
	fd = vt_conn_open(sock, timeout_ms);
	if (fd < 0) {
		fprintf(stderr, "agent-ctl: connect %s: %s\n", sock,
			strerror(-fd));
		return 3;
	}
	for (start = optind, i = optind; i <= argc && !rc; i++) {
		if (i < argc && strcmp(argv[i], "+"))
			continue;
		if (i > start)
			rc = run_cmd(fd, i - start, argv + start);
		start = i + 1;
	}
	close(fd);
	return rc;
}
