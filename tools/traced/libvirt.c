// SPDX-License-Identifier: GPL-2.0
/*
 * Attach to a libvirt domain through the requester's libvirt bridge
 * (see libvirt.h). The steps are attach.c's, with two differences:
 * QEMU's pid is not the peer of a socket (the bridge is the user's CLI)
 * but the process of a vCPU thread that holds the device file passed,
 * and the agent's chardev is one end of a socket pair passed with getfd
 * (chardev-add socket addr type fd): QEMU, which libvirt confines (its
 * own uid, a private /dev, AppArmor or SELinux), opens no name of ours.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kcmp.h>
#include <linux/vhost_trace.h>

#include "attach.h"
#include "libvirt.h"
#include "log.h"
#include "persist.h"
#include "session_int.h"
#include "state.h"
#include "vdpa.h"

#define FAIL(...) do { vt_buf_printf(err, __VA_ARGS__); goto fail; } while (0)

int libvirt_parse_args(const struct ctl_req *req, struct peer *peer,
		       struct sess_args *a, struct vt_buf *body)
{
	int type = 0, dom = 0;
	socklen_t len = sizeof(int);

	a->domain = ctl_get(req, "domain");
	a->uri = ctl_get(req, "uri");
	if (!a->uri)
		a->uri = "";
	if (!a->domain[0] || strlen(a->domain) >= 256 || strlen(a->uri) >= 256)
		return vt_buf_printf(body, "attach: domain= and uri= must be "
				     "1..255 and 0..255 bytes"), -1;
	if (ctl_get(req, "qmp"))
		return vt_buf_printf(body, "attach: qmp= or domain=, not "
				     "both"), -1;
	if (req->nextra)
		return vt_buf_printf(body, "attach: takes no command (no "
				     "--)"), -1;
	a->bus = ctl_get(req, "bus");
	if (a->bus && !a->bus[0])
		return vt_buf_printf(body, "attach: bus= is empty"), -1;
	if (peer->fd < 0 ||
	    getsockopt(peer->fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
	    getsockopt(peer->fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) ||
	    type != SOCK_STREAM || dom != AF_UNIX)
		return vt_buf_printf(body, "attach: domain= comes with the "
				     "requester's libvirt bridge, a unix "
				     "stream socket passed with the request "
				     "(vhost-trace record --domain)"), -1;
	a->bridge = peer->fd;
	peer->fd = -1;
	return 0;
}

void libvirt_new_bridge(struct session *s, struct peer *peer)
{
	int old;

	if (peer->fd < 0 || !s->domain[0])
		return;
	pthread_mutex_lock(&s->lock);
	old = s->bridge;
	s->bridge = peer->fd;
	pthread_mutex_unlock(&s->lock);
	peer->fd = -1;
	if (old >= 0)
		close(old);
}

/* QMP on a new fd of the bridge: no greeting, qmp_capabilities answered. */
static int open_on(int bridge, struct qmp *q)
{
	char buf[4096], why[sizeof(q->err)];
	int rc;

	memset(q, 0, sizeof(*q));
	q->fd = bridge >= 0 ? fcntl(bridge, F_DUPFD_CLOEXEC, 0) : -1;
	vt_buf_init(&q->in);
	if (q->fd < 0) {
		snprintf(q->err, sizeof(q->err), "no libvirt bridge: the "
			 "vhost-trace that attached has exited; `vhost-trace "
			 "stop SESSION` brings a new one");
		return -ENOTCONN;
	}
	/* a late answer to an earlier command that timed out */
	while (recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	rc = qmp_exec(q, "qmp_capabilities", NULL, -1, NULL, QMP_TIMEOUT_MS);
	if (rc) {
		memcpy(why, q->err, sizeof(why));
		qmp_close(q);
		snprintf(q->err, sizeof(q->err), "libvirt bridge: %s", why);
	}
	return rc;
}

int libvirt_bridge_open(struct session *s, struct qmp *q)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = open_on(s->bridge, q);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The process (thread group) of thread tid, from /proc; or -1. */
static pid_t tgid_of(long tid)
{
	char path[64], line[256];
	pid_t pid = -1;
	FILE *f;

	if (tid <= 0 || tid > 0x7fffffff)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid > 0 ? pid : -1;
}

/*
 * query-cpus-fast: the number of vCPUs and QEMU's pid (the process of
 * the first vCPU's thread).
 */
static int vcpus(struct qmp *q, unsigned int *n, pid_t *pid,
		 struct vt_buf *err)
{
	struct vt_buf ret;
	json_t *j = NULL, *tid;
	int rc = -1;

	vt_buf_init(&ret);
	if (attach_run(q, "query-cpus-fast", NULL, -1, &ret, err))
		goto out;
	j = json_loadb(ret.p, ret.len, 0, NULL);
	if (!json_is_array(j) || !json_array_size(j) ||
	    json_array_size(j) > VHOST_TRACE_MAX_PORTS) {
		vt_buf_printf(err, "attach: cannot count the domain's vCPUs "
			      "(query-cpus-fast); give --ports");
		goto out;
	}
	*n = json_array_size(j);
	tid = json_object_get(json_array_get(j, 0), "thread-id");
	*pid = json_is_integer(tid) ? tgid_of(json_integer_value(tid)) : -1;
	if (*pid < 0)
		vt_buf_printf(err, "attach: the domain's vCPU thread (%lld) is "
			      "no process here: is the domain on this host?",
			      json_is_integer(tid) ?
			      (long long)json_integer_value(tid) : -1LL);
	else
		rc = 0;
out:
	json_decref(j);
	vt_buf_free(&ret);
	return rc;
}

/* The number of pid's fd that is our file fd (kcmp), or -1. */
static int holds(pid_t pid, int fd)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int found = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	while (dir && found < 0 && (d = readdir(dir))) {
		char *end;
		long n = strtol(d->d_name, &end, 10);

		if (*end || n < 0 || end == d->d_name)
			continue;
		if (!syscall(SYS_kcmp, getpid(), pid, KCMP_FILE, fd, n))
			found = n;
	}
	if (dir)
		closedir(dir);
	return found;
}

