// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-traced: the vhost-trace host daemon. Owns tracing sessions, one
 * per VM, and answers the vhost-trace CLI on a unix control socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "session.h"

#define DEFAULT_SOCKET	"/run/vhost-trace/traced.sock"

static void usage(FILE *f)
{
	fprintf(f,
"usage: vhost-traced [OPTION]...\n"
"The vhost-trace host daemon: traces VMs through /dev/vhost-trace and\n"
"answers the vhost-trace CLI on a unix socket. Runs in the foreground;\n"
"SIGTERM or SIGINT stops every session (files complete) and exits.\n"
"\n"
"Restart: each session keeps its state in RUNDIR/sID/state. A daemon\n"
"that dies (SIGKILL, crash) loses nothing: the module keeps the sinks\n"
"attached and the files grow meanwhile. On start, vhost-traced takes\n"
"over every session whose QEMU still runs (same pid and start time):\n"
"it takes QEMU's device fd (pidfd_getfd), a control fd of its own, the\n"
"module's counters, and reconnects to the agent without restarting it;\n"
"the files are never truncated. A session whose QEMU exited meanwhile\n"
"ends: files synced, DIR/stats from the file sizes, DIR/trace.dat from\n"
"the metadata fetched at start. Each decision is logged; new session\n"
"ids continue after the highest one found. Details: PROTOCOL, Restart.\n"
"\n"
"  -s, --socket PATH    control socket (default " DEFAULT_SOCKET ")\n"
"  -g, --group GROUP    members of GROUP may use it too (mode 0660);\n"
"                       without it only root may (mode 0600)\n"
"  -r, --rundir DIR     agent sockets (default: the socket's directory)\n"
"  -d, --device PATH    vhost-trace device (default /dev/vhost-trace)\n"
"  -l, --linger SEC     an ended session stays listed (default 600)\n"
"  -h, --help           this help\n"
"\n"
"Exit status: 0 after a clean shutdown, 1 on a start-up error, 2 usage.\n"
"Protocol: tools/traced/PROTOCOL.\n");
}

/*
 * RUNDIR holds a directory per session, chowned to its requester: only
 * root may change its entries, or a planted sID would be given away.
 */
static int open_rundir(void)
{
	struct stat st;

	if (mkdir(cfg.rundir, 0755) && errno != EEXIST) {
		vt_log("cannot create %s: %s", cfg.rundir, strerror(errno));
		return -1;
	}
	cfg.rundirfd = open(cfg.rundir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
	if (cfg.rundirfd < 0 || fstat(cfg.rundirfd, &st)) {
		vt_log("cannot open %s: %s", cfg.rundir, strerror(errno));
		return -1;
	}
	if (st.st_uid || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		vt_log("%s: refused as the run directory: owned by uid %u, "
		       "mode %04o (it must be root's, writable by root only)",
		       cfg.rundir, (unsigned int)st.st_uid,
		       (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "group", required_argument, NULL, 'g' },
		{ "rundir", required_argument, NULL, 'r' },
		{ "device", required_argument, NULL, 'd' },
		{ "linger", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *sock = DEFAULT_SOCKET, *group = NULL;
	char *rundir = NULL;
	struct signalfd_siginfo si;
	gid_t gid = (gid_t)-1;
	sigset_t set;
	int opt, lfd, sfd, err;

	while ((opt = getopt_long(argc, argv, "s:g:r:d:l:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'g': group = optarg; break;
		case 'r': rundir = optarg; break;
		case 'd': cfg.device = optarg; break;
		case 'l': cfg.linger_s = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		vt_log("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (group) {
		struct group *g = getgrnam(group);

		if (!g) {
			vt_log("no group '%s'", group);
			return 2;
		}
		gid = g->gr_gid;
	}
	if (!rundir) {
		char *slash;

		rundir = strdup(sock);
		slash = rundir ? strrchr(rundir, '/') : NULL;
		if (slash && slash != rundir)
			*slash = 0;
		else if (rundir)
			strcpy(rundir, ".");
	}
	cfg.rundir = rundir;
	if (open_rundir())
		return 1;
	/* on the requester's files only their ids count (fsid.h) */
	if (setgroups(0, NULL)) {
		vt_log("setgroups: %s", strerror(errno));
		return 1;
	}

	/* every thread inherits the mask: signals arrive on sfd only */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0 || table_init()) {
		vt_log("start-up: %s", strerror(errno));
		return 1;
	}
	rcu_register_thread();
	lfd = server_listen(sock, gid);
	if (lfd < 0) {
		vt_log("%s: %s", sock, lfd == -EADDRINUSE ?
		       "another daemon answers there" : strerror(-lfd));
		return 1;
	}
	vt_log("listening on %s (%s)", sock, group ? group : "root only");
	/* only now: a daemon that still answers there kept its sessions */
	sessions_recover();

	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = lfd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents &&
		    read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGHUP)
			break;
		if (pf[0].revents) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0)
				server_spawn(fd, gid);
		}
	}

	vt_log("stopping %u session(s)", sessions_live());
	close(lfd);
	unlink(sock);
	sessions_shutdown(15000);
	err = sessions_live() ? 1 : 0;
	if (err)
		vt_log("%u session(s) did not stop", sessions_live());
	else
		vt_log("every session stopped");
	rcu_unregister_thread();
	if (!err)
		table_exit();
	return err;
}
