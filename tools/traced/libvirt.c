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
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kcmp.h>
#include <linux/vhost_trace.h>

#include "attach.h"
#include "libvirt.h"
#include "log.h"
#include "persist.h"
#include "state.h"

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

/*
 * QEMU (s->pid) holds the device file dev now (getfd went through the
 * bridge to it): its fd number for s->vhostfd, as recovery wants it.
 */
static int holds_device(struct session *s, int dev, struct vt_buf *err)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int found = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)s->pid);
	dir = opendir(path);
	while (dir && found < 0 && (d = readdir(dir))) {
		char *end;
		long n = strtol(d->d_name, &end, 10);

		if (*end || n < 0 || end == d->d_name)
			continue;
		if (!syscall(SYS_kcmp, getpid(), s->pid, KCMP_FILE, dev, n))
			found = n;
	}
	if (dir)
		closedir(dir);
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
	j.len = 0;
	if (lit(&j, "{\"id\":") || qmp_add_string(&j, ids->chardev) ||
	    lit(&j, ",\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":"
		"{\"type\":\"fd\",\"data\":{\"str\":") ||
	    qmp_add_string(&j, fdname) ||
	    lit(&j, "}},\"server\":false}}}")) {
		vt_buf_printf(err, "out of memory");
		rc = -ENOMEM;
	} else {
		rc = attach_run(q, "chardev-add", &j, -1, NULL, err);
	}
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

/* getfd (checked: QEMU has it), the agent's chardev, device_add. */
static int plug(struct qmp *q, struct session *s, const char *bus,
		struct vt_buf *err)
{
	struct qemu_ids ids;
	char afd[32];
	struct vt_buf j;
	int dev, rc = -1, chardev = 0;

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

int session_attach_libvirt(const struct sess_args *a, struct session **out,
			   struct vt_buf *err)
{
	struct sess_args args = *a;
	struct session *s = NULL;
	char name[TABLE_NAME_MAX];
	int pidfd = -1, bridge = a->bridge;
	struct qmp q;
	unsigned int n;
	pid_t pid;
	char pstate;

	if (open_on(bridge, &q)) {
		vt_buf_printf(err, "attach: %s", q.err);
		goto fail;
	}
	if (vcpus(&q, &n, &pid, err))
		goto fail;
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
	s->pid = pid;
	s->pidfd = pidfd;
	pidfd = -1;
	if (proc_stat(s->pid, &pstate, &s->start_time))
		FAIL("attach: QEMU (pid %d) exited", (int)pid);
	s->vhostfd = -1;
	s->device = DEV_ATTACHED;
	snprintf(s->qmp, sizeof(s->qmp), "libvirt");
	snprintf(s->domain, sizeof(s->domain), "%s", a->domain);
	snprintf(s->uri, sizeof(s->uri), "%s", a->uri);
	if (plug(&q, s, a->bus, err))
		goto fail;
	qmp_close(&q);
	s->bridge = bridge;	/* for the detach at stop */
	bridge = -1;
	session_save(s);
	if (session_run(s, err)) {
		session_detach(s);
		goto fail;
	}
	table_entry_get(&s->te);	/* the caller's */
	vt_log("session %lu attached to libvirt domain %s (%s), QEMU pid %d",
	       s->te.id, s->domain, s->uri[0] ? s->uri : "default URI",
	       (int)s->pid);
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