/*
 * QEMU (s->pid) holds the device file dev now (getfd went through the
 * bridge to it): its fd number for s->vhostfd, as recovery wants it.
 */
static int holds_device(struct session *s, int dev, struct vt_buf *err)
{
	int found = holds(s->pid, dev);

	if (found < 0) {
		vt_buf_printf(err, "attach: the domain's QEMU (pid %d) did not "
			      "get the device file: the bridge did not pass "
			      "it to this domain", (int)s->pid);
		return -1;
	}
	s->vhostfd = found;
	return 0;
}

static int lit(struct vt_buf *j, const char *text)
{
	return vt_buf_append(j, text, strlen(text));
}

/*
 * chardev-add or chardev-change (cmd) of chardev chr: a socket on the fd
 * fdname (given with getfd), QEMU the client; or (NULL) a null backend.
 */
static int chardev_cmd(struct qmp *q, const char *cmd, const char *chr,
		       const char *fdname, struct vt_buf *err)
{
	struct vt_buf j;
	int rc;

	vt_buf_init(&j);
	if (lit(&j, "{\"id\":") || qmp_add_string(&j, chr) ||
	    (fdname ? lit(&j, ",\"backend\":{\"type\":\"socket\",\"data\":"
			  "{\"addr\":{\"type\":\"fd\",\"data\":{\"str\":") ||
		      qmp_add_string(&j, fdname) ||
		      lit(&j, "}},\"server\":false}}}") :
		      lit(&j, ",\"backend\":{\"type\":\"null\",\"data\":{}}}"))) {
		vt_buf_printf(err, "out of memory");
		rc = -ENOMEM;
	} else {
		rc = attach_run(q, cmd, &j, -1, NULL, err);
	}
	vt_buf_free(&j);
	return rc;
}

/* The agent's chardev: a socket pair's end, QEMU the client. */
static int agent_chardev(struct qmp *q, struct session *s,
			 const struct qemu_ids *ids, const char *fdname,
			 struct vt_buf *err)
{
	struct vt_buf j;
	int sp[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) {
		vt_buf_printf(err, "socketpair: %s", strerror(errno));
		return -1;
	}
	vt_buf_init(&j);
	rc = attach_one_arg(&j, "fdname", fdname);
	if (!rc)
		rc = attach_run(q, "getfd", &j, sp[1], NULL, err);
	close(sp[1]);
	if (rc)
		goto out;
	rc = chardev_cmd(q, "chardev-add", ids->chardev, fdname, err);
	if (rc && q->fd >= 0 && !attach_one_arg(&j, "fdname", fdname))
		attach_run(q, "closefd", &j, -1, NULL, NULL);
out:
	vt_buf_free(&j);
	if (rc) {
		close(sp[0]);
		return -1;
	}
	s->agent_fd = sp[0];
	return 0;
}

