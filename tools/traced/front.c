// SPDX-License-Identifier: GPL-2.0
/*
 * The front-end choice (vdpa.h): what a QEMU offers (-device help of a
 * launch's QEMU, run as the requester; qom-list-types over QMP is
 * attach.c's) and which front end a request gets.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session.h"
#include "vdpa.h"
#include "vt_time.h"

#define PROBE_TIMEOUT_MS	15000	/* QEMU -device help (TCG: ~1 s) */
#define PROBE_MAX_OUT		(1 << 20)

unsigned int front_scan(const char *text)
{
	unsigned int has = 0;

	/* -device help: name "X", bus PCI; qom-list-types: "name":"X" */
	if (strstr(text, "\"vhost-trace-pci\""))
		has |= QEMU_HAS_VHOST_TRACE;
	if (strstr(text, "\"" VDPA_QEMU_DEVICE "\""))
		has |= QEMU_HAS_VDPA;
	return has;
}

/* The child of the probe: QEMU -device help as the requester. */
static void probe_child(const struct sess_args *a, int out)
{
	char *argv[] = { a->argv[0], "-device", "help", NULL };
	sigset_t none;
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	fd = open("/dev/null", O_RDWR);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 2) < 0 || dup2(out, 1) < 0)
		_exit(126);
	if (session_become_requester(a))
		_exit(126);
	if (chdir(a->cwd ? a->cwd : "/"))
		_exit(126);
	execvp(argv[0], argv);
	_exit(127);
}

int front_probe_launch(const struct sess_args *a)
{
	long end = vt_now_ms() + PROBE_TIMEOUT_MS;
	struct vt_buf out;
	int p[2], status, ret;
	pid_t pid;

	if (a->argc < 1 || pipe2(p, O_CLOEXEC))
		return -EINVAL;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!pid)
		probe_child(a, p[1]);
	close(p[1]);
	vt_buf_init(&out);
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		long left = end - vt_now_ms();
		char buf[4096];
		ssize_t r;

		if (left <= 0 || out.len > PROBE_MAX_OUT)
			break;
		if (poll(&pf, 1, left) <= 0)
			continue;
		r = read(p[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || vt_buf_append(&out, buf, r))
			break;
	}
	close(p[0]);
	kill(pid, SIGKILL);	/* gone already, or too slow */
	waitpid(pid, &status, 0);
	ret = out.len ? (int)front_scan(out.p) : 0;
	vt_buf_free(&out);
	/* nothing known of either: not a QEMU that answers -device help */
	return ret ? ret : -ENOENT;
}

int front_choose(int want, int has, const char *qemu, struct vt_buf *err,
		 char *why, size_t whysz)
{
	if (want == FRONT_VHOST || want == FRONT_VDPA) {
		int need = want == FRONT_VHOST ? QEMU_HAS_VHOST_TRACE :
			   QEMU_HAS_VDPA;

		/* a QEMU that answered, without the device asked for */
		if (has >= 0 && !(has & need)) {
			vt_buf_printf(err, "front end %s: %s has no %s%s",
				      front_name(want), qemu,
				      want == FRONT_VHOST ? "vhost-trace-pci" :
				      VDPA_QEMU_DEVICE,
				      want == FRONT_VHOST ?
				      " (the patched QEMU of qemu-glue has it; "
				      "a stock QEMU >= 8.0: front end vdpa)" :
				      " (QEMU >= 8.0 has it)");
			return -1;
		}
		snprintf(why, whysz, "asked for");
		return want;
	}
	if (has < 0) {
		snprintf(why, whysz, "QEMU could not be asked what it has "
			 "(%s): the vhost front end", strerror(-has));
		return FRONT_VHOST;
	}
	if (has & QEMU_HAS_VHOST_TRACE) {
		snprintf(why, whysz, "QEMU has vhost-trace-pci");
		return FRONT_VHOST;
	}
	if (has & QEMU_HAS_VDPA) {
		snprintf(why, whysz, "QEMU has " VDPA_QEMU_DEVICE
			 ", not vhost-trace-pci");
		return FRONT_VDPA;
	}
	vt_buf_printf(err, "%s has neither vhost-trace-pci (the patched QEMU) "
		      "nor " VDPA_QEMU_DEVICE " (QEMU >= 8.0)", qemu);
	return -1;
}

int front_shared_ram_args(int argc, char *const *argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strstr(argv[i], "memory-backend-") &&
		    strstr(argv[i], "share=on"))
			return 1;
	return 0;
}

void front_no_shared_ram(struct vt_buf *err)
{
	vt_buf_printf(err, "vDPA front end: the guest's RAM must be a shared "
		      "memory backend (e.g. -object memory-backend-memfd,"
		      "id=mem,size=SIZE,share=on -machine memory-backend=mem; "
		      "libvirt: memoryBacking memfd, access shared): vhost-vdpa "
		      "in virtual-address mode maps only shared file mappings "
		      "of QEMU (vhost_vdpa_va_map), so nothing pins the guest's "
		      "RAM");
}
