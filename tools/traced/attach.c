// SPDX-License-Identifier: GPL-2.0
/*
 * Attach mode: trace a QEMU that already runs, over its QMP socket, with
 * no guest reboot. The session is set up as for launch (session.c); the
 * device fd goes to QEMU with getfd (SCM_RIGHTS), then the agent's
 * chardev and vhost-trace-pci are hot-plugged (chardev-add, device_add).
 * At stop they are unplugged again (device_del, DEVICE_DELETED,
 * chardev-remove) and the VM keeps running. A failed attach takes back
 * what it added.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include <linux/vhost_trace.h>

#include "attach.h"
#include "fsid.h"
#include "libvirt.h"
#include "log.h"
#include "qmp.h"
#include "persist.h"
#include "session.h"
#include "state.h"
#include "vdpa.h"

static void make_ids(struct qemu_ids *ids, unsigned long id)
{
	snprintf(ids->fd, sizeof(ids->fd), "vtfd%lu", id);
	snprintf(ids->chardev, sizeof(ids->chardev), "vtagent%lu", id);
	snprintf(ids->device, sizeof(ids->device), "vtrace%lu", id);
}

/*
 * A session already traces QEMU pid (not ended; attached: not detached;
 * a device taken over: not released):
 * its name, or 0.
 */
static int traced_by(pid_t pid, char *name, size_t len)
{
	struct table_entry **v;
	size_t n, i;
	int found = 0;

	v = table_snapshot(&n);
	for (i = 0; i < n; i++) {
		struct session *s = to_session(v[i]);

		if (!found && s->pid == pid &&
		    uatomic_read(&s->state) != SESS_ENDED &&
		    uatomic_read(&s->device) != DEV_DETACHED &&
		    uatomic_read(&s->device) != DEV_RELEASED) {
			snprintf(name, len, "%s", v[i]->name);
			found = 1;
		}
		table_entry_put(v[i]);
	}
	free(v);
	return found;
}

/*
 * One command. On failure err gets "attach: CMD: " and QEMU's own
 * message (verbatim), or why QMP failed.
 */
static int run(struct qmp *q, const char *cmd, const struct vt_buf *args,
	       int fd, struct vt_buf *ret, struct vt_buf *err)
{
	int rc = qmp_exec(q, cmd, args ? args->p : NULL, fd, ret,
			  QMP_TIMEOUT_MS);

	if (rc && err)
		vt_buf_printf(err, "attach: %s: %s", cmd, q->err);
	return rc;
}

/* {"id":ID} and the like: one string member. */
static int one_arg(struct vt_buf *j, const char *key, const char *val)
{
	j->len = 0;
	return vt_buf_printf(j, "{\"%s\":", key) || qmp_add_string(j, val) ||
	       vt_buf_append(j, "}", 1) ? -ENOMEM : 0;
}

static int count_cpus(struct qmp *q, unsigned int *ports, struct vt_buf *err)
{
	struct vt_buf ret;
	int n;

	vt_buf_init(&ret);
	n = run(q, "query-cpus-fast", NULL, -1, &ret, err) ? -1 :
		qmp_array_count(ret.p, ret.len);
	vt_buf_free(&ret);
	if (n <= 0 || n > VHOST_TRACE_MAX_PORTS) {
		if (!err->len)
			vt_buf_printf(err, "attach: cannot count QEMU's vCPUs "
				    "(query-cpus-fast); give ports=");
		return -1;
	}
	*ports = n;
	return 0;
}

static int lit(struct vt_buf *j, const char *text)
{
	return vt_buf_append(j, text, strlen(text));
}