/* A domain whose RAM is not shared: the XML that makes it so. */
static void no_shared_ram(const struct session *s, struct vt_buf *err)
{
	vt_buf_printf(err, "domain %s: the vDPA front end (a stock QEMU's "
		      VDPA_QEMU_DEVICE ") needs the guest's RAM shared, and "
		      "this domain's is not: add <memoryBacking><source "
		      "type='memfd'/><access mode='shared'/></memoryBacking> "
		      "to its XML (virsh edit %s) and start it again "
		      "(vhost-vdpa maps only QEMU's shared memory); or give "
		      "it vhost-trace's QEMU as its <emulator> (vhost-trace-pci"
		      ", --front-end vhost)", s->domain, s->domain);
}

/*
 * getfd (checked: QEMU has it), the agent's chardev, device_add; the vDPA
 * front end: add-fd (checked the same way) and device_add, the agent on
 * the vDPA device's control fd.
 */
static int plug(struct qmp *q, struct session *s, const char *bus,
		struct vt_buf *err)
{
	struct qemu_ids ids;
	char afd[32];
	struct vt_buf j;
	int dev, rc = -1, chardev = 0;

	if (s->front == FRONT_VDPA)
		return attach_plug_vdpa(q, s, bus, err, holds_device,
					no_shared_ram);
	attach_make_ids(&ids, s->te.id);
	snprintf(afd, sizeof(afd), "vtafd%lu", s->te.id);
	vt_buf_init(&j);
	dev = session_open_device(s, err);
	if (dev < 0)
		return -1;
	if (attach_one_arg(&j, "fdname", ids.fd))
		vt_buf_printf(err, "out of memory");
	else
		rc = attach_run(q, "getfd", &j, dev, NULL, err);
	if (!rc)
		rc = holds_device(s, dev, err);
	close(dev);		/* QEMU holds the device now (or not at all) */
	if (rc)
		goto undo;
	if (s->agent.state != AGENT_OFF) {
		rc = agent_chardev(q, s, &ids, afd, err);
		if (rc)
			goto undo;
		chardev = 1;
	}
	rc = attach_device_add(q, s, bus, &ids, err);
	if (!rc)
		goto out;
undo:
	attach_undo(q, &ids, chardev);
	if (s->agent_fd >= 0)
		close(s->agent_fd);
	s->agent_fd = -1;
out:
	vt_buf_free(&j);
	return rc ? -1 : 0;
}

/*
 * Taking over the domain's own device: a vhost-trace-pci of its XML
 * (qemu:commandline), which QEMU opened /dev/vhost-trace for itself at
 * start (or a vhost-vdpa-device-pci on a persistent vDPA device of the
 * module's, vhostdev=/dev/vhost-vdpa-N: own_vdpa, take_ctl_vdpa). The bridge names it, its ports and its agent chardev; none of
 * that is believed for more than the requester could do anyway (pick a
 * chardev of their own domain to swap). What the daemon acts on is
 * checked here: the process is the one that got the file the daemon
 * passed through the bridge (kcmp, as for a hot-plug), it holds exactly
 * one /dev/vhost-trace file (stat of the fd), pidfd_getfd takes that
 * file only to ask the module for a control fd (recover.c does the
 * same after a restart; the copy is closed at once), and the module's
 * VHOST_TRACE_GET_PORTS is the port count.
 */

/* QOM paths and chardev labels the daemon sends back and shows. */
static int plain_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n >= max)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789_.-[]/") == n;
}

/* qom-get path property: its JSON value (NULL: failed, said in err). */
static json_t *qom_get(struct qmp *q, const char *path, const char *prop,
		       struct vt_buf *err)
{
	struct vt_buf j, ret;
	json_t *v = NULL;

	vt_buf_init(&j);
	vt_buf_init(&ret);
	if (lit(&j, "{\"path\":") || qmp_add_string(&j, path) ||
	    lit(&j, ",\"property\":") || qmp_add_string(&j, prop) ||
	    lit(&j, "}"))
		vt_buf_printf(err, "out of memory");
	else if (!attach_run(q, "qom-get", &j, -1, &ret, err))
		v = json_loadb(ret.p, ret.len, JSON_DECODE_ANY, NULL);
	vt_buf_free(&j);
	vt_buf_free(&ret);
	return v;
}

