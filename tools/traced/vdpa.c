// SPDX-License-Identifier: GPL-2.0
/*
 * The front ends (vdpa.h): which one a session uses, and the vDPA one's
 * device: created in the module, bound to vhost_vdpa, its /dev/vhost-vdpa-N
 * for QEMU, deleted when QEMU let it go. Everything here is root's: the
 * module's node, sysfs and /dev, never a name in a user's directory; only
 * the probe of a launch's QEMU runs as the requester.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vhost_trace.h>

#include "log.h"
#include "session_int.h"
#include "vdpa.h"

#define BIND_WAIT_MS		5000	/* vhost_vdpa bound, its node there */
#define SYS_VDPA		"/sys/bus/vdpa"

static void name_arg(struct vhost_trace_vdpa *v, const char *name,
		     unsigned int nports)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->nports = nports;
}

/* Why the vDPA ioctls say EOPNOTSUPP, for the requester. */
static void no_vdpa(char *why, size_t whysz)
{
	struct utsname u;

	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	snprintf(why, whysz, "this kernel (%s) has no vDPA (CONFIG_VDPA; "
		 "Debian's 6.1 has none, its 6.12 has it): vhost_trace.ko "
		 "serves only the vhost front end here (vhost-trace-pci, the "
		 "patched QEMU)", u.release);
}

void vdpa_name(const struct session *s, char *buf, size_t len)
{
	size_t n = strlen(s->te.name) + 3;

	if (n < sizeof(((struct vhost_trace_vdpa *)0)->name) && n < len)
		snprintf(buf, len, "vt-%.*s", (int)(n - 3), s->te.name);
	else
		snprintf(buf, len, "vt-s%lu", s->te.id);
}

/* /dev/vhost-trace's fd for a vDPA ioctl, or -1 with errno. */
static int vt_dev(void)
{
	return open(cfg.device, O_RDWR | O_CLOEXEC);
}

/* A sysfs file's first line, without its newline. 0 or -errno. */
static int sys_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int sys_write(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* The driver bound to vDPA device name ("" none). */
static void bound_driver(const char *name, char *drv, size_t len)
{
	char path[256], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), SYS_VDPA "/devices/%s/driver", name);
	n = readlink(path, link, sizeof(link) - 1);
	drv[0] = '\0';
	if (n > 0) {
		const char *b;

		link[n] = '\0';
		b = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
		if (strlen(b) < len)
			memcpy(drv, b, strlen(b) + 1);
	}
}

static int modprobe(const char *mod)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/sbin/modprobe", "modprobe", "-q", mod, (char *)NULL);
		execlp("modprobe", "modprobe", "-q", mod, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -ENOENT;
}

/* vhost_vdpa bound to the device (loaded first, another driver unbound). */
static int bind_vhost_vdpa(const char *name, struct vt_buf *err)
{
	char path[256], drv[64];
	int rc;

	if (access(SYS_VDPA "/drivers/vhost_vdpa", F_OK) &&
	    modprobe("vhost_vdpa")) {
		vt_buf_printf(err, "vDPA: modprobe vhost_vdpa failed (Debian "
			      "6.12 has it: CONFIG_VHOST_VDPA)");
		return -1;
	}
	bound_driver(name, drv, sizeof(drv));
	if (!strcmp(drv, "vhost_vdpa"))
		return 0;
	/* from now on only vhost_vdpa takes it (a probe by virtio_vdpa) */
	snprintf(path, sizeof(path), SYS_VDPA "/devices/%s/driver_override",
		 name);
	sys_write(path, "vhost_vdpa");
	if (drv[0]) {
		snprintf(path, sizeof(path), SYS_VDPA "/drivers/%s/unbind", drv);
		rc = sys_write(path, name);
		if (rc) {
			vt_buf_printf(err, "vDPA: cannot unbind %s from %s: %s",
				      name, drv, strerror(-rc));
			return -1;
		}
	}
	rc = sys_write(SYS_VDPA "/drivers/vhost_vdpa/bind", name);
	bound_driver(name, drv, sizeof(drv));
	if (strcmp(drv, "vhost_vdpa")) {
		vt_buf_printf(err, "vDPA: cannot bind %s to vhost_vdpa: %s",
			      name, rc ? strerror(-rc) : "not bound");
		return -1;
	}
	return 0;
}