/* chardev-add: a unix socket server at the agent path, not waiting. */
static int chardev_add(struct qmp *q, struct session *s,
		       const struct qemu_ids *ids, struct vt_buf *err)
{
	struct vt_buf j;
	int rc;

	vt_buf_init(&j);
	if (lit(&j, "{\"id\":") || qmp_add_string(&j, ids->chardev) ||
	    lit(&j, ",\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":"
		"{\"type\":\"unix\",\"data\":{\"path\":") ||
	    qmp_add_string(&j, s->agent.path) ||
	    lit(&j, "}},\"server\":true,\"wait\":false}}}")) {
		vt_buf_printf(err, "out of memory");
		rc = -ENOMEM;
	} else {
		rc = run(q, "chardev-add", &j, -1, NULL, err);
	}
	vt_buf_free(&j);
	return rc;
}

static int device_add(struct qmp *q, struct session *s, const char *bus,
		      const struct qemu_ids *ids, struct vt_buf *err)
{
	struct vt_buf j;
	int rc;

	vt_buf_init(&j);
	if (s->front == FRONT_VDPA)
		/* no vhostfd property: the fd set of add-fd, by its path */
		rc = lit(&j, "{\"driver\":\"" VDPA_QEMU_DEVICE "\",\"id\":") ||
		     qmp_add_string(&j, ids->device) ||
		     vt_buf_printf(&j, ",\"vhostdev\":\"/dev/fdset/%lu\"",
				   VDPA_FDSET_BASE + s->te.id);
	else
		rc = lit(&j, "{\"driver\":\"vhost-trace-pci\",\"id\":") ||
		     qmp_add_string(&j, ids->device) ||
		     lit(&j, ",\"vhostfd\":") ||
		     qmp_add_string(&j, ids->fd) ||
		     vt_buf_printf(&j, ",\"ports\":%u", s->nports);
	if (!rc && s->agent.state != AGENT_OFF && s->front != FRONT_VDPA)
		rc = lit(&j, ",\"chardev\":") ||
		     qmp_add_string(&j, ids->chardev);
	if (!rc && bus)
		rc = lit(&j, ",\"bus\":") || qmp_add_string(&j, bus);
	if (rc || lit(&j, "}")) {
		vt_buf_printf(err, "out of memory");
		rc = -ENOMEM;
	} else {
		rc = run(q, "device_add", &j, -1, NULL, err);
	}
	vt_buf_free(&j);
	return rc;
}

/*
 * A failed attach: the chardev and the named fd leave QEMU again (when
 * device_add failed before it took the fd; otherwise closefd just fails).
 * Over a new connection if the first one broke.
 */
static void undo(struct qmp *q, const char *path, const struct qemu_ids *ids,
		 int chardev)
{
	struct vt_buf j;

	if (q->fd < 0 && !path)		/* libvirt's bridge broke: nothing */
		return;
	if (q->fd < 0 && qmp_connect(q, path, QMP_TIMEOUT_MS)) {
		vt_log("attach %s: cannot undo: %s", path, q->err);
		return;
	}
	vt_buf_init(&j);
	if (chardev && !one_arg(&j, "id", ids->chardev) &&
	    run(q, "chardev-remove", &j, -1, NULL, NULL))
		vt_log("attach %s: chardev-remove %s: %s", path,
		       ids->chardev, q->err);
	if (!one_arg(&j, "fdname", ids->fd))
		run(q, "closefd", &j, -1, NULL, NULL);
	vt_buf_free(&j);
}

/*
 * The vDPA front end maps only shared guest RAM (vdpa.h): a memory
 * backend with share=on (query-memdev). 1 yes, 0 no, -errno.
 */
static int shared_ram(struct qmp *q)
{
	struct vt_buf ret;
	int rc;

	vt_buf_init(&ret);
	rc = qmp_exec(q, "query-memdev", NULL, -1, &ret, QMP_TIMEOUT_MS);
	if (!rc)
		rc = ret.len && strstr(ret.p, "\"share\":true") ? 1 : 0;
	vt_buf_free(&ret);
	return rc;
}