/* The QOM path and chardev label of the domain's own device. */
struct own {
	char dev[sizeof(((struct session *)0)->own_dev)];
	char chardev[sizeof(((struct session *)0)->own_chardev)];
	/* a vhost-vdpa-device-pci on the module's vDPA device vdpa */
	int front;
	char vdpa[sizeof(((struct session *)0)->vdpa)];
	char vhostdev[sizeof(((struct session *)0)->vhostdev)];
};

/*
 * A vhost-vdpa-device-pci of the domain at QOM path dev: on a vDPA device
 * of the module's, named in its XML (vhostdev=/dev/vhost-vdpa-N, not an
 * fd set: QEMU opened the node itself)? 1 (o's vdpa, vhostdev, *ports
 * set), 0 not ours, -1 the bridge failed.
 */
static int own_vdpa(struct qmp *q, const char *dev, struct own *o,
		    unsigned int *ports, struct vt_buf *err)
{
	struct vt_buf scratch;
	json_t *v;
	const char *path;
	int rc = 0;

	/* a device without vhostdev (another driver's?) is not ours */
	vt_buf_init(&scratch);
	v = qom_get(q, dev, "vhostdev", &scratch);
	vt_buf_free(&scratch);
	path = json_string_value(v);
	if (!v && q->fd < 0) {
		vt_buf_printf(err, "attach: qom-get: %s", q->err);
		return -1;
	}
	if (path && !strncmp(path, "/dev/", 5) &&
	    strlen(path + 5) < sizeof(o->vhostdev) &&
	    vdpa_by_node(path + 5, o->vdpa, sizeof(o->vdpa), ports) == 1) {
		snprintf(o->vhostdev, sizeof(o->vhostdev), "%s", path + 5);
		rc = 1;
	}
	json_decref(v);
	return rc;
}

/*
 * The domain's own trace device, if it has one: a vhost-trace-pci, or a
 * vhost-vdpa-device-pci on a vDPA device of the module's that the XML
 * names: into o, its ports into *ports. 1 found, 0 none, -1 (err said
 * why).
 */
static int own_device(struct qmp *q, struct own *o, unsigned int *ports,
		      struct vt_buf *err)
{
	static const char *const roots[] = { "/machine/peripheral",
					     "/machine/peripheral-anon" };
	struct vt_buf j, ret;
	unsigned int k, found = 0, vports = 0;
	json_t *a, *e, *v;
	size_t i;
	char path[sizeof(o->dev)];

	vt_buf_init(&j);
	vt_buf_init(&ret);
	for (k = 0; k < 2; k++) {
		ret.len = 0;
		if (attach_one_arg(&j, "path", roots[k]) ||
		    attach_run(q, "qom-list", &j, -1, &ret, NULL)) {
			if (q->fd < 0)
				break;
			continue;	/* no such container: no device there */
		}
		a = json_loadb(ret.p, ret.len, 0, NULL);
		json_array_foreach(a, i, e) {
			const char *n = json_string_value(json_object_get(e,
								"name"));
			const char *t = json_string_value(json_object_get(e,
								"type"));

			if (!n || !t)
				continue;
			snprintf(path, sizeof(path), "%s/%s", roots[k], n);
			if (!strcmp(t, "child<vhost-trace-pci>")) {
				if (!found++) {
					memcpy(o->dev, path, sizeof(o->dev));
					o->front = FRONT_VHOST;
				}
			} else if (!strcmp(t, "child<" VDPA_QEMU_DEVICE ">") &&
				   plain_name(path, sizeof(path))) {
				if (own_vdpa(q, path, o, &vports, err) < 0) {
					json_decref(a);
					goto out;
				}
				if (vports && !found++) {
					memcpy(o->dev, path, sizeof(o->dev));
					o->front = FRONT_VDPA;
					*ports = vports;
				}
				vports = 0;
			}
		}
		json_decref(a);
	}
out:
	vt_buf_free(&j);
	vt_buf_free(&ret);
	if (q->fd < 0) {
		if (!err->len)
			vt_buf_printf(err, "attach: qom-list: %s", q->err);
		return -1;
	}
	if (!found)
		return 0;
	if (found > 1 || !plain_name(o->dev, sizeof(o->dev))) {
		vt_buf_printf(err, "attach: the domain has %s trace devices "
			      "of its own (vhost-trace-pci, or "
			      VDPA_QEMU_DEVICE " on a vDPA device of "
			      "vhost-trace's): take-over needs exactly one "
			      "(with a plain id)", found > 1 ? "several" :
			      "odd");
		return -1;
	}
	if (o->front == FRONT_VDPA)
		return 1;	/* ports: the module's; port 0 its own */
	v = qom_get(q, o->dev, "ports", err);
	*ports = json_is_integer(v) ? json_integer_value(v) : 0;
	json_decref(v);
	if (!*ports || *ports > VHOST_TRACE_MAX_PORTS) {
		if (!err->len)
			vt_buf_printf(err, "attach: the domain's device %s: no "
				      "port count (qom-get ports)", o->dev);
		return -1;
	}
	v = qom_get(q, o->dev, "chardev", err);
	if (json_is_string(v))
		snprintf(o->chardev, sizeof(o->chardev), "%s",
			 json_string_value(v));
	json_decref(v);
	if (!v)
		return -1;
	if (o->chardev[0] &&
	    !plain_name(o->chardev, sizeof(o->chardev))) {
		vt_buf_printf(err, "attach: the domain's device %s: odd "
			      "chardev label", o->dev);
		return -1;
	}
	return 1;
}