/*
 * /dev/vhost-vdpa-N of the device (named by sysfs), opened: the node's
 * device number must be the one sysfs gives. fd, or -1 with err set.
 */
static int open_vhost_vdpa(struct session *s, struct vt_buf *err)
{
	long end = vt_now_ms() + BIND_WAIT_MS;
	char path[320], dev[32] = "", node[64];
	unsigned int maj, min;
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd;

	for (;;) {
		snprintf(path, sizeof(path), SYS_VDPA "/devices/%s", s->vdpa);
		d = opendir(path);
		while (d && (e = readdir(d)))
			if (!strncmp(e->d_name, "vhost-vdpa-", 11) &&
			    strlen(e->d_name) < sizeof(s->vhostdev)) {
				snprintf(s->vhostdev, sizeof(s->vhostdev), "%s",
					 e->d_name);
				break;
			}
		if (d)
			closedir(d);
		if (s->vhostdev[0]) {
			snprintf(path, sizeof(path), SYS_VDPA
				 "/devices/%s/%s/dev", s->vdpa, s->vhostdev);
			snprintf(node, sizeof(node), "/dev/%s", s->vhostdev);
			if (!sys_read(path, dev, sizeof(dev)) &&
			    sscanf(dev, "%u:%u", &maj, &min) == 2 &&
			    !stat(node, &st))
				break;
		}
		if (vt_now_ms() > end) {
			vt_buf_printf(err, "vDPA: no /dev/vhost-vdpa-N for %s "
				      "within %d ms (%s%s)", s->vdpa,
				      BIND_WAIT_MS, s->vhostdev[0] ?
				      "no node /dev/" : "not in sysfs",
				      s->vhostdev);
			return -1;
		}
		usleep(50000);
	}
	fd = open(node, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		vt_buf_printf(err, "vDPA: cannot open %s: %s", node,
			      strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(maj, min)) {
		close(fd);
		vt_buf_printf(err, "vDPA: %s is not the device %u:%u of %s",
			      node, maj, min, s->vdpa);
		return -1;
	}
	return fd;
}

int vdpa_open_device(struct session *s, struct vt_buf *err)
{
	struct vhost_trace_vdpa v;
	char why[256];
	int dev, fd;

	vdpa_name(s, s->vdpa, sizeof(s->vdpa));
	dev = vt_dev();
	if (dev < 0) {
		vt_buf_printf(err, "cannot open %s: %s%s", cfg.device,
			      strerror(errno), errno == ENOENT ?
			      " (is vhost_trace.ko loaded?)" : "");
		s->vdpa[0] = '\0';
		return -1;
	}
	name_arg(&v, s->vdpa, s->nports);
	s->ctl = ioctl(dev, VHOST_TRACE_VDPA_ADD, &v);
	close(dev);
	if (s->ctl < 0) {
		int e = errno;

		if (e == EOPNOTSUPP)
			no_vdpa(why, sizeof(why));
		vt_buf_printf(err, "vDPA front end: VHOST_TRACE_VDPA_ADD %s: "
			      "%s", s->vdpa, e == EOPNOTSUPP ? why :
			      e == EEXIST ? "a vDPA device of that name exists "
			      "(`vdpa dev show`)" : e == ENOTTY ? "this "
			      "vhost_trace.ko predates the vDPA front end" :
			      strerror(e));
		s->vdpa[0] = '\0';	/* not ours to delete */
		return -1;
	}
	sess_log(s, "vDPA device %s created (%u ports)", s->vdpa, s->nports);
	if (session_attach_sinks(s, err) || bind_vhost_vdpa(s->vdpa, err))
		goto fail;
	fd = open_vhost_vdpa(s, err);
	if (fd < 0)
		goto fail;
	/* the agent's port 0: the control fd (logs, state file) */
	snprintf(s->agent.path, sizeof(s->agent.path), "vdpa:%s", s->vdpa);
	sess_log(s, "vDPA device %s: vhost_vdpa, /dev/%s", s->vdpa,
		 s->vhostdev);
	return fd;
fail:
	vdpa_delete(s, 0);
	return -1;
}

int vdpa_delete(struct session *s, int wait_ms)
{
	long end = vt_now_ms() + wait_ms;
	struct vhost_trace_vdpa v;
	int dev, rc;

	/* a device of a libvirt domain's XML (taken over) stays */
	if (!s->vdpa[0] || s->vdpa_deleted || s->own_dev[0])
		return 0;
	dev = vt_dev();
	if (dev < 0) {
		rc = -errno;
		sess_log(s, "vDPA device %s not deleted: %s: %s", s->vdpa,
			 cfg.device, strerror(errno));
		return rc;
	}
	name_arg(&v, s->vdpa, 0);
	while ((rc = ioctl(dev, VHOST_TRACE_VDPA_DEL, &v) ? -errno : 0) ==
	       -EBUSY && vt_now_ms() < end)
		usleep(100000);
	close(dev);
	if (rc == -ENOENT)
		rc = 0;		/* gone already (`vdpa dev del`) */
	if (rc)
		sess_log(s, "vDPA device %s not deleted: %s%s", s->vdpa,
			 strerror(-rc), rc == -EBUSY ? " (QEMU holds it: "
			 "`vdpa dev del` once QEMU let it go)" : "");
	else
		sess_log(s, "vDPA device %s deleted", s->vdpa);
	s->vdpa_deleted = !rc;
	return rc;
}

int vdpa_take_over(const char *name, unsigned int nports, int *ctl,
		   char *why, size_t whysz)
{
	struct vhost_trace_vdpa v;
	__u32 ports = 0;
	int dev, c, err;

	dev = vt_dev();
	if (dev < 0) {
		err = -errno;
		snprintf(why, whysz, "%s: %s", cfg.device, strerror(errno));
		return err;
	}
	name_arg(&v, name, 0);
	c = ioctl(dev, VHOST_TRACE_VDPA_CTL, &v);
	err = -errno;
	close(dev);
	if (c < 0) {
		snprintf(why, whysz, "VHOST_TRACE_VDPA_CTL %s: %s", name,
			 err == -ENOENT ? "no such vDPA device any more" :
			 strerror(-err));
		return err == -ENOENT ? -ENODEV : err;
	}
	if (ioctl(c, VHOST_TRACE_GET_PORTS, &ports) ||
	    (nports && ports != nports)) {
		close(c);
		snprintf(why, whysz, "vDPA device %s has %u ports, not %u",
			 name, ports, nports);
		return -ENODEV;
	}
	*ctl = c;
	return 0;
}

int vdpa_agent_fd(struct session *s)
{
	int fd;

	if (s->ctl < 0)
		return -1;
	fd = fcntl(s->ctl, F_DUPFD_CLOEXEC, 0);
	if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
		close(fd);
		return -1;
	}
	return fd;
}

int vdpa_by_node(const char *node, char *name, size_t len,
		 unsigned int *nports)
{
	char path[320], why[256];
	struct dirent *e;
	struct stat st;
	__u32 ports = 0;
	int found = 0, c;
	DIR *d;

	if (strncmp(node, "vhost-vdpa-", 11) || !node[11] ||
	    strspn(node + 11, "0123456789") != strlen(node + 11))
		return 0;
	d = opendir(SYS_VDPA "/devices");
	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= len)
			continue;
		snprintf(path, sizeof(path), SYS_VDPA "/devices/%s/%s",
			 e->d_name, node);
		if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
			snprintf(name, len, "%s", e->d_name);
			found = 1;
		}
	}
	if (d)
		closedir(d);
	if (!found)
		return 0;
	/* the module's own (VHOST_TRACE_VDPA_CTL knows only those) */
	if (vdpa_take_over(name, 0, &c, why, sizeof(why)))
		return 0;
	if (ioctl(c, VHOST_TRACE_GET_PORTS, &ports))
		ports = 0;
	close(c);
	*nports = ports;
	return ports ? 1 : 0;
}