/*
 * The vDPA front end: /dev/vhost-vdpa-N into an fd set (add-fd, SCM_RIGHTS),
 * device_add of vhost-vdpa-device-pci on /dev/fdset/S, and the set's fd
 * removed again (remove-fd) whatever came of it: the device holds a
 * duplicate, and the set goes with the device. proof (libvirt: QEMU's
 * pid is not a socket peer's) checks after add-fd that QEMU got the fd;
 * no_shared says why a guest without shared RAM is refused.
 */
static int plug_vdpa(struct qmp *q, struct session *s, const char *bus,
		     const struct qemu_ids *ids, struct vt_buf *err,
		     int (*proof)(struct session *, int, struct vt_buf *),
		     void (*no_shared)(const struct session *,
				       struct vt_buf *))
{
	struct vt_buf j;
	int dev, rc, added = 0;

	dev = vdpa_open_device(s, err);
	if (dev < 0)
		return -1;
	/* after the kernel's answer: a kernel without vDPA is told first */
	rc = shared_ram(q);
	if (rc <= 0) {
		if (rc < 0)
			vt_buf_printf(err, "attach: query-memdev: %s", q->err);
		else if (no_shared)
			no_shared(s, err);
		else
			front_no_shared_ram(err);
		close(dev);
		vdpa_delete(s, 0);
		return -1;
	}
	vt_buf_init(&j);
	rc = vt_buf_printf(&j, "{\"fdset-id\":%lu,\"opaque\":",
			   VDPA_FDSET_BASE + s->te.id) ||
	     qmp_add_string(&j, ids->device) || lit(&j, "}");
	if (rc)
		vt_buf_printf(err, "out of memory");
	else
		rc = run(q, "add-fd", &j, dev, NULL, err);
	added = !rc;
	if (!rc && proof)
		rc = proof(s, dev, err);
	close(dev);		/* QEMU holds it now (or not at all) */
	if (!rc)
		rc = device_add(q, s, bus, ids, err);
	j.len = 0;
	if (added && !vt_buf_printf(&j, "{\"fdset-id\":%lu}",
				    VDPA_FDSET_BASE + s->te.id) &&
	    q->fd >= 0 && run(q, "remove-fd", &j, -1, NULL, NULL))
		vt_log("attach %s: remove-fd %lu: %s", s->qmp,
		       VDPA_FDSET_BASE + s->te.id, q->err);
	vt_buf_free(&j);
	if (rc)
		vdpa_delete(s, 3000);
	return rc ? -1 : 0;
}

/* What QEMU offers (vdpa.h bits), from qom-list-types; or -errno. */
int attach_front_probe(struct qmp *q)
{
	static const char args[] = "{\"implements\":\"pci-device\","
		"\"abstract\":false}";
	struct vt_buf ret;
	int has;

	vt_buf_init(&ret);
	has = qmp_exec(q, "qom-list-types", args, -1, &ret, QMP_TIMEOUT_MS);
	/* qom-list-types answers a list; anything else tells nothing */
	if (!has)
		has = ret.len && ret.p[0] == '[' ? (int)front_scan(ret.p) :
		      -EPROTO;
	vt_buf_free(&ret);
	return has;
}

/* Hot-plugs the session's device: getfd, chardev-add, device_add. */
static int plug(struct qmp *q, struct session *s, const char *bus,
		struct vt_buf *err)
{
	struct qemu_ids ids;
	struct vt_buf j;
	int dev, rc = -1, chardev = 0;

	make_ids(&ids, s->te.id);
	if (s->front == FRONT_VDPA)
		return plug_vdpa(q, s, bus, &ids, err, NULL, NULL);
	vt_buf_init(&j);
	dev = session_open_device(s, err);
	if (dev < 0)
		return -1;
	if (one_arg(&j, "fdname", ids.fd))
		vt_buf_printf(err, "out of memory");
	else
		rc = run(q, "getfd", &j, dev, NULL, err);
	close(dev);		/* QEMU holds the device now (or not at all) */
	if (rc)
		goto out;
	if (s->agent.state != AGENT_OFF) {
		rc = chardev_add(q, s, &ids, err);
		if (rc)
			goto undo;
		chardev = 1;
	}
	rc = device_add(q, s, bus, &ids, err);
	if (!rc)
		goto out;
undo:
	undo(q, s->qmp, &ids, chardev);
out:
	vt_buf_free(&j);
	return rc ? -1 : 0;
}