/* A control fd of QEMU's own device file: s->ctl, s->vhostfd. 0 or -1. */
static int take_ctl(struct session *s, struct vt_buf *err)
{
	char why[256];
	struct stat dev;
	int num, count;

	if (stat(cfg.device, &dev)) {
		vt_buf_printf(err, "attach: %s: %s", cfg.device,
			      strerror(errno));
		return -1;
	}
	num = session_find_device_fd(s->pid, &dev, &count);
	if (count != 1) {
		vt_buf_printf(err, "attach: the domain's QEMU (pid %d) holds "
			      "%d %s files, not one: its XML's device did not "
			      "open it", (int)s->pid, count, cfg.device);
		return -1;
	}
	if (session_ctl_from(s->pidfd, num, &dev, s->nports, &s->ctl, why,
			     sizeof(why))) {
		vt_buf_printf(err, "attach: the domain's device (QEMU's fd "
			      "%d): %s", num, why);
		return -1;
	}
	s->vhostfd = num;
	return 0;
}

/*
 * The vDPA one: QEMU holds exactly one file of the node its XML names
 * (stat of its fds), the module's device behind that node (sysfs) is
 * the one named, and VHOST_TRACE_VDPA_CTL gives the control fd (as
 * after a restart). s->ctl, s->vhostfd. 0 or -1.
 */
static int take_ctl_vdpa(struct session *s, struct vt_buf *err)
{
	char node[64], name[sizeof(s->vdpa)], why[256];
	unsigned int ports = 0;
	struct stat dev;
	int num, count;

	snprintf(node, sizeof(node), "/dev/%s", s->vhostdev);
	if (stat(node, &dev)) {
		vt_buf_printf(err, "attach: %s: %s", node, strerror(errno));
		return -1;
	}
	if (!S_ISCHR(dev.st_mode)) {
		vt_buf_printf(err, "attach: %s: not a device", node);
		return -1;
	}
	num = session_find_device_fd(s->pid, &dev, &count);
	if (count != 1) {
		vt_buf_printf(err, "attach: the domain's QEMU (pid %d) holds "
			      "%d %s files, not one: its XML's device did not "
			      "open it", (int)s->pid, count, node);
		return -1;
	}
	if (vdpa_by_node(s->vhostdev, name, sizeof(name), &ports) != 1 ||
	    strcmp(name, s->vdpa) || ports != s->nports) {
		vt_buf_printf(err, "attach: %s is no longer the vDPA device %s "
			      "of %u ports", node, s->vdpa, s->nports);
		return -1;
	}
	if (vdpa_take_over(s->vdpa, s->nports, &s->ctl, why, sizeof(why))) {
		vt_buf_printf(err, "attach: the domain's vDPA device: %s", why);
		return -1;
	}
	s->vhostfd = num;
	return 0;
}

