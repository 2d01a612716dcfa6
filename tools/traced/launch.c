// SPDX-License-Identifier: GPL-2.0
/*
 * Launch mode: the daemon opens the device and starts QEMU with it, as
 * the requester, with the agent's chardev and vhost-trace-pci added to
 * QEMU's command line. session_open_device is shared with attach.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "persist.h"
#include "session_int.h"
#include "state.h"
#include "vdpa.h"

#define FAIL(...) do { vt_buf_printf(err, __VA_ARGS__); goto fail; } while (0)

/*
 * QEMU's stdout and stderr: DIR/qemu.log, opened once the child has the
 * requester's ids, through DIR's fd, no link followed, a regular file
 * (a FIFO does not block the open). Async-signal-safe calls only.
 */
static int open_log(int dirfd)
{
	struct stat st;
	int fd;

	fd = openat(dirfd, "qemu.log", O_WRONLY | O_CREAT | O_TRUNC |
		    O_APPEND | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    fcntl(fd, F_SETFL, O_APPEND))
		return -1;
	return fd;
}

/* Runs in the forked child: async-signal-safe calls only. */
static void exec_qemu(const struct sess_args *a, int dev, int dirfd,
		      char **argv)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int fd;

	/*
	 * QEMU starts with the signals as a shell gives them: the daemon
	 * blocks SIGTERM and SIGINT (signalfd) and ignores SIGPIPE, and
	 * exec keeps both: a QEMU (or a `timeout` wrapping it) would never
	 * see a SIGTERM.
	 */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigaction(SIGPIPE, &dfl, NULL);
	setsid();
	if (fcntl(dev, F_SETFD, 0))
		_exit(126);
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		_exit(126);
	if (session_become_requester(a))
		_exit(126);
	fd = open_log(dirfd);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	if (chdir(a->cwd))
		_exit(126);
	execvp(argv[0], argv);
	_exit(127);
}

static char **qemu_argv(const struct sess_args *a, struct session *s,
			int dev)
{
	char **v = calloc(a->argc + 5, sizeof(char *));
	int i;

	if (!v)
		return NULL;
	for (i = 0; i < a->argc; i++)
		v[i] = a->argv[i];
	if (s->front == FRONT_VDPA) {
		/*
		 * vhost-vdpa-device-pci has no vhostfd property (QEMU 10.0:
		 * vhostdev= only), but QEMU opens /dev/fdset/N from an fd set
		 * (-add-fd): the inherited fd. Port 0 is the control fd's.
		 */
		if (asprintf(&v[i++], "-add-fd") < 0 ||
		    asprintf(&v[i++], "fd=%d,set=%lu,opaque=vtrace0", dev,
			     VDPA_FDSET_BASE + s->te.id) < 0 ||
		    asprintf(&v[i++], "-device") < 0 ||
		    asprintf(&v[i++], VDPA_QEMU_DEVICE ",id=vtrace0,"
			     "vhostdev=/dev/fdset/%lu",
			     VDPA_FDSET_BASE + s->te.id) < 0)
			return NULL;
		return v;
	}
	if (asprintf(&v[i++], "-chardev") < 0 ||
	    asprintf(&v[i++], "socket,id=vtagent,path=%s/agent.sock,"
		     "server=on,wait=off", s->rundir) < 0 ||
	    asprintf(&v[i++], "-device") < 0 ||
	    asprintf(&v[i++], "vhost-trace-pci,id=vtrace0,vhostfd=%d,ports=%u,"
		     "chardev=vtagent", dev, s->nports) < 0)
		return NULL;	/* small leak on an exhausted heap */
	return v;
}

static void free_qemu_argv(const struct sess_args *a, char **v)
{
	int i;

	for (i = a->argc; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/*
 * Shared by launch and attach: opens the device, sets the ports, takes
 * the control fd and attaches the sinks. Returns the device fd (for
 * QEMU), or -1 with err set.
 */
int session_open_device(struct session *s, struct vt_buf *err)
{
	int dev;

	dev = open(cfg.device, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		vt_buf_printf(err, "cannot open %s: %s%s", cfg.device,
			    strerror(errno), errno == ENOENT ?
			    " (is vhost_trace.ko loaded?)" : "");
		return -1;
	}
	if (ioctl(dev, VHOST_TRACE_SET_PORTS, &s->nports))
		FAIL("VHOST_TRACE_SET_PORTS %u: %s", s->nports, strerror(errno));
	s->ctl = ioctl(dev, VHOST_TRACE_GET_CTL_FD);
	if (s->ctl < 0)
		FAIL("VHOST_TRACE_GET_CTL_FD: %s", strerror(errno));
	if (session_attach_sinks(s, err))
		goto fail;
	return dev;
fail:
	close(dev);
	return -1;
}

/* Our QEMU child is gone again. */
static void kill_qemu(struct session *s)
{
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
}

int session_launch(const struct sess_args *a, struct session **out,
		   struct vt_buf *err)
{
	struct session *s;
	char **argv = NULL;
	char pstate, why[160];
	int dev = -1, rc, front, has = -ENOENT;

	/* the front end: what QEMU offers, unless the vhost one is asked for */
	if (a->front != FRONT_VHOST)
		has = front_probe_launch(a);
	front = front_choose(a->front, has, a->argv[0], err, why, sizeof(why));
	if (front < 0)
		return -EINVAL;

	rc = session_new(a, &s, err);
	if (rc)
		return rc;
	s->child = 1;
	s->front = front;
	sess_log(s, "front end %s (%s)", front_name(front), why);
	dev = front == FRONT_VDPA ? vdpa_open_device(s, err) :
	      session_open_device(s, err);
	if (dev < 0)
		goto fail;
	/* after the kernel's answer: a kernel without vDPA is told first */
	if (front == FRONT_VDPA && !front_shared_ram_args(a->argc, a->argv)) {
		front_no_shared_ram(err);
		goto fail;
	}
	argv = qemu_argv(a, s, dev);
	if (!argv)
		FAIL("out of memory");

	s->pid = fork();
	if (s->pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (!s->pid)
		exec_qemu(a, dev, s->dirfd, argv);
	s->vhostfd = dev;	/* the same number in QEMU: inherited */
	close(dev);		/* QEMU holds the device now */
	dev = -1;
	free_qemu_argv(a, argv);
	argv = NULL;
	s->pidfd = pidfd_open(s->pid, 0);
	/* the start time is the fork's: exec does not change it */
	if (s->pidfd < 0 || proc_stat(s->pid, &pstate, &s->start_time)) {
		vt_buf_printf(err, "cannot watch QEMU (pid %d): %s", s->pid,
			    strerror(errno));
		kill_qemu(s);
		goto fail;
	}
	session_save(s);
	if (session_run(s, err)) {
		kill_qemu(s);
		goto fail;
	}
	table_entry_get(&s->te);	/* the caller's */
	*out = s;
	return 0;
fail:
	free_qemu_argv(a, argv);
	if (dev >= 0)
		close(dev);
	vdpa_delete(s, 5000);	/* QEMU, if it ran, let it go */
	table_del(&s->te);
	return -EIO;
}