#define FAIL(...) do { vt_buf_printf(err, __VA_ARGS__); goto fail; } while (0)

/* As the requester: the socket file's permissions apply to them. */
static int connect_as(struct qmp *q, const char *path, uid_t uid, gid_t gid)
{
	int rc;

	if (fsid_user(uid, gid)) {
		memset(q, 0, sizeof(*q));
		q->fd = -1;
		snprintf(q->err, sizeof(q->err), "cannot act as uid %u",
			 (unsigned int)uid);
		return -EPERM;
	}
	rc = qmp_connect(q, path, QMP_TIMEOUT_MS);
	fsid_root();
	return rc;
}

int session_attach(const struct sess_args *a, struct session **out,
		   struct vt_buf *err)
{
	struct sess_args args = *a;
	struct session *s = NULL;
	char name[TABLE_NAME_MAX], why[160];
	struct qmp q;
	int pidfd = -1, rc, front, has = -ENOENT;
	char pstate;

	if (strlen(a->qmp) >= sizeof(s->qmp)) {
		vt_buf_printf(err, "attach: QMP socket path too long");
		return -EINVAL;
	}
	rc = connect_as(&q, a->qmp, a->uid, a->gid);
	if (rc) {
		vt_buf_printf(err, "attach: %s", q.err);
		return -EIO;
	}
	if (a->uid && q.uid != a->uid)
		FAIL("attach: QEMU (pid %d) runs as uid %u: only that user or "
		     "root may trace it", (int)q.pid, (unsigned int)q.uid);
	if (traced_by(q.pid, name, sizeof(name)))
		FAIL("attach: QEMU (pid %d) is traced already (session %s)",
		     (int)q.pid, name);
	if (a->front != FRONT_VHOST)
		has = attach_front_probe(&q);
	if (q.fd < 0)
		FAIL("attach: %s", q.err);
	front = front_choose(a->front, has, "QEMU", err, why, sizeof(why));
	if (front < 0)
		goto fail;

	if (!args.ports && count_cpus(&q, &args.ports, err))
		goto fail;
	pidfd = pidfd_open(q.pid, 0);
	if (pidfd < 0)
		FAIL("attach: pidfd_open %d: %s", (int)q.pid, strerror(errno));
	if (session_new(&args, &s, err))
		goto fail;
	s->front = front;
	sess_log(s, "front end %s (%s)", front_name(front), why);
	s->pid = q.pid;
	s->pidfd = pidfd;
	pidfd = -1;
	if (proc_stat(s->pid, &pstate, &s->start_time))
		FAIL("attach: QEMU (pid %d) exited", (int)q.pid);
	s->vhostfd = -1;	/* getfd's number in QEMU is not told */
	s->device = DEV_ATTACHED;
	snprintf(s->qmp, sizeof(s->qmp), "%s", a->qmp);
	/* QEMU creates the agent socket there */
	if (fchown(s->runfd, q.uid, q.gid))
		FAIL("cannot chown %s: %s", s->rundir, strerror(errno));
	if (plug(&q, s, a->bus, err))
		goto fail;
	qmp_close(&q);
	session_save(s);
	if (session_run(s, err)) {
		session_detach(s);
		goto fail;
	}
	table_entry_get(&s->te);	/* the caller's */
	vt_log("session %lu attached to QEMU pid %d (%s)", s->te.id,
	       (int)s->pid, s->qmp);
	*out = s;
	return 0;
fail:
	qmp_close(&q);
	if (pidfd >= 0)
		close(pidfd);
	if (s)
		table_del(&s->te);
	return -EIO;
}