/* The module's counters now: what this session does not count. */
static int take_base(struct session *s, struct vt_buf *err)
{
	unsigned int p;

	s->base = calloc(s->nports, sizeof(*s->base));
	if (!s->base) {
		vt_buf_printf(err, "out of memory");
		return -1;
	}
	for (p = 0; p < s->nports; p++) {
		s->base[p].port = p;
		if (ioctl(s->ctl, VHOST_TRACE_GET_STATS, &s->base[p])) {
			vt_buf_printf(err, "attach: VHOST_TRACE_GET_STATS: %s",
				      strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Takes over the domain's own device: getfd of the agent's socket pair
 * end (the proof that the bridge reaches pid s->pid), its control fd,
 * the sinks, the agent's chardev swapped in.
 */
static int take(struct qmp *q, struct session *s, struct vt_buf *err)
{
	int sp[2] = { -1, -1 }, given = 0, sinks = 0, rc = -1;
	struct vt_buf j;
	char afd[32];

	vt_buf_init(&j);
	snprintf(afd, sizeof(afd), "vtafd%lu", s->te.id);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) {
		vt_buf_printf(err, "socketpair: %s", strerror(errno));
		goto out;
	}
	if (attach_one_arg(&j, "fdname", afd) ||
	    attach_run(q, "getfd", &j, sp[1], NULL, err))
		goto out;
	given = 1;
	if (holds(s->pid, sp[1]) < 0) {
		vt_buf_printf(err, "attach: the domain's QEMU (pid %d) did not "
			      "get the file passed: the bridge did not pass "
			      "it to this domain", (int)s->pid);
		goto out;
	}
	close(sp[1]);
	sp[1] = -1;
	if ((s->front == FRONT_VDPA ? take_ctl_vdpa(s, err) :
	     take_ctl(s, err)) || take_base(s, err))
		goto out;
	if (session_attach_sinks(s, err))
		goto out;
	sinks = 1;
	if (s->front == FRONT_VDPA) {
		/* port 0 is the device's: the control fd (session.c) */
		s->agent.session_counts = 1;
	} else if (s->agent.state != AGENT_OFF) {
		if (!s->own_chardev[0]) {
			vt_buf_printf(err, "attach: the domain's device %s has "
				      "no chardev= for the agent (-chardev "
				      "null,id=vtagent and chardev=vtagent "
				      "in its XML; or --no-agent)", s->own_dev);
			goto out;
		}
		if (chardev_cmd(q, "chardev-change", s->own_chardev, afd, err))
			goto out;
		given = 0;	/* the chardev has it now */
		s->agent_fd = sp[0];
		sp[0] = -1;
		s->agent.session_counts = 1;
	}
	rc = 0;
out:
	if (rc && sinks)
		session_detach_sinks(s);
	if (given && q->fd >= 0 && !attach_one_arg(&j, "fdname", afd))
		attach_run(q, "closefd", &j, -1, NULL, NULL);
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	vt_buf_free(&j);
	return rc;
}

void libvirt_release(struct session *s)
{
	struct vt_buf err;
	struct qmp q;
	int rc = 0;

	vt_buf_init(&err);
	if (s->agent_on && s->own_chardev[0]) {
		/* the chardev back to a null backend, then our end closed */
		rc = libvirt_bridge_open(s, &q);
		if (rc)
			vt_buf_printf(&err, "release: %s", q.err);
		else
			rc = chardev_cmd(&q, "chardev-change", s->own_chardev,
					 NULL, &err);
		qmp_close(&q);
	}
	agent_close(&s->agent);
	if (rc) {
		snprintf(s->error, sizeof(s->error), "%.*s (the device stays "
			 "in the domain; its agent chardev is left "
			 "disconnected)", (int)err.len, err.p);
		vt_log("session %lu: %s", s->te.id, s->error);
	}
	vt_buf_free(&err);
	cmm_smp_wmb();		/* error before device (session_describe) */
	uatomic_set(&s->device, rc ? DEV_DETACH_FAILED : DEV_RELEASED);
}

int session_attach_libvirt(const struct sess_args *a, struct session **out,
			   struct vt_buf *err)
{
	struct sess_args args = *a;
	struct session *s = NULL;
	char name[TABLE_NAME_MAX];
	int pidfd = -1, bridge = a->bridge;
	struct qmp q;
	unsigned int n, own_ports = 0;
	struct own probe;
	pid_t pid;
	char pstate, why[160];
	int own, front = FRONT_VHOST, has = -ENOENT;

	if (open_on(bridge, &q)) {
		vt_buf_printf(err, "attach: %s", q.err);
		goto fail;
	}
	if (vcpus(&q, &n, &pid, err))
		goto fail;
	/* a pid the bridge names: the kcmp check cannot tell us from QEMU */
	if (pid == getpid())
		FAIL("attach: the domain's vCPU thread is vhost-traced's own: "
		     "the bridge is not a libvirt domain's");
	memset(&probe, 0, sizeof(probe));
	own = own_device(&q, &probe, &own_ports, err);
	if (own < 0)
		goto fail;
	if (own && args.ports && args.ports != own_ports)
		FAIL("attach: the domain's own device %s has %u ports, not "
		     "--ports %u", probe.dev, own_ports, args.ports);
	if (own && a->front != FRONT_AUTO && a->front != probe.front)
		FAIL("attach: domain %s has a trace device of its own (%s, "
		     "front end %s), which record --domain takes over: not "
		     "--front-end %s", a->domain, probe.dev,
		     front_name(probe.front), front_name(a->front));
	if (own) {
		args.ports = own_ports;
		front = probe.front;
		snprintf(why, sizeof(why), "the domain's own %s%s",
			 front == FRONT_VDPA ? VDPA_QEMU_DEVICE " on vDPA "
			 "device " : "vhost-trace-pci", front == FRONT_VDPA ?
			 probe.vdpa : "");
	} else {
		/* what the domain's QEMU offers, unless vhost is asked for */
		if (a->front != FRONT_VHOST)
			has = attach_front_probe(&q);
		if (q.fd < 0)
			FAIL("attach: %s", q.err);
		front = front_choose(a->front, has, "the domain's QEMU", err,
				     why, sizeof(why));
		if (front < 0)
			goto fail;
	}
	if (!args.ports)
		args.ports = n;
	if (attach_traced_by(pid, name, sizeof(name)))
		FAIL("attach: domain %s (QEMU pid %d) is traced already "
		     "(session %s)", a->domain, (int)pid, name);
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0)
		FAIL("attach: pidfd_open %d: %s", (int)pid, strerror(errno));
	if (session_new(&args, &s, err))
		goto fail;
	s->front = front;
	sess_log(s, "front end %s (%s)", front_name(front), why);
	s->pid = pid;
	s->pidfd = pidfd;
	pidfd = -1;
	if (proc_stat(s->pid, &pstate, &s->start_time))
		FAIL("attach: QEMU (pid %d) exited", (int)pid);
	s->vhostfd = -1;
	s->device = own ? DEV_TAKEN : DEV_ATTACHED;
	snprintf(s->qmp, sizeof(s->qmp), "libvirt");
	snprintf(s->domain, sizeof(s->domain), "%s", a->domain);
	snprintf(s->uri, sizeof(s->uri), "%s", a->uri);
	if (own) {
		memcpy(s->own_dev, probe.dev, sizeof(s->own_dev));
		memcpy(s->own_chardev, probe.chardev,
		       sizeof(s->own_chardev));
		memcpy(s->vdpa, probe.vdpa, sizeof(s->vdpa));
		memcpy(s->vhostdev, probe.vhostdev, sizeof(s->vhostdev));
	}
	if (own ? take(&q, s, err) : plug(&q, s, a->bus, err))
		goto fail;
	qmp_close(&q);
	s->bridge = bridge;	/* for the detach at stop */
	bridge = -1;
	session_save(s);
	if (session_run(s, err)) {
		if (own) {
			session_detach_sinks(s);
			libvirt_release(s);
		} else {
			session_detach(s);
		}
		goto fail;
	}
	table_entry_get(&s->te);	/* the caller's */
	vt_log("session %lu %s libvirt domain %s (%s), QEMU pid %d", s->te.id,
	       own ? "took over the device of" : "attached to", s->domain,
	       s->uri[0] ? s->uri : "default URI", (int)s->pid);
	if (own)
		vt_log("session %lu: the domain's own device %s (QEMU fd %d, "
		       "%u ports), agent %s%s", s->te.id, s->own_dev,
		       s->vhostfd, s->nports, s->front == FRONT_VDPA ?
		       "on port 0 of vDPA device " : "chardev ",
		       s->front == FRONT_VDPA ? s->vdpa :
		       s->own_chardev[0] ? s->own_chardev : "(none)");
	*out = s;
	return 0;
fail:
	qmp_close(&q);
	if (bridge >= 0)
		close(bridge);
	if (pidfd >= 0)
		close(pidfd);
	if (s)
		table_del(&s->te);
	return -EIO;
}