void session_detach(struct session *s)
{
	struct qemu_ids ids;
	struct vt_buf j;
	struct qmp q;
	int rc;

	make_ids(&ids, s->te.id);
	vt_buf_init(&j);
	agent_close(&s->agent);		/* before its chardev goes */
	if (s->domain[0])		/* QMP through libvirt (libvirt.c) */
		rc = libvirt_bridge_open(s, &q);
	else
		rc = connect_as(&q, s->qmp, s->uid, s->gid);
	if (rc) {
		snprintf(s->error, sizeof(s->error), "detach: %s", q.err);
		goto out;
	}
	/* the path is the requester's to change: it must still be QEMU */
	if (!s->domain[0] && q.pid != s->pid) {
		rc = -EPERM;
		snprintf(s->error, sizeof(s->error), "detach: %s answers from "
			 "pid %d, not QEMU (pid %d): no command sent", s->qmp,
			 (int)q.pid, (int)s->pid);
		goto out;
	}
	qmp_watch_deleted(&q, ids.device);
	rc = one_arg(&j, "id", ids.device);
	if (!rc)
		rc = qmp_exec(&q, "device_del", j.p, -1, NULL, QMP_TIMEOUT_MS);
	if (!rc)
		rc = qmp_wait_deleted(&q, UNPLUG_TIMEOUT_MS);
	if (rc)
		snprintf(s->error, sizeof(s->error), "detach: device_del "
			 "%s: %s", ids.device, q.err);
	/* QEMU closed /dev/vhost-vdpa-N with the device: ours to delete */
	if (!rc && s->front == FRONT_VDPA && vdpa_delete(s, 5000)) {
		rc = -EBUSY;
		snprintf(s->error, sizeof(s->error), "detach: the vDPA device "
			 "%s could not be deleted (see the log)", s->vdpa);
	}
	if (q.fd < 0 || s->agent.state == AGENT_OFF || s->front == FRONT_VDPA ||
	    one_arg(&j, "id", ids.chardev))
		goto out;
	/* after a failed device_del this fails too (busy): said already */
	if (qmp_exec(&q, "chardev-remove", j.p, -1, NULL, QMP_TIMEOUT_MS) &&
	    !rc) {
		rc = -EIO;
		snprintf(s->error, sizeof(s->error), "detach: chardev-remove "
			 "%s: %s", ids.chardev, q.err);
	}
out:
	qmp_close(&q);
	vt_buf_free(&j);
	if (rc)
		vt_log("session %lu: %s", s->te.id, s->error);
	cmm_smp_wmb();		/* error before device (session_describe) */
	uatomic_set(&s->device, rc ? DEV_DETACH_FAILED : DEV_DETACHED);
}

/* For libvirt.c (attach.h): the steps above, shared. */
void attach_make_ids(struct qemu_ids *ids, unsigned long id)
{
	make_ids(ids, id);
}

int attach_traced_by(pid_t pid, char *name, size_t len)
{
	return traced_by(pid, name, len);
}

int attach_run(struct qmp *q, const char *cmd, const struct vt_buf *args,
	       int fd, struct vt_buf *ret, struct vt_buf *err)
{
	return run(q, cmd, args, fd, ret, err);
}

int attach_one_arg(struct vt_buf *j, const char *key, const char *val)
{
	return one_arg(j, key, val);
}

int attach_device_add(struct qmp *q, struct session *s, const char *bus,
		      const struct qemu_ids *ids, struct vt_buf *err)
{
	return device_add(q, s, bus, ids, err);
}

void attach_undo(struct qmp *q, const struct qemu_ids *ids, int chardev)
{
	undo(q, NULL, ids, chardev);
}

int attach_plug_vdpa(struct qmp *q, struct session *s, const char *bus,
		     struct vt_buf *err,
		     int (*proof)(struct session *, int, struct vt_buf *),
		     void (*no_shared)(const struct session *,
				       struct vt_buf *))
{
	struct qemu_ids ids;

	make_ids(&ids, s->te.id);
	return plug_vdpa(q, s, bus, &ids, err, proof, no_shared);
}
